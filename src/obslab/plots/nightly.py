"""The nightly report's figures: seeing against time per filter with a robust trend, and the Strehl distribution."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import holoviews as hv
import numpy as np
import pandas as pd

from obslab.plots.backend import use_bokeh
from obslab.plots.colours import TARGET_COLOURS

#: Seeing values in a rolling window for the trend: a median of 5 ignores one or two outliers.
TREND_WINDOW = 5


def seeing_plot(seeing: Sequence[tuple[datetime, float, str]]) -> hv.Overlay:
    """Each seeing measurement against UTC time, one colour per filter, and the rolling median of all of them."""
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


__all__ = ["seeing_plot", "strehl_histogram"]
