"""Plain helpers shared by the tests: a fixed clock, a test site, row counts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from obslab.settings import Site

#: A fixed instant for everything generated in tests, so results do not depend on the day they run.
FIXED_NOW = datetime(2026, 11, 21, 18, 30, tzinfo=UTC)
KITT_PEAK = Site(
    name="Kitt Peak", latitude_deg=31.9583, longitude_deg=-111.5967, height_m=2096.0, timezone="America/Phoenix"
)


def fixed_clock() -> datetime:
    return FIXED_NOW


def table_counts(session: Session) -> dict[str, int]:
    """Row count of every obslab table."""
    from obslab.models import Base

    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def refusals_since(session: Session, before: dict[str, int]) -> list[str]:
    """Who was refused since ``before`` was counted, oldest first, having checked that nothing but refusals was written.

    A refused permission leaves its audit event (the refused change itself rolls back); anything else is a change.
    """
    from obslab.audit import AuditEvent

    after = table_counts(session)
    assert after == before | {"audit_events": after["audit_events"]}, "a refusal wrote more than its audit event"
    added = after["audit_events"] - before["audit_events"]
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(added)).all() if added else []
    assert all(event.action == "refused" for event in events), [event.action for event in events]
    return [event.actor_name for event in reversed(events)]


def tonights_meridian(site: Site = KITT_PEAK) -> tuple[float, float]:
    """(RA, Dec) overhead at the middle of the site's night (the one under way, or the coming one): a target
    there is observable tonight whenever a test runs."""
    from obslab.demo.feed import local_sidereal_deg
    from obslab.scheduling.night import night_geometry, night_of

    night = night_geometry(site, night_of(site, datetime.now(UTC)))
    middle = night.sunset + (night.sunrise - night.sunset) / 2
    return local_sidereal_deg(middle, site.longitude_deg), site.latitude_deg
