"""The morning's run: which night is the last one over, and the crontab line and systemd timer that run it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from obslab.errors import InvalidInputError
from obslab.reports.runner import last_night
from obslab.reports.schedule import cron_line, systemd_units
from obslab.settings import Settings

COMMAND = "/opt/obslab/bin/obslab report run nightly --last-night"


@pytest.mark.parametrize(
    ("now", "night"),
    [
        (datetime(2026, 12, 7, 19, 30, tzinfo=UTC), date(2026, 12, 6)),  # 12:30 in Arizona: last night just ended
        (datetime(2026, 12, 7, 18, 59, tzinfo=UTC), date(2026, 12, 5)),  # 11:59: last night is still under way
        (datetime(2026, 12, 8, 6, 0, tzinfo=UTC), date(2026, 12, 6)),  # 23:00 on the 7th: the 7th's night began
    ],
)
def test_the_last_night_over_is_the_one_that_ended_at_the_last_local_noon(now: datetime, night: date) -> None:
    assert last_night(Settings(), now) == night


def test_cron_and_systemd_run_it_daily_at_the_sites_time_as_the_user_given() -> None:
    cron = cron_line(COMMAND, "12:30", "America/Phoenix", "night ops")
    assert "CRON_TZ=America/Phoenix\n30 12 * * * OBSLAB_ACTING_USER='night ops' " + COMMAND in cron
    units = systemd_units(COMMAND, "13:05", "America/Phoenix", "cfernandez")
    assert f"ExecStart={COMMAND}\n" in units and "Environment=OBSLAB_ACTING_USER=cfernandez\n" in units
    assert "OnCalendar=*-*-* 13:05:00 America/Phoenix\nPersistent=true" in units and "Type=oneshot" in units


@pytest.mark.parametrize("at", ["09:00", "24:00", "12:60", "noon", "12:5"])
def test_a_time_before_noon_or_not_a_time_is_refused(at: str) -> None:
    with pytest.raises(InvalidInputError, match=f"at: '{at}' is not allowed; expected a local time HH:MM from 12:00"):
        cron_line(COMMAND, at, "America/Phoenix", "u")
