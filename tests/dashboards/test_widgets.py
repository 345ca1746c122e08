"""Shared dashboard pieces: badges and tables escape people's text (figures: tests/unit/test_plots.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from obslab.dashboards.widgets import badge, html_table, key_value_table


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
