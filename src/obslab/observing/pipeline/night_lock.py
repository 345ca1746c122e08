"""One run per night: an exclusive lock, held for the whole run, on a file beside the night's products.

Two runs of one night at once would be two writers, and each one's start sweeps the partial files it finds,
which may be the other's products being written. The lock lives in the products folder because that folder is
what the runs share; on a network folder it holds across machines only where the filesystem honours ``flock``.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from obslab.errors import ConflictError

#: Lock files go here, under the products folder: never a product, and never swept.
LOCKS = ".locks"


def lock_path(products_dir: Path, night_key: str) -> Path:
    return products_dir / LOCKS / f"{night_key}.lock"


@contextmanager
def night_lock(products_dir: Path, night_key: str) -> Iterator[None]:
    """Hold night ``night_key``'s lock, or refuse at once, naming the lock file, when another run holds it.

    The file is only opened and locked, never written: a run of a night already up to date writes no file.
    """
    path = lock_path(products_dir, night_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(
                f"night {night_key} is being reduced by another run (it holds {path}): wait for it to end; "
                "nothing was run",
                night=night_key,
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
