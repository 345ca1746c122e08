"""The sky-map figure: a gravitational-wave map on RA/Dec with its 50% and 90% regions and the tiles planned."""

from __future__ import annotations

import math
from typing import Any

import holoviews as hv
import numpy as np
import pandas as pd

from obslab.plots.backend import use_bokeh
from obslab.plots.colours import BADGE_COLOURS, ink_on
from obslab.scheduling.skymaps import SkyMap, containment

#: The figure's Bokeh name, for finding it in a page (BokehJS) and in tests.
SKYMAP = "obslab-skymap"
#: The tiles' columns, as ``skymap_plot`` reads them.
TILE_COLUMNS = ["rank", "ra_deg", "dec_deg", "probability", "cumulative", "request", "status", "planned"]
#: The view holds this credible region (and every tile), with MARGIN of its size around it; or the 90% region
#: when the 99% one is over FLOOR_RATIO times larger: a floor of probability over the whole sky (a map mixed with a
#: uniform one) would zoom out to all of it, and the tiles would be specks.
VIEW_LEVEL, FALLBACK_LEVEL, FLOOR_RATIO, MARGIN, MIN_MARGIN_DEG = 0.99, 0.9, 3.0, 0.12, 1.0
#: The credible regions outlined, and how (the legend names them "50% region" and "90% region").
REGIONS = {0.5: {"line_dash": "solid", "line_width": 2.0}, 0.9: {"line_dash": "dashed", "line_width": 1.5}}
#: The regions' outlines and the ranks of tiles not planned: the badges' near-black.
INK = "#24292f"
PLANNED, NOT_PLANNED = "planned tile", "tile not planned"
#: Planned tiles in the schedule's blue, nearly opaque: a lighter blue over the map's orange reads as grey.  The
#: others in the badges' dark grey, outlined only, so the map shows through what is still to be planned.
TILE_COLOURS = {PLANNED: BADGE_COLOURS["scheduled"], NOT_PLANNED: BADGE_COLOURS["unobserved"]}
PLANNED_FILL_ALPHA = 0.75
#: The frame's width over its height is kept in this range; beyond it the shorter side of the view is widened
#: (so the shape of the sky is kept), then the frame stretched (when the view already reaches a pole or all RA).
ASPECTS = (0.75, 2.0)
#: A degree of RA is drawn at least this share of a degree of Dec, however near the pole.
MIN_SQUEEZE = 0.2
#: The frame's longer side and the image's cells per frame pixel (finer than a pixel of the screen is wasted).
FRAME_PX, CELLS_PER_PX = 640, 0.5
#: A tile's side is drawn with this many segments: in RA/Dec a side is a curve, bent most near a pole.
SIDE_SEGMENTS = 8
#: White (improbable) through yellow to dark red (probable), ColorBrewer's YlOrRd: the tiles in blue and the outlines
#: in black stand out on it.  Interpolated to 256 steps, so the density reads as a gradient, not as bands.
DENSITY_STOPS = ("#ffffff", "#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026")
RA = hv.Dimension("ra", label="RA", unit="deg")
DEC = hv.Dimension("dec", label="Dec", unit="deg")
DENSITY = hv.Dimension("density", label="probability per deg²")
#: Tick labels of the RA axis: the view may run past 0 or 360 (a region across RA 0 stays whole), the labels not;
#: the ticks are 1, 2, 5 or 10 degrees apart (or a tenth of those, zoomed in), else RA_TICK_STEPS: steps that divide
#: 360, so ticks past 0 or 360 are round numbers too.
RA_TICK_STEPS = (15.0, 30.0, 45.0, 60.0, 90.0)
RA_TICKS_JS = "const ra = ((tick % 360) + 360) % 360; return Number(ra.toFixed(4)).toString();"
SR_PER_DEG2 = (math.pi / 180) ** 2


