"""A warm report kernel, for real: imports done ahead, taken whole by one run, replaced, and never shared."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.reports.kernels import WarmKernels, in_own_context, shut_down, warm_up_code
from obslab.reports.runner import ReportFailedError, ReportRun, kernel_environment, run_report
from obslab.reports.templates import template_paths
from obslab.settings import Settings
from tests.helpers.support import fixed_clock

NIGHT = "20261119"


@pytest.fixture
def kernels(settings: Settings) -> Iterator[WarmKernels]:
    """Warm kernels for the test's settings, one of them ready."""
    warm = WarmKernels(
        kernel_environment(settings), warm_up_code(template_paths(settings.report_templates_dir).values())
    )
    warm.replenish()
    assert warm.wait(120)
    yield warm
    warm.close()


def staff(sessions: sessionmaker[Session]) -> object:
    with sessions() as session:
        return find_user(session, "sobrien")


def nightly(sessions: sessionmaker[Session], settings: Settings, kernels: WarmKernels) -> ReportRun:
    """The nightly report of NIGHT run (not the archive's copy), as staff, given ``kernels``."""
    return run_report(
        sessions, settings, staff(sessions), "nightly", {"night": NIGHT}, now=fixed_clock, force=True, kernels=kernels
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"  # a zombie has ended


def test_the_warm_up_loads_every_templates_imports_and_leaves_the_namespace_alone(tmp_path: Path) -> None:
    own = tmp_path / "own.ipynb"
    cells = [
        nbformat.v4.new_code_cell("import json as j\nfrom os.path import *\nfrom . import nothing\nx = 1"),
        nbformat.v4.new_code_cell("%matplotlib inline"),  # not Python: skipped
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), own)
    code = warm_up_code([*template_paths(None).values(), own])
    assert "    import json as j\n" in code and "    import os.path\n" in code  # a star import loads its module
    assert "from . import" not in code  # a relative import means nothing in a kernel
    assert "    from obslab.reports.nightly import nightly_summary\n" in code  # the nightly template's
    namespace: dict[str, object] = {}
    exec(compile(code, "warm-up", "exec"), namespace)  # noqa: S102 - the code under test, run as a kernel would
    assert set(namespace) == {"__builtins__"}  # modules loaded, no name left behind


def test_a_run_takes_the_warm_kernel_whole_and_another_is_warmed_after(
    sessions: sessionmaker[Session], settings: Settings, kernels: WarmKernels
) -> None:
    first_pid = kernels.ready_pid
    assert first_pid is not None and alive(first_pid)

    done = nightly(sessions, settings, kernels)

    assert done.state == "done" and not done.cached
    executed = nbformat.read(done.notebook_path, as_version=4)
    counts = [cell.execution_count for cell in executed.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))  # the warm-up left no trace in the report
    assert "the night of 2026-11-19" in Path(done.html_path).read_text()
    assert kernels.wait(120)  # a fresh one, warmed after the run
    assert kernels.ready_pid != first_pid
    assert _ends(first_pid)  # the one that ran the report is ended

    # The next run gets the fresh kernel, in its own folder: a template's files go beside its report.
    second_pid = kernels.ready_pid
    again = nightly(sessions, settings, kernels)
    assert again.state == "done" and again.report_id != done.report_id
    assert _ends(second_pid)


def _ends(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_run_that_starts_while_the_kernel_warms_waits_for_it(settings: Settings, tmp_path: Path) -> None:
    """Someone clicks Run now as the page opens: the kernel warming since then is ready before a cold one would be."""
    kernels = WarmKernels(kernel_environment(settings), warm_up_code(template_paths(None).values()))
    try:
        kernels.replenish()
        taken = kernels.take(kernel_environment(settings), str(tmp_path))  # at once, while it warms
        assert taken is not None and in_own_context(taken.is_alive)
        assert Path(f"/proc/{taken.provisioner.process.pid}/cwd").resolve() == tmp_path.resolve()  # the run's folder
        shut_down(taken)
    finally:
        kernels.close()


def test_a_warm_kernel_for_other_settings_is_never_used(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    other = {**kernel_environment(settings), "OBSLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'another.sqlite3'}"}
    kernels = WarmKernels(other, warm_up_code(template_paths(None).values()))
    try:
        kernels.replenish()
        assert kernels.wait(120)
        stranger = kernels.ready_pid
        done = nightly(sessions, settings, kernels)
        assert done.state == "done" and not done.cached  # on a kernel of its own, reading its own database
        assert _ends(stranger)  # the other database's kernel was ended, not used
    finally:
        kernels.close()


def test_a_failing_template_on_a_warm_kernel_is_recorded_like_any_failure(
    sessions: sessionmaker[Session], settings: Settings, kernels: WarmKernels
) -> None:
    with pytest.raises(ReportFailedError) as failed:
        run_report(sessions, settings, staff(sessions), "broken", {"night": NIGHT}, now=fixed_clock, kernels=kernels)
    assert "cell 3" in str(failed.value) and "ZeroDivisionError" in str(failed.value)
    assert not any(settings.reports_dir.glob("broken/*/*/report.html"))


def test_a_warm_up_that_fails_leaves_no_kernel_and_runs_go_on_cold(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import obslab_no_such_module")]), bad)
    kernels = WarmKernels(kernel_environment(settings), warm_up_code([bad]))
    try:
        kernels.replenish()
        assert not kernels.wait(120)  # its warm-up raised: the kernel was ended, none is ready
        done = nightly(sessions, settings, kernels)
        assert done.state == "done" and not done.cached
    finally:
        kernels.close()


def test_closing_ends_the_warm_kernel(settings: Settings, kernels: WarmKernels) -> None:
    pid = kernels.ready_pid
    kernels.close()
    assert _ends(pid)
    kernels.replenish()  # closed: warms nothing more
    assert not kernels.wait(5) and kernels.ready_pid is None
