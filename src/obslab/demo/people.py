"""Demo people: at least one user in every standard role, and four USINT points of contact."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from obslab.access import User
from obslab.demo.context import EMAIL_DOMAIN, DemoContext
from obslab.users import add_user

#: (username, full name, roles).  One name carries an apostrophe so pages must escape it.
PEOPLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("mgarcia", "Marta Garcia", ("admin",)),
    ("jchen", "Jia Chen", ("usint",)),
    ("pkowalski", "Piotr Kowalski", ("usint",)),
    ("rnakamura", "Rei Nakamura", ("usint",)),
    ("sobrien", "Siobhan O'Brien", ("usint", "staff")),
    ("tlindqvist", "Tove Lindqvist", ("arcops",)),
    ("dmensah", "Daniel Mensah", ("arcops",)),
    ("kpatel", "Kavya Patel", ("acis",)),
    ("hweber", "Hannah Weber", ("hrc",)),
    ("lrossi", "Luca Rossi", ("mp",)),
    ("ayamamoto", "Aiko Yamamoto", ("scheduler",)),
    ("bnovak", "Bojan Novak", ("scheduler", "pipeline")),
    ("cfernandez", "Carmen Fernandez", ("pipeline",)),
    ("gmorris", "Gareth Morris", ("staff",)),
    ("tcs", "Telescope control system", ("telescope",)),
)

#: Who works through which sign-off area, by role.
USINT = ("jchen", "pkowalski", "rnakamura", "sobrien")
ARCOPS = ("tlindqvist", "dmensah")
ACIS_TEAM = ("kpatel",)
HRC_TEAM = ("hweber",)
SCHEDULERS = ("ayamamoto", "bnovak")
ADMIN = "mgarcia"
TELESCOPE = "tcs"


def ensure_people(ctx: DemoContext) -> None:
    """Create the demo users that do not exist yet and remember every demo user in ``ctx.users``.

    Existing accounts are used as they are (their roles are not changed), so a deployment's own
    users are never touched.
    """
    session = ctx.session
    usernames = [username for username, _, _ in PEOPLE]
    found = {
        user.username: user
        for user in session.scalars(select(User).where(User.username.in_(usernames)).options(selectinload(User.roles)))
    }
    for username, full_name, roles in PEOPLE:
        user = found.get(username)
        if user is None:
            user = add_user(
                session,
                username,
                list(roles),
                email=f"{username}@{EMAIL_DOMAIN}",
                full_name=full_name,
                now=ctx.clock,
            )
            ctx.inserted["users"] += 1
            ctx.inserted["user_roles"] += len(roles)
            ctx.inserted["audit_events"] += 1
        ctx.users[username] = user
