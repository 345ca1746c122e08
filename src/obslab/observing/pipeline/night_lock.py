"""One run per night: an exclusive lock, held for the whole run, on a file beside the night's products.

Two runs of one night at once would be two writers, and each one's start sweeps the partial files it finds,
which may be the other's products being written. The lock lives in the products folder because that folder is
what the runs share; on a network folder it holds across machines only where the filesystem honours ``flock``.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from obslab.errors import ConflictError

#: Lock files go here, under the products folder: never a product, and never swept.
LOCKS = ".locks"


def lock_path(products_dir: Path, night_key: str) -> Path:
    return products_dir / LOCKS / f"{night_key}.lock"


@contextmanager
def night_lock(products_dir: Path, night_key: str, *, now: datetime) -> Iterator[None]:
    """Hold night ``night_key``'s lock, or refuse at once, naming the run that holds it, when another run does."""
    path = lock_path(products_dir, night_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            raise ConflictError(
                f"night {night_key} is being reduced by another run ({holder}): wait for it to end; nothing was run",
                night=night_key,
            ) from None
        try:
            # Who holds it, for the refusal above (the hostname is this machine's own, no look-up).
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {now:%Y-%m-%d %H:%M:%S} UTC\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
