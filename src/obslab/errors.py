"""Typed errors with machine-readable codes, raised by services and shown to people as they are."""

from __future__ import annotations

from typing import Any


class ObslabError(Exception):
    """Base of every error obslab raises on purpose; ``code`` is stable, ``str()`` is for people."""

    code = "obslab_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class SettingsError(ObslabError):
    """A setting has a value obslab cannot use."""

    code = "invalid_settings"


class InvalidInputError(ObslabError):
    """Input was refused; the message names the field, the value and what is allowed."""

    code = "invalid_input"

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        super().__init__(
            f"{field}: {value!r} is not allowed; expected {allowed}", field=field, value=value, allowed=allowed
        )


class NotFoundError(ObslabError):
    """A named thing does not exist."""

    code = "not_found"


class ConflictError(ObslabError):
    """The action would duplicate or contradict something that already exists."""

    code = "conflict"


class StaleError(ConflictError):
    """The row changed after the actor loaded it, or someone else won the race to change it; nothing was written."""

    code = "stale"


class PermissionDeniedError(ObslabError):
    """The acting user lacks the role the action needs."""

    code = "permission_denied"


class NaiveDatetimeError(ObslabError, ValueError):
    """A datetime without a time zone reached the database layer; obslab stores UTC only."""

    code = "naive_datetime"


class AuditImmutableError(ObslabError):
    """Something tried to change or delete an audit event, which are append-only."""

    code = "audit_immutable"
