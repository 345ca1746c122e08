"""State of the trending dashboard: metrics, scope and nights in; points, night medians, changes and alarms out."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import param
from sqlalchemy.orm import Session

from obslab.dashboards.context import DashboardContext
from obslab.dashboards.state.base import DashboardState, row_position
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError
from obslab.formatting import number, utc
from obslab.observing.alarms import acknowledge
from obslab.observing.trends import (
    ConfigMarker,
    TrendAlarm,
    TrendSeries,
    config_markers,
    metric_names,
    metric_series,
    trend_scopes,
)

#: What a scope selector shows for "no restriction".
ANY = "(any)"
#: Shown first when the viewer has them: the adaptive optics' figure of merit and the sky's.
DEFAULT_METRICS = ("strehl_percent", "seeing_arcsec")
POINT_COLUMNS = ["metric", "time", "value", "unit", "exposure", "night", "scope", "alarms"]
NIGHT_COLUMNS = ["metric", "time", "median", "count", "night"]
MARKER_COLUMNS = ["time", "from", "label", "what", "instrument", "version"]
ALARM_COLUMNS = ["id", "raised", "metric", "rule", "where", "measured", "values", "message", "status"]


def night_of(field: str, text: str) -> date | None:
    """A night typed as YYYYMMDD or YYYY-MM-DD (empty: no bound), refused naming the field."""
    text = text.strip()
    if not text:
        return None
    try:
        if "-" in text:
            return date.fromisoformat(text)
        if len(text) != 8 or not text.isdigit():
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise InvalidInputError(field, text, "a night as YYYYMMDD or YYYY-MM-DD, or empty for no bound") from None


def _scope(point: Any) -> str:
    return "/".join(part for part in (point.instrument, point.filter_name, point.camera_mode) if part) or "night"


def _status(alarm: TrendAlarm) -> str:
    if alarm.acknowledged_at is None:
        return "open"
    return f"acknowledged by {alarm.acknowledged_by or 'someone'} {utc(alarm.acknowledged_at)}"


class TrendingState(DashboardState):
    """Metrics over time as the viewer may see them: one series per metric picked, in the scope and nights chosen.

    Every input change reads again; a refused input (a night mistyped, the first night after the last) clears
    what was shown, so nothing on the page belongs to other inputs. The alarm log holds the alarms raised on the
    points shown; acknowledging the selected one goes through ``observing.alarms.acknowledge`` (audited) and
    reads again.
    """

    EMPTY = {
        "points": "No values of these metrics in this scope and these nights.",
        "alarm_log": "No alarms on the values shown.",
        "markers": "No configuration change in this range.",
    }

    metrics = param.ListSelector(default=[], objects=[], doc="The metrics shown, one figure each")
    instrument = param.Selector(default=ANY, objects=[ANY], doc="Only exposures taken with this instrument")
    filter_name = param.Selector(default=ANY, objects=[ANY], label="Filter", doc="Only exposures in this filter")
    camera_mode = param.Selector(default=ANY, objects=[ANY], label="Camera mode", doc="Only this camera mode")
    since = param.String(default="", label="First night", doc="The first night, YYYYMMDD; empty: the first there is")
    until = param.String(default="", label="Last night", doc="The last night, YYYYMMDD; empty: the last there is")
    show_acknowledged = param.Boolean(default=False, label="Acknowledged too", doc="List acknowledged alarms too")

    points = param.DataFrame(default=None, precedence=-1, doc="Every point of every metric shown")
    nights = param.DataFrame(default=None, precedence=-1, doc="Each metric's median and count per night")
    markers = param.DataFrame(default=None, precedence=-1, doc="The configuration changes in the range shown")
    units = param.Dict(default={}, precedence=-1, doc="Each metric's unit")
    alarm_log = param.DataFrame(default=None, precedence=-1, doc="The alarms raised on the points shown")
    selected_alarm = param.Integer(default=None, allow_None=True, precedence=-1, doc="The alarm picked in the log")
    selected_row = param.Integer(default=None, allow_None=True, precedence=-1, doc="Where it is in the log")
    summary = param.String(default="", precedence=-1, doc="What is shown, in one line")

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        super().__init__(context, now=now, **params)
        self._clear()
        self._alarms: tuple[TrendAlarm, ...] = ()
        self.run(self._choices, write=False)
        self.refresh()

    # --- reading ------------------------------------------------------------------------------

    def _choices(self, session: Session) -> None:
        viewer = self.context.actor(session)
        names, scopes = metric_names(session, viewer), trend_scopes(session, viewer)
        self.param.metrics.objects = names
        for field in ("instrument", "filter_name", "camera_mode"):
            self.param[field].objects = [ANY, *scopes[field]]
        picked = [name for name in self.metrics if name in names]
        with param.parameterized.discard_events(self):  # read once, by the caller, not on each of these
            self.metrics = picked or [name for name in names if name in DEFAULT_METRICS] or names[:1]

    @param.depends("metrics", "instrument", "filter_name", "camera_mode", "since", "until", watch=True)
    def _inputs_changed(self) -> None:
        self.refresh()

    @param.depends("show_acknowledged", watch=True)
    def _log_changed(self) -> None:
        self._show_log()

    def refresh(self) -> None:
        """Read every metric picked, the changes in their range and the alarms on their points."""
        if not self.metrics:
            self._clear()
            self.summary = "No metric to show: the pipeline has measured nothing you may see yet."
            return
        self.run(self._read, write=False, refused=lambda _error: self._clear())

    def _read(self, session: Session) -> None:
        viewer = self.context.actor(session)
        since, until = night_of("first night", self.since), night_of("last night", self.until)
        if since is not None and until is not None and since > until:
            raise InvalidInputError("first night", self.since, f"a night on or before the last night ({self.until})")
        scope = {
            field: "" if getattr(self, field) == ANY else getattr(self, field)
            for field in ("instrument", "filter_name", "camera_mode")
        }
        series = [metric_series(session, viewer, metric, since=since, until=until, **scope) for metric in self.metrics]
        spans = [s.span for s in series if s.span is not None]
        instruments = sorted({name for s in series for name in s.instruments})
        markers = (
            config_markers(session, instruments, min(a for a, _ in spans), max(b for _, b in spans)) if spans else []
        )
        self._show(series, markers)

    def _show(self, series: list[TrendSeries], markers: list[ConfigMarker]) -> None:
        points = [
            [
                s.metric,
                p.at,
                p.value,
                p.unit,
                p.exposure or "",
                f"{p.night:%Y%m%d}",
                _scope(p),
                ", ".join(p.alarm_rules),
            ]
            for s in series
            for p in s.points
        ]
        nights = [[s.metric, n.at, n.median, n.count, f"{n.night:%Y%m%d}"] for s in series for n in s.nights]
        changes = [[m.valid_from, utc(m.valid_from), m.label, m.what, m.instrument, m.version_number] for m in markers]
        self._alarms = tuple(sorted((a for s in series for a in s.alarms), key=lambda a: (a.raised_at, a.id)))
        parts = [
            f"{s.metric}: {len(s.points)} values on {len(s.nights)} nights, "
            f"{sum(1 for p in s.points if p.alarmed)} with alarms"
            for s in series
        ]
        parts.append(f"{len(markers)} configuration change{'' if len(markers) == 1 else 's'}")
        self.param.update(
            points=pd.DataFrame(points, columns=POINT_COLUMNS),
            nights=pd.DataFrame(nights, columns=NIGHT_COLUMNS),
            markers=pd.DataFrame(changes, columns=MARKER_COLUMNS),
            units={s.metric: s.unit for s in series},
            summary=" · ".join(parts),
        )
        self._show_log()

    def _show_log(self) -> None:
        shown = [a for a in reversed(self._alarms) if self.show_acknowledged or a.acknowledged_at is None]
        rows = [
            [
                a.id,
                utc(a.raised_at),
                a.metric,
                a.rule,
                a.exposure or f"night {a.night:%Y%m%d}",
                utc(a.measured_at),
                ", ".join(number(v) for v in a.values),
                a.message,
                _status(a),
            ]
            for a in shown
        ]
        log = pd.DataFrame(rows, columns=ALARM_COLUMNS)
        selected = self.selected_alarm if self.selected_alarm in set(log["id"]) else None
        self.param.update(alarm_log=log, selected_alarm=selected, selected_row=row_position(log, "id", selected))

    def _clear(self) -> None:
        self._alarms = ()
        self.param.update(
            points=pd.DataFrame(columns=POINT_COLUMNS),
            nights=pd.DataFrame(columns=NIGHT_COLUMNS),
            markers=pd.DataFrame(columns=MARKER_COLUMNS),
            units={},
            alarm_log=pd.DataFrame(columns=ALARM_COLUMNS),
            selected_alarm=None,
            selected_row=None,
            summary="",
        )

    # --- the alarm log ------------------------------------------------------------------------

    def select_alarm(self, alarm_id: int | None) -> None:
        """Pick an alarm of the log (None, or one not in it: none)."""
        found = alarm_id if alarm_id is not None and alarm_id in set(self.alarm_log["id"]) else None
        self.param.update(selected_alarm=found, selected_row=row_position(self.alarm_log, "id", found))

    @property
    def acknowledge_refusal(self) -> str:
        """Why the viewer may not acknowledge (empty: they may): anyone obslab knows may, as the service says."""
        return "" if self.context.viewer.known else self.refusal((), "acknowledge alarms")

    def acknowledge(self) -> bool:
        """Acknowledge the selected alarm as the viewer (audited), then read again; a refusal is shown, not raised."""
        alarm_id = self.selected_alarm
        if alarm_id is None:
            self.error, self.message = "Pick an alarm in the log first.", ""
            return False
        return self.run(
            lambda session: acknowledge(session, self.context.actor(session), alarm_id, now=self.now),
            f"Alarm {alarm_id} acknowledged.",
            then=lambda _alarm: self.refresh(),
            refused=lambda _error: self.refresh(),
        )
