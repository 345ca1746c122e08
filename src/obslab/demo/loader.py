"""Load the deterministic demo observatory into a session: the one entry point of ``obslab.demo``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from obslab.audit import AuditEvent, record_event
from obslab.catalog.models import Observation
from obslab.configs.models import InstrumentConfiguration
from obslab.db import Clock, utcnow
from obslab.demo.configs import ensure_configurations
from obslab.demo.context import DemoContext
from obslab.demo.duty import ensure_duty_roster
from obslab.demo.feed import ensure_plans_and_alerts
from obslab.demo.nights import ensure_nights
from obslab.demo.observations import insert_observations, plan_observations
from obslab.demo.people import ensure_people
from obslab.demo.requests import ensure_requests
from obslab.demo.revisions import plan_stories, play_revisions
from obslab.errors import ConflictError
from obslab.observing.models import Night
from obslab.scheduling.models import ObservingRequest
from obslab.settings import Site


@dataclass(frozen=True)
class DemoSummary:
    """What one ``load_demo`` call added: rows inserted per table (zero on a repeated load)."""

    inserted: dict[str, int] = field(default_factory=dict)

    @property
    def total_inserted(self) -> int:
        return sum(self.inserted.values())


def load_demo(
    session: Session, *, site: Site, seed: int = 2026, now: Clock = utcnow, raw_dir: Path | None = None
) -> DemoSummary:
    """Add the demo observatory to ``session`` inside the caller's transaction (flushed, never committed).

    Parameters
    ----------
    session
        A session on a migrated database; the caller commits or rolls back.
    site
        The observatory site: local dates of the recent nights, darkness and airmass are computed for it.
    seed
        Chooses the generated content; the same seed on the same UTC date of ``now()`` gives the same rows.
        A database holding the demo of another seed is refused (ConflictError) before anything is written:
        two generated observatories share obsids and would contradict each other.
    now
        The clock, read once.  Catalog dates are placed relative to its UTC date; the three recent nights
        are the ones that began on the three local dates before the site's current local date, and a
        night still under way keeps only the exposures that have ended.
    raw_dir
        Where the recent nights' raw files are written, one ``YYYYMMDD`` folder a night, and ingested from
        (``<data_dir>/raw`` for ``obslab demo``); None loads no recent nights. ``reduce_demo_nights`` reduces
        them once the caller has committed.

    Returns
    -------
    DemoSummary
        Rows inserted per table.  Rows are matched by natural keys (user names, obsids, revision numbers,
        configuration versions, request names, night dates, duty weeks), so loading again inserts nothing,
        and a later day adds only what is new then (recent nights, roster weeks).
    """
    loaded = loaded_seeds(session)
    if loaded and seed not in loaded:
        earlier = ", ".join(str(s) for s in sorted(loaded))
        raise ConflictError(
            f"this database holds the demo observatory of seed {earlier}: --seed {earlier} tops it up; "
            f"seed {seed} needs an empty database (set OBSLAB_DATABASE_URL to a new file)",
            seed=seed,
            loaded=sorted(loaded),
        )
    ctx = DemoContext.start(session, site, seed, now)
    ensure_people(ctx)
    ensure_configurations(ctx)
    observations = plan_observations(ctx)
    # Stories are chosen on the observations as generated; playing them through the services then
    # applies their verified changes and approvals to the catalog, as a real history would.
    stories = plan_stories(ctx, observations)
    observation_ids = insert_observations(ctx, observations)
    play_revisions(ctx, stories)
    ensure_requests(ctx, observations, observation_ids)
    if raw_dir is not None:
        # The recent nights first, each with the plan it was observed from: an alert of the load's own night (a
        # load while the site's night is under way) then re-plans that night's stored plan, as it would have.
        ensure_nights(ctx, raw_dir)
    ensure_plans_and_alerts(ctx)
    ensure_duty_roster(ctx)
    inserted = {table: count for table, count in sorted(ctx.inserted.items()) if count}
    if inserted:
        record_event(
            session, actor=None, action="demo.loaded", entity_type="demo", entity_id=str(seed), after=inserted, now=now
        )
        session.flush()
        inserted["audit_events"] = inserted.get("audit_events", 0) + 1  # the event just recorded
    return DemoSummary(inserted=inserted)


def loaded_seeds(session: Session) -> set[int]:
    """The seeds of the demo observatories loaded into this database (one, unless refused since)."""
    ids = session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "demo.loaded").distinct())
    return {int(entity_id) for entity_id in ids}


def holds_other_data(session: Session) -> bool:
    """True when the database holds observatory data that the demo did not load.

    The demo must never be mixed into a real observatory's database; an earlier demo may be topped up.
    """
    if session.scalar(select(exists().where(AuditEvent.action == "demo.loaded"))):
        return False
    return any(
        session.scalar(select(exists().select_from(model)))
        for model in (Observation, InstrumentConfiguration, ObservingRequest, Night)
    )
