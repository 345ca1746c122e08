"""The nightly report's figures: the plan against what was taken, the night's hours and seeing over the night, drawn
with Bokeh alone (HoloViews' Bokeh plotting would bring Panel into a report's kernel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from bokeh.models import GlyphRenderer, Legend

from obslab.plots.nightly import LOSS_COLOURS, OUTCOME_COLOURS, plan_timeline, seeing_plot, time_accounting_bars
from obslab.reports.night_plan import PlannedBlock

DUSK = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def block(at: int, outcome: str, reason: str = "") -> PlannedBlock:
    start = DUSK + at * MINUTE
    return PlannedBlock(f"R{at}", "Vega", "24", start, start + 5 * MINUTE, 1, outcome, reason)


def legend_labels(figure: object) -> list[str]:
    panels = [*figure.center, *figure.right]  # type: ignore[attr-defined]
    legend = next(item for item in panels if isinstance(item, Legend))
    return [item.label["value"] for item in legend.items]


def test_the_plan_timeline_names_only_what_the_night_had_each_in_its_colour() -> None:
    blocks = [block(0, "observed"), block(60, "not observed", "weather: dome closed"), block(120, "observed")]
    losses = [{"start": DUSK + 55 * MINUTE, "end": DUSK + 80 * MINUTE, "cause": "weather", "note": "dome closed"}]
    taken = [(b.start, b.end) for b in blocks if b.outcome == "observed"]
    figure = plan_timeline(blocks, taken, losses, (DUSK, DUSK + 600 * MINUTE))
    assert legend_labels(figure) == ["lost: weather", "planned: observed", "planned: not observed", "exposures taken"]
    by_colour = {r.glyph.fill_color: r.data_source.data for r in figure.renderers if isinstance(r, GlyphRenderer)}
    assert list(by_colour[OUTCOME_COLOURS["not observed"]]["why"]) == ["weather: dome closed"]
    assert len(by_colour[OUTCOME_COLOURS["observed"]]["request"]) == 2
    lost = by_colour[LOSS_COLOURS["weather"]]
    assert lost["left"][0] == np.datetime64(losses[0]["start"].replace(tzinfo=None), "ms")


def test_the_hours_chart_has_a_bar_per_use_and_per_cause_of_loss() -> None:
    accounting = {
        "open_shutter_hours": 4.0,
        "calibration_hours": 0.5,
        "overhead_hours": 3.0,
        "lost_hours": {"weather": 1.25, "technical": 0.5},
    }
    bars = time_accounting_bars(accounting)
    (drawn,) = [r.data_source.data for r in bars.renderers if isinstance(r, GlyphRenderer)]
    assert list(drawn["y"]) == ["science", "calibration", "overheads", "lost: technical", "lost: weather"]
    assert list(drawn["right"]) == [4.0, 0.5, 3.0, 0.5, 1.25]


def test_the_figures_never_load_holoviews_plotting_or_panel() -> None:
    from tests.helpers.fresh_imports import loaded_by_importing

    assert loaded_by_importing(["obslab.plots.nightly"], ["panel", "holoviews"]) == ""


def test_one_seeing_value_is_drawn_over_the_whole_night_not_a_millisecond() -> None:
    night = (DUSK, DUSK + 600 * MINUTE)
    figure = seeing_plot([(DUSK + 90 * MINUTE, 1.2, "Sr")], night)
    start, end = (np.datetime64(value, "ms") for value in (figure.x_range.start, figure.x_range.end))
    assert start <= np.datetime64(DUSK.replace(tzinfo=None), "ms")
    assert end - start >= np.timedelta64(600 * 60 * 1000, "ms")
