"""The reports page's state with papermill for real: run now with cell progress, the archive filtered, a report shown
in a frame of its own, the archived copy reused, and a failing template's cell and error."""

from __future__ import annotations

import asyncio
import html
import threading
import time

import nbformat
from sqlalchemy.orm import Session, sessionmaker

from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.reports import ReportsView
from obslab.dashboards.state.reports import ANY, ReportsState
from obslab.reports.templates import PACKAGED
from obslab.settings import Settings
from tests.helpers.support import fixed_clock
from tests.notebooks.test_reports import NIGHT


def state_for(settings: Settings, sessions: sessionmaker[Session], who: str = "sobrien", *roles: str) -> ReportsState:
    viewer = ViewingUser(who, "", roles or ("staff",), True)
    return ReportsState(DashboardContext(settings, sessions, viewer), now=fixed_clock)


def test_run_now_shows_each_cell_then_the_report_and_the_archive_reuses_it(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    state = state_for(settings, sessions)
    assert state.run_night == NIGHT and state.run_refusal == ""  # the last night that is over, at the demo's clock
    assert list(state.param.template.objects) == [ANY, "broken", "nightly"] and state.rows.empty
    heard: list[tuple[int, int]] = []
    state.param.watch(lambda _e: heard.append((state.cells_done, state.cells_total)), "cells_done")
    asyncio.run(state.run_now())
    assert state.error == "" and state.message.startswith("report ") and " ran in " in state.message
    # Each code cell as it finishes (papermill's hook skips markdown), in order, the last one the whole notebook.
    template = nbformat.read(PACKAGED / "nightly.ipynb", as_version=4)
    code = sum(1 for cell in template.cells if cell.cell_type == "code") + 1  # and papermill's parameters cell
    dones = [done for done, _ in heard]
    assert len(dones) == code and dones == sorted(set(dones)) and heard[-1] == (len(template.cells) + 1,) * 2
    assert not state.running and list(state.rows["state"]) == ["done"]
    assert state.selected_id == int(state.rows["id"][0]) and state.selected_row == 0
    assert state.shown.startswith('<iframe class="obslab-report-frame"')
    assert html.escape("the night of 2026-11-19") in state.shown and "Planned against executed" in state.shown

    asyncio.run(state.run_now())  # the same template, parameters and data: the archive's copy
    assert "came from the archive" in state.message and len(state.rows) == 1
    state.force = True
    asyncio.run(state.run_now())
    assert len(state.rows) == 2 and state.selected_id == int(state.rows["id"].max())


def test_a_failing_template_shows_its_cell_and_error_and_the_filters_narrow_the_archive(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    state = state_for(settings, sessions)
    state.param.update(run_template="broken", run_night=NIGHT)
    asyncio.run(state.run_now())
    assert "failed: cell 3: ZeroDivisionError" in state.error and not state.running
    failed = int(state.rows["id"][0])
    assert state.selected_id == failed and "failed in cell 3 of the template" in state.shown
    assert "ZeroDivisionError: division by zero" in state.shown and state.rows["cell"][0] == 3

    state.param.update(run_template="nightly")
    asyncio.run(state.run_now())
    state.state = "failed"
    assert list(state.rows["id"]) == [failed] and state.selected_id is None  # the report shown was filtered out
    state.param.update(state=ANY, template="nightly")
    assert set(state.rows["template"]) == {"nightly"} and len(state.rows) >= 1
    state.night = "2026-13-45"
    assert "night: '2026-13-45' is not allowed" in state.error and state.rows.empty
    state.night = "20261119"
    assert state.error == "" and set(state.rows["night"]) == {"2026-11-19"}
    state.night = "20261118"
    assert state.rows.empty


def test_who_may_not_run_is_told_why_and_the_page_builds(settings: Settings, sessions: sessionmaker[Session]) -> None:
    outsider = state_for(settings, sessions, "jchen", "usint")
    assert "you need the pipeline or staff role" in outsider.run_refusal
    page = ReportsView(state=outsider)
    page.__panel__()
    assert page.go.disabled
    time.sleep(0.5)
    assert outsider.report_kernels is None  # no kernel is warmed for one who may not run reports


def test_the_page_warms_a_kernel_once_a_viewer_has_it_and_run_now_takes_it(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    state = state_for(settings, sessions)
    state.force = True  # a run, not the archive's copy
    viewer_arrived = threading.Event()
    state.keep_a_kernel_warm(when=viewer_arrived.wait)
    time.sleep(1)
    assert state.report_kernels is None  # nobody has the page yet (a kernel in Voila's pool): nothing is warmed
    viewer_arrived.set()
    deadline = time.monotonic() + 30
    while state.report_kernels is None and time.monotonic() < deadline:
        time.sleep(0.1)
    kernels = state.report_kernels
    assert kernels is not None
    try:
        assert kernels.wait(120)
        warm = kernels.ready_pid
        asyncio.run(state.run_now())
        assert state.error == "" and " ran in " in state.message
        assert kernels.wait(120) and kernels.ready_pid not in (None, warm)  # it was taken, and another warmed
    finally:
        kernels.close()
