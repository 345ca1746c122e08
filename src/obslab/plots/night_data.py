"""The plain data the night chart is drawn from: a state builds it without loading HoloViews."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

#: Columns of ``NightChart.blocks``: one row per block, times UTC; ``constraints`` is one line of text.
BLOCK_COLUMNS = ["start", "end", "name", "target", "priority", "constraints"]
#: Columns of ``NightChart.curves``: one row per target and time step, times UTC.
CURVE_COLUMNS = ["time", "target", "altitude_deg"]


def empty_blocks() -> pd.DataFrame:
    return pd.DataFrame(columns=BLOCK_COLUMNS)


def empty_curves() -> pd.DataFrame:
    return pd.DataFrame(columns=CURVE_COLUMNS)


@dataclass(frozen=True, eq=False)
class NightChart:
    """One night as the schedule page draws it; every time is an aware UTC datetime.

    ``start`` to ``end`` is the time axis of both figures, whatever is planned. ``twilight`` holds the nested
    darkness intervals (``(start, end, level)``, level sunset, civil, nautical or astronomical, loosest first),
    ``lost`` the ranges given to the planner as lost to weather, ``limits`` the altitude limits of the
    scheduled requests (``(altitude_deg, label)``), and ``zone`` the site's time zone, for the local-time axis.
    """

    start: datetime
    end: datetime
    zone: str = "UTC"
    blocks: pd.DataFrame = field(default_factory=empty_blocks)
    twilight: tuple[tuple[datetime, datetime, str], ...] = ()
    lost: tuple[tuple[datetime, datetime], ...] = ()
    curves: pd.DataFrame = field(default_factory=empty_curves)
    limits: tuple[tuple[float, str], ...] = ()
