"""What routes share: the context from the app, units of work that may be dry runs, flags read tolerantly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy.orm import Session

from obslab.configs.hardware import parse_bool
from obslab.context import ObslabContext


def context_of(request: Request) -> ObslabContext:
    return request.app.state.context


@contextmanager
def unit_of_work(context: ObslabContext, *, commit: bool) -> Iterator[Session]:
    """A transaction that commits at the end, or for a dry run rolls back: the same checks and answer, nothing kept."""
    with context.sessions() as session, session.begin() as transaction:
        yield session
        if not commit:
            transaction.rollback()


def flag(value: str, name: str) -> bool:
    """A query flag such as ``actual_pos=1``, read as the fplane clients send it (0/1, true/false, yes/no, ...)."""
    return parse_bool(value, field=name)
