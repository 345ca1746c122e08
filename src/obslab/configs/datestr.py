"""The date strings fplane clients send (empty, latest, current, YYYYMMDD, a FITS DATE-OBS) as UTC moments (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from obslab.errors import InvalidInputError

#: What ``parse_datestr`` accepts, as an error message says it.
ALLOWED = (
    "empty, 'latest' or 'current' (now), YYYYMMDD (local midnight of the night starting that day at the site), "
    "or a FITS DATE-OBS in UTC: YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff], optionally ending in Z"
)
NOW_WORDS = frozenset({"", "latest", "current", "now"})
# ASCII: Python's \d also matches other scripts' digits, and int() reads them.
NIGHT = re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII)
DATE_OBS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?Z?$", re.ASCII)


@dataclass(frozen=True)
class Moment:
    """What a date string asks for: the UTC instant, and the night (local date it starts) it falls in."""

    at: datetime
    night: date

    @property
    def file_name(self) -> str:
        """The file name fplane clients save it under, after the night: ``fplane20180714.txt``."""
        return f"fplane{self.night:%Y%m%d}.txt"


def night_containing(moment: datetime, zone: tzinfo) -> date:
    """The local date a night starts on, for a moment in it: nights run local noon to noon, as in night.py."""
    return (moment.astimezone(zone) - timedelta(hours=12)).date()


def parse_datestr(text: str, *, now: datetime, zone: tzinfo, field: str = "datestr") -> Moment:
    """The moment a client's date string names, or InvalidInputError naming the value and the forms allowed.

    Parameters
    ----------
    text
        ``""``, ``latest``, ``current`` or ``now`` (any case): ``now``. ``YYYYMMDD``: local midnight of the night
        that starts on that date, that is 00:00 of the next calendar day in ``zone`` (a FITS frame taken that
        night has a DATE-OBS near it). ``YYYY-MM-DD`` or ``YYYY-MM-DDThh:mm:ss[.ffffff]``, with or without a
        trailing ``Z``: a FITS DATE-OBS, always UTC.
    now
        The aware current time (the caller's clock).
    zone
        The site's time zone.
    field
        What the refusal calls the value (the parameter it came in).
    """
    cleaned = text.strip()
    if cleaned.lower() in NOW_WORDS:
        return Moment(now.astimezone(UTC), night_containing(now, zone))
    try:
        if night := NIGHT.match(cleaned):
            start = date(*(int(part) for part in night.groups()))
            # The next day's local midnight: combine first, then convert, so the zone's offset on that day applies.
            midnight = datetime.combine(start + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
            return Moment(midnight, start)
        if stamp := DATE_OBS.match(cleaned):
            year, month, day, hour, minute, second, fraction = stamp.groups()
            at = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((fraction or "0").ljust(6, "0")),
                tzinfo=UTC,
            )
            return Moment(at, night_containing(at, zone))
    except (ValueError, OverflowError):  # a day that does not exist (20180230), or past year 9999
        pass
    raise InvalidInputError(field, text, ALLOWED)
