"""Trending figures: values against time, one line per group; a metric's points with alarms, night medians, changes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import holoviews as hv
import pandas as pd

from obslab.plots.backend import use_bokeh

#: The name of each metric's figure, for finding it in the page (BokehJS) and in tests.
TREND_PLOT = "obslab-trend"
POINTS, ALARMED, MEDIANS, CHANGES = "points", "alarm raised", "night median", "configuration change"
COLOURS = {POINTS: "#0969da", ALARMED: "#cf222e", MEDIANS: "#bc4c00", CHANGES: "#6e7781"}
TIME = hv.Dimension("time", label="UTC")
#: What a page passes for each metric: its points, its nights and the configuration changes in its range.
POINT_COLUMNS = ["time", "value", "exposure", "night", "scope", "alarms"]
NIGHT_COLUMNS = ["time", "median", "count", "night"]
MARKER_COLUMNS = ["time", "label", "what"]
TOOLS = ["xpan", "xwheel_zoom", "box_zoom", "reset", "save"]


def time_series_plot(frame: pd.DataFrame, x: str, y: str, *, by: str | None = None, title: str = "") -> hv.Overlay:
    """Values of ``y`` against time ``x``, one line per ``by`` group (the trending pages build on this)."""
    use_bokeh()
    groups = frame.groupby(by) if by else [(y, frame)]
    curves = [hv.Curve(part, kdims=[x], vdims=[y], label=str(name)).opts(tools=["hover"]) for name, part in groups]
    return hv.Overlay(curves).opts(responsive=True, min_height=260, title=title)


def _naive_utc(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy with ``time`` as naive UTC (Bokeh's datetime axes take no zone; every time here is UTC)."""
    copy = pd.DataFrame(frame, columns=list(columns)).copy()
    copy["time"] = pd.to_datetime(copy["time"], utc=True).dt.tz_localize(None)
    copy["when"] = copy["time"].dt.strftime("%Y-%m-%d %H:%M UTC")
    return copy


def _beside_the_line(plot: Any, _element: Any) -> None:
    """Set a change's name a few pixels right of its line (HoloViews' offsets are in data units, here time)."""
    plot.handles["glyph"].x_offset = 5


def trend_plot(
    points: pd.DataFrame,
    nights: pd.DataFrame,
    markers: pd.DataFrame,
    *,
    metric: str,
    unit: str = "",
    height: int = 300,
    xlim: tuple[Any, Any] | None = None,
) -> hv.Overlay:
    """One metric against time: every point (alarmed ones ringed red), each night's median, configuration changes.

    ``points`` has ``POINT_COLUMNS`` (``alarms``: the rules that fired, empty for none), ``nights``
    ``NIGHT_COLUMNS`` and ``markers`` ``MARKER_COLUMNS``; times are aware UTC. A change is a grey dashed line
    across the figure, named at its top (``label``), its hover saying what changed. ``xlim`` (from ``time_range``)
    gives figures shown together one time range, whatever each holds.
    """
    use_bokeh()
    # The metric's own dimension, so figures of different metrics laid out together share the time axis only.
    value = hv.Dimension(re.sub(r"\W", "_", metric) or "value", label=f"{metric} ({unit})" if unit else metric)
    shown = _naive_utc(points, POINT_COLUMNS).rename(columns={"value": value.name})
    medians = _naive_utc(nights, NIGHT_COLUMNS).rename(columns={"median": value.name})
    changes = _naive_utc(markers, MARKER_COLUMNS)
    hover = [("time", "@when"), ("value", f"@{{{value.name}}}"), ("exposure", "@exposure"), ("night", "@night")]
    hover += [("scope", "@scope"), ("alarms", "@alarms")]
    vdims = [value, "when", "exposure", "night", "scope", "alarms"]
    night_hover = [("night", "@night"), ("median", f"@{{{value.name}}}"), ("points", "@count")]
    night_dims = [value, "night", "count"]
    # Medians first, so a night of one value shows its point on top of its median.
    layers: list[hv.Element] = [
        hv.Curve(medians, kdims=[TIME], vdims=night_dims).opts(
            color=COLOURS[MEDIANS], line_dash="dashed", line_width=1.5
        ),
        hv.Scatter(medians, kdims=[TIME], vdims=night_dims, label=MEDIANS).opts(
            color=COLOURS[MEDIANS], marker="diamond", size=13, tools=["hover"], hover_tooltips=night_hover
        ),
    ]
    layers += [
        hv.Scatter(shown, kdims=[TIME], vdims=vdims, label=POINTS).opts(
            color=COLOURS[POINTS], size=6, alpha=0.8, tools=["hover"], hover_tooltips=hover
        ),
        hv.Scatter(shown[shown["alarms"] != ""], kdims=[TIME], vdims=vdims, label=ALARMED).opts(
            color=COLOURS[ALARMED],
            fill_alpha=0,
            line_width=2.5,
            size=14,
            tools=["hover"],
            hover_tooltips=hover,
        ),
    ]
    values = pd.concat([shown[value.name], medians[value.name]]).dropna()
    low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    pad = (high - low) * 0.08 or abs(high) * 0.08 or 1.0
    top = high + 2 * pad  # room above the highest point for the changes' names
    line = {"color": COLOURS[CHANGES], "line_dash": "dashed", "line_width": 1.5}
    layers += [hv.VLine(moment).opts(**line) for moment in changes["time"]]
    changes[value.name] = top
    changes["text"] = changes["label"]
    layers += [
        hv.Scatter(changes, kdims=[TIME], vdims=[value, "label", "what", "when"], label=CHANGES).opts(
            color=COLOURS[CHANGES],
            marker="inverted_triangle",
            size=11,
            tools=["hover"],
            hover_tooltips=[("change", "@label"), ("from", "@when"), ("what", "@what")],
        ),
        hv.Labels(changes, kdims=[TIME, value], vdims=["text"]).opts(
            text_font_size="9pt",
            text_color="#24292f",
            text_align="left",
            text_baseline="middle",
            text_font_style="bold",
            hooks=[_beside_the_line],
        ),
    ]
    limits = xlim or time_range(points, nights, markers)
    return hv.Overlay(layers).opts(
        **({"xlim": limits} if limits else {}),
        title=f"{metric} ({unit})" if unit else metric,
        xlabel="UTC",
        ylabel=value.label,
        ylim=(low - pad, top + pad),
        responsive=True,
        height=height,
        tools=[],
        default_tools=TOOLS,
        active_tools=["xwheel_zoom"],
        legend_position="right",  # outside the frame: inside, it hid points and the changes' names under it
        backend_opts={"plot.name": f"{TREND_PLOT}:{metric}", "plot.output_backend": "canvas"},
    )


def time_range(*frames: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The times of every frame's ``time`` column (naive UTC), with a margin: the range a page's figures share.

    Explicit, because a figure redrawn with new data otherwise kept a range fitted to its data without a margin.
    """
    parts = [pd.to_datetime(f["time"], utc=True) for f in frames if len(f)]
    if not parts:
        return None
    times = pd.concat(parts, ignore_index=True)
    first, last = times.min().tz_localize(None), times.max().tz_localize(None)
    margin = max((last - first) * 0.03, pd.Timedelta(hours=1))
    return first - margin, last + margin


def trend_figures(plots: Sequence[hv.Overlay]) -> hv.Layout:
    """The metrics' figures one above the other, panning and zooming together in time."""
    use_bokeh()
    return hv.Layout(list(plots)).cols(1).opts(shared_axes=True)
