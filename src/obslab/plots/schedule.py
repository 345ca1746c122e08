"""Figures of one night's plan: the blocks over the twilight bands, and the altitudes of the scheduled targets."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd

from obslab.plots.backend import use_bokeh

#: Darker bands for darker skies, drawn under the blocks.
SHADES = {"sunset": "#dbe4f0", "civil": "#b7c9e2", "nautical": "#8eaad3", "astronomical": "#5d7fb5"}


def timeline(blocks: pd.DataFrame | None, shading: list[Any]) -> hv.Overlay:
    """Blocks on a time axis, one row per block, over the twilight bands.

    Parameters
    ----------
    blocks
        One row per block with the columns start, end, name and priority (None or empty: no blocks).
    shading
        ``(start, end, level)`` of each twilight band, ``level`` a key of SHADES.
    """
    use_bokeh()
    bands = [hv.VSpan(start, end).opts(color=SHADES.get(level, "#cccccc"), alpha=0.6) for start, end, level in shading]
    frame = blocks if blocks is not None and len(blocks) else pd.DataFrame(columns=["start", "end", "name", "priority"])
    frame = frame.assign(row=range(len(frame)))
    segments = hv.Segments(frame, kdims=["start", "row", "end", "row"], vdims=["name", "priority"]).opts(
        line_width=12, color="#0b3d62", tools=["hover"]
    )
    return hv.Overlay([*bands, segments]).opts(
        responsive=True,
        min_height=260,
        title="Tonight's blocks (UTC) over the twilight bands",
        xlabel="UTC",
        ylabel="block",
        backend_opts={"plot.output_backend": "canvas"},
    )


def altitude_plot(curves: pd.DataFrame | None) -> hv.Overlay:
    """Altitude against time for each scheduled target, from rows of time, name and altitude_deg."""
    use_bokeh()
    frame = curves if curves is not None and len(curves) else pd.DataFrame({"time": [], "name": [], "altitude_deg": []})
    lines = [
        hv.Curve(part, kdims=["time"], vdims=["altitude_deg"], label=str(name)).opts(tools=["hover"])
        for name, part in frame.groupby("name")
    ] or [hv.Curve([], kdims=["time"], vdims=["altitude_deg"])]
    return hv.Overlay(lines).opts(
        responsive=True,
        min_height=260,
        title="Altitude of the scheduled targets",
        ylim=(0, 90),
        xlabel="UTC",
        ylabel="altitude (deg)",
        show_legend=False,
    )
