"""The new-hardware report: spectrographs and IFUs a configuration brings that no earlier one had, and who hears."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, role_addresses
from obslab.configs.models import InstrumentConfiguration
from obslab.configs.types import Items
from obslab.configs.validation import HARDWARE, hardware
from obslab.db import Clock, utcnow
from obslab.notify import Notification, enqueue

#: Who reads the report: administrators publish new hardware, pipeline scientists reduce with it.
REPORT_ROLES = ("admin", "pipeline")
KIND = "configs.new_hardware"
#: hardware attribute -> {id: item key holding it}
NewHardware = dict[str, dict[int | str, str]]


def new_hardware(known: dict[str, set[int | str]], items: Items) -> NewHardware:
    """The hardware ids ``items`` hold that are not in ``known`` (placeholders never count)."""
    return {
        attribute: {ident: key for ident, key in held.items() if ident not in known.get(attribute, set())}
        for attribute, held in hardware(items).items()
    }


def dedupe_key(instrument: str, new: NewHardware) -> str:
    """One key per instrument and set of new hardware: hardware reported once is not reported again.

    (It can come back: a correction may take it out of the history, and a later version put it back in.)
    """
    listed = ";".join(
        f"{attribute}={ident!r}" for attribute in sorted(new) for ident in sorted(new[attribute], key=str)
    )
    return f"{KIND}:{instrument}:{hashlib.sha256(listed.encode()).hexdigest()[:16]}"


def report_body(row: InstrumentConfiguration, new: NewHardware, actor: User) -> str:
    """Plain text (mail is text, never HTML): the new hardware by seat, then the version it came with."""
    lines = [f"Configuration version {row.version_number} of {row.instrument} brings new hardware:", ""]
    for attribute, what in HARDWARE.items():
        if new.get(attribute):
            lines.append(f"New {what}s ({attribute}):")
            lines += [f"  {ident} in item {key}" for ident, key in sorted(new[attribute].items(), key=lambda p: p[1])]
    end = row.valid_to.isoformat() if row.valid_to is not None else "until further notice"
    lines += [
        "",
        f"Valid from {row.valid_from.isoformat()} to {end}",
        f"Recorded at {row.recorded_at.isoformat()} by {actor.username} (source: {row.source})",
    ]
    if row.comment:
        lines += ["", "Comment:", row.comment]
    return "\n".join(lines) + "\n"


def report_new_hardware(
    session: Session, row: InstrumentConfiguration, new: NewHardware, actor: User, *, now: Clock = utcnow
) -> Notification | None:
    """Put the report in the outbox, unless nothing is new, nobody would read it, or it was sent before."""
    if not any(new.values()):
        return None
    recipients = role_addresses(session, REPORT_ROLES)
    key = dedupe_key(row.instrument, new)
    if not recipients or session.scalar(select(Notification.id).where(Notification.dedupe_key == key)) is not None:
        return None
    counts = ", ".join(f"{len(new[a])} {what}(s)" for a, what in HARDWARE.items() if new.get(a))
    return enqueue(
        session,
        kind=KIND,
        recipients=recipients,
        subject=f"{row.instrument} configuration version {row.version_number}: new hardware ({counts})",
        body=report_body(row, new, actor),
        dedupe_key=key,
        now=now,
    )