def skymap_plot(skymap: SkyMap, tiles: pd.DataFrame, *, fov_deg: float, title: str | None = None) -> hv.Overlay:
    """A sky map's probability per deg² on RA/Dec (RA increasing to the left), its 50% and 90% credible regions
    outlined and the tiles over it: planned ones filled, the others outlined, each labelled with its rank.

    Parameters
    ----------
    skymap
        The map (``skymaps.read_skymap``); the view is its 99% region (its 90% one over a floor of probability)
        and the tiles, with a margin.  A view across RA 0 runs past 0 or 360 (the axis labels stay within 0-360),
        and a view of every RA is centred on the peak, so the regions are drawn whole.
    tiles
        One row per tile (none: a map with nothing planned yet), columns ``TILE_COLUMNS``: rank (1 first),
        ra_deg and dec_deg (the centre), probability (marginal: not in a tile ranked before) and cumulative
        (0 to 1), request (its observing request's name) and status (the request's), planned (bool).
    fov_deg
        The side of a tile's square field: sides along RA and Dec, as ``skymaps.in_square`` counts it.
    title
        Defaults to the map's name, its 90% area and how many tiles are planned.
    """
    use_bokeh()
    from bokeh.models import AdaptiveTicker, CompositeTicker, CustomJSTickFormatter, SingleIntervalTicker
    from bokeh.palettes import interp_palette

    tiles = tiles if len(tiles) else pd.DataFrame(columns=TILE_COLUMNS)
    outlines = [
        tile_corners(float(ra), float(dec), fov_deg, SIDE_SEGMENTS)
        for ra, dec in zip(tiles["ra_deg"], tiles["dec_deg"], strict=True)
    ]
    ra_window, dec_window = _view(skymap, outlines)
    aspect = _frame_aspect(ra_window, dec_window)
    frame_width, frame_height = (
        (FRAME_PX, round(FRAME_PX / aspect)) if aspect >= 1 else (round(FRAME_PX * aspect), FRAME_PX)
    )
    cells = (max(2, round(frame_width * CELLS_PER_PX)), max(2, round(frame_height * CELLS_PER_PX)))
    density, credible = _rasters(skymap, ra_window, dec_window, cells)
    values = density.dimension_values(DENSITY)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0  # any scale, when no pixel is in view
    image = density.opts(
        cmap=list(interp_palette(DENSITY_STOPS, 256)),
        clim=(0.0, top),
        colorbar=True,
        colorbar_position="right",
        cformatter="%.2g",
    )
    regions = [_region(credible, level, style) for level, style in REGIONS.items()]
    frame = _tile_frame(tiles, outlines, ra_window[0])
    layers = [image, *regions, *_tile_layers(frame)]
    if title is None:
        area = containment(skymap, 0.9).area_deg2
        planned = int(frame["planned"].sum())
        title = f"{skymap.object or 'Sky map'}: 90% region {area:,.0f} deg², {planned} of {len(frame)} tiles planned"

    return hv.Overlay(layers).opts(
        title=title,
        xlim=ra_window,
        ylim=dec_window,
        invert_xaxis=True,
        xformatter=CustomJSTickFormatter(code=RA_TICKS_JS),
        xticks=CompositeTicker(
            tickers=[
                AdaptiveTicker(mantissas=[1, 2, 5], max_interval=10.0),
                *(SingleIntervalTicker(interval=step, num_minor_ticks=3) for step in RA_TICK_STEPS),
            ]
        ),
        frame_width=frame_width,
        frame_height=frame_height,
        show_legend=True,
        legend_position="bottom",
        legend_cols=4,
        # Canvas, not HoloViews' default WebGL: the image and a few hundred polygons draw as fast, and it does
        # not fall back to slow software GL on machines without a GPU.
        backend_opts={"plot.name": SKYMAP, "plot.output_backend": "canvas"},
    )


