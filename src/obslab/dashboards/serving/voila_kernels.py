"""Voila frees its kernels: the cookie its unload beacon needs, a culler sparing kernels just handed out, a trim."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from voila.tornado.handler import TornadoVoilaHandler


class RenderHandler(TornadoVoilaHandler):
    """Voila's page handler, also setting the ``_xsrf`` cookie the page's unload beacon sends back.

    On ``beforeunload`` Voila's page posts ``/voila/api/shutdown/<kernel>`` with ``navigator.sendBeacon``,
    putting in the form the ``_xsrf`` value it reads from ``document.cookie``.  Tornado sets that cookie
    only when a handler reads ``self.xsrf_token``; jupyter_server's own pages do it through their
    template namespace, but Voila renders the notebook through nbconvert's and never reads it.  So the
    cookie was never set, the beacon carried an empty token and every shutdown was refused (403
    "'_xsrf' argument missing from POST"), leaving one kernel per page view.  Reading the token here
    sets the cookie before the page streams out; the XSRF check itself stays on.
    """

    async def prepare(self) -> Any:
        result = await super().prepare()
        if self.request.method == "GET":
            self.xsrf_token  # noqa: B018  (reading it sets the cookie)
        return result


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def return_freed_memory() -> None:
    """Hand the C heap's free pages back to the system.

    Rendering a page passes megabytes of HTML and kernel messages through the server; Python frees
    them, but glibc keeps the pages, and the server's resident size grew by about 10 MB a page view
    (about 470 MB over 50) though its live objects did not.  Trimming after each kernel's end keeps
    it near its size at start.  (It runs at each kernel's end and at each culler's round.)
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class ObslabKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager, whose idle clock starts when a kernel leaves Voila's pool, returning memory."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._started: set[str] = set()
        self._out_of_pool: set[str] = set()

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        kernel_id = await super().start_kernel(*args, **kwargs)
        # Voila's pool entry for this kernel is done as soon as this returns (nothing awaits in between), so from
        # here on Voila's own check tells a pooled kernel from one handed out.
        self._started.add(kernel_id)
        return kernel_id

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Cull an idle kernel no browser is connected to, counting its idle time from when the pool let it go.

        A preheated kernel may wait in the pool for hours; its last activity is when it rendered the
        notebook.  Once a page takes it, the browser needs seconds to load the scripts and connect,
        and a cull in that gap would kill the kernel of a page just opened.  Voila calls this only for
        kernels outside the pool, so the first call for a kernel restarts its idle clock instead.  A kernel still
        starting is listed before its pool entry is done, which would look handed out to Voila's check: it is left
        alone until its start has returned (its idle clock began then).
        """
        if kernel_id not in self._started:
            return
        if kernel_id not in self._out_of_pool:
            self._out_of_pool.add(kernel_id)
            self._kernels[kernel_id].last_activity = datetime.now(UTC)
            return
        await super().cull_kernel_if_idle(kernel_id)

    async def cull_kernels(self) -> None:
        await super().cull_kernels()
        return_freed_memory()  # also after the pool's renders, which end no kernel

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
        await super().shutdown_kernel(kernel_id, *args, **kwargs)
        return_freed_memory()

    def remove_kernel(self, kernel_id: str) -> Any:
        self._started.discard(kernel_id)
        self._out_of_pool.discard(kernel_id)
        return super().remove_kernel(kernel_id)
