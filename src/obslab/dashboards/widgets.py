"""Shared dashboard pieces: status badges, data tables, the sky plot and the time-series plot."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the figures set Bokeh options, so they work outside a dashboard too)
import pandas as pd
import panel as pn

#: Badge colours by state or status; anything else is grey.
BADGE_COLOURS = {
    "signed": "#1a7f37",
    "complete": "#1a7f37",
    "approved": "#1a7f37",
    "observed": "#1a7f37",
    "done": "#1a7f37",
    "pending": "#9a6700",
    "open": "#9a6700",
    "scheduled": "#0969da",
    "unobserved": "#57606a",
    "untriggered": "#8250df",
    "triggered": "#bf3989",
    "not_required": "#6e7781",
    "superseded": "#6e7781",
    "archived": "#6e7781",
    "discarded": "#cf222e",
    "canceled": "#cf222e",
    "error": "#cf222e",
}
STATUS_ORDER = ("unobserved", "scheduled", "untriggered", "triggered", "observed", "archived", "canceled")

BADGE_CSS = """
.obslab-badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff;
                font-size: 12px; line-height: 18px; white-space: nowrap; }
table.obslab-kv { border-collapse: collapse; width: 100%; font-size: 13px; }
table.obslab-kv th, table.obslab-kv td { border-bottom: 1px solid #d0d7de; padding: 3px 8px; text-align: left;
                                         vertical-align: top; }
table.obslab-kv th { background: #f6f8fa; font-weight: 600; }
"""


def badge(state: str, label: str | None = None) -> str:
    """HTML for a coloured status badge; the text is escaped."""
    colour = BADGE_COLOURS.get(str(state), "#6e7781")
    text = html.escape(label if label is not None else str(state).replace("_", " "))
    return f'<span class="obslab-badge" style="background:{colour}">{text}</span>'


def html_table(columns: Iterable[str], rows: Iterable[Iterable[Any]], *, raw_columns: Iterable[int] = ()) -> str:
    """A small HTML table; every cell is escaped except the columns in ``raw_columns`` (our own badge HTML)."""
    raw = set(raw_columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{cell if i in raw else html.escape(_text(cell))}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f'<table class="obslab-kv"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def key_value_table(pairs: Mapping[str, Any]) -> str:
    """A two-column table of label and value, escaped."""
    return html_table(("", ""), pairs.items())


def data_table(frame: Any, *, titles: Mapping[str, str] | None = None, **options: Any) -> pn.widgets.Tabulator:
    """A read-only Tabulator: one row selectable, no client-side paging (the server pages)."""
    defaults: dict[str, Any] = dict(
        disabled=True,
        show_index=False,
        selectable=1,
        pagination=None,
        layout="fit_data_table",
        sizing_mode="stretch_width",
        titles=dict(titles or {}),
    )
    return pn.widgets.Tabulator(frame, **(defaults | options))


def sky_plot(positions: pd.DataFrame, *, selected: int | None = None) -> hv.Overlay:
    """Observations on the sky (RA increasing to the left, as on a chart), coloured by status."""
    points = hv.Points(positions, kdims=["ra_deg", "dec_deg"], vdims=["obsid", "target_name", "status"])
    points = points.opts(
        color="status",
        cmap={s: BADGE_COLOURS.get(s, "#6e7781") for s in STATUS_ORDER},
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


def time_series_plot(frame: pd.DataFrame, x: str, y: str, *, by: str | None = None, title: str = "") -> hv.Overlay:
    """Values of ``y`` against time ``x``, one line per ``by`` group (the trending pages build on this)."""
    groups = frame.groupby(by) if by else [(y, frame)]
    curves = [hv.Curve(part, kdims=[x], vdims=[y], label=str(name)).opts(tools=["hover"]) for name, part in groups]
    return hv.Overlay(curves).opts(responsive=True, min_height=260, title=title)


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):  # stored in UTC; columns say "(UTC)"
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)
