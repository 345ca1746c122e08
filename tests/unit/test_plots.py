"""The figures: each carries the data it is given and renders to a Bokeh model without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import holoviews as hv
import pandas as pd
import pytest
from bokeh.models import GlyphRenderer, HoverTool, Span

from obslab.configs.fplane import FplaneRow
from obslab.configs.types import ConfigVersion
from obslab.plots.configs import AS_OF, CONFIG_TIMELINE, CURRENT, FOCAL_PLANE, SUPERSEDED, config_timeline, focal_plane
from obslab.plots.night_data import NightChart
from obslab.plots.schedule import (
    ALTITUDES,
    LOCAL_AXIS,
    LOST,
    TIMELINE,
    local_offsets,
    night_chart,
    peak_labels,
    twilight_bands,
)
from obslab.plots.sky import sky_plot
from obslab.plots.trending import time_series_plot

DUSK = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


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


def night() -> NightChart:
    """A night at Kitt Peak (UTC-7): three blocks (the last too narrow for a label), nested twilights, one lost hour."""
    blocks = pd.DataFrame(
        {
            "start": [DUSK, DUSK + HOUR, DUSK + 3 * HOUR],
            "end": [DUSK + HOUR / 2, DUSK + 2 * HOUR, DUSK + 3 * HOUR + 3 * MINUTE],
            "name": ["REQ-1", "REQ-2", "REQ-3"],
            "target": ["M42", "TwinHigh", "Tiny"],
            "priority": [5.0, 8.0, 1.0],
            "constraints": ["astronomical darkness; airmass ≤ 2", "civil darkness", ""],
        }
    )
    times = [DUSK - 2 * HOUR + k * 30 * MINUTE for k in range(25)]
    curves = pd.concat(
        [
            pd.DataFrame({"time": times, "target": name, "altitude_deg": [peak - abs(k - at) * 4.0 for k in range(25)]})
            for name, peak, at in [("M42", 70.0, 6), ("TwinHigh", 50.0, 12), ("Tiny", 40.0, 20)]
        ],
        ignore_index=True,
    )
    twilight = tuple(
        (DUSK - 2 * HOUR + k * 20 * MINUTE, DUSK + 8 * HOUR - k * 20 * MINUTE, level)
        for k, level in enumerate(["sunset", "civil", "nautical", "astronomical"])
    )
    return NightChart(
        start=DUSK - 2 * HOUR - 30 * MINUTE,
        end=DUSK + 8 * HOUR + 30 * MINUTE,
        zone="America/Phoenix",
        blocks=blocks,
        twilight=twilight,
        lost=((DUSK + 4 * HOUR, DUSK + 5 * HOUR),),
        curves=curves,
        limits=((30.0, "30°: airmass ≤ 2 (1 request)"),),
    )


def figures(chart: NightChart | None) -> tuple[Any, Any]:
    """The timeline and altitude figures of the night chart, as Bokeh draws them."""
    root = hv.renderer("bokeh").get_plot(night_chart(chart)).state
    return root.select_one({"name": TIMELINE}), root.select_one({"name": ALTITUDES})


@pytest.fixture(scope="module")
def drawn() -> tuple[Any, Any]:
    """The night chart of ``night()``, drawn once for the tests that only read it (drawing takes seconds)."""
    return figures(night())


def sources(figure: Any, glyph: str) -> list[dict[str, Any]]:
    return [
        r.data_source.data for r in figure.renderers if isinstance(r, GlyphRenderer) and type(r.glyph).__name__ == glyph
    ]


def utc(value: Any) -> datetime:
    return pd.Timestamp(value).tz_localize(UTC).to_pydatetime()


def test_the_timeline_is_one_row_of_blocks_named_by_their_targets_with_a_hover_saying_everything(
    drawn: tuple[Any, Any],
) -> None:
    timeline, _altitudes = drawn
    (blocks,) = [data for data in sources(timeline, "Quad") if "target" in data]
    assert list(blocks["target"]) == ["M42", "TwinHigh", "Tiny"]
    assert set(blocks["bottom"]) == {0.12} and set(blocks["top"]) == {0.88}  # one row
    assert timeline.yaxis[0].visible is False  # no block index
    assert list(blocks["utc"]) == ["02:00–02:30", "03:00–04:00", "05:00–05:03"]
    assert list(blocks["local"]) == ["19:00–19:30", "20:00–21:00", "22:00–22:03"]
    assert list(blocks["constraints"]) == ["astronomical darkness; airmass ≤ 2", "civil darkness", "none"]
    assert list(blocks["priority"]) == ["5", "8", "1"] and list(blocks["request"]) == ["REQ-1", "REQ-2", "REQ-3"]
    (hover,) = [tool for tool in timeline.tools if isinstance(tool, HoverTool)]
    assert [name for name, _field in hover.tooltips] == ["request", "target", "priority", "UTC", "local", "constraints"]
    assert not any("{safe}" in field for _name, field in hover.tooltips)  # Bokeh escapes the names, unless "safe"
    # The 3-minute block is too narrow for its name: it has no label, and the hover above still names it.
    (labels,) = sources(timeline, "Text")
    assert list(labels["text"]) == ["M42", "TwinHigh"]
    assert [utc(t) for t in labels["time"]] == [DUSK + HOUR / 4, DUSK + 3 * HOUR / 2]


def test_lost_time_and_the_twilight_bands_are_shades_the_legend_names(drawn: tuple[Any, Any]) -> None:
    timeline, altitudes = drawn
    legend = [item.label.value for item in timeline.legend[0].items]
    assert legend == ["civil twilight", "nautical twilight", "astronomical twilight", "night", LOST]
    shades = [data for data in sources(timeline, "Quad") if "target" not in data]
    lost = shades[-1]
    assert [(utc(a), utc(b)) for a, b in zip(lost["left"], lost["right"], strict=True)] == [
        (DUSK + 4 * HOUR, DUSK + 5 * HOUR)
    ]
    hatched = [r.glyph.hatch_pattern for r in timeline.renderers if type(getattr(r, "glyph", None)).__name__ == "Quad"]
    assert hatched.count("/") == 1

    # The altitude chart shades the same, without a second legend.
    def boxes(datas: list[dict[str, Any]]) -> list[tuple[datetime, datetime]]:
        return sorted((utc(a), utc(b)) for data in datas for a, b in zip(data["left"], data["right"], strict=True))

    assert boxes(sources(altitudes, "Quad")) == boxes(shades) and not altitudes.legend


def test_the_twilight_bands_do_not_overlap_and_are_named_by_their_sky() -> None:
    nested = [(DUSK, DUSK + 9 * HOUR, "sunset"), (DUSK + HOUR, DUSK + 8 * HOUR, "civil")]
    assert twilight_bands(nested) == [
        (DUSK, DUSK + HOUR, "civil twilight"),
        (DUSK + HOUR, DUSK + 8 * HOUR, "nautical twilight"),  # the Sun never reaches -12 deg: no darker band
        (DUSK + 8 * HOUR, DUSK + 9 * HOUR, "civil twilight"),
    ]
    assert [label for _a, _b, label in twilight_bands(night().twilight)] == [
        "civil twilight",
        "nautical twilight",
        "astronomical twilight",
        "night",
        "astronomical twilight",
        "nautical twilight",
        "civil twilight",
    ]


def test_both_figures_cover_the_night_on_one_shared_time_axis_that_pans_and_zooms_in_time_only(
    drawn: tuple[Any, Any],
) -> None:
    chart = night()
    for timeline, altitudes in (drawn, figures(NightChart(start=chart.start, end=chart.end))):  # nothing planned too
        assert timeline.x_range is altitudes.x_range
        assert (utc(timeline.x_range.start), utc(timeline.x_range.end)) == (chart.start, chart.end)
    timeline, altitudes = drawn
    tools = {type(tool).__name__: tool for tool in timeline.tools}
    assert tools["PanTool"].dimensions == "width" and tools["WheelZoomTool"].dimensions == "width"
    assert timeline.min_border_left == altitudes.min_border_left  # the time axes line up


def test_the_local_time_axis_is_the_site_zone_on_top_of_the_timeline(drawn: tuple[Any, Any]) -> None:
    chart = night()
    timeline, _altitudes = drawn
    (axis,) = [axis for axis in timeline.above if axis.name == LOCAL_AXIS]
    assert axis.axis_label == "local time (America/Phoenix, MST)" and axis.ticker is timeline.xaxis[-1].ticker
    assert axis.formatter.args == {"changes": [chart.start.timestamp() * 1000], "offsets": [-7 * 3600 * 1000]}
    # Where the clocks change in the night, the formatter gets the new offset from the change on (the page's
    # browser test runs the formatter itself).
    berlin = local_offsets(
        "Europe/Berlin", datetime(2026, 10, 24, 15, tzinfo=UTC), datetime(2026, 10, 25, 7, tzinfo=UTC)
    )
    change = datetime(2026, 10, 25, 1, tzinfo=UTC).timestamp() * 1000
    assert berlin == [(datetime(2026, 10, 24, 15, tzinfo=UTC).timestamp() * 1000, 2 * 3600_000), (change, 3600_000)]


def test_each_altitude_curve_is_named_by_hover_and_at_its_peak_thick_while_observed_with_the_limits(
    drawn: tuple[Any, Any],
) -> None:
    _timeline, altitudes = drawn
    whole, observed = sources(altitudes, "Segment")
    assert set(whole["target"]) == {"M42", "TwinHigh", "Tiny"}
    (hover,) = [tool for tool in altitudes.tools if isinstance(tool, HoverTool)]
    assert hover.tooltips[0] == ("target", "@{target}")
    assert (
        min(map(utc, observed["time"])) == DUSK and max(map(utc, observed["time_end"])) == DUSK + 3 * HOUR + 3 * MINUTE
    )
    m42 = [utc(t) for t, name in zip(observed["time"], observed["target"], strict=True) if name == "M42"]
    assert min(m42) == DUSK and max(m42) < DUSK + HOUR / 2  # only while M42 is observed
    names = pd.concat([pd.DataFrame(data) for data in sources(altitudes, "Text") if "altitude_deg" in data])
    peaks = dict(zip(names["text"], names["altitude_deg"], strict=True))
    assert peaks == {"M42": 70.0, "TwinHigh": 50.0, "Tiny": 40.0}
    (limit,) = [r for r in altitudes.renderers if isinstance(r, Span)]
    assert limit.location == 30.0 and limit.line_dash == [6]
    assert any(list(data.get("text", [])) == [" 30°: airmass ≤ 2 (1 request)"] for data in sources(altitudes, "Text"))


def test_names_at_the_same_peak_are_moved_apart_and_kept_inside_the_chart() -> None:
    chart = night()
    twins = chart.curves.assign(target=chart.curves["target"].replace({"Tiny": "M42b", "TwinHigh": "M42c"}))
    twins["altitude_deg"] = pd.concat([chart.curves[chart.curves["target"] == "M42"]["altitude_deg"]] * 3).to_numpy()
    placed = peak_labels(NightChart(start=chart.start, end=chart.end, curves=twins))
    assert sorted(placed["text"]) == ["M42", "M42b", "M42c"] and placed["altitude_deg"].nunique() == 3
    assert placed["altitude_deg"].max() <= 90 - 4.0
    early = pd.DataFrame({"time": [chart.start, chart.end], "target": "Early", "altitude_deg": [60.0, 10.0]})
    assert list(peak_labels(NightChart(start=chart.start, end=chart.end, curves=early))["align"]) == ["left"]


def test_the_night_chart_renders_with_nothing_to_show() -> None:
    chart = night()
    timeline, altitudes = figures(NightChart(start=chart.start, end=chart.end))
    assert glyphs(timeline) == ["Quad", "Text"] and "Segment" in glyphs(altitudes)
    assert glyphs(hv.renderer("bokeh").get_plot(night_chart(None)).state.children[0][0]) == ["Line"]


def records() -> list[ConfigVersion]:
    """Three records of one instrument; the second was corrected by the third over the same valid period."""
    at = DUSK - timedelta(days=300)
    day = timedelta(days=1)

    def record(
        number: int, valid: tuple[int, int | None], known: tuple[int, int | None], **fields: Any
    ) -> ConfigVersion:
        return ConfigVersion(
            instrument="VIRUS",
            version_number=number,
            valid_from=at + valid[0] * day,
            valid_to=at + valid[1] * day if valid[1] is not None else None,
            recorded_at=at + known[0] * day,
            superseded_at=at + known[1] * day if known[1] is not None else None,
            recorded_by=fields.get("recorded_by", "tcs"),
            source=fields.get("source", "tcs"),
            comment=fields.get("comment", ""),
        )

    return [
        record(1, (0, 100), (0, None), comment="Initial <b>focal</b> plane."),
        record(2, (100, None), (101, 150)),
        record(3, (100, None), (150, None), recorded_by=None, source="manual", comment="Correction of version 2."),
    ]


def test_a_correction_draws_a_second_box_over_the_same_valid_period_with_the_hover_saying_who_and_why() -> None:
    now = DUSK
    figure = bokeh_figure(config_timeline(records(), now, at=(DUSK - timedelta(days=180), DUSK - timedelta(days=170))))
    assert figure.name == CONFIG_TIMELINE
    current, superseded = (data for data in sources(figure, "Quad"))
    assert list(current["version"]) == [1, 3] and list(superseded["version"]) == [2]
    # One valid period, two boxes: the superseded one stops at the correction, where the correction starts.
    assert (utc(superseded["left"][0]), utc(superseded["right"][0])) == (utc(current["left"][1]), now)
    assert utc(superseded["top"][0]) == utc(current["bottom"][1]) == DUSK - timedelta(days=150)
    assert utc(current["top"][1]) == now and utc(current["right"][0]) == DUSK - timedelta(days=200)  # open: to now
    recorded, corrected = DUSK - timedelta(days=199), DUSK - timedelta(days=150)
    assert list(superseded["known"]) == [
        f"{recorded:%Y-%m-%d %H:%M} UTC to {corrected:%Y-%m-%d %H:%M} UTC (superseded)"
    ]
    assert list(current["period"])[1].endswith("to now (in force)")
    assert list(current["recorded_by"]) == ["tcs", "(nobody named)"] and list(current["source"]) == ["tcs", "manual"]
    assert list(current["comment"]) == ["Initial <b>focal</b> plane.", "Correction of version 2."]
    hovers = [tool for tool in figure.tools if isinstance(tool, HoverTool)]
    assert hovers and all(
        [name for name, _field in hover.tooltips]
        == ["version", "valid", "recorded", "recorded by", "source", "comment"]
        for hover in hovers
    )
    assert not any("{safe}" in field for hover in hovers for _name, field in hover.tooltips)
    (labels,) = sources(figure, "Text")
    assert list(labels["text"]) == ["v1", "v2", "v3"]
    # The as-of point: a line at each of its times.
    spans = sorted(
        (span.dimension, datetime.fromtimestamp(span.location / 1000, UTC))
        for span in figure.renderers
        if isinstance(span, Span)
    )
    assert spans == [("height", DUSK - timedelta(days=180)), ("width", DUSK - timedelta(days=170))]
    legend = [item.label.value for item in figure.legend[0].items]
    assert legend == [CURRENT, SUPERSEDED, AS_OF]


def test_the_timeline_without_corrections_or_records_still_draws() -> None:
    figure = bokeh_figure(config_timeline(records()[:1], DUSK))
    assert [item.label.value for item in figure.legend[0].items] == [CURRENT]  # no superseded records, no entry
    assert not [span for span in figure.renderers if isinstance(span, Span)]
    assert glyphs(bokeh_figure(config_timeline([], DUSK))) == ["Quad", "Text"]


def test_the_focal_plane_draws_ifus_by_spectrograph_and_leaves_out_placeholders() -> None:
    rows = [
        FplaneRow("013", -400.031, -200.0, 8, 1, "021", 0.0, 1.0),
        FplaneRow("106", 100.0, 100.2, 302, 2, "N01", 180.0, 1.0),
        FplaneRow("000", 0.0, 0.0, 900, 900, "900", 0.0, 1.0),
        FplaneRow("001", -50.0, -50.0, 900, 900, "901", 0.0, 1.0),
    ]
    figure = bokeh_figure(focal_plane(rows, title="VIRUS version 6"))
    assert figure.name == FOCAL_PLANE and figure.title.text == "VIRUS version 6"
    seats, ifus = sources(figure, "Quad")
    assert len(seats["left"]) == 90 and "slot" not in seats  # every seat of the plate, outlined, no hover
    assert list(ifus["slot"]) == ["013", "106"] and list(ifus["ifu"]) == ["021", "N01"]  # no 900 entries
    assert list(ifus["spectrograph"]) == ["008 (slot 001)", "302 (slot 002)"] and list(ifus["specid"]) == [8, 302]
    assert list(ifus["left"]) == [-400.031 - 25, 100.0 - 25] and list(ifus["top"]) == [-200.0 + 25, 100.2 + 25]
    (renderer,) = [r for r in figure.renderers if isinstance(r, GlyphRenderer) and "slot" in r.data_source.data]
    colour = renderer.glyph.fill_color  # HoloViews maps a copy of the SPECID column through the palette
    assert list(ifus[colour["field"]]) == [8, 302] and (colour["transform"].low, colour["transform"].high) == (8, 302)
    (hover,) = [tool for tool in figure.tools if isinstance(tool, HoverTool)]
    assert [name for name, _field in hover.tooltips] == ["slot", "IFU", "spectrograph", "position (arcsec)"]
    (labels,) = sources(figure, "Text")
    # Each seat named in ink that reads on its colour: white on the palette's dark end, black on its light end.
    assert list(labels["text"]) == ["013", "106"] and list(labels["text_color"]) == ["#ffffff", "#000000"]
    assert figure.frame_width == figure.frame_height and figure.x_range.start == figure.y_range.start