def tile_corners(ra_deg: float, dec_deg: float, fov_deg: float, segments: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """RA and Dec (deg) around the square field of side ``fov_deg`` centred at (ra, dec): its sides along RA and
    Dec on the plane tangent there (gnomonic, as ``skymaps.in_square``), each side in ``segments`` pieces.

    RA runs on from the centre's RA (it may pass 0 or 360), so a square across RA 0 or near a pole is one shape.
    """
    half = math.tan(math.radians(fov_deg) / 2)
    steps = np.linspace(-half, half, segments + 1)[:-1]
    # Round the square from its south-west corner: east along the south side, north up the east side, and back.
    xi = np.concatenate([steps, np.full(segments, half), -steps, np.full(segments, -half)])
    eta = np.concatenate([np.full(segments, -half), steps, np.full(segments, half), -steps])
    a, d = math.radians(ra_deg), math.radians(dec_deg)
    centre = np.array([math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)])
    east = np.array([-math.sin(a), math.cos(a), 0.0])
    north = np.array([-math.sin(d) * math.cos(a), -math.sin(d) * math.sin(a), math.cos(d)])
    xyz = centre[None, :] + xi[:, None] * east[None, :] + eta[:, None] * north[None, :]
    xyz /= np.linalg.norm(xyz, axis=1)[:, None]
    ra = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    dec = np.degrees(np.arcsin(np.clip(xyz[:, 2], -1.0, 1.0)))
    return ra_deg + (ra - ra_deg + 180.0) % 360.0 - 180.0, dec


def _rasters(
    skymap: SkyMap, ra_window: tuple[float, float], dec_window: tuple[float, float], cells: tuple[int, int]
) -> tuple[hv.Image, hv.Image]:
    """The map on a grid of ``cells`` (RA, Dec) over the windows: its density per deg², and each cell's credible
    level (the probability in its pixel and all denser ones: the 90% region is where it is below 0.9); NaN where
    the map has no pixel."""
    ra_edges, dec_edges = np.linspace(*ra_window, cells[0] + 1), np.linspace(*dec_window, cells[1] + 1)
    ra, dec = (ra_edges[1:] + ra_edges[:-1]) / 2, (dec_edges[1:] + dec_edges[:-1]) / 2
    rows = _pixel_rows(skymap, *np.meshgrid(ra, dec))
    found, row = rows >= 0, np.maximum(rows, 0)
    order = np.argsort(-skymap.probdensity, kind="stable")  # densest first, as skymaps.containment counts
    credible = np.empty(len(order))
    credible[order] = np.cumsum(skymap.probability[order])
    density = np.where(found, skymap.probdensity[row] * SR_PER_DEG2, np.nan)
    return (
        hv.Image((ra, dec, density), kdims=[RA, DEC], vdims=[DENSITY]),
        hv.Image((ra, dec, np.where(found, credible[row], np.nan)), kdims=[RA, DEC], vdims=["level"]),
    )


