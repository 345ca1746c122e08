"""State of the configurations dashboard: one instrument's records on both time axes, an as-of answer, a diff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import param
from sqlalchemy.orm import Session

from obslab.configs.text_input import moment_from_text
from obslab.configs.types import ConfigVersion, diff_items
from obslab.configs.views import as_recorded_at, get_version, history, instruments, latest_version_number
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.state.base import DashboardState
from obslab.dashboards.state.configs_tables import (
    DIFF_COLUMNS,
    ITEM_KEY,
    Side,
    as_of_summary,
    diff_frame,
    diff_summary,
    has_plane,
    items_frame,
    label_of,
    parse_side,
    plane_rows,
    record_summary,
)
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError, NotFoundError

POSITIONS = ("actual", "nominal")
#: Just before a start: what was in force then is the version before it.
INSTANT = timedelta(microseconds=1)


class ConfigsState(DashboardState):
    """One instrument: every record (superseded ones too), the configuration valid at a time as known at a time,
    its focal plane or items, and what changed between two versions or dates.

    Every input change reads again. A refused time clears what was shown for it (answer, plane, items, diff);
    a refused comparison clears the diff only. The history stays: it does not depend on the times.
    """

    EMPTY = {
        # Neutral: a table is empty when nothing was in force and also when a time above was refused.
        "items": "No configuration to show.",
        "diff": "No difference to show.",
    }

    instrument = param.Selector(default="", objects=[""], doc="The instrument whose configurations are shown")
    valid_at = param.String(default="", label="Valid at (UTC)", doc="Telescope time: when it was so; empty: now")
    known_at = param.String(default="", label="Known at (UTC)", doc="Record time: as obslab knew then; empty: now")
    positions = param.Selector(default="actual", objects=list(POSITIONS), doc="Measured or nominal IFU positions")
    compare_from = param.String(
        default="",
        label="Compare from",
        doc="A version number (5 or v5), or a UTC time as known at Known at; empty: the version before the one shown",
    )
    compare_to = param.String(
        default="",
        label="Compare to",
        doc="A version number (5 or v5), or a UTC time as known at Known at; empty: the version shown",
    )

    versions = param.List(default=[], item_type=ConfigVersion, precedence=-1, doc="Every record, by version number")
    shown = param.ClassSelector(class_=ConfigVersion, default=None, allow_None=True, precedence=-1)
    marker = param.Parameter(default=None, precedence=-1, doc="(valid at, known at) of the answer; None when refused")
    read_at = param.Date(default=None, precedence=-1, doc="When the page last read: the open ends of the timeline")
    summary = param.String(default="", precedence=-1, doc="The as-of answer in one line")
    record = param.String(default="", precedence=-1, doc="Who recorded the version shown, when, from where, why")
    items = param.DataFrame(default=None, precedence=-1)
    has_plane = param.Boolean(default=False, precedence=-1, doc="Whether the configuration shown is a focal plane")
    plane = param.List(default=[], precedence=-1, doc="The IFUs to draw (FplaneRow), at the positions chosen")
    plane_title = param.String(default="", precedence=-1)
    not_drawn = param.String(default="", precedence=-1, doc="The entries of the configuration not drawn, and why")
    diff = param.DataFrame(default=None, precedence=-1)
    diff_text = param.String(default="", precedence=-1, doc="What the diff compares, and how much changed")

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        super().__init__(context, now=now, **params)
        self.site = self.context.settings.site
        with self.context.sessions() as session:
            names = instruments(session)
            # The longest history first: the instrument whose configuration changes, and is asked about, most.
            newest = {name: latest_version_number(session, name) for name in names}
        self.param.instrument.objects = names or [""]
        if self.instrument not in names:
            with param.parameterized.discard_events(self):  # read once, below, not also on this change
                self.instrument = max(names, key=lambda name: (newest[name], name)) if names else ""
        self._clear_answer()
        self.refresh()

    @param.depends("instrument", "valid_at", "known_at", "compare_from", "compare_to", watch=True)
    def _inputs_changed(self) -> None:
        self.refresh()

    @param.depends("positions", watch=True)
    def _positions_changed(self) -> None:
        self._draw_plane(self.shown)

    def refresh(self) -> None:
        """Read the history, the answer for the two times and then the comparison, each refused on its own."""
        if not self.instrument:
            self.error = ""
            self.summary = "No instrument has a recorded configuration yet."
            return
        at = self.now()
        if self.run(lambda session: self._read(session, at), write=False, refused=lambda _r: self._clear_answer()):
            self.run(lambda session: self._compare(session, at), write=False, refused=lambda _r: self._clear_diff())
        else:
            self._clear_diff()

    # --- reading ------------------------------------------------------------------------------

    def _read(self, session: Session, at: datetime) -> None:
        versions = history(session, self.instrument)
        zone = self.site.zone
        try:
            valid = moment_from_text(self.valid_at, "valid at", now=at, zone=zone)
            known = moment_from_text(self.known_at, "known at", now=at, zone=zone)
        except InvalidInputError:
            # The history does not depend on the times: it follows the instrument even when a time is refused.
            self.param.update(versions=versions, read_at=at)
            raise
        found = as_recorded_at(session, self.instrument, valid, known)
        self.param.update(
            versions=versions,
            shown=found,
            marker=(valid, known),
            read_at=at,
            summary=as_of_summary(self.instrument, found, valid, known),
            record=record_summary(found),
            items=items_frame(found.items if found is not None else {}),
        )
        self._draw_plane(found)

    def _draw_plane(self, version: ConfigVersion | None) -> None:
        if version is None or not has_plane(version.items):
            self.param.update(has_plane=False, plane=[], plane_title="", not_drawn="")
            return
        rows, others = plane_rows(version.items, actual=self.positions == "actual")
        self.param.update(
            has_plane=True,
            plane=list(rows),
            plane_title=f"{version.instrument} version {version.version_number}: {len(rows)} IFUs "
            f"({self.positions} positions)",
            not_drawn=(
                f"Not drawn: {', '.join(others)} (SPECID or IFUID 900 and up: the placeholder and the "
                "non-VIRUS feeds, which are not IFUs on the plate; they are in the items table)"
                if others
                else ""
            ),
        )

    def _compare(self, session: Session, at: datetime) -> None:
        zone = self.site.zone
        known = self.marker[1]
        first = parse_side(self.compare_from, "compare from", now=at, zone=zone)
        second = parse_side(self.compare_to, "compare to", now=at, zone=zone)
        if first is None:  # what the version shown changed: the one in force just before it, as known then
            start = self.shown.valid_from - INSTANT if self.shown is not None else None
            before = as_recorded_at(session, self.instrument, start, known) if start is not None else None
        else:
            before = self._side(session, first, known)
        after = self.shown if second is None else self._side(session, second, known)
        old, new = (before.items if before else {}), (after.items if after else {})
        difference = diff_items(old, new)
        self.param.update(
            diff=diff_frame(difference, old, new), diff_text=diff_summary(difference, label_of(before), label_of(after))
        )

    def _side(self, session: Session, side: Side, known: datetime) -> ConfigVersion | None:
        if side.version is not None:
            try:
                return get_version(session, self.instrument, side.version)
            except NotFoundError:
                newest = latest_version_number(session, self.instrument)
                raise InvalidInputError(
                    side.field, side.text, f"a version of {self.instrument}, 1 to {newest}"
                ) from None
        assert side.moment is not None
        return as_recorded_at(session, self.instrument, side.moment, known)

    # --- clearing what no longer matches the inputs ------------------------------------------

    def _clear_answer(self) -> None:
        self.param.update(
            shown=None,
            marker=None,
            summary="",
            record="",
            items=pd.DataFrame(columns=[ITEM_KEY]),
            has_plane=False,
            plane=[],
            plane_title="",
            not_drawn="",
        )

    def _clear_diff(self) -> None:
        self.param.update(diff=pd.DataFrame(columns=DIFF_COLUMNS), diff_text="")
