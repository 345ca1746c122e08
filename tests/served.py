"""Start `obslab serve` on a free loopback port for a test, and stop it afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

OBSLAB = str(Path(sys.executable).with_name("obslab"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(database_url: str, data_dir: Path, *, panel: bool, preheat: bool = True, viewer: str = "sobrien",
           timeout: float = 90.0) -> Iterator[str]:  # fmt: skip
    """Serve every dashboard over ``database_url``; yield the base URL once it answers."""
    port = free_port()
    command = [OBSLAB, "serve", "--port", str(port)]
    command += ["--panel"] if panel else ["--preheat" if preheat else "--no-preheat"]
    env = {**os.environ, "OBSLAB_DATABASE_URL": database_url, "OBSLAB_DATA_DIR": str(data_dir),
           "OBSLAB_ACTING_USER": viewer}  # fmt: skip
    log = (data_dir / f"serve-{port}.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"obslab serve exited with {process.returncode}: {Path(log.name).read_text()}")
            try:
                with urllib.request.urlopen(base, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield base
    finally:
        # The whole process group: Voila's kernels are children of the server.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
