"""State of the reports dashboard: the archive filtered by template, night and state; one report shown; run now.

A run executes in a worker thread (papermill takes seconds); each finished cell is handed to the event loop, so the
progress shown moves while the page stays live, and every param is set on the loop's thread.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import param

from obslab.dashboards.context import DashboardContext
from obslab.dashboards.state.base import DashboardState, row_position
from obslab.dashboards.state.trending import night_of
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError, ObslabError
from obslab.formatting import utc
from obslab.reports.kernels import WarmKernels, in_own_context, warm_kernels
from obslab.reports.runner import RUN_ROLES, ReportRun, kernel_environment, last_night, run_report
from obslab.reports.templates import find_template, template_paths
from obslab.reports.types import ReportState
from obslab.reports.views import ReportRow, list_reports

#: What a filter selector shows for "no restriction".
ANY = "(any)"
COLUMNS = ["id", "template", "night", "state", "started", "duration", "run_by", "cell", "error"]


def _row(report: ReportRow) -> dict[str, Any]:
    return {
        "id": report.id,
        "template": report.template,
        "night": f"{report.night:%Y-%m-%d}" if report.night else "",
        "state": report.state,
        "started": utc(report.started_at),
        "duration": f"{report.duration_s:.1f} s" if report.duration_s is not None else "",
        "run_by": report.run_by or "",
        "cell": report.failed_cell,
        "error": report.error or "",
    }


class ReportsState(DashboardState):
    """The archive as the viewer filters it, the report picked (its HTML, or its failure), and a run under way."""

    EMPTY = {"rows": "No report matches these filters: run one with Run now, or `obslab report run nightly`."}

    template = param.Selector(default=ANY, objects=[ANY], doc="Only runs of this template")
    night = param.String(default="", label="Night", doc="Only reports on this night, YYYYMMDD; empty: every night")
    state = param.Selector(default=ANY, objects=[ANY, *(s.value for s in ReportState)], doc="Only runs in this state")

    run_template = param.Selector(default="nightly", objects=["nightly"], label="Template", doc="The template to run")
    run_night = param.String(default="", label="Night to run", doc="The night, YYYYMMDD (templates with a night)")
    force = param.Boolean(default=False, label="Run even if archived", doc="Execute although the archive has it")

    rows = param.DataFrame(default=None, precedence=-1, doc="The archive's runs matching the filters, newest first")
    selected_id = param.Integer(default=None, allow_None=True, precedence=-1, doc="The report shown")
    selected_row = param.Integer(default=None, allow_None=True, precedence=-1, doc="Its place in the table")
    shown = param.String(default="", precedence=-1, doc="The report picked: its HTML, or what failed and where")
    running = param.Boolean(default=False, precedence=-1, doc="A run of this page is under way")
    cells_done = param.Integer(default=0, precedence=-1, doc="Cells of the run under way that have finished")
    cells_total = param.Integer(default=0, precedence=-1, doc="Cells the run under way executes")

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        super().__init__(context, now=now, **params)
        names = sorted(template_paths(self._own_templates()))
        self.param.template.objects = [ANY, *names]
        self.param.run_template.objects = names
        if self.run_template not in names and names:
            self.run_template = names[0]
        self.run_night = f"{last_night(self.context.settings, self.now()):%Y%m%d}"
        self.run_refusal = self.refusal(RUN_ROLES, "run reports")
        self._rows: dict[int, ReportRow] = {}
        self._kernels: WarmKernels | None = None
        self.refresh()

    @property
    def report_kernels(self) -> WarmKernels | None:
        """The warm report kernels this page's runs use, once a viewer has the page (see ``keep_a_kernel_warm``)."""
        return self._kernels

    def keep_a_kernel_warm(self, when: Callable[[], None] = lambda: None) -> None:
        """For a viewer who may run reports: have this process keep a warm report kernel (``reports.kernels``),
        once ``when`` returns (it blocks until a person has the page), so Run now skips the kernel's start."""
        if self.run_refusal:
            return
        environment = kernel_environment(self.context.settings)
        templates = list(template_paths(self._own_templates()).values())

        def warm() -> None:
            when()
            self._kernels = warm_kernels(environment, templates)

        threading.Thread(target=warm, name="obslab-report-kernel-warm", daemon=True).start()

    def _own_templates(self) -> Path | None:
        return self.context.settings.report_templates_dir

    # --- the archive --------------------------------------------------------------------------

    @param.depends("template", "night", "state", watch=True)
    def refresh(self) -> None:
        """Read the archive's runs matching the filters; a mistyped night shows none and says why."""
        try:
            night = night_of("night", self.night)
        except InvalidInputError as refusal:
            self.error = str(refusal)
            self._show([])
            return
        self.run(
            lambda session: list_reports(
                session,
                template="" if self.template == ANY else self.template,
                night=night,
                state=None if self.state == ANY else ReportState(self.state),
            ),
            write=False,
            then=self._show,
        )

    def _show(self, reports: list[ReportRow]) -> None:
        self._rows = {r.id: r for r in reports}
        frame = pd.DataFrame([_row(r) for r in reports], columns=COLUMNS)
        frame["cell"] = frame["cell"].astype("Int64").astype(object).where(frame["cell"].notna(), None)
        chosen = self.selected_id if self.selected_id in self._rows else None
        self.param.update(rows=frame, selected_row=row_position(frame, "id", chosen))
        if chosen is None and self.selected_id is not None:
            self.select(None)

    def select(self, report_id: int | None) -> None:
        """Show report ``report_id`` (None: none): a done one's HTML, a failed one's cell and error."""
        report = self._rows.get(report_id) if report_id is not None else None
        self.param.update(
            error="",  # what the last run said belongs to that run, not to the report picked now
            selected_id=report.id if report else None,
            selected_row=row_position(self.rows, "id", report.id) if report else None,
            shown=self._shown(report) if report else "",
        )

    def _shown(self, report: ReportRow) -> str:
        if report.state == ReportState.FAILED:
            where = f" in cell {report.failed_cell} of the template" if report.failed_cell else ""
            return (
                f'<div class="obslab-report-failure"><b>Report {report.id} ({html.escape(report.template)}) failed'
                f"{where}.</b><pre>{html.escape(report.error or 'no message was recorded')}</pre></div>"
            )
        if report.state != ReportState.DONE or not report.html_path:
            return f'<div class="obslab-report-running">Report {report.id} is still running.</div>'
        try:
            text = Path(report.html_path).read_text(encoding="utf-8")
        except OSError as missing:
            return (
                f'<div class="obslab-report-failure"><b>Report {report.id}\'s file cannot be read</b>: '
                f"{html.escape(str(missing))}. Run it again (with Run even if archived).</div>"
            )
        # The report is a whole page with its own scripts and styles: a frame of its own keeps them apart.
        return (
            f'<iframe class="obslab-report-frame" title="report {report.id}" srcdoc="{html.escape(text, quote=True)}" '
            'style="width: 100%; height: 1400px; border: 1px solid #d0d7de;"></iframe>'
        )

    # --- run now --------------------------------------------------------------------------------

    def run_values(self) -> dict[str, str]:
        """The run's parameters as typed: the night, for a template that takes one."""
        template = find_template(self.run_template, self._own_templates())
        return {"night": self.run_night.strip()} if any(p.name == "night" for p in template.parameters) else {}

    async def run_now(self) -> None:
        """Run the chosen template (or fetch it from the archive), showing each cell as it finishes; then show it."""
        if self.running:
            self.error = "a report of this page is already running: wait for it to finish"
            return
        loop = asyncio.get_running_loop()

        def heard(done: int, total: int) -> None:  # in the worker thread: hand it to the loop
            loop.call_soon_threadsafe(lambda: self.param.update(cells_done=done, cells_total=total))

        self.param.update(running=True, cells_done=0, cells_total=0, error="", message="")
        try:
            outcome = await loop.run_in_executor(None, self._runner(heard))
        except ObslabError as refusal:
            self.running = False
            self.refresh()  # a read that succeeds clears the error: say it after
            if "report" in refusal.details:  # it ran and failed: show where
                self.select(refusal.details["report"])
            self.error = str(refusal)
            return
        self.running = False
        self.message = (
            f"report {outcome.report_id} came from the archive (same template, parameters and data)"
            if outcome.cached
            else f"report {outcome.report_id} ran in {outcome.duration_s:.1f} s"
        )
        self.refresh()
        self.select(outcome.report_id)

    def _runner(self, heard: Callable[[int, int], None]) -> Callable[[], ReportRun]:
        values = self.run_values()  # read on the loop's thread: the inputs may change while it runs
        template, force, settings = self.run_template, self.force, self.context.settings

        def run() -> ReportRun:
            with self.context.sessions() as session:
                actor = self.context.actor(session)
            return run_report(
                self.context.sessions,
                settings,
                actor,
                template,
                values,
                force=force,
                now=self.now,
                on_cell=heard,
                kernels=self._kernels,
            )

        return lambda: in_own_context(run)  # papermill's event loops for this thread are closed after it


__all__ = ["ANY", "COLUMNS", "ReportsState"]
