"""What change-request mail says and who gets it: area owners by role, the submitter, the change log text."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import Role, User, user_roles
from obslab.catalog.change_rules import ChangeRules
from obslab.catalog.models import Observation, Revision


def role_addresses(session: Session, roles: Iterable[str]) -> list[str]:
    """E-mail addresses of the active users holding any of ``roles``, sorted, without duplicates."""
    names = sorted(set(roles))
    if not names:
        return []
    rows = session.scalars(select(User.email).join(user_roles, user_roles.c.user_id == User.id)
                           .join(Role, Role.id == user_roles.c.role_id)
                           .where(Role.name.in_(names), User.is_active.is_(True), User.email.is_not(None)))  # fmt: skip
    return sorted(set(rows))


def area_owner_addresses(session: Session, rules: ChangeRules, areas: Iterable[str]) -> list[str]:
    """Addresses of the people who sign ``areas``."""
    return role_addresses(session, {rules.area(key).role for key in areas})


def change_log_body(observation: Observation, revision: Revision) -> str:
    """Plain-text record of a revision: what changed from what to what, and the comment (mail is text, never HTML)."""
    lines = [f"Revision {revision.label} ({revision.kind.value}) of obsid {observation.obsid}, sequence {observation.sequence_number}",
             f"Target: {observation.target_name}", f"Instrument: {observation.instrument} / {observation.grating}", ""]  # fmt: skip
    changed = [value for value in revision.values if value.changed]
    if changed:
        lines.append("Changes:")
        lines += [f"  {value.name}{f'[{value.rank}]' if value.rank else ''}: {value.original!r} -> {value.requested!r}" for value in changed]
    if revision.comment:
        lines += ["", "Comment:", revision.comment]
    pending = [signoff.area for signoff in revision.signoffs if signoff.state.value == "pending"]
    lines += ["", "Sign-off pending: " + (", ".join(pending) if pending else "none")]
    return "\n".join(lines) + "\n"
