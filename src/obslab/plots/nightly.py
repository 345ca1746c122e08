"""The nightly report's figures: the plan against what was taken, how the dark time was spent, seeing against time per
filter with a robust trend, and the Strehl distribution.

Drawn with Bokeh itself, not HoloViews: a report's kernel then never imports HoloViews' Bokeh plotting, which
brings Panel with it (about 1.9 s of a report's run), and a static report needs neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from bokeh.models import BoxAnnotation, ColumnDataSource, FactorRange, HoverTool, Legend, Range1d
from bokeh.plotting import figure

from obslab.plots.colours import BADGE_COLOURS, OTHER_COLOUR, TARGET_COLOURS

#: Planned blocks by what became of them; the night log's losses by cause.
OUTCOME_COLOURS = {
    "observed": BADGE_COLOURS["observed"],
    "failed": BADGE_COLOURS["failed"],
    "not observed": "#9a6700",
    "dropped": "#8250df",
}
LOSS_COLOURS = {"weather": "#0969da", "technical": "#cf222e", "other": OTHER_COLOUR}
#: Seeing values in a rolling window for the trend: a median of 5 ignores one or two outliers.
TREND_WINDOW = 5
WIDTH = 900
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"


def _naive(moment: datetime) -> np.datetime64:
    """A UTC time as Bokeh draws it on a UTC axis."""
    return np.datetime64(moment.replace(tzinfo=None), "ms")


def _figure(title: str, height: int, *, legend: bool = True, **options: Any) -> Any:
    """A report figure: the page's width, tools on the right, and a legend beside the plot (not over the data)."""
    drawn = figure(title=title, width=WIDTH, height=height, tools=TOOLS, toolbar_location="right", **options)
    if legend:
        drawn.add_layout(Legend(click_policy="hide"), "right")
    return drawn


def seeing_plot(seeing: Sequence[tuple[datetime, float, str]], span: tuple[datetime, datetime] | None = None) -> Any:
    """Each seeing measurement against UTC time, one colour per filter, and the rolling median of all of them.

    ``span``: the time axis's range (the night's darkness), so a night with one measurement still reads as a night.
    """
    frame = pd.DataFrame(list(seeing), columns=["time", "seeing", "filter"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_localize(None)
    x_range = Range1d(_naive(span[0]), _naive(span[1])) if span else None
    drawn = _figure("Seeing", 320, x_axis_type="datetime", **({"x_range": x_range} if x_range else {}))
    for i, (name, group) in enumerate(frame.groupby("filter", sort=True)):
        drawn.scatter(
            "time", "seeing", source=ColumnDataSource(group), size=7, legend_label=f"filter {name}",
            color=TARGET_COLOURS[i % len(TARGET_COLOURS)],
        )  # fmt: skip
    trend = frame.sort_values("time")
    trend["trend"] = trend["seeing"].rolling(TREND_WINDOW, center=True, min_periods=1).median()
    drawn.line(
        "time", "trend", source=ColumnDataSource(trend), color="#444", line_width=2,
        legend_label=f"rolling median of {TREND_WINDOW}",
    )  # fmt: skip
    drawn.xaxis.axis_label, drawn.yaxis.axis_label = "UTC", "seeing (arcsec)"
    return drawn


def strehl_histogram(strehl: Sequence[float], bins: int = 12) -> Any:
    """How the night's Strehl ratios are spread, in percent."""
    values = np.asarray(list(strehl), dtype=float)
    counts, edges = np.histogram(
        values, bins=bins, range=(0.0, max(5.0, float(values.max()) * 1.05) if values.size else 5.0)
    )
    drawn = _figure("Strehl ratio", 280, legend=False)
    drawn.quad(top=counts, bottom=0, left=edges[:-1], right=edges[1:], color="#0969da", line_color="#444")
    drawn.xaxis.axis_label, drawn.yaxis.axis_label = "Strehl (%)", "exposures"
    return drawn


def plan_timeline(
    blocks: Sequence[Any],
    taken: Sequence[tuple[datetime, datetime]],
    losses: Sequence[Mapping[str, Any]],
    dark: tuple[datetime, datetime] | None,
) -> Any:
    """The planned blocks (coloured by outcome) above the exposures taken, the logged losses shaded behind both.

    ``blocks`` are ``reports.night_plan.PlannedBlock``-like (start, end, outcome, request, reason); ``taken`` the
    spans of the night's exposures; ``losses`` the night log's entries (start, end, cause, note). The legend names
    only what the night had.
    """
    drawn = _figure("Planned against taken", 230, x_axis_type="datetime", y_range=Range1d(0, 2))
    if dark is not None:
        drawn.add_layout(
            BoxAnnotation(left=_naive(dark[0]), right=_naive(dark[1]), fill_color="#eaeef2", fill_alpha=0.6)
        )
    for cause, colour in LOSS_COLOURS.items():  # quads, not annotations: a legend entry each, with its colour
        spans = [(x["start"], x["end"]) for x in losses if x["cause"] == cause]
        if spans:
            drawn.quad(
                left=[_naive(s) for s, _ in spans], right=[_naive(e) for _, e in spans], bottom=0, top=2,
                color=colour, alpha=0.2, line_alpha=0, legend_label=f"lost: {cause}",
            )  # fmt: skip
    planned = []
    for outcome, colour in OUTCOME_COLOURS.items():
        chosen = [b for b in blocks if b.outcome == outcome]
        if not chosen:
            continue
        source = ColumnDataSource(
            {
                "left": [_naive(b.start) for b in chosen],
                "right": [_naive(b.end) for b in chosen],
                "request": [b.request for b in chosen],
                "why": [b.reason or outcome for b in chosen],
            }
        )
        planned.append(
            drawn.quad(
                left="left", right="right", bottom=1.1, top=1.9, source=source, color=colour,
                legend_label=f"planned: {outcome}",
            )
        )  # fmt: skip
    if planned:
        drawn.add_tools(HoverTool(renderers=planned, tooltips=[("request", "@request"), ("why", "@why")]))
    drawn.quad(
        left=[_naive(s) for s, _ in taken], right=[_naive(e) for _, e in taken], bottom=0.1, top=0.9,
        color="#444", legend_label="exposures taken",
    )  # fmt: skip
    drawn.yaxis.ticker = [0.5, 1.5]
    drawn.yaxis.major_label_overrides = {0.5: "taken", 1.5: "planned"}
    drawn.ygrid.grid_line_color = None
    drawn.xaxis.axis_label = "UTC"
    return drawn


def time_accounting_bars(accounting: Mapping[str, Any]) -> Any:
    """How the dark hours were spent: open shutter, calibrations, overheads and each cause of loss."""
    rows = [
        ("science", accounting["open_shutter_hours"]),
        ("calibration", accounting["calibration_hours"]),
        ("overheads", accounting["overhead_hours"]),
        *((f"lost: {cause}", hours) for cause, hours in sorted(accounting["lost_hours"].items())),
    ]
    uses = [use for use, _ in rows]
    drawn = _figure("The night's hours", 250, legend=False, y_range=FactorRange(*uses))
    drawn.hbar(y=uses, right=[hours for _, hours in rows], height=0.7, color="#0969da", line_color="#444")
    drawn.x_range.start = 0
    drawn.xaxis.axis_label = "hours"
    return drawn


__all__ = [
    "LOSS_COLOURS",
    "OUTCOME_COLOURS",
    "plan_timeline",
    "seeing_plot",
    "strehl_histogram",
    "time_accounting_bars",
]
