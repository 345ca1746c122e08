"""Figures of one night's plan: the blocks in one row over twilight and lost time, and the targets' altitudes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holoviews as hv
import numpy as np
import pandas as pd

from obslab.plots.backend import use_bokeh
from obslab.plots.colours import TARGET_COLOURS, ink_on
from obslab.plots.night_data import NightChart

#: The sky between one darkness level and the next, lighter for lighter skies (what the legend says).
BANDS = {
    "civil twilight": "#e4ebf6",
    "nautical twilight": "#c6d4ec",
    "astronomical twilight": "#a5bbdf",
    "night": "#86a1cf",
}
#: The band inside each darkness level (down to the next level, when there is one).
INSIDE = {
    "sunset": "civil twilight",
    "civil": "nautical twilight",
    "nautical": "astronomical twilight",
    "astronomical": "night",
}
LOST = "lost (weather)"
LOST_COLOUR = "#8c8c8c"
#: A block narrower than this share of the night gets no label (its hover still names it).
LABEL_MIN_SHARE = 0.009
#: Labels are cut to this many characters: about the height of the row at the label's size.
LABEL_CHARS = 14
#: A name's width, as a share of the night per character (8 pt on a chart about 1300 pixels wide), and height.
CHAR_SHARE, LABEL_DEG = 5.5 / 1300, 4.0
#: Names of the figures and of the local-time axis, for finding them in the page (BokehJS) and in tests.
TIMELINE, ALTITUDES, LOCAL_AXIS = "obslab-night-timeline", "obslab-night-altitudes", "obslab-local-time"
#: Both figures keep this much room left and right, so their time axes line up one above the other.
BORDER_LEFT, BORDER_RIGHT = 64, 24
TIME = hv.Dimension("time", label="UTC")
#: The y dimension of each figure and its extent: distinct names, so the layout shares only the time axis.
ROW, ALTITUDE = ("row", 0.0, 1.0), ("altitude_deg", 0.0, 90.0)
STEP_COLUMNS = ["time", "altitude_deg", "time_end", "altitude_end"]
TOOLS = ["xpan", "xbox_zoom", "xwheel_zoom", "reset", "save"]

#: Local clock time from UTC milliseconds: the offset in force at the tick (a clock change may fall in the night).
LOCAL_CLOCK_JS = """
let offset = offsets[0];
for (let i = 0; i < changes.length; i++) { if (tick >= changes[i]) { offset = offsets[i]; } }
const t = new Date(tick + offset);
return String(t.getUTCHours()).padStart(2, "0") + ":" + String(t.getUTCMinutes()).padStart(2, "0");
"""


def twilight_bands(twilight: Sequence[tuple[datetime, datetime, str]]) -> list[tuple[datetime, datetime, str]]:
    """Nested darkness intervals (loosest first) as bands that do not overlap, each named by its sky."""
    bands = []
    for index, (start, end, level) in enumerate(twilight):
        label = INSIDE.get(level, level)
        inner = twilight[index + 1] if index + 1 < len(twilight) else None
        pieces = [(start, end)] if inner is None else [(start, inner[0]), (inner[1], end)]
        bands += [(a, b, label) for a, b in pieces if a < b]
    return sorted(bands)


def local_offsets(zone: str, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """``(from, offset)`` in milliseconds: the zone's UTC offset from ``start``, and from each clock change to ``end``.

    Offsets and clock changes fall on the quarter hour, so looking every quarter hour finds each change exactly.
    """
    tz = ZoneInfo(zone)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds() * 1000)  # type: ignore[union-attr]

    changes = [(_ms(start), offset(start))]
    first = start.astimezone(UTC)
    quarter = first.replace(minute=first.minute - first.minute % 15, second=0, microsecond=0)
    moment = quarter + timedelta(minutes=15)
    while moment <= end:
        if offset(moment) != changes[-1][1]:
            changes.append((_ms(moment), offset(moment)))
        moment += timedelta(minutes=15)
    return changes


def target_colours(chart: NightChart) -> dict[str, str]:
    """One colour per target, in order of its first block (then its curve), shared by both figures."""
    blocks = chart.blocks.sort_values("start") if len(chart.blocks) else chart.blocks
    names = list(dict.fromkeys([*blocks.get("target", []), *chart.curves.get("target", [])]))
    return {name: TARGET_COLOURS[index % len(TARGET_COLOURS)] for index, name in enumerate(names)}


def night_chart(chart: NightChart | None) -> hv.Layout:
    """The timeline above the altitudes, one time axis: both cover the chart's night and pan and zoom together."""
    use_bokeh()
    if chart is None:
        return hv.Layout([hv.Curve([], kdims=[TIME]).opts(title="No night to show", responsive=True, height=200)])
    layout = hv.Layout([timeline(chart), altitude_plot(chart)]).cols(1)
    return layout.opts(shared_axes=True, merge_tools=True, toolbar="right")


