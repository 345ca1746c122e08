"""The figures: each carries the data it is given and renders to a Bokeh model without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import holoviews as hv
import pandas as pd
from bokeh.models import BoxAnnotation, GlyphRenderer

from obslab.plots.schedule import SHADES, altitude_plot, timeline
from obslab.plots.sky import sky_plot
from obslab.plots.trending import time_series_plot

DUSK = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def bokeh_figure(figure: hv.Element) -> Any:
    """The Bokeh figure HoloViews builds for ``figure``, as a page would show it."""
    return hv.renderer("bokeh").get_plot(figure).state


def glyphs(figure: Any) -> list[str]:
    return [type(r.glyph).__name__ for r in figure.renderers if isinstance(r, GlyphRenderer)]


def positions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "obsid": [1, 2],
            "target_name": ["a", "b"],
            "ra_deg": [10.0, 20.0],
            "dec_deg": [0.0, 5.0],
            "status": ["observed", "scheduled"],
        }
    )


def test_time_series_plot_has_one_curve_per_group_with_its_rows() -> None:
    frame = pd.DataFrame(
        {
            "t": pd.date_range("2026-11-01", periods=6, freq="h"),
            "seeing": [1.0, 1.2, 0.9, 1.5, 1.1, 1.3],
            "night": ["a", "a", "a", "b", "b", "b"],
        }
    )
    plot = time_series_plot(frame, "t", "seeing", by="night")
    curves = list(plot)
    assert [curve.label for curve in curves] == ["a", "b"]
    assert [list(curve.dimension_values("seeing")) for curve in curves] == [[1.0, 1.2, 0.9], [1.5, 1.1, 1.3]]
    figure = bokeh_figure(time_series_plot(frame, "t", "seeing", by="night", title="Seeing"))
    assert figure.title.text == "Seeing" and glyphs(figure) == ["Line", "Line"]
    assert [list(r.data_source.data["seeing"]) for r in figure.renderers] == [[1.0, 1.2, 0.9], [1.5, 1.1, 1.3]]


def test_sky_plot_rings_only_the_selected_observation() -> None:
    points, ring = sky_plot(positions(), selected=2)
    assert len(points) == 2
    assert list(ring.dimension_values("ra_deg")) == [20.0]
    assert len(list(sky_plot(positions()))[1]) == 0


def test_sky_plot_renders_with_ra_increasing_to_the_left_on_a_canvas() -> None:
    figure = bokeh_figure(sky_plot(positions(), selected=2))
    assert (figure.x_range.start, figure.x_range.end) == (360, 0)
    assert figure.output_backend == "canvas" and figure.title.text.startswith("Sky positions")
    points, ring = (r.data_source.data for r in figure.renderers)
    assert list(points["obsid"]) == [1, 2] and list(ring["ra_deg"]) == [20.0]


def test_timeline_draws_each_block_over_each_twilight_band() -> None:
    blocks = pd.DataFrame(
        {
            "start": [DUSK, DUSK + HOUR],
            "end": [DUSK + HOUR / 2, DUSK + 2 * HOUR],
            "name": ["M42", "TwinHigh"],
            "priority": [1, 2],
        }
    )
    shading = [(DUSK - HOUR, DUSK + 5 * HOUR, "civil"), (DUSK, DUSK + 4 * HOUR, "astronomical")]
    figure = bokeh_figure(timeline(blocks, shading))
    bands = [r for r in figure.renderers if isinstance(r, BoxAnnotation)]
    assert [band.fill_color for band in bands] == [SHADES["civil"], SHADES["astronomical"]]
    assert glyphs(figure) == ["Segment"] and figure.output_backend == "canvas"
    (segments,) = (r.data_source.data for r in figure.renderers if isinstance(r, GlyphRenderer))
    assert list(segments["name"]) == ["M42", "TwinHigh"] and list(segments["row"]) == [0, 1]


def test_altitude_plot_draws_one_line_per_target_between_horizon_and_zenith() -> None:
    curves = pd.DataFrame(
        {
            "time": [DUSK, DUSK + HOUR, DUSK, DUSK + HOUR],
            "name": ["a", "a", "b", "b"],
            "altitude_deg": [10.0, 20.0, 30.0, 40.0],
        }
    )
    figure = bokeh_figure(altitude_plot(curves))
    assert (figure.y_range.start, figure.y_range.end) == (0, 90) and glyphs(figure) == ["Line", "Line"]
    assert [list(r.data_source.data["altitude_deg"]) for r in figure.renderers] == [[10.0, 20.0], [30.0, 40.0]]


def test_the_schedule_figures_render_with_nothing_to_show() -> None:
    assert glyphs(bokeh_figure(timeline(None, []))) == ["Segment"]
    assert glyphs(bokeh_figure(timeline(pd.DataFrame(), []))) == ["Segment"]
    assert glyphs(bokeh_figure(altitude_plot(None))) == ["Line"]
