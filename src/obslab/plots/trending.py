"""Trending figures: values against time, one line per group."""

from __future__ import annotations

import holoviews as hv
import pandas as pd

from obslab.plots.backend import use_bokeh


def time_series_plot(frame: pd.DataFrame, x: str, y: str, *, by: str | None = None, title: str = "") -> hv.Overlay:
    """Values of ``y`` against time ``x``, one line per ``by`` group (the trending pages build on this)."""
    use_bokeh()
    groups = frame.groupby(by) if by else [(y, frame)]
    curves = [hv.Curve(part, kdims=[x], vdims=[y], label=str(name)).opts(tools=["hover"]) for name, part in groups]
    return hv.Overlay(curves).opts(responsive=True, min_height=260, title=title)
