"""A small configuration world: one user per role the configs service cares about, focal planes, and a writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from obslab.access import User
from obslab.configs.models import InstrumentConfiguration
from obslab.configs.service import correct_configuration, latest_version_number, record_configuration
from obslab.users import add_user
from tests.helpers.support import FIXED_NOW

VIRUS = "VIRUS"
PEOPLE = {"tcs": ["telescope"], "root": ["admin"], "pia": ["pipeline"], "pat": ["usint"], "sam": ["staff"]}
#: Starts of five versions, a month apart, each recorded two hours after it began.
STARTS = [datetime(2026, 1, 5, 18, tzinfo=UTC) + timedelta(days=30 * n) for n in range(5)]
LATE = timedelta(hours=2)


def focal_plane(count: int, *, first_spec: int = 1, first_ifu: int = 100, **extra: Any) -> dict[str, dict[str, Any]]:
    """``count`` IFU seats in slot order, each with its own spectrograph and fibre bundle."""
    return {
        f"{n // 9 + 1:02d}{n % 9 + 1}": {
            "x_fp": float(n // 9 * 100),
            "y_fp": float(n % 9 * 100),
            "specid": first_spec + n,
            "ifuid": f"{first_ifu + n:03d}",
            "platesc": 1.0,
        }
        | extra
        for n in range(count)
    }


@dataclass
class Desk:
    """The session the tests act in and the people in it."""

    session: Session
    users: dict[str, User]

    def _fresh(self) -> Session:
        if self.session.in_transaction():
            self.session.commit()
        return self.session

    def record(
        self,
        items: dict[str, dict[str, Any]],
        start: datetime,
        *,
        at: datetime | None = None,
        who: str = "tcs",
        instrument: str = VIRUS,
        **kwargs: Any,
    ) -> InstrumentConfiguration:
        """Record as ``who`` at ``at`` (default: two hours after ``start``), stating the newest version as seen."""
        session = self._fresh()
        with session.begin():
            kwargs.setdefault("seen_version", latest_version_number(session, instrument))
            return record_configuration(
                session, self.users[who], instrument, items, valid_from=start, now=_clock(at or start + LATE), **kwargs
            )

    def correct(
        self,
        items: dict[str, dict[str, Any]],
        start: datetime,
        end: datetime | None,
        *,
        at: datetime = FIXED_NOW,
        who: str = "root",
        instrument: str = VIRUS,
        comment: str = "The export had it wrong.",
        **kwargs: Any,
    ) -> InstrumentConfiguration:
        session = self._fresh()
        with session.begin():
            kwargs.setdefault("seen_version", latest_version_number(session, instrument))
            return correct_configuration(
                session,
                self.users[who],
                instrument,
                items,
                valid_from=start,
                valid_to=end,
                comment=comment,
                now=_clock(at),
                **kwargs,
            )


def _clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def build_desk(session: Session) -> Desk:
    with session.begin():
        users = {
            name: add_user(
                session, name, roles, email=f"{name}@obs.example", full_name=name.title(), now=lambda: FIXED_NOW
            )
            for name, roles in PEOPLE.items()
        }
    return Desk(session, users)