def timeline(chart: NightChart) -> hv.Overlay:
    """The night in one row: each block in its target's colour, labelled with the target, over twilight and lost time.

    The hover names request, target, priority, start and end (UTC and local) and constraints; the legend says
    what each shade means; a second time axis on top gives the site's local time.
    """
    use_bokeh()
    colours = target_colours(chart)
    layers = [*_shades(chart, ROW, legend=True), *_blocks(chart, colours)]
    return hv.Overlay(_x_tools(layers)).opts(
        **_frame(chart, TIMELINE),
        height=300,
        ylim=(0, 1),
        yaxis=None,
        title="Blocks, twilight and lost time",
        legend_position="bottom",
        legend_opts={"orientation": "horizontal", "border_line_alpha": 0, "margin": 4, "padding": 2, "spacing": 12},
        hooks=[_local_time_axis(chart)],
    )


def altitude_plot(chart: NightChart) -> hv.Overlay:
    """Altitude of each scheduled target over the night, thick while it is observed, named at its peak.

    The requests' altitude limits (their own, or their airmass limits as altitudes) are dashed lines.
    """
    use_bokeh()
    colours = target_colours(chart)
    curves = chart.curves
    layers: list[hv.Element] = [*_shades(chart, ALTITUDE, legend=False)]
    for altitude, label in chart.limits:
        layers.append(hv.HLine(altitude).opts(color="#444444", line_dash="dashed", line_width=1))
        layers.append(
            hv.Text(chart.start, altitude, f" {label}", halign="left", valign="bottom", fontsize=8).opts(
                text_color="#444444"
            )
        )
    whole, observed = [], []
    for target, part in curves.groupby("target", sort=False) if len(curves) else []:
        line = {"target": str(target), "colour": colours.get(str(target), TARGET_COLOURS[0])}
        whole.append(_steps(part["time"], part["altitude_deg"]).assign(**line))
        for _i, block in chart.blocks[chart.blocks["target"] == target].iterrows():
            observed.append(_steps(*_during(part, block["start"], block["end"])).assign(**line))
    # Each curve as short segments, all in one element (an element per curve costs seconds a page), thick ones on
    # top while the target is observed.
    kdims = [TIME, "altitude_deg", "time_end", "altitude_end"]
    for parts, width, alpha in ((whole, 1.2, 0.7), (observed, 5, 1.0)):
        frame = (
            pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*STEP_COLUMNS, "target", "colour"])
        )
        layers.append(
            hv.Segments(frame, kdims=kdims, vdims=["target", "colour"]).opts(
                color=hv.dim("colour"),
                line_width=width,
                alpha=alpha,
                tools=["hover"],
                hover_tooltips=[("target", "@target"), ("UTC", "@time{%H:%M}"), ("altitude", "@altitude_deg{0}°")],
                hover_formatters={"@time": "datetime"},
            )
        )
    layers.append(_peak_labels(chart, colours))
    return hv.Overlay(_x_tools(layers)).opts(
        **_frame(chart, ALTITUDES),
        height=380,
        ylim=(0, 90),
        yticks=[0, 15, 30, 45, 60, 75, 90],
        ylabel="altitude (deg)",
        title="Altitude of the scheduled targets (thick: while observed)",
        show_legend=False,
    )


def _frame(chart: NightChart, name: str) -> dict[str, Any]:
    """What both figures share: the night's time axis, the same borders, x-only pan and zoom, a canvas; and a name."""
    return {
        "xlim": (chart.start, chart.end),
        "xlabel": "UTC",
        "responsive": True,
        "active_tools": ["xpan"],
        "backend_opts": {
            "plot.name": name,
            "plot.output_backend": "canvas",
            "plot.min_border_left": BORDER_LEFT,
            "plot.min_border_right": BORDER_RIGHT,
        },
    }


def _x_tools(layers: list[hv.Element]) -> list[hv.Element]:
    """Pan and zoom in time only: an overlay takes its tools from its elements, not from options of its own."""
    return [layer.opts(default_tools=TOOLS) for layer in layers]


