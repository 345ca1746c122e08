"""The nightly report's figures: the plan against what was taken, how the dark time was spent, seeing against time per
filter with a robust trend, and the Strehl distribution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import holoviews as hv
import numpy as np
import pandas as pd

from obslab.plots.backend import use_bokeh
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


def seeing_plot(
    seeing: Sequence[tuple[datetime, float, str]], span: tuple[datetime, datetime] | None = None
) -> hv.Overlay:
    """Each seeing measurement against UTC time, one colour per filter, and the rolling median of all of them.

    ``span``: the time axis's range (the night's darkness), so a night with one measurement still reads as a night.
    """
    use_bokeh()
    frame = pd.DataFrame(list(seeing), columns=["time", "seeing", "filter"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_localize(None)
    layers = [
        hv.Scatter(group, "time", ["seeing"], label=f"filter {name}").opts(
            color=TARGET_COLOURS[i % len(TARGET_COLOURS)], size=7
        )
        for i, (name, group) in enumerate(frame.groupby("filter", sort=True))
    ]
    trend = frame.sort_values("time").assign(
        trend=lambda f: f["seeing"].rolling(TREND_WINDOW, center=True, min_periods=1).median()
    )
    layers.append(
        hv.Curve(trend, "time", "trend", label=f"rolling median of {TREND_WINDOW}").opts(color="#444", line_width=2)
    )
    return hv.Overlay(layers).opts(
        hv.opts.Overlay(
            title="Seeing",
            width=900,
            height=320,
            xlabel="UTC",
            ylabel="seeing (arcsec)",
            legend_position="right",
            show_grid=True,
            **({"xlim": (_naive(span[0]), _naive(span[1]))} if span else {}),
        )
    )


def strehl_histogram(strehl: Sequence[float], bins: int = 12) -> hv.Histogram:
    """How the night's Strehl ratios are spread, in percent."""
    use_bokeh()
    values = np.asarray(list(strehl), dtype=float)
    counts, edges = np.histogram(
        values, bins=bins, range=(0.0, max(5.0, float(values.max()) * 1.05) if values.size else 5.0)
    )
    return hv.Histogram((edges, counts), kdims=["strehl"], vdims=["exposures"]).opts(
        title="Strehl ratio", width=900, height=280, xlabel="Strehl (%)", ylabel="exposures", color="#0969da"
    )


def _naive(moment: datetime) -> np.datetime64:
    """A UTC time as Bokeh draws it on a UTC axis."""
    return np.datetime64(moment.replace(tzinfo=None), "ms")


def plan_timeline(
    blocks: Sequence[Any],
    taken: Sequence[tuple[datetime, datetime]],
    losses: Sequence[Mapping[str, Any]],
    dark: tuple[datetime, datetime] | None,
) -> hv.Overlay:
    """The planned blocks (coloured by outcome) above the exposures taken, the logged losses shaded behind both.

    ``blocks`` are ``reports.night_plan.PlannedBlock``-like (start, end, outcome, request, reason); ``taken`` the
    spans of the night's exposures; ``losses`` the night log's entries (start, end, cause, note).
    """
    use_bokeh()
    layers: list[Any] = []
    if dark is not None:
        layers.append(hv.VSpan(_naive(dark[0]), _naive(dark[1])).opts(color="#eaeef2", alpha=0.6))
    for cause, colour in LOSS_COLOURS.items():  # as rectangles, not spans: a legend entry each, with its colour
        spans = [(_naive(x["start"]), 0.0, _naive(x["end"]), 2.0) for x in losses if x["cause"] == cause]
        if spans:
            layers.append(hv.Rectangles(spans, label=f"lost: {cause}").opts(color=colour, alpha=0.2, line_alpha=0))
    for outcome, colour in OUTCOME_COLOURS.items():
        rows = [
            (_naive(b.start), 1.1, _naive(b.end), 1.9, b.request, b.reason or outcome)
            for b in blocks
            if b.outcome == outcome
        ]
        if not rows:  # no legend entry for an outcome the night did not have
            continue
        layers.append(
            hv.Rectangles(rows, vdims=["request", "why"], label=f"planned: {outcome}").opts(
                color=colour, line_color=colour, tools=["hover"]
            )
        )
    layers.append(
        hv.Rectangles([(_naive(s), 0.1, _naive(e), 0.9) for s, e in taken], label="exposures taken").opts(
            color="#444", line_color="#444"
        )
    )
    return hv.Overlay(layers).opts(
        hv.opts.Overlay(
            title="Planned against taken",
            width=900,
            height=230,
            xlabel="UTC",
            ylabel="",
            yticks=[(0.5, "taken"), (1.5, "planned")],
            ylim=(0, 2),
            legend_position="right",
        )
    )


def time_accounting_bars(accounting: Mapping[str, Any]) -> hv.Bars:
    """How the dark hours were spent: open shutter, calibrations, overheads and each cause of loss."""
    use_bokeh()
    rows = [
        ("science", accounting["open_shutter_hours"]),
        ("calibration", accounting["calibration_hours"]),
        ("overheads", accounting["overhead_hours"]),
        *((f"lost: {cause}", hours) for cause, hours in sorted(accounting["lost_hours"].items())),
    ]
    return hv.Bars(rows, kdims=["use"], vdims=["hours"]).opts(
        title="The night's hours", width=900, height=250, invert_axes=True, color="#0969da", xlabel="", ylabel="hours"
    )


__all__ = [
    "LOSS_COLOURS",
    "OUTCOME_COLOURS",
    "plan_timeline",
    "seeing_plot",
    "strehl_histogram",
    "time_accounting_bars",
]
