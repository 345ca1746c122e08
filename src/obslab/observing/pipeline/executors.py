"""Where tasks run: a thread pool in this process, a dask LocalCluster, or an existing dask cluster by address."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any, Protocol

Task = dict[str, Any]


class Executor(Protocol):
    name: str

    def run(
        self, function: Callable[[Task], Any], tasks: list[Task]
    ) -> Iterator[tuple[Task, Any, BaseException | None]]:
        """Each task with its result or its exception, in the order they finish."""
        ...

    def close(self) -> None: ...


def _label(task: Task) -> str:
    return f"{task['stage']}-{task['exposure'] or task['night']}-{uuid.uuid4().hex[:6]}"


class ThreadExecutor:
    """Tasks in threads of this process: numpy and FFTs release the GIL, and nothing is copied between processes."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.name = f"{self.workers} threads"
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="obslab-pipeline")

    def run(
        self, function: Callable[[Task], Any], tasks: list[Task]
    ) -> Iterator[tuple[Task, Any, BaseException | None]]:
        futures: dict[Future[Any], Task] = {self.pool.submit(function, task): task for task in tasks}
        for future in as_completed(futures):
            error = future.exception()
            yield futures[future], None if error else future.result(), error

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Tasks on dask: an existing scheduler by address, or a LocalCluster of worker processes made here."""

    def __init__(self, address: str = "", workers: int | None = None) -> None:
        from distributed import Client, LocalCluster

        self.cluster = None
        if address:
            self.client = Client(address, timeout="10s")
            self.name = f"dask cluster at {address}"
        else:
            self.cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, dashboard_address=None
            )
            self.client = Client(self.cluster)
            self.name = f"dask LocalCluster of {len(self.cluster.workers)} workers"

    def run(
        self, function: Callable[[Task], Any], tasks: list[Task]
    ) -> Iterator[tuple[Task, Any, BaseException | None]]:
        from distributed import as_completed as dask_completed

        futures = {self.client.submit(function, task, key=_label(task), pure=False): task for task in tasks}
        for future in dask_completed(list(futures)):
            error = future.exception()
            yield futures[future], None if error else future.result(), error
            future.release()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(kind: str, address: str = "", workers: int | None = None) -> Executor:
    """``threads`` or ``dask``; an address always means dask (the cluster that address names)."""
    if address or kind == "dask":
        return DaskExecutor(address, workers)
    if kind == "threads":
        return ThreadExecutor(workers)
    raise ValueError(f"executor {kind!r}: expected threads or dask")
