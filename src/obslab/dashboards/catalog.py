"""The catalog browser: a thin Panel view over CatalogState."""

from __future__ import annotations

import html
from typing import Any

import holoviews as hv
import panel as pn
import param
from bokeh.models.widgets.tables import DateFormatter, NumberFormatter

from obslab.catalog.browse import ObservationDetail
from obslab.catalog.parameter_schema import ParameterSchema
from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.shell import error_alert, shell
from obslab.dashboards.state.catalog import CatalogState
from obslab.dashboards.widgets import BADGE_CSS, badge, html_table, key_value_table, pager
from obslab.plots.sky import sky_plot

TITLES = {
    "obsid": "Obsid",
    "target_name": "Target",
    "instrument": "Instrument",
    "grating": "Grating",
    "obs_type": "Type",
    "status": "Status",
    "approved": "Approved",
    "pi_name": "PI",
    "ra_deg": "RA (deg)",
    "dec_deg": "Dec (deg)",
    "approved_exposure_ks": "Exposure (ks)",
    "scheduled_at": "Scheduled (UTC)",
}
#: Widths (px) that fit each column's title and its longest value; Target and PI share the rest, wrapping.
WIDTHS = {
    "obsid": 75,
    "instrument": 115,
    "grating": 90,
    "obs_type": 70,
    "status": 110,
    "approved": 100,
    "ra_deg": 100,
    "dec_deg": 105,
    "approved_exposure_ks": 135,
    "scheduled_at": 150,
}
FORMATTERS: dict[str, Any] = {
    "obsid": {"type": "plaintext"},
    "approved": {"type": "tickCross", "crossElement": False},
    "ra_deg": NumberFormatter(format="0.0000", text_align="right"),
    "dec_deg": NumberFormatter(format="+0.0000", text_align="right"),
    "approved_exposure_ks": NumberFormatter(format="0.0", text_align="right"),
    "scheduled_at": DateFormatter(format="%Y-%m-%d %H:%M", nan_format="—", null_format="—"),
}


