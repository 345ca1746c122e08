"""The pipeline on a real dask cluster (a `dask scheduler` and two `dask worker` processes on loopback), one killed."""

from __future__ import annotations

import bz2
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from astropy.io import fits
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.observing.models import DataProduct, PipelineStage
from obslab.observing.pipeline.executors import DaskExecutor
from obslab.observing.pipeline.products import PARTIAL, sha256_file
from obslab.observing.pipeline.runner import RunOptions, RunSummary, run_night
from obslab.observing.types import StageState
from tests.helpers.pipeline_night import NIGHT, ingest, night_for_the_command, pipeline_command, write_night

pytestmark = pytest.mark.slow
DASK = str(Path(sys.executable).with_name("dask"))
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler and two single-threaded workers, each under its nanny (which restarts a killed worker)."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    logs = (tmp_path / "dask-logs").resolve()
    logs.mkdir()
    commands = {"scheduler": [DASK, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"]}
    for i in range(2):
        commands[f"worker-{i}"] = [DASK, "worker", address, "--nthreads", "1", "--host", "127.0.0.1"]
        commands[f"worker-{i}"] += ["--no-dashboard", "--local-directory", str(tmp_path / f"worker-{i}")]
    streams = {name: (logs / f"{name}.log").open("w") for name in commands}
    # The workers import this module to run the watcher's probe (_executing), so they need the checkout on their path.
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=streams[name], env=environment)
        for name, command in commands.items()
    ]
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in streams.values():
            stream.close()


def _compress_science(folder: Path) -> None:
    """Science cubes as the archiver keeps them (.fits.bz2): slow to read, so a stage lasts long enough to kill."""
    for path in sorted(folder.glob("[0-9]*.fits")):
        path.with_name(path.name + ".bz2").write_bytes(bz2.compress(path.read_bytes(), 1))
        path.unlink()


def _executing(dask_worker: Any) -> list[str]:
    return [str(task.key) for task in dask_worker.state.executing]


def _kill_a_worker_running(client: Any, prefix: str, deadline: float) -> int | None:
    """SIGKILL the process of a worker that is executing a task whose key starts with ``prefix``; its pid.

    The runner's own client asks: a second client in the same process shares its event loop, and closing that
    one stopped the runner's from hearing of finished tasks.
    """
    while time.monotonic() < deadline:
        for worker, keys in client.run(_executing).items():
            if any(key.startswith(prefix) for key in keys):
                pid = client.run(os.getpid, workers=[worker])[worker]
                os.kill(pid, signal.SIGKILL)
                return int(pid)
        time.sleep(0.02)
    return None


def _check_no_stage_lies(sessions: sessionmaker[Session], products: Path) -> None:
    """Every stage marked done has all its products on disk, whole, with the recorded checksum."""
    with sessions() as session:
        for row in session.scalars(select(PipelineStage).where(PipelineStage.state == StageState.DONE)):
            made = session.scalars(
                select(DataProduct).where(
                    DataProduct.night_id == row.night_id,
                    DataProduct.stage == row.stage,
                    (DataProduct.exposure_id == row.exposure_id)
                    if row.exposure_id is not None
                    else DataProduct.exposure_id.is_(None),
                )
            ).all()
            assert made, f"{row.stage} is done without a product"
            for product in made:
                assert sha256_file(Path(product.path)) == product.sha256, product.path
                if product.path.endswith(".fits"):
                    with fits.open(product.path) as hdus:  # an image, or a table after the provenance header
                        assert any(hdu.data is not None for hdu in hdus), product.path


def test_a_worker_killed_mid_stage_leaves_no_half_product_and_the_rerun_finishes(
    sessions: sessionmaker[Session], tmp_path: Path, cluster: str
) -> None:
    night = write_night(tmp_path / "raw", science_frames=200)
    _compress_science(night.folder)
    ingest(sessions, night.folder)
    products = tmp_path / "products"
    executor = DaskExecutor(cluster)
    outcome: dict[str, RunSummary] = {}
    try:
        runner = threading.Thread(
            target=lambda: outcome.setdefault(
                "first", run_night(sessions, NIGHT, executor, products_dir=products, options=RunOptions())
            ),
            daemon=True,  # a failed test must not leave the interpreter waiting for it
        )
        runner.start()
        killed = _kill_a_worker_running(executor.client, "stack-", time.monotonic() + 120)
        runner.join(timeout=600)
        assert killed is not None, "no worker was seen running a stack"
        assert not runner.is_alive()
        first = outcome["first"]
        # Dask re-ran the lost task elsewhere, or the writer recorded it failed with the reason: never done falsely.
        for failed in (o for o in first.outcomes if o.outcome == "failed"):
            assert "died" in failed.reason or "Killed" in failed.reason, failed
        _check_no_stage_lies(sessions, products)

        rerun = run_night(sessions, NIGHT, executor, products_dir=products, options=RunOptions())
        assert rerun.counts["failed"] == 0 and rerun.counts["waiting"] == 0, rerun.outcomes
        assert not list(products.rglob(f"*{PARTIAL}"))  # whatever the killed worker left was swept
        _check_no_stage_lies(sessions, products)
        with sessions() as session:
            assert set(session.scalars(select(PipelineStage.state))) == {StageState.DONE}

        again = run_night(sessions, NIGHT, executor, products_dir=products, options=RunOptions())
        assert again.counts["up to date"] == 8 and again.counts["done"] == 0
    finally:
        executor.close()


@pytest.fixture
def small_night(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    night_for_the_command(sessions, tmp_path / "raw")


@pytest.mark.usefixtures("small_night")
def test_the_command_sends_its_tasks_to_the_cluster_that_obslab_dask_scheduler_names(
    migrated_url: str, sessions: sessionmaker[Session], tmp_path: Path, cluster: str
) -> None:
    products = tmp_path / "shared-products"
    done = pipeline_command(migrated_url, products, "run", "--night", NIGHT, OBSLAB_DASK_SCHEDULER=cluster)
    assert done.exit_code == 0, done.output
    assert f"dask cluster at {cluster}" in done.stderr  # the progress bar names where the tasks ran
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith(f"night {NIGHT}: 8 done, 0 skipped")
    _check_no_stage_lies(sessions, products)
    again = pipeline_command(migrated_url, products, "run", "--night", NIGHT, "--json", OBSLAB_DASK_SCHEDULER=cluster)
    assert '"up to date": 8' in again.stdout


@pytest.mark.usefixtures("small_night")
def test_executor_dask_runs_the_night_on_a_local_cluster(
    migrated_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    products = tmp_path / "products"
    args = ("run", "--night", NIGHT, "--executor", "dask", "--workers", "2")
    done = pipeline_command(migrated_url, products, *args, OBSLAB_DASK_SCHEDULER="")  # no cluster named: local
    assert done.exit_code == 0, done.output
    assert "dask LocalCluster of 2 workers" in done.stderr
    assert "Traceback" not in done.stderr  # the cluster's workers end quietly with the command
    assert done.stdout.startswith(f"night {NIGHT}: 8 done, 0 skipped")
    _check_no_stage_lies(sessions, products)
