"""Alarms of the tests' own on the demo's Strehl values, raised as the pipeline would have (trending tests)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.observing.alarm_rules import load_alarm_rules
from obslab.observing.alarms import raise_alarms
from obslab.observing.models import Metric
from tests.helpers.support import fixed_clock

#: A rule of the tests' own (whatever the demo's rules raise), firing on the demo's weaker Strehl values; its
#: message holds markup, which every page must show as text.
RULE = "trend-test-low"
RULES = f"""
[[rule]]
name = "{RULE}"
metric = "strehl_percent"
notify = ["staff"]
message = "Strehl under 12 %: <b>check the loop</b>"
outside = [12.0, 100.0]
"""


def raise_test_alarms(sessions: sessionmaker[Session], folder: Path) -> int:
    """Evaluate the test rule on every Strehl of the demo, oldest first; how many fired."""
    path = folder / "trend-test-rules.toml"
    path.write_text(RULES)
    rules = load_alarm_rules(path)
    with sessions() as session, session.begin():
        metrics = session.scalars(
            select(Metric).where(Metric.name == "strehl_percent").order_by(Metric.measured_at)
        ).all()
        return sum(len(raise_alarms(session, metric, rules, now=fixed_clock)) for metric in metrics)
