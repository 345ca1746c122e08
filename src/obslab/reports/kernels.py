"""A warm report kernel: the ``obslab`` kernel started ahead with the templates' imports done, used once, replaced.

A report on a fresh kernel spends most of its time before its first line of work: the kernel's start (0.5 s) and
the imports of pandas, Bokeh, SQLAlchemy and obslab's models (1.7 s). A long-lived process that runs reports (the
reports page, under Panel's server or a Voila page's kernel) keeps one kernel that has paid both, in the
background, and gives it to the next run; a run takes it whole, so no report sees another's variables, and a new
one is warmed once the run is over. A process that runs one report and exits (``obslab report run``, the morning's
timer) starts its kernel as before: nothing would be gained by warming one it cannot keep.

The warm-up runs the import statements of every template's code cells inside a function (so they leave nothing in
the kernel's namespace, only modules loaded) and draws one throwaway figure, which pays Bokeh's first-use costs.
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import contextvars
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from queue import Empty
from typing import Any, TypeVar

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

log = logging.getLogger(__name__)

KERNEL = "obslab"
#: Seconds a warm-up may take before the kernel is given up (a cold run is then no worse than without one).
WARM_UP_TIMEOUT = 120
T = TypeVar("T")


def in_own_context(work: Callable[[], T]) -> T:
    """Run ``work`` (in a worker thread) in a context of its own, closing the event loops it left there.

    jupyter_client and papermill drive kernels from event loops they make for the calling thread and keep in
    context variables, never closed: each kernel started or run in a thread would otherwise leak a loop.
    """
    context = contextvars.copy_context()
    try:
        return context.run(work)
    finally:
        for value in context.values():
            if isinstance(value, asyncio.AbstractEventLoop) and not value.is_closed():
                value.close()
        asyncio.set_event_loop(None)


def _imports(source: str) -> list[str]:
    """The import statements at the top level of one cell (a cell that is not Python, a magic, has none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names):
            found.append(f"import {node.module}")  # a star import is not allowed in a function; its module is
        elif isinstance(node, ast.Import | ast.ImportFrom) and not (isinstance(node, ast.ImportFrom) and node.level):
            found.append(ast.unparse(node))
    return found


def warm_up_code(templates: Iterable[Path]) -> str:
    """Code that loads every module the ``templates`` import, leaving the kernel's namespace as it found it."""
    statements: list[str] = []
    for path in templates:
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue  # a broken template is refused when it is run, with its name
        for cell in cells:
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                for statement in _imports("".join(source) if isinstance(source, list) else source):
                    if statement not in statements:
                        statements.append(statement)
    body = [*statements, "from obslab.reports.display import rehearse", "rehearse()"]
    return (
        "def _obslab_warm_up():\n"
        + "".join(f"    {line}\n" for line in body)
        + "\n_obslab_warm_up()\ndel _obslab_warm_up\n"
    )


class ReadyClient(BlockingKernelClient):
    """A client for a kernel known to be up, ready as soon as its IOPub subscription is seen to work.

    jupyter_client's own waits for a kernel_info reply, then for IOPub to stay quiet for 0.2 s: a fifth of a warm
    report's time. This one is ready when the idle status of its own kernel_info request arrives on IOPub, which
    proves the subscription live (a message published before it was would be missed, and the request is sent again).
    """

    def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else 60)
        while time.monotonic() < deadline:
            request = self.kernel_info()
            try:
                while self.get_shell_msg(timeout=1)["parent_header"].get("msg_id") != request:
                    pass
                while True:
                    message = self.get_iopub_msg(timeout=0.1)
                    if (
                        message["parent_header"].get("msg_id") == request
                        and message["msg_type"] == "status"
                        and message["content"].get("execution_state") == "idle"
                    ):
                        return
            except Empty:
                if not self.is_alive():
                    raise RuntimeError("the report kernel died before it answered") from None
        raise RuntimeError(f"the report kernel did not answer within {timeout} s")


class WarmKernelManager(KernelManager):
    """A kernel manager that keeps the clients it made, so the kernel's end closes their sockets too.

    Papermill leaves open the client it made for a kernel it did not start (nbclient closes only its own kernel's).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clients: list[Any] = []

    def client(self, **kwargs: Any) -> Any:
        made = super().client(**kwargs)
        self.clients.append(made)
        return made


def private_ipc_address() -> str:
    """A new path prefix for one kernel's local sockets, in Jupyter's runtime folder (which only its owner enters).

    jupyter_client's default for local sockets is ``kernel-ipc`` in the current folder: two kernels of one process
    would then share addresses, and the sockets would be left wherever the process happened to be.
    """
    from jupyter_core.paths import jupyter_runtime_dir

    folder = Path(jupyter_runtime_dir())
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(folder / f"obslab-report-{uuid.uuid4().hex[:12]}")


def _run_quietly(manager: Any, code: str, *, wait_for_ready: bool = False) -> None:
    """Run ``code`` in the kernel outside its history, its output dropped; raise if it fails."""
    client = manager.client()
    client.start_channels()
    try:
        if wait_for_ready:
            client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(
            code, store_history=False, timeout=WARM_UP_TIMEOUT, output_hook=lambda _message: None
        )
    finally:
        client.stop_channels()
    content = reply["content"]
    if content["status"] != "ok":
        raise RuntimeError(f"in the report kernel: {content.get('ename')}: {content.get('evalue')}")


def shut_down(manager: Any) -> None:
    """End a report kernel at once (each runs one report), and its clients' channels, from any thread."""
    for client in getattr(manager, "clients", ()):
        client.stop_channels()
    try:
        in_own_context(lambda: manager.shutdown_kernel(now=True))
    except Exception as failure:  # already gone, or never started: nothing to free
        log.debug("report kernel shutdown: %s", failure)