class CatalogBrowser(PageViewer):
    """Filters on the left; table, pager and sky plot in the middle; the selected observation below."""

    state = param.ClassSelector(class_=CatalogState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        self.table = self.table_of(
            "rows",
            selected="selected_row",
            titles=TITLES,
            height=560,
            css_classes=["obslab-catalog-table"],
            formatters=FORMATTERS,
            widths=WIDTHS,
            wrap={"target_name": 3, "pi_name": 2},
            text_align={"approved": "center"},
            # With every column chosen, the table scrolls sideways rather than squeeze names past reading.
            configuration={
                "columns": [{"field": "target_name", "minWidth": 150}, {"field": "pi_name", "minWidth": 100}]
            },
            hidden_columns=self._hidden(self.state.columns),
        )
        self.table.on_click(self._row_clicked)
        self.table.param.watch(self._header_sorted, "sorters")
        self.state.param.watch(lambda event: setattr(self.table, "hidden_columns", self._hidden(event.new)), "columns")

    @staticmethod
    def _hidden(shown: list[str]) -> list[str]:
        return [name for name in TITLES if name not in shown]

    # --- wiring (side effects only: data flows from the state) ---------------------------------

    def _row_clicked(self, event: Any) -> None:
        self.state.select(int(self.table.value.iloc[event.row]["obsid"]))

    def _header_sorted(self, event: param.parameterized.Event) -> None:
        # A header click sorts the whole catalog in the database, not just the rows on screen.
        if event.new:
            self.state.sort(event.new[0]["field"], event.new[0].get("dir") == "desc")

    def _sky_point_clicked(self, index: list[int]) -> None:
        if index and self.state.sky is not None and index[0] < len(self.state.sky):
            self.state.select(int(self.state.sky.iloc[index[0]]["obsid"]))

    # --- pieces ---------------------------------------------------------------------------------

    def _filters(self) -> pn.Column:
        s = self.state.param
        text = {
            "obsids": "20001-20050, 20077",
            "target": "e.g. NGC",
            "pi": "e.g. Quispe",
            "cone_ra": "83.63 or 05:34:32",
            "cone_dec": "-5.39 or -05:23:28",
        }
        widgets = [
            pn.widgets.TextInput.from_param(s[name], placeholder=hint, sizing_mode="stretch_width")
            for name, hint in text.items()
            if not name.startswith("cone")
        ]
        widgets += [
            pn.widgets.Select.from_param(s[name], sizing_mode="stretch_width")
            for name in ("instrument", "obs_type", "status", "approved")
        ]
        cone = [
            pn.widgets.TextInput.from_param(s.cone_ra, placeholder=text["cone_ra"], sizing_mode="stretch_width"),
            pn.widgets.TextInput.from_param(s.cone_dec, placeholder=text["cone_dec"], sizing_mode="stretch_width"),
            pn.widgets.FloatInput.from_param(s.cone_radius_arcmin, sizing_mode="stretch_width"),
        ]
        clear = pn.widgets.Button(label="Clear filters", color="light", sizing_mode="stretch_width")
        clear.on_click(lambda _event: self.state.clear_filters())
        columns = pn.Card(
            pn.widgets.CheckBoxGroup.from_param(
                s.columns, options={TITLES[name]: name for name in TITLES}, inline=False, name=""
            ),
            title="Columns",
            collapsed=True,
            sizing_mode="stretch_width",
            css_classes=["obslab-catalog-columns"],
        )
        return pn.Column(
            "### Filters",
            *widgets,
            "#### Cone search",
            *cone,
            clear,
            columns,
            width=250,
            css_classes=["obslab-filters"],
        )

    def _pager(self) -> pn.Row:
        return pager(self.state, "observations")

    def _sky(self, positions: Any, selected: int | None) -> Any:
        if positions is None:
            return pn.pane.Markdown("No positions.")
        plot = sky_plot(positions, selected=selected)
        stream = hv.streams.Selection1D(source=plot.get(0))
        stream.add_subscriber(self._sky_point_clicked)
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", min_height=340)

    def _detail(self, detail: ObservationDetail | None) -> Any:
        if detail is None:
            return pn.pane.Markdown(
                "*Click a row or a point on the sky to see an observation.*", css_classes=["obslab-detail-empty"]
            )
        return DetailView(detail, self.state.context.catalog_policy.schema).panel()

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        main = pn.Column(
            error_alert(s),
            self.table,
            self._pager(),
            # Deferred: under `panel serve` the page (and the table) show first and the sky plot follows,
            # which halves the time to the first table row; notebooks ignore defer_load.
            pn.panel(pn.bind(self._sky, s.param.sky, s.param.selected_obsid), defer_load=True),
            sizing_mode="stretch_width",
        )
        detail = pn.Column(
            pn.bind(self._detail, s.param.detail), sizing_mode="stretch_width", css_classes=["obslab-detail"]
        )
        return shell(self.state.context, "catalog", pn.Row(self._filters(), main, sizing_mode="stretch_width"), detail)


class DetailView:
    """One observation: summary, current sign-off state, parameters by schema group, revision history."""

    def __init__(self, detail: ObservationDetail, schema: ParameterSchema) -> None:
        self.detail = detail
        self.schema = schema

    def _summary(self) -> str:
        d = self.detail.summary
        current = self.detail.current_revision
        signoff = badge(current.status) + f" revision {current.label}" if current else "no revisions"
        head = (
            f"<h3>Obsid {d['obsid']} · {html.escape(d['target_name'])} {badge(str(d['status']))} "
            f"{badge('approved' if d['approved'] else 'pending', 'approved' if d['approved'] else 'not approved')}</h3>"
        )
        pairs = {
            "Sequence": d["sequence_number"],
            "Proposal": d["proposal_number"],
            "PI": d["pi_name"],
            "Instrument": f"{d['instrument']} / {d['grating']}",
            "SI mode": d["si_mode"],
            "Type": d["obs_type"],
            "RA, Dec (deg)": f"{d['ra_deg']:.6f}, {d['dec_deg']:+.6f}",
            "Approved exposure (ks)": d["approved_exposure_ks"],
            "Scheduled (UTC)": d["scheduled_at"],
        }
        return head + f"<p>Sign-off: {signoff}</p>" + key_value_table(pairs)

    def _signoff(self) -> str:
        current = self.detail.current_revision
        if current is None:
            return "<p>No change requests have been made on this observation.</p>"
        rows = [(s.area, badge(s.state.value), s.by, s.at) for s in current.signoffs]
        return f"<p>Revision {current.label} ({current.kind}): {badge(current.status)}</p>" + html_table(
            ("Area", "State", "By", "When (UTC)"), rows, raw_columns=(1,)
        )

    def _history(self) -> str:
        if not self.detail.revisions:
            return "<p>No revisions.</p>"
        rows = [
            (
                r.label,
                r.kind,
                badge(r.status),
                r.submitted_by,
                r.submitted_at,
                ", ".join(f"{c.name}: {c.original} → {c.requested}" for c in r.changes),
                r.comment,
            )
            for r in reversed(self.detail.revisions)
        ]
        return html_table(
            ("Revision", "Kind", "Status", "Submitted by", "At (UTC)", "Changes", "Comment"), rows, raw_columns=(2,)
        )

    def _parameters(self) -> pn.Accordion:
        cards = []
        for group, rows in self.schema.group_rows(self.detail.values):
            if group.ranked:
                names = [p.name for p in group.parameters]
                body = (
                    html_table(
                        ["rank", *(p.label for p in group.parameters)],
                        [[row["rank"], *(row.get(n) for n in names)] for row in rows],
                    )
                    if rows
                    else "<p>none</p>"
                )
            else:
                body = html_table(
                    ("Parameter", "Value", "Unit"),
                    [(row["label"], row["value"], row.get("unit") or "") for row in rows],
                )
            cards.append((group.label, pn.pane.HTML(body, sizing_mode="stretch_width", stylesheets=[BADGE_CSS])))
        return pn.Accordion(*cards, active=[0], sizing_mode="stretch_width", css_classes=["obslab-parameters"])

    def panel(self) -> pn.viewable.Viewable:
        # The class goes inside the HTML (the pane's host is outside its shadow root) so pages and tests can find it.
        def pane(text: str, css: str) -> pn.pane.HTML:
            return pn.pane.HTML(
                f'<div class="{css}">{text}</div>', sizing_mode="stretch_width", stylesheets=[BADGE_CSS]
            )

        return pn.Column(
            pane(self._summary(), "obslab-detail-summary"),
            pn.Tabs(
                ("Parameters", self._parameters()),
                ("Sign-off", pane(self._signoff(), "obslab-signoff")),
                ("History", pane(self._history(), "obslab-history")),
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )
