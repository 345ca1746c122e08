"""The catalog's enums: observation status, revision kinds, sign-off states (pure: no database)."""

from __future__ import annotations

import enum


class ObservationStatus(enum.StrEnum):
    UNOBSERVED = "unobserved"
    SCHEDULED = "scheduled"
    UNTRIGGERED = "untriggered"
    OBSERVED = "observed"
    ARCHIVED = "archived"
    TRIGGERED = "triggered"
    CANCELED = "canceled"


class RevisionKind(enum.StrEnum):
    NORMAL = "norm"  # change parameter values
    APPROVE_AS_IS = "asis"  # declare the current values ready for flight
    REMOVE_APPROVAL = "remove"  # no longer ready
    SPLIT = "clone"  # split this observation


class SignOffState(enum.StrEnum):
    PENDING = "pending"
    SIGNED = "signed"
    NOT_REQUIRED = "not_required"
    DISCARDED = "discarded"


#: Revisions that approve or un-approve as they are: the submitter's verification is automatic.
APPROVAL_KINDS = frozenset({RevisionKind.APPROVE_AS_IS, RevisionKind.REMOVE_APPROVAL})