class WarmKernels:
    """One ``obslab`` kernel kept warm, for the settings (``runner.kernel_environment``) it was started with."""

    def __init__(self, environment: dict[str, str], warm_up: str) -> None:
        self.environment = dict(environment)
        self.warm_up = warm_up
        self._lock = threading.Lock()
        self._ready: Any = None
        self._warming: threading.Thread | None = None
        self._closed = False

    def replenish(self) -> None:
        """Start warming a kernel in the background, unless one is ready or warming already."""
        with self._lock:
            if self._closed or self._ready is not None or (self._warming is not None and self._warming.is_alive()):
                return
            self._warming = threading.Thread(target=self._warm, name="obslab-report-kernel", daemon=True)
            self._warming.start()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def ready_pid(self) -> int | None:
        """The process id of the kernel ready for the next run, if one is."""
        manager = self._ready
        return manager.provisioner.process.pid if manager is not None and manager.provisioner else None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the warming under way (if any) to end; whether a warm kernel is ready."""
        warming = self._warming
        if warming is not None:
            warming.join(timeout)
        return self._ready is not None

    def _warm(self) -> None:
        # The caller's own first use too, paid by its first run otherwise (1.3 s): papermill, and the HTML conversion.
        import papermill  # noqa: F401

        from obslab.reports.rendering import rehearse_html

        rehearse_html()

        # Local sockets rather than TCP, which no other user of the machine can reach (as for a cold run).
        manager = WarmKernelManager(kernel_name=KERNEL, transport="ipc", ip=private_ipc_address())
        try:
            in_own_context(lambda: self._start(manager))
        except Exception as failure:
            log.warning("no warm report kernel (the next report starts its own): %s", failure)
            shut_down(manager)
            return
        with self._lock:
            keep = not self._closed
            if keep:
                self._ready = manager
        if not keep:
            shut_down(manager)

    def _start(self, manager: Any) -> None:
        manager.start_kernel(env={**os.environ, **self.environment})
        _run_quietly(manager, self.warm_up, wait_for_ready=True)

    def take(self, environment: dict[str, str], folder: str) -> Any:
        """The warm kernel's manager, moved into ``folder`` (where a run's own files belong) and now the caller's to
        shut down, if one is ready for ``environment``; else None.

        A kernel still warming for these settings is waited for: it began before a cold start would, so it is ready
        sooner, and the two would only share the processor.
        """
        if environment == self.environment:
            self.wait(WARM_UP_TIMEOUT)
        with self._lock:
            manager, self._ready = self._ready, None
        if manager is None:
            return None
        if environment != self.environment or not in_own_context(manager.is_alive):
            shut_down(manager)
            return None
        manager.client_factory = ReadyClient
        try:
            in_own_context(lambda: _run_quietly(manager, f"__import__('os').chdir({folder!r})"))  # no name left
        except Exception as failure:  # a kernel that cannot even do that is no use: the run starts its own
            log.warning("warm report kernel given up: %s", failure)
            shut_down(manager)
            return None
        return manager

    def close(self) -> None:
        """Shut the warm kernel down; one still warming is shut down when it is ready."""
        with self._lock:
            self._closed = True
            manager, self._ready = self._ready, None
        if manager is not None:
            shut_down(manager)


_process_kernels: WarmKernels | None = None
_process_lock = threading.Lock()


def warm_kernels(environment: dict[str, str], templates: Iterable[Path]) -> WarmKernels:
    """This process's warm kernels for ``environment`` (one process, one warm kernel), warming if none is.

    A call with another environment (another database, another site) replaces the one there was.
    """
    global _process_kernels
    warm_up = warm_up_code(templates)
    with _process_lock:
        kept = _process_kernels
        if kept is None or kept.closed or kept.environment != environment or kept.warm_up != warm_up:
            if kept is not None:
                kept.close()
            else:
                atexit.register(_close_process_kernels)
            kept = _process_kernels = WarmKernels(environment, warm_up)
    kept.replenish()
    return kept


def _close_process_kernels() -> None:
    if _process_kernels is not None:
        _process_kernels.close()


__all__ = [
    "KERNEL",
    "ReadyClient",
    "WarmKernelManager",
    "WarmKernels",
    "in_own_context",
    "private_ipc_address",
    "shut_down",
    "warm_kernels",
    "warm_up_code",
]
