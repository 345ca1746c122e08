"""Figures of instrument configurations: every record on both time axes, and a focal plane's IFUs by spectrograph."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import holoviews as hv
import pandas as pd
from bokeh.palettes import Viridis256

from obslab.configs.fplane import GRID_ARCSEC, SEATS, FplaneRow, is_placeholder, nominal_position
from obslab.configs.types import ConfigVersion
from obslab.formatting import utc
from obslab.plots.backend import use_bokeh
from obslab.plots.colours import ink_on

#: Names of the figures, for finding them in the page (BokehJS) and in tests.
CONFIG_TIMELINE, FOCAL_PLANE = "obslab-config-timeline", "obslab-focal-plane"
CURRENT, SUPERSEDED, AS_OF = "current record", "superseded record", "as of"
COLOURS = {CURRENT: "#0969da", SUPERSEDED: "#8c959f"}
AS_OF_COLOUR = "#cf222e"
VALID, RECORDED = hv.Dimension("valid", label="valid (telescope time, UTC)"), hv.Dimension("recorded", label="UTC")
RECORD_FIELDS = ["version", "period", "known", "recorded_by", "source", "comment"]
#: Half the side of an IFU's square, arcsec: a VIRUS IFU covers about 50 arcsec of the 100 arcsec grid.
IFU_HALF = 25.0
#: The plane shown: every seat of the head plate with a margin, arcsec.
PLANE_LIMIT = 5.5 * GRID_ARCSEC
#: The plane's frame, pixels, and the figure's width around it (axes, colour bar, toolbar), for the page's layout.
PLANE_FRAME, PLANE_WIDTH = 450, 640


def config_timeline(
    versions: Sequence[ConfigVersion], now: datetime, *, at: tuple[datetime, datetime] | None = None
) -> hv.Overlay:
    """Each record a box: valid time across, record time up; open ends reach ``now``.

    A correction reads as such: the superseded record's box stops at the correction's time and the correction's
    box starts there, over the same valid period. ``at`` (valid at, known at) is marked by two dashed lines: the
    box under their crossing is the configuration shown. The hover gives version, periods, who, source, comment.
    """
    use_bokeh()
    frame = _boxes(versions, now)
    kdims = [VALID, RECORDED, "valid_end", "recorded_end"]
    layers: list[hv.Element] = []
    for label, colour in COLOURS.items():
        part = frame[frame["kind"] == label]
        if part.empty and layers:  # the legend names only what is drawn (the first element keeps the axes' types)
            continue
        boxes = hv.Rectangles(part, kdims=kdims, vdims=RECORD_FIELDS, label=label).opts(
            color=colour,
            alpha=0.55 if label == CURRENT else 0.35,
            line_color=colour,
            line_width=1.5,
            line_dash="solid" if label == CURRENT else "dashed",
            tools=["hover"],
            hover_tooltips=[
                ("version", "@version"),
                ("valid", "@period"),
                ("recorded", "@known"),
                ("recorded by", "@recorded_by"),
                ("source", "@source"),
                ("comment", "@comment"),
            ],
        )
        layers.append(boxes)
    centres = pd.DataFrame(
        {
            "valid": frame["valid"] + (frame["valid_end"] - frame["valid"]) / 2,
            "recorded": frame["recorded"] + (frame["recorded_end"] - frame["recorded"]) / 2,
            "text": [f"v{number}" for number in frame["version"]],
        },
        columns=["valid", "recorded", "text"],
    )
    layers.append(
        hv.Labels(centres, kdims=[VALID, RECORDED], vdims=["text"]).opts(
            text_font_size="10pt", text_font_style="bold", text_color="#24292f"
        )
    )
    if at is not None:
        valid, known = at
        line = {"color": AS_OF_COLOUR, "line_dash": "dashed", "line_width": 1.5}
        layers += [
            hv.VLine(valid).opts(**line),
            hv.HLine(known).opts(**line),
            hv.Points([(valid, known)], kdims=[VALID, RECORDED], label=AS_OF).opts(
                color=AS_OF_COLOUR, size=9, marker="x", line_width=3
            ),
        ]
    return hv.Overlay(layers).opts(
        title="Records on both time axes",
        xlabel="valid from - to (telescope time, UTC)",
        ylabel="recorded - superseded (record time, UTC)",
        responsive=True,
        height=560,
        legend_position="bottom_right",  # records start on or after their valid time: that corner is empty
        backend_opts={"plot.name": CONFIG_TIMELINE, "plot.output_backend": "canvas"},
    )


def _boxes(versions: Sequence[ConfigVersion], now: datetime) -> pd.DataFrame:
    """One row per record: its box corners (open ends at ``now``, or a little past a start later than now)."""
    starts = [moment for v in versions for moment in (v.valid_from, v.recorded_at)] or [now]
    pad = max((max(starts + [now]) - min(starts)) / 50, timedelta(days=1))
    rows = []
    for v in sorted(versions, key=lambda v: v.version_number):
        valid_end = v.valid_to or max(now, v.valid_from + pad)
        recorded_end = v.superseded_at or max(now, v.recorded_at + pad)
        rows.append(
            {
                "valid": v.valid_from,
                "recorded": v.recorded_at,
                "valid_end": valid_end,
                "recorded_end": recorded_end,
                "version": v.version_number,
                "period": f"{utc(v.valid_from)} to {utc(v.valid_to) if v.valid_to else 'now (in force)'}",
                "known": f"{utc(v.recorded_at)} to "
                + (f"{utc(v.superseded_at)} (superseded)" if v.superseded_at else "now (current)"),
                "recorded_by": v.recorded_by or "(nobody named)",
                "source": v.source,
                "comment": v.comment or "(none)",
                "kind": CURRENT if v.current else SUPERSEDED,
            }
        )
    columns = ["valid", "recorded", "valid_end", "recorded_end", *RECORD_FIELDS, "kind"]
    frame = pd.DataFrame(rows, columns=columns)
    # Naive UTC for Bokeh's datetime axes, which take no zone (every time here is UTC).
    for name in ("valid", "recorded", "valid_end", "recorded_end"):
        frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_localize(None)
    return frame


def focal_plane(rows: Sequence[FplaneRow], *, title: str = "Focal plane") -> hv.Overlay:
    """The IFU head plate: every seat outlined, each VIRUS IFU a square at its position, coloured by spectrograph.

    Placeholders and non-VIRUS entries (SPECID or IFUID 900 and up) are not IFUs on the plate and are not drawn;
    a page lists them beside the figure. Each IFU is labelled with its seat; the hover adds IFU, spectrograph,
    its slot and the position.
    """
    use_bokeh()
    seats = [nominal_position(seat) for seat in SEATS]
    outlines = hv.Rectangles(
        [(x - IFU_HALF, y - IFU_HALF, x + IFU_HALF, y + IFU_HALF) for x, y in seats],
        kdims=["x_fp", "y_fp", "x_end", "y_end"],
    ).opts(fill_alpha=0, line_color="#d0d7de", line_width=1)
    ifus = [row for row in rows if not is_placeholder(row)]
    frame = pd.DataFrame(
        [
            {
                "x_fp": row.x_fp - IFU_HALF,
                "y_fp": row.y_fp - IFU_HALF,
                "x_end": row.x_fp + IFU_HALF,
                "y_end": row.y_fp + IFU_HALF,
                "slot": row.ifuslot,
                "ifu": row.ifuid,
                "specid": row.specid,
                "spectrograph": f"{row.specid:03d} (slot {row.specslot:03d})",
                "position": f"{row.x_fp:.3f}, {row.y_fp:.3f}",
            }
            for row in ifus
        ],
        columns=["x_fp", "y_fp", "x_end", "y_end", "slot", "ifu", "specid", "spectrograph", "position"],
    )
    low, high = (int(frame["specid"].min()), int(frame["specid"].max())) if len(frame) else (0, 1)
    squares = hv.Rectangles(
        frame,
        kdims=["x_fp", "y_fp", "x_end", "y_end"],
        vdims=["slot", "ifu", "specid", "spectrograph", "position"],
    ).opts(
        color=hv.dim("specid"),
        cmap=list(Viridis256),
        clim=(low, max(high, low + 1)),
        colorbar=True,
        clabel="spectrograph (SPECID)",
        line_color="#24292f",
        line_width=0.5,
        tools=["hover"],
        hover_tooltips=[
            ("slot", "@slot"),
            ("IFU", "@ifu"),
            ("spectrograph", "@spectrograph"),
            ("position (arcsec)", "@position"),
        ],
    )
    labels = pd.DataFrame(
        {
            "x": [row.x_fp for row in ifus],
            "y": [row.y_fp for row in ifus],
            "text": [row.ifuslot for row in ifus],
            "ink": [ink_on(_colour(row.specid, low, high)) for row in ifus],
        },
        columns=["x", "y", "text", "ink"],
    )
    names = hv.Labels(labels, kdims=["x", "y"], vdims=["text", "ink"]).opts(
        text_color="ink", text_font_size="7pt", text_align="center", text_baseline="middle"
    )
    return hv.Overlay([outlines, squares, names]).opts(
        title=title,
        xlabel="x (arcsec)",
        ylabel="y (arcsec)",
        xlim=(-PLANE_LIMIT, PLANE_LIMIT),
        ylim=(-PLANE_LIMIT, PLANE_LIMIT),
        # A square frame over equal ranges: an arcsec is as long across as up, whatever the colour bar takes.
        frame_width=PLANE_FRAME,
        frame_height=PLANE_FRAME,
        backend_opts={"plot.name": FOCAL_PLANE, "plot.output_backend": "canvas"},
    )


def _colour(specid: int, low: int, high: int) -> str:
    """The colour the colour bar gives ``specid`` (linear over the palette), for the label's ink on it."""
    share = (specid - low) / (high - low) if high > low else 0.0
    return Viridis256[min(255, max(0, round(share * 255)))]
