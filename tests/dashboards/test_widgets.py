"""Shared dashboard pieces: badges and tables escape people's text; the plots carry the data they are given."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from obslab.dashboards.widgets import badge, html_table, key_value_table, sky_plot, time_series_plot


def test_badge_escapes_its_label_and_colours_known_states() -> None:
    assert "&lt;b&gt;" in badge("signed", "<b>")
    assert "#1a7f37" in badge("signed") and "#cf222e" in badge("discarded")
    assert badge("signed") != badge("something else")


def test_html_table_escapes_cells_except_the_raw_columns() -> None:
    table = html_table(("who", "state"), [("O'Brien <x>", badge("signed"))], raw_columns=(1,))
    assert "O&#x27;Brien &lt;x&gt;" in table
    assert 'class="obslab-badge"' in table
    assert "<x>" not in table


def test_key_value_table_shows_missing_values_and_utc_times_plainly() -> None:
    table = key_value_table({"Scheduled (UTC)": datetime(2026, 11, 21, 18, 30, tzinfo=UTC), "SI mode": None})
    assert "2026-11-21 18:30:00" in table and "+00:00" not in table
    assert "—" in table


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


def test_sky_plot_rings_only_the_selected_observation() -> None:
    positions = pd.DataFrame(
        {
            "obsid": [1, 2],
            "target_name": ["a", "b"],
            "ra_deg": [10.0, 20.0],
            "dec_deg": [0.0, 5.0],
            "status": ["observed", "scheduled"],
        }
    )
    points, ring = sky_plot(positions, selected=2)
    assert len(points) == 2
    assert list(ring.dimension_values("ra_deg")) == [20.0]
    assert len(list(sky_plot(positions))[1]) == 0
