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


def test_a_kernel_seen_while_starting_still_gets_its_idle_time_when_handed_out(tmp_path: Path) -> None:
    """A cull round that lists a kernel before its start has returned (before Voila's pool entry for it is done)
    leaves it alone, so the kernel is spared when it later leaves the pool, however long it waited there."""

    async def scenario() -> tuple[int, bool]:
        manager = ObslabKernelManager(cull_idle_timeout=60, cull_interval=5, connection_dir=str(tmp_path))
        kernel_id = "0b5e1a55-0000-4000-8000-000000000001"
        starting = asyncio.ensure_future(manager.start_kernel(kernel_name="python3", kernel_id=kernel_id))
        seen_starting = 0
        try:
            while not starting.done():
                if kernel_id in manager._kernels:  # listed, its start not returned: what a cull round can meet
                    await manager.cull_kernel_if_idle(kernel_id)
                    seen_starting += 1
                await asyncio.sleep(0)
            await starting
            manager.get_kernel(kernel_id).last_activity = datetime.now(UTC) - timedelta(hours=1)  # waited in the pool
            await manager.cull_kernel_if_idle(kernel_id)  # first seen out of the pool: spared
            return seen_starting, kernel_id in manager
        finally:
            if kernel_id in manager:
                await manager.shutdown_kernel(kernel_id, now=True)

    seen_starting, spared = asyncio.run(scenario())
    assert seen_starting > 0  # the window the test is about was met
    assert spared


def test_freed_memory_goes_back_to_the_system_on_glibc() -> None:
    assert _malloc_trim() is not None  # Debian's glibc has it; elsewhere the trim is skipped
    return_freed_memory()