def _view(
    skymap: SkyMap, outlines: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The RA window (its start may be below 0, its end past 360) and the Dec window holding the map's 99% (or 90%)
    region (its pixels' corners) and every tile, with a margin, widened to a frame shape within ASPECTS; a window of
    every RA is centred on the map's peak."""
    import astropy_healpix as ah

    region = containment(skymap, VIEW_LEVEL)
    if region.area_deg2 > FLOOR_RATIO * containment(skymap, FALLBACK_LEVEL).area_deg2:
        region = containment(skymap, FALLBACK_LEVEL)
    rows = region.pixels
    ras, decs = [], []
    for level in np.unique(skymap.level[rows]).tolist():
        ipix = skymap.ipix[rows][skymap.level[rows] == level]
        lon, lat = ah.boundaries_lonlat(ipix, 1, 1 << level, order="nested")
        ras.append(np.asarray(lon.deg).ravel())
        decs.append(np.asarray(lat.deg).ravel())
    for ra, dec in outlines:
        ras.append(ra % 360.0)
        decs.append(dec)
    ra, dec = np.concatenate(ras), np.concatenate(decs)
    south, north = float(dec.min()), float(dec.max())
    start, span = _ra_span(ra)
    if north > 89.99 or south < -89.99:  # a pole inside: every RA meets it
        start, span = 0.0, 360.0
    dec_margin = max(MIN_MARGIN_DEG, MARGIN * (north - south))
    south, north = max(-90.0, south - dec_margin), min(90.0, north + dec_margin)
    ra_margin = max(MIN_MARGIN_DEG, MARGIN * span)
    start, span = (0.0, 360.0) if span + 2 * ra_margin >= 360.0 else (start - ra_margin, span + 2 * ra_margin)
    squeeze = _squeeze((south, north))
    low, high = ASPECTS
    if span * squeeze / (north - south) < low:
        wider = min(360.0, low * (north - south) / squeeze)
        start, span = (0.0, 360.0) if wider >= 360.0 else (start - (wider - span) / 2, wider)
    elif span * squeeze / (north - south) > high and -90.0 < south and north < 90.0:
        # (A view reaching a pole is left as it is: there the RA axis is stretched whatever is done, and widening
        # the Dec window would only squash the region into a strip along the top or bottom.)
        taller = min(180.0, span * squeeze / high)
        middle = min(max((south + north) / 2, -90.0 + taller / 2), 90.0 - taller / 2)
        south, north = middle - taller / 2, middle + taller / 2
    if span >= 360.0:  # every RA: centred on the peak's, so the regions around it are not cut in two at an edge
        densest = int(np.argmax(skymap.probdensity))
        lon, _lat = ah.healpix_to_lonlat(skymap.ipix[densest], 1 << int(skymap.level[densest]), order="nested")
        start, span = float(lon.deg) - 180.0, 360.0
    if start + span > 360.0 and start >= 0.0:
        start -= 360.0  # so a window across RA 0 runs from below 0, and the tiles' RA is near its own
    return (start, start + span), (south, north)


def _ra_span(ra_deg: np.ndarray) -> tuple[float, float]:
    """The shortest arc of RA holding every value: its start (0-360) and length, found opposite the widest gap."""
    ra = np.unique(ra_deg % 360.0)
    if len(ra) < 2:
        return float(ra[0]) if len(ra) else 0.0, 0.0
    gaps = np.diff(np.concatenate([ra, [ra[0] + 360.0]]))
    widest = int(np.argmax(gaps))
    start = float(ra[(widest + 1) % len(ra)])
    return start, 360.0 - float(gaps[widest])


def _frame_aspect(ra_window: tuple[float, float], dec_window: tuple[float, float]) -> float:
    """The frame's width over its height: the view in the sky's shape at its middle Dec, held within ASPECTS (so a
    view reaching a pole is stretched: RA/Dec is not an equal-area map)."""
    aspect = (ra_window[1] - ra_window[0]) * _squeeze(dec_window) / (dec_window[1] - dec_window[0])
    return min(max(aspect, ASPECTS[0]), ASPECTS[1])


def _squeeze(dec_window: tuple[float, float]) -> float:
    """The sky's shape at the window's middle Dec: a degree of RA is cos(Dec) of a degree of Dec."""
    return max(math.cos(math.radians(sum(dec_window) / 2)), MIN_SQUEEZE)


def _pixel_rows(skymap: SkyMap, ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """The map's row holding each position (any shape), -1 where the map has no pixel.

    Each position's nested index at the map's finest level is found once; its ancestor at each level the map
    uses is a shift of it, looked up among the map's sorted NUNIQ indices (a map's pixels never overlap).
    """
    import astropy_healpix as ah
    from astropy import units

    finest = int(skymap.level.max())
    ipix = np.asarray(
        ah.lonlat_to_healpix(
            (ra_deg.ravel() % 360.0) * units.deg, dec_deg.ravel() * units.deg, 1 << finest, order="nested"
        ),
        dtype=np.int64,
    )
    by_uniq = np.argsort(skymap.uniq)
    uniq = skymap.uniq[by_uniq]
    rows = np.full(ipix.shape, -1, dtype=np.int64)
    for level in np.unique(skymap.level).tolist():
        wanted = (4 << (2 * level)) + (ipix >> (2 * (finest - level)))
        at = np.minimum(np.searchsorted(uniq, wanted), len(uniq) - 1)
        hit = uniq[at] == wanted
        rows[hit] = by_uniq[at[hit]]
    return rows.reshape(ra_deg.shape)


def _region(levels: hv.Image, level: float, style: dict) -> hv.Contours:
    """The outline of the ``level`` credible region: where the pixels' credible level crosses it."""
    label = f"{level:.0%} region"
    values = levels.dimension_values("level")
    values = values[np.isfinite(values)]
    if len(values) == 0 or not values.min() < level < values.max():  # nothing to outline in view
        return hv.Contours([], kdims=[RA, DEC], label=label).opts(color=INK, **style)
    return hv.operation.contours(levels, levels=[level]).relabel(label).opts(color=INK, **style)


def _tile_frame(tiles: pd.DataFrame, outlines: list[tuple[np.ndarray, np.ndarray]], ra_start: float) -> pd.DataFrame:
    """The tiles with each one's centre (``x``) on the view's RA axis and its outline there."""
    frame = tiles.loc[:, TILE_COLUMNS].reset_index(drop=True)
    frame["planned"] = frame["planned"].astype(bool)
    frame["x"] = ra_start + (frame["ra_deg"].astype(float) - ra_start) % 360.0
    frame["outline"] = [
        (ra - ra_centre + x, dec) for (ra, dec), ra_centre, x in zip(outlines, frame["ra_deg"], frame["x"], strict=True)
    ]
    return frame


def _tile_layers(frame: pd.DataFrame) -> list[hv.Element]:
    """Planned tiles filled, the others outlined (each a polygon with its hover), and every tile's rank."""
    hover = [
        ("tile", "@rank"),
        ("probability", "@probability{0.00%}"),
        ("cumulative", "@cumulative{0.00%}"),
        ("request", "@request"),
        ("status", "@status"),
    ]
    fields = ["rank", "probability", "cumulative", "request", "status"]
    layers: list[hv.Element] = []
    for kind, rows in ((NOT_PLANNED, frame[~frame["planned"]]), (PLANNED, frame[frame["planned"]])):
        shapes = [
            {"ra": ra, "dec": dec, **{field: row[field] for field in fields}}
            for (ra, dec), (_, row) in zip(rows["outline"], rows.iterrows(), strict=True)
        ]
        filled = kind == PLANNED
        layers.append(
            hv.Polygons(shapes, kdims=[RA, DEC], vdims=fields, label=kind).opts(
                color=TILE_COLOURS[kind],
                fill_alpha=PLANNED_FILL_ALPHA if filled else 0.0,
                line_color=TILE_COLOURS[kind],
                line_width=1.5,
                show_legend=True,
                tools=["hover"],
                hover_tooltips=hover,
            )
        )
    labels = pd.DataFrame(
        {
            "ra": frame["x"],
            "dec": frame["dec_deg"].astype(float),
            "text": frame["rank"].astype(str),
            "ink": [ink_on(TILE_COLOURS[PLANNED]) if planned else INK for planned in frame["planned"]],
            # A rank outlined only stands on the map itself: a pale ground keeps it readable on the dark red.
            "ground": [TILE_COLOURS[PLANNED] if planned else "#ffffff" for planned in frame["planned"]],
        },
        columns=["ra", "dec", "text", "ink", "ground"],
    )
    layers.append(
        hv.Labels(labels, kdims=[RA, DEC], vdims=["text", "ink", "ground"]).opts(
            text_color="ink",
            background_fill_color="ground",
            background_fill_alpha=0.85,
            text_font_size="8pt",
            text_align="center",
            text_baseline="middle",
            hooks=[_pad_ground],
        )
    )
    return layers


def _pad_ground(plot: Any, _element: hv.Labels) -> None:
    """A little room around each rank inside its ground (HoloViews' own ``padding`` is the axes' range padding)."""
    plot.handles["glyph"].padding = 2
