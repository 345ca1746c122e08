"""Eligibility rules that a service enforces and a read model shows, written once (pure: plain values in)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from obslab.catalog.changes.change_rules import VERIFICATION
from obslab.catalog.types import APPROVAL_KINDS, RevisionKind, SignOffState


class AreaState(Protocol):
    """What the rules read of a sign-off: its area and its state (an ORM row or any plain value)."""

    area: str
    state: SignOffState


def withdraw_blockers(kind: RevisionKind, signoffs: Iterable[AreaState]) -> list[str]:
    """The areas whose sign-off or discard stops the submitter withdrawing a revision; empty: it may be withdrawn.

    An approval's own automatic verification does not count: the submitter did it by submitting.
    """
    automatic = kind in APPROVAL_KINDS
    return [
        s.area
        for s in signoffs
        if s.state in (SignOffState.SIGNED, SignOffState.DISCARDED) and not (automatic and s.area == VERIFICATION)
    ]