def _shades(chart: NightChart, y: tuple[str, float, float], *, legend: bool) -> list[hv.Element]:
    """The twilight bands and the lost time as boxes from ``bottom`` to ``top`` (labelled for a legend)."""
    name, bottom, top = y
    kdims = [TIME, name, "time_end", f"{name}_top"]
    layers: list[hv.Element] = []
    bands = [(a, b, label) for a, b, label in twilight_bands(chart.twilight) if b > chart.start and a < chart.end]
    boxes = [(max(a, chart.start), bottom, min(b, chart.end), top, BANDS[label]) for a, b, label in bands]
    if legend:  # an element per shade, each a legend entry
        for label, colour in BANDS.items():
            mine = [box[:4] for box, (_a, _b, name) in zip(boxes, bands, strict=True) if name == label]
            if mine:
                layers.append(hv.Rectangles(mine, kdims=kdims, label=label).opts(color=colour, line_alpha=0))
    elif boxes:  # one element for all (drawing each costs time)
        layers.append(
            hv.Rectangles(boxes, kdims=kdims, vdims=["colour"]).opts(color="colour", line_alpha=0, alpha=0.55)
        )
    lost = [(a, bottom, b, top) for a, b in chart.lost if b > chart.start and a < chart.end]
    if lost:
        element = hv.Rectangles(lost, kdims=kdims, label=LOST if legend else "")
        layers.append(
            element.opts(
                fill_color=LOST_COLOUR,
                fill_alpha=0.55 if legend else 0.3,
                line_alpha=0,
                hooks=[_hatch],
            )
        )
    return layers


def _blocks(chart: NightChart, colours: dict[str, str]) -> list[hv.Element]:
    blocks = chart.blocks
    rows = [
        {
            "time": row["start"],
            "row": 0.12,
            "time_end": row["end"],
            "row_top": 0.88,
            "request": row["name"],
            "target": row["target"],
            "priority": _priority(row["priority"]),
            "utc": f"{row['start']:%H:%M}–{row['end']:%H:%M}",
            "local": f"{_clock(row['start'], chart.zone)}–{_clock(row['end'], chart.zone)}",
            "constraints": row["constraints"] or "none",
            "colour": colours.get(row["target"], TARGET_COLOURS[0]),
        }
        for _i, row in blocks.iterrows()
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "time",
            "row",
            "time_end",
            "row_top",
            "request",
            "target",
            "priority",
            "utc",
            "local",
            "constraints",
            "colour",
        ],
    )
    boxes = hv.Rectangles(
        frame,
        kdims=[TIME, "row", "time_end", "row_top"],
        vdims=["request", "target", "priority", "utc", "local", "constraints", "colour"],
    ).opts(
        color="colour",
        line_color="white",
        line_width=1,
        tools=["hover"],
        hover_tooltips=[
            ("request", "@request"),
            ("target", "@target"),
            ("priority", "@priority"),
            ("UTC", "@utc"),
            ("local", "@local"),
            ("constraints", "@constraints"),
        ],
    )
    night = (chart.end - chart.start).total_seconds()
    lengths = np.array([(b - a).total_seconds() for a, b in zip(frame["time"], frame["time_end"], strict=True)])
    wide = frame[lengths >= LABEL_MIN_SHARE * night] if len(frame) else frame
    labels = pd.DataFrame(
        {
            "time": [a + (b - a) / 2 for a, b in zip(wide["time"], wide["time_end"], strict=True)],
            "row": 0.5,
            "text": [_cut(name) for name in wide["target"]],
            "ink": [ink_on(colour) for colour in wide["colour"]],
        },
        columns=["time", "row", "text", "ink"],
    )
    names = hv.Labels(labels, kdims=[TIME, "row"], vdims=["text", "ink"]).opts(
        angle=90, text_font_size="8pt", text_color="ink", text_align="center", text_baseline="middle"
    )
    return [boxes, names]


