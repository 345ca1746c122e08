"""The kernel manager `obslab serve` gives Voila: a kernel just out of the pool is not culled at once; idle ones are."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from obslab.dashboards.serving.voila_kernels import ObslabKernelManager, _malloc_trim, return_freed_memory


def test_a_kernel_gets_its_idle_time_from_when_the_culler_first_sees_it(tmp_path: Path) -> None:
    """A real kernel whose last activity is an hour old (a preheated kernel just handed to a page) survives the
    first cull round, then goes once it has been idle past the timeout."""

    async def scenario() -> list[bool]:
        manager = ObslabKernelManager(cull_idle_timeout=60, cull_interval=5, connection_dir=str(tmp_path))
        kernel_id = await manager.start_kernel(kernel_name="python3")
        try:
            alive = []
            kernel = manager.get_kernel(kernel_id)
            kernel.last_activity = datetime.now(UTC) - timedelta(hours=1)
            await manager.cull_kernel_if_idle(kernel_id)
            alive.append(kernel_id in manager)  # first seen out of the pool: spared, its idle clock restarted
            await manager.cull_kernel_if_idle(kernel_id)
            alive.append(kernel_id in manager)  # idle for a moment only
            kernel.last_activity = datetime.now(UTC) - timedelta(seconds=61)
            await manager.cull_kernel_if_idle(kernel_id)
            alive.append(kernel_id in manager)  # idle past the timeout, no browser connected: culled
            return alive
        finally:
            if kernel_id in manager:
                await manager.shutdown_kernel(kernel_id, now=True)

    assert asyncio.run(scenario()) == [True, True, False]


def test_freed_memory_goes_back_to_the_system_on_glibc() -> None:
    assert _malloc_trim() is not None  # Debian's glibc has it; elsewhere the trim is skipped
    return_freed_memory()
