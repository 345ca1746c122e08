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


def test_float_columns_show_no_stray_zeros_unless_the_caller_formats_them() -> None:
    import pandas as pd
    from bokeh.models.widgets.tables import NumberFormatter, StringFormatter

    from obslab.dashboards.widgets import WHOLE_OR_DECIMAL, data_table

    frame = pd.DataFrame({"request": [4], "priority": [4.0], "slew_s": [60.0], "name": ["REQ-0004"]})
    own = StringFormatter()
    table = data_table(frame, empty="none", formatters={"slew_s": own})
    assert isinstance(table.formatters["priority"], NumberFormatter)
    assert table.formatters["priority"].format == WHOLE_OR_DECIMAL and table.formatters["slew_s"] is own
    assert set(table.formatters) == {"priority", "slew_s"}  # integers and text are left alone
    assert data_table(frame, empty="none").formatters["priority"] is not table.formatters["priority"]


def test_new_rows_of_other_dtypes_are_sent_as_data_alone_never_as_a_new_configuration() -> None:
    # A new configuration makes the browser rebuild the table and drop rows that arrive meanwhile (the run browser
    # then showed the previous night's rows); a new column set still gets its configuration.
    import pandas as pd
    from bokeh.document import Document

    from obslab.dashboards.widgets import data_table

    measured = pd.DataFrame({"name": ["a", "b"], "strehl": [1.5, 2.0], "ok": [True, False]})
    unmeasured = pd.DataFrame({"name": ["c"], "strehl": [None], "ok": [None]})  # object dtypes: other sorters
    table = data_table(measured, empty="none", groupby=["name"])
    model = table.get_root(Document())
    sent: list[str] = []
    model.on_change("configuration", lambda _attr, _old, _new: sent.append("configuration"))
    table.value = unmeasured
    assert sent == [] and list(model.source.data["name"]) == ["c"]
    table.value = unmeasured.assign(extra=[1])
    assert sent == ["configuration"] and "extra" in [c["field"] for c in model.configuration["columns"]]
