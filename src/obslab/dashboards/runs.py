"""The run browser: nights, a night's exposures grouped by program, one exposure whole; a view over RunsState."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param
from bokeh.models.widgets.tables import DateFormatter, NumberFormatter

from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.registry import link_to
from obslab.dashboards.shell import error_alert, shell
from obslab.dashboards.state.runs import RunsState
from obslab.dashboards.widgets import BADGE_CSS, badge, html_table, key_value_table, pager
from obslab.formatting import number
from obslab.observing.choices import ConfigurationLabel
from obslab.observing.views import ExposureDetail

NIGHT_TITLES = {
    "night": "Night",
    "exposures": "Exposures",
    "programs": "Science by program",
    "seeing_median_arcsec": "Seeing median (arcsec)",
    "calibration": "Calibration",
    "stages": "Stages",
}
ROW_TITLES = {
    "name": "Exposure",
    "program": "Program",
    "kind": "Kind",
    "target_name": "Target",
    "filter_name": "Filter",
    "camera_mode": "Mode",
    "exposure_s": "Exp (s)",
    "started_at": "Start (UTC)",
    "strehl_percent": "Strehl %",
    "fwhm_arcsec": "FWHM ″",
    "seeing_nearest_arcsec": "Seeing ″",
    "quality_ok": "Quality",
    "night": "Night",
}
#: Widths (px) that fit each title with its sort arrow, and the values; Exposure and Target share the rest.
ROW_WIDTHS = {
    "kind": 82,
    "filter_name": 78,
    "camera_mode": 72,
    "exposure_s": 88,
    "started_at": 132,
    "strehl_percent": 96,
    "fwhm_arcsec": 90,
    "seeing_nearest_arcsec": 96,
    "quality_ok": 86,
}
ROW_FORMATTERS: dict[str, Any] = {
    "started_at": DateFormatter(format="%Y-%m-%d %H:%M", nan_format="—", null_format="—"),
    "strehl_percent": NumberFormatter(format="0.00", text_align="right", nan_format="—"),
    "fwhm_arcsec": NumberFormatter(format="0.000", text_align="right", nan_format="—"),
    "seeing_nearest_arcsec": NumberFormatter(format="0.00", text_align="right", nan_format="—"),
    "quality_ok": {"type": "tickCross", "allowEmpty": True},
}
STAGE_TITLES = {
    "stage": "Stage",
    "state": "State",
    "retries": "Retries",
    "force_redo": "Redo marked",
    "fingerprint": "Inputs fingerprint",
    "finished_at": "Finished (UTC)",
    "provenance": "Products and provenance",
    "error": "Error",
}
PAGE_CSS = """
.obslab-runs-summary h3 { margin: 4px 0 8px 0; }
.obslab-runs-previews { display: flex; gap: 16px; flex-wrap: wrap; }
.obslab-runs-previews figure { margin: 0; }
.obslab-runs-previews figcaption { color: #57606a; font-size: 13px; text-align: center; }
.obslab-runs-previews img { width: 256px; height: 256px; image-rendering: pixelated; border: 1px solid #d0d7de; }
.obslab-runs-configuration { font-size: 14px; }
.obslab-runs-hint { color: #57606a; font-size: 13px; }
.obslab-runs-outcome { font-size: 14px; color: #1a7f37; }
.obslab-runs-outcome.obslab-runs-refused { color: #cf222e; }
"""


class RunBrowser(PageViewer):
    """Filters on the left; the nights and a page of exposures (grouped by program) in the middle; one below."""

    state = param.ClassSelector(class_=RunsState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        self.nights = self.table_of(
            "nights",
            titles=NIGHT_TITLES,
            height=210,
            css_classes=["obslab-runs-nights"],
            widths={"night": 110, "exposures": 115, "seeing_median_arcsec": 205, "calibration": 115},
            wrap={"programs": 2, "stages": 1},
            formatters={"seeing_median_arcsec": NumberFormatter(format="0.00", text_align="right", nan_format="—")},
        )
        self.nights.on_click(self._night_clicked)
        self.table = self.table_of(
            "rows",
            selected="selected_row",
            titles=ROW_TITLES,
            height=470,
            css_classes=["obslab-runs-table"],
            formatters=ROW_FORMATTERS,
            widths=ROW_WIDTHS,
            wrap={"name": 3, "target_name": 1},
            text_align={"quality_ok": "center"},
            groupby=["program"],
            hidden_columns=["night", "program", "camera_mode"],  # group headers name the program; the detail, the mode
        )
        self.table.on_click(self._row_clicked)
        self.table.param.watch(self._header_sorted, "sorters")
        self.stages = self.table_of(
            "stages",
            titles=STAGE_TITLES,
            height=230,
            css_classes=["obslab-runs-stages"],
            widths={"stage": 90, "state": 75, "retries": 85, "force_redo": 125, "fingerprint": 165, "finished_at": 140},
            wrap={"provenance": 3, "error": 1},
            formatters={
                "force_redo": {"type": "tickCross", "crossElement": False},
                "finished_at": DateFormatter(format="%Y-%m-%d %H:%M", nan_format="—", null_format="—"),
            },
        )

    # --- wiring (side effects only: data flows from the state) ---------------------------------

    def _night_clicked(self, event: Any) -> None:
        self.state.pick_night(str(self.nights.value.iloc[event.row]["night"]))

    def _row_clicked(self, event: Any) -> None:
        self.state.select(str(self.table.value.iloc[event.row]["name"]))

    def _header_sorted(self, event: param.parameterized.Event) -> None:
        # A header click sorts every matching exposure in the database, not just the rows on screen.
        if event.new:
            self.state.sort(event.new[0]["field"], event.new[0].get("dir") == "desc")

    # --- pieces ---------------------------------------------------------------------------------

    def _filters(self) -> pn.Column:
        s = self.state.param
        wide = {"sizing_mode": "stretch_width"}
        clear = pn.widgets.Button(label="Clear filters", color="light", css_classes=["obslab-runs-clear"], **wide)
        clear.on_click(lambda _event: self.state.clear_filters())
        return pn.Column(
            "### Filters",
            pn.Row(
                pn.widgets.TextInput.from_param(s.night_from, placeholder="2026-12-05", width=108),
                pn.widgets.TextInput.from_param(s.night_to, placeholder="2026-12-05", width=108),
            ),
            pn.widgets.TextInput.from_param(s.target, placeholder="exact, or NGC*", **wide),
            *(pn.widgets.Select.from_param(s[name], **wide) for name in ("program", "filter_name", "camera_mode")),
            *(pn.widgets.Select.from_param(s[name], **wide) for name in ("kind", "stage_state", "quality")),
            pn.widgets.FloatInput.from_param(s.strehl_min, placeholder="any", **wide),
            pn.widgets.FloatInput.from_param(s.fwhm_max, placeholder="any", **wide),
            pn.widgets.FloatInput.from_param(s.seeing_max, placeholder="any", **wide),
            "#### Cone search",
            pn.widgets.TextInput.from_param(s.cone_ra, placeholder="83.63 or 05:34:32", **wide),
            pn.widgets.TextInput.from_param(s.cone_dec, placeholder="-5.39 or -05:23:28", **wide),
            pn.widgets.FloatInput.from_param(s.cone_radius_arcsec, **wide),
            clear,
            width=250,
            css_classes=["obslab-filters"],
        )

    def _pager(self) -> pn.Row:
        return pager(self.state, "exposures")

    def _night_line(self, night: str) -> pn.Row:
        every = pn.widgets.Button(label="All nights", color="light", width=100, css_classes=["obslab-runs-all-nights"])
        every.on_click(lambda _event: self.state.pick_night(None))
        text = (
            f"Exposures of the night of <b>{html.escape(night)}</b>, grouped by program"
            if night
            else "Exposures of every night, grouped by program on each page: click a night to see one"
        )
        return pn.Row(
            pn.pane.HTML(f'<div class="obslab-runs-night-line">{text}</div>', stylesheets=[PAGE_CSS], margin=(8, 5)),
            every if night else pn.Spacer(width=0),
            sizing_mode="stretch_width",
        )

    def _detail(self, detail: ExposureDetail | None, previews: list[tuple[str, str]], configuration: Any) -> Any:
        if detail is None:
            return pn.pane.Markdown("*Click an exposure to see it whole.*", css_classes=["obslab-runs-detail-empty"])
        return ExposureView(detail, previews, configuration).top()

    def _more(self, detail: ExposureDetail | None) -> Any:
        return ExposureView(detail, [], None).tabs() if detail is not None else pn.Spacer(height=0)

    def _redo_controls(self) -> pn.Column:
        go = pn.widgets.Button(label="Force redo", color="warning", width=120, css_classes=["obslab-runs-redo"])
        go.on_click(lambda _event: self.state.redo())
        hint = pn.pane.HTML(
            '<span class="obslab-runs-hint">For the program\'s members and admins; the next '
            "<code>obslab pipeline run</code> runs it and what depends on it.</span>",
            stylesheets=[PAGE_CSS],
            margin=(10, 5),
        )
        outcome = pn.pane.HTML(
            pn.bind(
                lambda message, error: (
                    f'<span class="obslab-runs-outcome{" obslab-runs-refused" if error else ""}">'
                    f"{html.escape(error or message)}</span>"
                ),
                self.state.param.message,
                self.state.param.error,
            ),
            stylesheets=[PAGE_CSS],
            margin=(10, 5),
            sizing_mode="stretch_width",
        )
        stage = pn.widgets.Select.from_param(self.state.param.redo_stage, width=160)
        return pn.Column(pn.Row(stage, go, hint), outcome, sizing_mode="stretch_width")

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        main = pn.Column(
            error_alert(s),
            "#### Nights",
            self.nights,
            pn.bind(self._night_line, s.param.selected_night),
            self.table,
            self._pager(),
            sizing_mode="stretch_width",
        )
        # The stages table and the redo controls stay on the page, always shown: a table moved into a new layout
        # at every selection missed the update that marks a stage for redo, and one hidden drew no rows when shown.
        stages = pn.Column("#### Pipeline stages", self.stages, self._redo_controls(), sizing_mode="stretch_width")
        detail = pn.Column(
            pn.bind(self._detail, s.param.detail, s.param.previews, s.param.configuration),
            stages,
            pn.bind(self._more, s.param.detail),
            sizing_mode="stretch_width",
            css_classes=["obslab-runs-detail"],
        )
        return shell(s.context, "runs", pn.Row(self._filters(), main, sizing_mode="stretch_width"), detail)


class ExposureView:
    """One exposure: summary and previews, its alarms, the configuration in force, stages, metrics, header, files."""

    def __init__(
        self, detail: ExposureDetail, previews: list[tuple[str, str]], configuration: ConfigurationLabel | None
    ) -> None:
        self.detail, self.previews, self.configuration = detail, previews, configuration

    def _summary(self) -> str:
        r = self.detail.row
        quality = {None: badge("none", "not measured"), True: badge("done", "ok"), False: badge("failed", "flagged")}
        open_alarms = sum(1 for a in self.detail.alarms if a.acknowledged_at is None)
        alarms = f"{open_alarms} open alarm{'s' if open_alarms > 1 else ''}"
        head = (
            f"<h3>{html.escape(r.name)} · {html.escape(r.target_name)} {quality[r.quality_ok]}"
            f"{' ' + badge('failed', 'raw files missing') if r.missing else ''}"
            f"{' ' + badge('failed', alarms) if open_alarms else ''}</h3>"
        )
        pairs = {
            "Night": r.night.isoformat(),
            "Program": r.program,
            "Kind": r.kind,
            "Filter, mode": f"{r.filter_name}, {r.camera_mode}",
            "Exposure (s)": number(r.exposure_s),
            "Start (UTC)": r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            "RA, Dec (deg)": "—" if r.ra_deg is None else f"{r.ra_deg:.5f}, {r.dec_deg:+.5f}",
            "Strehl (%)": "—" if r.strehl_percent is None else f"{r.strehl_percent:.2f}",
            "FWHM (arcsec)": "—" if r.fwhm_arcsec is None else f"{r.fwhm_arcsec:.3f}",
            "Seeing nearest (arcsec)": "—" if r.seeing_nearest_arcsec is None else f"{r.seeing_nearest_arcsec:.2f}",
        }
        return head + key_value_table(pairs)

    def _previews(self) -> str:
        if not self.previews:
            return '<p class="obslab-runs-hint">No previews yet: the preview stage has not run for this exposure.</p>'
        figures = "".join(
            f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(title)}</figcaption></figure>"
            for title, data in self.previews
        )
        return f'<div class="obslab-runs-previews">{figures}</div>'

    def _configuration(self) -> str:
        if self.configuration is None:
            return '<p class="obslab-runs-configuration">No configuration version was in force at its start.</p>'
        href = link_to("configs")
        page = f' (<a href="{html.escape(href)}">Configurations page</a>)' if href else ""
        return f'<p class="obslab-runs-configuration">Configuration: {html.escape(self.configuration.text)}{page}</p>'

    def _alarms(self) -> str:
        """The alarms raised on this exposure's metrics: rule, values, message, and whether someone has looked."""
        if not self.detail.alarms:
            return ""
        href = link_to("trends")
        where = f' Acknowledge them on the <a href="{html.escape(href)}">Trending page</a>.' if href else ""
        rows = [
            (
                a.rule,
                a.metric,
                a.measured_at.strftime("%Y-%m-%d %H:%M UTC"),
                ", ".join(f"{v:g}" for v in a.values),
                a.message,
                f"acknowledged {a.acknowledged_at:%Y-%m-%d %H:%M} UTC" if a.acknowledged_at else "open",
            )
            for a in self.detail.alarms
        ]
        table = html_table(("Rule", "Metric", "Measured", "Values (oldest first)", "Message", "Status"), rows)
        return f"<p><b>Alarms on this exposure's metrics.</b>{where}</p>{table}"

    @staticmethod
    def _pane(text: str, css: str) -> pn.pane.HTML:
        # The class goes inside the HTML (the pane's host is outside its shadow root) so pages and tests can find it.
        return pn.pane.HTML(
            f'<div class="{css}">{text}</div>', sizing_mode="stretch_width", stylesheets=[BADGE_CSS, PAGE_CSS]
        )

    def top(self) -> pn.viewable.Viewable:
        """Summary and previews side by side; below them the alarms on its metrics and the configuration in force."""
        return pn.Column(
            pn.Row(
                self._pane(self._summary(), "obslab-runs-summary"),
                self._pane(self._previews(), "obslab-runs-preview-images"),
                sizing_mode="stretch_width",
            ),
            self._pane(self._alarms(), "obslab-runs-alarms"),
            self._pane(self._configuration(), "obslab-runs-config"),
            sizing_mode="stretch_width",
        )

    def tabs(self) -> pn.Tabs:
        """Metrics, the FITS header and the raw files, a tab each."""
        d = self.detail
        metrics = {name: f"{value:.5g}" for name, value in sorted(d.metrics.items())}
        files = [(f["path"], f["frames"], f["size_bytes"], f["sha256"][:16]) for f in d.files]
        return pn.Tabs(
            ("Metrics", self._pane(key_value_table(metrics) if metrics else "<p>None yet.</p>", "obslab-runs-metrics")),
            ("Header", self._pane(key_value_table(d.header), "obslab-runs-header")),
            ("Files", self._pane(html_table(("Path", "Frames", "Bytes", "SHA-256"), files), "obslab-runs-files")),
            sizing_mode="stretch_width",
            css_classes=["obslab-runs-tabs"],
        )
