"""Import modules one by one in a fresh interpreter and name the first that loads a forbidden package."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable


def loaded_by_importing(modules: Iterable[str], forbidden: Iterable[str]) -> str:
    """Empty when no module loads any of ``forbidden``, else which module loaded what.

    One interpreter for all (each start costs seconds): every module is checked right after its own import,
    and the ones before it passed the same check, so the module named is the one that loaded it.
    """
    program = (
        "import importlib, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        f"    loaded = [m for m in {list(forbidden)!r} if m in sys.modules]\n"
        "    if loaded:\n"
        "        sys.exit(f'{name} loads {loaded}')\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    if result.returncode != 0 and not result.stderr.strip():
        return f"the check itself failed (exit {result.returncode})"
    return result.stderr.strip()
