"""The trending figure: a metric's points against time, alarmed ones ringed, night medians, configuration changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import holoviews as hv
import pandas as pd
from bokeh.models import GlyphRenderer, Span

from obslab.plots.trending import (
    MARKER_COLUMNS,
    NIGHT_COLUMNS,
    POINT_COLUMNS,
    TREND_PLOT,
    time_range,
    trend_figures,
    trend_plot,
)

START = datetime(2026, 11, 19, 3, 0, tzinfo=UTC)
CHANGE = datetime(2026, 11, 19, 18, 0, tzinfo=UTC)


def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    times = [START + timedelta(hours=h) for h in (0, 2, 24, 26)]
    points = pd.DataFrame(
        [
            [t, v, f"exp{i}", night, "ROBO-CAM/Si/6", alarms]
            for i, (t, v, night, alarms) in enumerate(
                zip(times, [10.0, 4.0, 12.0, 14.0], ["a", "a", "b", "b"], ["", "low", "", ""], strict=True)
            )
        ],
        columns=POINT_COLUMNS,
    )
    nights = pd.DataFrame([[START + timedelta(hours=1), 7.0, 2, "a"], [START + timedelta(hours=25), 13.0, 2, "b"]])
    nights.columns = NIGHT_COLUMNS
    markers = pd.DataFrame([[CHANGE, "ROBO-CAM v2", "gain 300 → 200"]], columns=MARKER_COLUMNS)
    return points, nights, markers


def bokeh_figure(figure: hv.Element) -> Any:
    return hv.renderer("bokeh").get_plot(figure).state


def data(figure: Any, glyph: str) -> list[dict[str, list[Any]]]:
    return [
        {key: list(values) for key, values in r.data_source.data.items()}
        for r in figure.renderers
        if isinstance(r, GlyphRenderer) and type(r.glyph).__name__ == glyph
    ]


def test_points_alarms_medians_and_the_change_are_drawn_against_time() -> None:
    figure = bokeh_figure(trend_plot(*frames(), metric="strehl_percent", unit="%"))
    assert figure.name == f"{TREND_PLOT}:strehl_percent" and figure.title.text == "strehl_percent (%)"
    assert figure.yaxis[0].axis_label == "strehl_percent (%)" and figure.xaxis[0].axis_label == "UTC"
    medians, everything, alarmed, change = data(figure, "Scatter")
    assert everything["strehl_percent"] == [10.0, 4.0, 12.0, 14.0] and alarmed["exposure"] == ["exp1"]
    # Times reach Bokeh as naive UTC (its datetime axis takes no zone), and are named in UTC in the hover.
    assert everything["time"][0] == pd.Timestamp("2026-11-19 03:00") and alarmed["when"] == ["2026-11-19 05:00 UTC"]
    assert medians["strehl_percent"] == [7.0, 13.0] and medians["night"] == ["a", "b"]
    assert change["label"] == ["ROBO-CAM v2"] and change["what"] == ["gain 300 → 200"]
    (line,) = [r for r in figure.renderers if isinstance(r, Span)]
    assert line.location == pd.Timestamp("2026-11-19 18:00").value / 1e6  # milliseconds, as Bokeh keeps time
    (labels,) = data(figure, "Text")
    assert labels["text"] == ["ROBO-CAM v2"] and labels["strehl_percent"][0] > 14.0  # above every point
    legend = [item.label["value"] for item in figure.legend[0].items]
    assert legend == ["night median", "points", "alarm raised", "configuration change"]


def test_an_empty_metric_still_draws_and_figures_stack_in_one_column() -> None:
    points, nights, markers = frames()
    empty = trend_plot(points.iloc[:0], nights.iloc[:0], markers.iloc[:0], metric="dark_level_adu:0")
    assert bokeh_figure(empty).title.text == "dark_level_adu:0"
    layout = trend_figures([trend_plot(points, nights, markers, metric="a"), empty])
    assert len(layout) == 2 and bokeh_figure(layout) is not None


def test_figures_shown_together_share_one_time_range_with_a_margin() -> None:
    points, nights, markers = frames()
    first, last = time_range(points, nights, markers)
    assert first == pd.Timestamp("2026-11-19 03:00") - pd.Timedelta(hours=1)  # 3 % of 29 h is under an hour
    assert last == pd.Timestamp("2026-11-20 05:00") + pd.Timedelta(hours=1)
    assert time_range(points.iloc[:0], nights.iloc[:0]) is None
    figure = bokeh_figure(trend_plot(points.iloc[:1], nights.iloc[:0], markers, metric="a", xlim=(first, last)))
    assert (figure.x_range.start, figure.x_range.end) == (first, last)
