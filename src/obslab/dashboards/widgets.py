"""Shared dashboard pieces: status badges, HTML tables, the read-only data table and the pager."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import panel as pn
from bokeh.models.widgets.tables import NumberFormatter

from obslab.plots.colours import BADGE_COLOURS

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


#: Cells of the columns a table wraps: long text (a reason, a window, an IVORN) breaks onto more lines, even
#: inside a word, so it never runs past its column.
TABLE_CSS = """
.tabulator-row .tabulator-cell.obslab-wrap { white-space: normal; overflow-wrap: anywhere; }
:host .tabulator .tabulator-tableholder .tabulator-placeholder .tabulator-placeholder-contents {
    color: #57606a; font-size: 14px; font-weight: 400; font-style: italic; }
"""


#: Numbers as people write them: no ".0" on whole ones, up to six decimals on the rest (numbro's format).
WHOLE_OR_DECIMAL = "0.[000000]"


def data_table(
    frame: Any,
    *,
    empty: str,
    titles: Mapping[str, str] | None = None,
    wrap: Mapping[str, int] | None = None,
    **options: Any,
) -> pn.widgets.Tabulator:
    """A read-only Tabulator as wide as the page: no client-side paging (the server pages), no row selection.

    Parameters
    ----------
    empty
        What the table says when it has no rows ("No observations match these filters.").
    titles
        Column titles by field.
    wrap
        The columns whose text wraps, each with its share of the width the others leave (give those ``widths``
        their titles and values fit: the table fills the page and never scrolls sideways at 1400 px).
    options
        Any Tabulator parameter; ``widths`` sets a column's width in pixels, ``configuration["columns"]`` adds
        Tabulator settings to a column by field.

    Rows are not selectable by a click: a page whose table has a selection sets ``selection`` from its state
    (``PageViewer.table_of(..., selected=...)``), so the highlighted row is always the one the page shows.
    """
    configuration = dict(options.pop("configuration", {}))
    configuration.setdefault("placeholder", empty)
    columns = {
        field: {"field": field, "cssClass": "obslab-wrap", "widthGrow": share} for field, share in (wrap or {}).items()
    }
    for column in configuration.get("columns", []):  # the caller's own column settings (say, a minWidth) go on top
        columns[column["field"]] = columns.get(column["field"], {}) | column
    configuration["columns"] = list(columns.values())
    defaults: dict[str, Any] = dict(
        disabled=True,
        show_index=False,
        selectable=False,
        pagination=None,
        layout="fit_columns",
        sizing_mode="stretch_width",
        titles=dict(titles or {}),
        configuration=configuration,
    )
    merged = defaults | options
    # Floats without stray zeros ("4", "2.8", "350.85"), unless the caller formats the column its own way.
    floats = {  # a new formatter per table: a Bokeh model belongs to one document only
        name: NumberFormatter(format=WHOLE_OR_DECIMAL, text_align="right")
        for name in getattr(frame, "columns", [])
        if frame[name].dtype.kind == "f"
    }
    merged["formatters"] = floats | dict(options.get("formatters", {}))
    merged["stylesheets"] = [TABLE_CSS, *options.get("stylesheets", [])]
    return SteadyTabulator(frame, **merged)


class SteadyTabulator(pn.widgets.Tabulator):
    """A Tabulator whose configuration does not follow the dtypes of each new value, so new rows never redraw it.

    Panel re-derives the column sorters from the value's dtypes at every new value and sends the configuration
    again when they differ (a float column that is all None on one page is of object dtype); the browser then
    rebuilds the whole table, and rows that arrive while it rebuilds are dropped (Panel 1.9's ``setData`` returns
    while building). The page kept showing the previous rows while the server held the new ones, so a click opened
    nothing (the row's index was past the new frame's end) or the wrong row. Same columns, same configuration:
    the data message alone brings the new rows.
    """

    def _update_columns(self, event: Any, model: Any) -> None:
        if event.name == "value" and [column.field for column in model.columns] == self._get_fields():
            return
        super()._update_columns(event, model)


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):  # stored in UTC; columns say "(UTC)"
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def guarded(button: Any, refusal: str) -> Any:
    """The button, or when the viewer may not act, the button disabled and plain with the reason beside it."""
    if not refusal:
        return button
    button.param.update(disabled=True, color="light", description=refusal)
    note = pn.pane.HTML(
        f'<span class="obslab-why-not">{html.escape(refusal)}</span>',
        stylesheets=[".obslab-why-not { color: #6c757d; font-size: 0.9em; }"],
        sizing_mode="stretch_width",
    )
    return pn.Row(button, note, sizing_mode="stretch_width")


def pager(state: Any, noun: str) -> pn.Row:
    """First, Prev, "Page p of n · total <noun>", Next, Last and the page size, for a state with ``go_to(page)``.

    The state has params ``page``, ``page_count``, ``total`` and ``page_size``; the buttons carry
    ``obslab-page-<label>`` and the line ``obslab-page-status`` for pages and tests to find.
    """

    def button(label: str, target: Any) -> pn.widgets.Button:
        widget = pn.widgets.Button(label=label, color="default", width=70, css_classes=[f"obslab-page-{label.lower()}"])
        widget.on_click(lambda _event: state.go_to(target()))
        return widget

    status = pn.bind(
        lambda page, count, total: (
            f'<span class="obslab-page-status">Page <b>{page}</b> of {count:,} · {total:,} {html.escape(noun)}</span>'
        ),
        state.param.page,
        state.param.page_count,
        state.param.total,
    )
    return pn.Row(
        button("First", lambda: 1),
        button("Prev", lambda: state.page - 1),
        pn.pane.HTML(status, margin=(8, 12)),
        button("Next", lambda: state.page + 1),
        button("Last", lambda: state.page_count),
        pn.widgets.Select.from_param(state.param.page_size, name="", width=80),
    )
