"""What change-request mail says and who gets it: area owners by role, the submitter, the change log text."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from obslab.access import role_addresses
from obslab.catalog.changes.change_rules import ChangeRules
from obslab.catalog.models import Observation, Revision


def area_owner_addresses(session: Session, rules: ChangeRules, areas: Iterable[str]) -> list[str]:
    """Addresses of the people who sign ``areas``."""
    return role_addresses(session, {rules.area(key).role for key in areas})


def change_log_body(observation: Observation, revision: Revision) -> str:
    """Plain-text record of a revision: what changed from what to what, and the comment (mail is text, never HTML)."""
    lines = [
        (
            f"Revision {revision.label} ({revision.kind.value}) of obsid {observation.obsid}, "
            f"sequence {observation.sequence_number}"
        ),
        f"Target: {observation.target_name}",
        f"Instrument: {observation.instrument} / {observation.grating}",
        "",
    ]
    changed = [value for value in revision.values if value.changed]
    if changed:
        lines.append("Changes:")
        lines += [
            f"  {value.name}{f'[{value.rank}]' if value.rank else ''}: {value.original!r} -> {value.requested!r}"
            for value in changed
        ]
    if revision.comment:
        lines += ["", "Comment:", revision.comment]
    pending = [signoff.area for signoff in revision.signoffs if signoff.state.value == "pending"]
    lines += ["", "Sign-off pending: " + (", ".join(pending) if pending else "none")]
    return "\n".join(lines) + "\n"
