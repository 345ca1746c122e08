"""Reduce the demo's nights with the real pipeline, once the load has committed (the runner opens its own)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.db import Clock, utcnow
from obslab.observing.alarm_rules import AlarmRules, load_alarm_rules
from obslab.observing.models import Exposure, Night
from obslab.observing.pipeline.executors import ThreadExecutor
from obslab.observing.pipeline.runner import RunOptions, RunSummary, night_key, run_night
from obslab.settings import Settings


def reduce_demo_nights(
    sessions: sessionmaker[Session], settings: Settings, *, rules: AlarmRules | None = None, now: Clock = utcnow
) -> list[RunSummary]:
    """Bring every night with exposures up to date on threads, products under the settings' products folder.

    Metrics are checked against ``rules`` as they are written, as ``obslab pipeline run`` does, so the demo shows
    alarms; faces pass the context's ``alarm_rules``, and without them the settings' file (else the packaged
    rules) is read, which is what the context would choose. Call it after ``load_demo``'s transaction has
    committed: on SQLite a run inside it would wait for itself. A second call finds every stage up to date and
    writes nothing (a failed stage is retried up to ``pipeline_max_retries`` times, as the command would).
    """
    with sessions() as session:
        nights = session.scalars(
            select(Night.night_date).where(select(Exposure.id).where(Exposure.night_id == Night.id).exists())
        ).all()
    rules = rules if rules is not None else load_alarm_rules(settings.alarm_rules_file)
    options = RunOptions(max_retries=settings.pipeline_max_retries, alarm_rules=rules)
    executor = ThreadExecutor()
    try:
        return [
            run_night(
                sessions,
                night_key(night),
                executor,
                products_dir=settings.resolved_products_dir,
                options=options,
                now=now,
            )
            for night in sorted(nights)
        ]
    finally:
        executor.close()
