"""Run a report template: check its parameters, reuse an archived report of the same key, else execute it with
papermill on the ``obslab`` kernel, convert it to self-contained HTML and archive both, all or nothing.

The cache key is the template's version, the parameters and the fingerprint of the data the report may show
(``fingerprint.py``). The archive is ``<data_dir>/reports/<template>/<night or "all">/<report id>/``; a run is
written into ``<data_dir>/reports/.partial/`` first and moved into place whole, so a failure or a kill leaves
nothing half-written where reports are found (the next run sweeps what a kill left).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import User, require_role
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError, ObslabError
from obslab.reports.fingerprint import everything_fingerprint, night_fingerprint
from obslab.reports.kernels import KERNEL, WarmKernels, private_ipc_address, shut_down
from obslab.reports.models import Report
from obslab.reports.parameters import check_values
from obslab.reports.rendering import to_html
from obslab.reports.templates import Template, find_template
from obslab.reports.types import ReportState
from obslab.scheduling.night import night_window
from obslab.settings import Settings

#: Who may run a report: it shows every program's night, so those who see them all, and the pipeline's operators.
RUN_ROLES = ("staff", "pipeline")


class KernelMissingError(ObslabError):
    code = "kernel_missing"


@dataclass(frozen=True)
class ReportRun:
    report_id: int
    state: str
    cached: bool
    html_path: str | None
    notebook_path: str | None
    duration_s: float | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.report_id,
            "state": self.state,
            "cached": self.cached,
            "html": self.html_path,
            "notebook": self.notebook_path,
            "duration_s": self.duration_s,
            "error": self.error,
        }


def parameters_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def _night_parameter(values: dict[str, Any]) -> date | None:
    text = values.get("night")
    return date.fromisoformat(text) if text else None


def last_night(settings: Settings, now: datetime) -> date:
    """The most recent night that is over at ``now``: nights run from local noon to local noon at the site."""
    under_way = (now.astimezone(settings.site.zone) - timedelta(hours=12)).date()
    return under_way - timedelta(days=1)


def _check_night_over(settings: Settings, night: date, now: datetime) -> None:
    _, end = night_window(settings.site, night)
    if end > now:
        raise InvalidInputError(
            "night", f"{night:%Y%m%d}", f"a night that is over (this one ends at local noon, {end:%Y-%m-%d %H:%M} UTC)"
        )


def _fingerprint(session: Session, settings: Settings, night: date | None) -> str:
    return night_fingerprint(session, settings.site, night) if night else everything_fingerprint(session)


def _archived(session: Session, template: Template, values_hash: str, fingerprint: str) -> Report | None:
    """The newest done report of the same key whose files are still there."""
    candidates = session.scalars(
        select(Report)
        .where(
            Report.template == template.name,
            Report.template_version == template.version,
            Report.parameters_hash == values_hash,
            Report.data_fingerprint == fingerprint,
            Report.state == ReportState.DONE,
        )
        .order_by(Report.id.desc())
    )
    return next((r for r in candidates if r.html_path and Path(r.html_path).is_file()), None)


def require_kernel(name: str = KERNEL) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise KernelMissingError(
            f"the Jupyter kernel {name!r} that reports run on is not registered: run scripts/bootstrap, or "
            f"python -m ipykernel install --sys-prefix --name {name}"
        ) from None


def run_report(
    sessions: sessionmaker[Session],
    settings: Settings,
    actor: User,
    template_name: str,
    given: dict[str, str],
    *,
    force: bool = False,
    now: Clock = utcnow,
    on_cell: Callable[[int, int], None] | None = None,
    kernels: WarmKernels | None = None,
) -> ReportRun:
    """Run ``template_name`` with the ``given`` parameters (text, as typed), or return the archived report.

    ``on_cell(done, total)`` hears of each cell as it finishes. A failure is recorded and raised as
    ``ReportFailedError`` after the row says so; nothing of it is left in the archive. A long-lived caller passes
    its ``kernels`` (``kernels.warm_kernels``): the run takes the warm one if it is ready, and another is warmed after.
    """
    require_role(actor, RUN_ROLES, "run reports")
    template = find_template(template_name, settings.report_templates_dir)
    values = check_values(template.parameters, given)
    night = _night_parameter(values)
    if night is not None:
        _check_night_over(settings, night, now())
    values_hash = parameters_hash(values)
    with sessions() as session, session.begin():
        fingerprint = _fingerprint(session, settings, night)
        cached = None if force else _archived(session, template, values_hash, fingerprint)
        if cached is not None:
            return _outcome(cached, cached=True)
        require_kernel()
        report = Report(
            template=template.name,
            template_version=template.version,
            night=night,
            parameters=values,
            parameters_hash=values_hash,
            data_fingerprint=fingerprint,
            state=ReportState.RUNNING,
            started_at=now(),
            created_by_id=actor.id,
        )
        session.add(report)
        session.flush()
        report_id = report.id
    try:
        return _execute(sessions, settings, template, values, report_id, night, now, on_cell, kernels)
    finally:
        if kernels is not None:
            kernels.replenish()  # after the run, so the warm-up does not take the run's processor


class ReportFailedError(ObslabError):
    code = "report_failed"


def _execute(
    sessions: sessionmaker[Session],
    settings: Settings,
    template: Template,
    values: dict[str, Any],
    report_id: int,
    night: date | None,
    now: Clock,
    on_cell: Callable[[int, int], None] | None,
    kernels: WarmKernels | None,
) -> ReportRun:
    partial_root = settings.reports_dir / ".partial"
    staging = partial_root / f"{report_id}-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    failed_cell, error = None, None
    try:  # the archive's folders too: a run that cannot write its files is recorded as failed, not left running
        _sweep(partial_root)
        staging.mkdir(parents=True)
        executed = staging / "report.ipynb"
        _papermill(template, executed, values, settings, on_cell, kernels)
        (staging / "report.html").write_text(to_html(executed), encoding="utf-8")
    except _CellFailed as failure:
        failed_cell, error = failure.cell, failure.message
    except Exception as other:  # anything else the kernel or the conversion raised is the template's failure too
        error = f"{type(other).__name__}: {other}"
    duration = round(time.perf_counter() - started, 3)
    final = settings.reports_dir / template.name / (f"{night:%Y%m%d}" if night else "all") / str(report_id)
    with sessions() as session, session.begin():
        report = session.get(Report, report_id)
        assert report is not None
        report.finished_at, report.duration_s = now(), duration
        if error is None:
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging, final)
            except OSError as unwritable:
                error = f"the archive could not keep the report: {unwritable}"
        if error is None:
            report.state = ReportState.DONE
            report.notebook_path, report.html_path = str(final / "report.ipynb"), str(final / "report.html")
        else:
            shutil.rmtree(staging, ignore_errors=True)
            report.state, report.error, report.failed_cell = ReportState.FAILED, error, failed_cell
        outcome = _outcome(report, cached=False)
    if error is not None:
        where = f"cell {failed_cell}: " if failed_cell else ""
        raise ReportFailedError(f"report {report_id} ({template.name}) failed: {where}{error}", report=report_id)
    return outcome


def _sweep(partial_root: Path, older_than: timedelta = timedelta(hours=6)) -> None:
    """Remove what a killed run left in the staging folder (only old ones: another run may be writing)."""
    if not partial_root.is_dir():
        return
    cutoff = time.time() - older_than.total_seconds()
    for leftover in partial_root.iterdir():
        if leftover.stat().st_mtime < cutoff:
            shutil.rmtree(leftover, ignore_errors=True)


def _outcome(report: Report, *, cached: bool) -> ReportRun:
    return ReportRun(
        report.id, report.state.value, cached, report.html_path, report.notebook_path, report.duration_s, report.error
    )


class _CellFailed(Exception):
    def __init__(self, cell: int, message: str) -> None:
        super().__init__(message)
        self.cell, self.message = cell, message


def kernel_environment(settings: Settings) -> dict[str, str]:
    """The settings the kernel needs to read what the caller reads: the database, the data folder, the site."""
    return {
        "OBSLAB_DATABASE_URL": settings.resolved_database_url,
        "OBSLAB_DATA_DIR": str(settings.data_dir),
        "OBSLAB_SITE_NAME": settings.site_name,
        "OBSLAB_SITE_LATITUDE_DEG": str(settings.site_latitude_deg),
        "OBSLAB_SITE_LONGITUDE_DEG": str(settings.site_longitude_deg),
        "OBSLAB_SITE_HEIGHT_M": str(settings.site_height_m),
        "OBSLAB_SITE_TIMEZONE": settings.site_timezone,
    }


def _papermill(
    template: Template,
    executed: Path,
    values: dict[str, Any],
    settings: Settings,
    on_cell: Callable[[int, int], None] | None,
    kernels: WarmKernels | None,
) -> None:
    import papermill
    from jupyter_client.manager import AsyncKernelManager
    from papermill.exceptions import PapermillExecutionError
    from traitlets import default

    wanted = kernel_environment(settings)
    environment = {**os.environ, **wanted}
    folder = str(executed.parent)

    class KernelWithSettings(AsyncKernelManager):
        # The kernel reads obslab's settings from its environment: give it the caller's, whoever made them. It talks
        # over local sockets rather than TCP, which no other user of the machine can reach. It starts in the run's
        # folder (papermill's own ``cwd`` would change the whole calling process's folder while the report runs).
        transport = "ipc"

        @default("ip")
        def _private_address(self) -> str:
            return private_ipc_address()

        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            kw["env"], kw["cwd"] = environment, folder
            await super().start_kernel(**kw)

    warm = kernels.take(wanted, folder) if kernels is not None else None
    kernel = {"km": warm} if warm is not None else {"kernel_manager_class": KernelWithSettings}
    try:
        papermill.execute_notebook(
            str(template.path),
            str(executed),
            parameters=values,
            kernel_name=KERNEL,
            progress_bar=False,
            # Papermill otherwise writes the whole notebook out before and after every cell (BokehJS and all):
            # 0.8 s of a report's 2 s on a warm kernel. A run is archived whole or not at all, so only its end counts.
            request_save_on_cell_execute=False,
            **kernel,
            **({"on_cell_executed": _progress(on_cell, template.cells + 1)} if on_cell else {}),
        )
    except PapermillExecutionError as failure:
        first_line = next((line for line in failure.source.splitlines() if line.strip()), "")
        message = f"{failure.ename}: {failure.evalue} (in: {first_line.strip()[:120]})"
        # The failing cell's number in the template (1 = the first): papermill added one after the parameters.
        index = failure.cell_index
        raise _CellFailed(index if index > template.parameters_at else index + 1, message) from None
    finally:
        if warm is not None:  # it ran one report: the next gets a fresh one; its end is not the caller's wait
            threading.Thread(target=shut_down, args=(warm,), name="obslab-report-kernel-end", daemon=True).start()


def _progress(on_cell: Callable[[int, int], None], total: int) -> Callable[..., None]:
    def hook(cell: Any = None, cell_index: int = 0, **_ignored: Any) -> None:
        on_cell(cell_index + 1, total)

    return hook


__all__ = ["KERNEL", "ReportFailedError", "ReportRun", "last_night", "require_kernel", "run_report", "to_html"]
