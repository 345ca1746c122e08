"""The sky plot: observations at their positions, coloured by status, the selected one ringed."""

from __future__ import annotations

import holoviews as hv
import pandas as pd

from obslab.plots.backend import use_bokeh
from obslab.plots.colours import BADGE_COLOURS, OTHER_COLOUR, STATUS_ORDER


def sky_plot(positions: pd.DataFrame, *, selected: int | None = None) -> hv.Overlay:
    """Observations on the sky (RA increasing to the left, as on a chart), coloured by status.

    ``positions`` has the columns obsid, target_name, ra_deg, dec_deg and status.
    """
    use_bokeh()
    points = hv.Points(positions, kdims=["ra_deg", "dec_deg"], vdims=["obsid", "target_name", "status"])
    points = points.opts(
        color="status",
        cmap={s: BADGE_COLOURS.get(s, OTHER_COLOUR) for s in STATUS_ORDER},
        size=5,
        alpha=0.8,
        tools=["hover", "tap"],
        nonselection_alpha=0.5,
        xlim=(360, 0),
        ylim=(-90, 90),
        xlabel="RA (deg)",
        ylabel="Dec (deg)",
        responsive=True,
        min_height=320,
        show_legend=True,
        legend_position="right",
        title="Sky positions (click a point to open it)",
        # Canvas, not HoloViews' default WebGL: at up to SKY_LIMIT points it draws as fast, and it does
        # not fall back to slow software GL on machines without a GPU.
        backend_opts={"plot.output_backend": "canvas"},
    )
    highlight = positions[positions["obsid"] == selected] if selected is not None else positions.iloc[:0]
    ring = hv.Points(highlight, kdims=["ra_deg", "dec_deg"]).opts(
        marker="circle", size=16, fill_alpha=0, line_color="black", line_width=2
    )
    return points * ring