def peak_labels(chart: NightChart) -> pd.DataFrame:
    """Where each target's name goes: just above its highest point in the night, moved up or down off another name.

    Names are placed highest first; a name's box is its length in characters at ``CHAR_SHARE`` of the night each,
    ``LABEL_DEG`` tall. Names near either end of the night are aligned to stay inside the chart.
    """
    rows: list[dict[str, Any]] = []
    curves = chart.curves
    night = (chart.end - chart.start).total_seconds()
    peaks = (
        [part.loc[part["altitude_deg"].idxmax()] for _t, part in curves.groupby("target", sort=False)]
        if len(curves)
        else []
    )
    for peak in sorted(peaks, key=lambda p: -p["altitude_deg"]):
        if peak["altitude_deg"] <= 0:
            continue
        text = str(peak["target"])
        share = (peak["time"] - chart.start).total_seconds() / night
        align = "left" if share < 0.1 else "right" if share > 0.9 else "center"
        width = len(text) * CHAR_SHARE
        left = share - {"left": 0.0, "center": width / 2, "right": width}[align]
        for shift in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            altitude = min(peak["altitude_deg"], 90 - LABEL_DEG) + shift * LABEL_DEG
            if 0 <= altitude <= 90 - LABEL_DEG and not any(
                left < other["left"] + other["width"]
                and other["left"] < left + width
                and abs(altitude - other["altitude_deg"]) < LABEL_DEG
                for other in rows
            ):
                break
        rows.append(
            {"time": peak["time"], "altitude_deg": altitude, "text": text, "align": align, "left": left, "width": width}
        )
    return pd.DataFrame(rows, columns=["time", "altitude_deg", "text", "align", "left", "width"])


def _peak_labels(chart: NightChart, colours: dict[str, str]) -> hv.Labels:
    frame = peak_labels(chart)
    night = chart.end - chart.start
    centre = [
        chart.start + (left + width / 2) * night for left, width in zip(frame["left"], frame["width"], strict=True)
    ]
    frame = frame.assign(time=centre, ink=[colours.get(text, TARGET_COLOURS[0]) for text in frame["text"]])
    return hv.Labels(frame, kdims=[TIME, "altitude_deg"], vdims=["text", "ink"]).opts(
        text_font_size="8pt",
        text_color="ink",
        text_baseline="bottom",
        background_fill_color="white",
        background_fill_alpha=0.6,
    )


def _local_time_axis(chart: NightChart) -> Callable[[Any, Any], None]:
    """A Bokeh hook adding the site's local time as a second time axis on top, on the same ticks as UTC below."""
    table = local_offsets(chart.zone, chart.start, chart.end)
    names = sorted(
        {
            chart.start.astimezone(ZoneInfo(chart.zone)).tzname() or "",
            chart.end.astimezone(ZoneInfo(chart.zone)).tzname() or "",
        }
    )
    title = f"local time ({chart.zone}, {'/'.join(n for n in names if n)})"

    def hook(plot: Any, _element: Any) -> None:
        from bokeh.models import CustomJSTickFormatter, DatetimeAxis

        figure = plot.state
        if any(axis.name == LOCAL_AXIS for axis in figure.above):
            return
        formatter = CustomJSTickFormatter(
            code=LOCAL_CLOCK_JS, args={"changes": [c for c, _o in table], "offsets": [o for _c, o in table]}
        )
        below = figure.xaxis[0]
        figure.add_layout(
            DatetimeAxis(name=LOCAL_AXIS, ticker=below.ticker, formatter=formatter, axis_label=title), "above"
        )

    return hook


def _steps(times: Sequence[datetime], altitudes: Sequence[float]) -> pd.DataFrame:
    """A curve as segments from each point to the next."""
    times, altitudes = list(times), list(altitudes)
    return pd.DataFrame(
        {"time": times[:-1], "altitude_deg": altitudes[:-1], "time_end": times[1:], "altitude_end": altitudes[1:]},
        columns=STEP_COLUMNS,
    )


def _during(part: pd.DataFrame, start: datetime, end: datetime) -> tuple[list[datetime], list[float]]:
    """The stretch of one curve from ``start`` to ``end``, ends interpolated (a block may be shorter than a step)."""
    seconds = np.array([moment.timestamp() for moment in part["time"]])
    times = [start, *[moment for moment in part["time"] if start < moment < end], end]
    altitude = np.interp([moment.timestamp() for moment in times], seconds, part["altitude_deg"].to_numpy(float))
    return times, list(altitude)


def _hatch(plot: Any, _element: Any) -> None:
    """Hatch the lost time (HoloViews has no option for it), so it reads as lost on any shade."""
    for glyph in (plot.handles["glyph"], plot.handles.get("selection_glyph"), plot.handles.get("nonselection_glyph")):
        if glyph is not None:
            glyph.update(hatch_pattern="/", hatch_color="#ffffff", hatch_alpha=0.9, hatch_scale=8)


def _clock(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%H:%M}"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _priority(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):g}"


def _cut(name: Any) -> str:
    text = str(name) if name is not None and not pd.isna(name) and str(name) else "(deleted)"
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
