"""Start servers on free loopback ports for tests and benchmarks, and stop them with every process they started."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, CPU ticks used, state) for every process we can read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]), fields[0])
    return table


def descendants(root: int, table: dict[int, tuple[int, int, str]] | None = None) -> set[int]:
    """Every process below ``root``, by parent pid (Voila's kernels run in sessions of their own)."""
    table = table if table is not None else process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu, _state) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def stop_tree(process: subprocess.Popen[Any]) -> None:
    """SIGTERM the server's process group, then any descendant left (kernels, in their own sessions), then SIGKILL."""
    below = descendants(process.pid)
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 10
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in [p for p in below if alive(p)]:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        while time.monotonic() < deadline and any(alive(p) for p in below):
            time.sleep(0.2)
        deadline = time.monotonic() + 5


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[Any]
    base: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def server(
    name: str, command: list[str], env: dict[str, str], *, port: int, directory: Path, timeout: float = 120.0
) -> Iterator[Server]:
    """Start ``command`` in its own session, wait until ``/`` answers, stop the whole tree afterwards."""
    log_path = directory / "logs" / f"{name}-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=directory,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}: {log_path.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(base, timeout=10) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"{name} did not answer within {timeout} s: {log_path.read_text()[-3000:]}"
                        ) from None
                    time.sleep(0.3)
            yield Server(process, base, log_path)
        except BaseException:
            # The server's own account of a failure seen from outside (pytest shows it beside the failure).
            print(f"--- the end of {log_path.name} ---\n{log_path.read_text(errors='replace')[-6000:]}")
            raise
        finally:
            stop_tree(process)


def obslab_serve_command(port: int, *, panel: bool, preheat: bool = True) -> list[str]:
    """`obslab serve` on ``port`` with Panel's server, or Voila with or without a preheated kernel."""
    command = [str(BIN / "obslab"), "serve", "--port", str(port)]
    return command + (["--panel"] if panel else ["--preheat" if preheat else "--no-preheat"])


@contextmanager
def served_process(
    database_url: str,
    data_dir: Path,
    *,
    panel: bool,
    preheat: bool = True,
    viewer: str = "sobrien",
    timeout: float = 90.0,
    settings: dict[str, str] | None = None,
) -> Iterator[Server]:
    """`obslab serve` over ``database_url`` as ``viewer`` (plus OBSLAB_* ``settings``), once it answers."""
    port = free_port()
    command = obslab_serve_command(port, panel=panel, preheat=preheat)
    env = obslab_env(database_url, data_dir, viewer) | (settings or {})
    with server("obslab-serve", command, env, port=port, directory=data_dir, timeout=timeout) as running:
        yield running


@contextmanager
def served(
    database_url: str,
    data_dir: Path,
    *,
    panel: bool,
    preheat: bool = True,
    viewer: str = "sobrien",
    timeout: float = 90.0,
) -> Iterator[str]:
    """Serve every dashboard over ``database_url`` as ``viewer``; yield the base URL once it answers."""
    with served_process(database_url, data_dir, panel=panel, preheat=preheat, viewer=viewer, timeout=timeout) as run:
        yield run.base


def kernel_processes(server_pid: int) -> dict[str, int]:
    """Kernel id -> pid of every live kernel below ``server_pid`` (each kernel's connection file is named by its id)."""
    kernels = {}
    for pid in descendants(server_pid):
        try:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"ipykernel_launcher" not in arguments or not alive(pid):
            continue
        for argument in arguments:
            match = re.search(rb"kernel-([0-9a-f-]{36})\.json$", argument)
            if match:
                kernels[match.group(1).decode()] = pid
    return kernels


def cpu_seconds(pid: int) -> float:
    """CPU time used by a process and by the children it has reaped (Voila reaps its ended kernels)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return sum(int(tick) for tick in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def resident_bytes(pid: int) -> int:
    """The resident set size of one process (0 once it has gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError):
        return 0


def obslab_env(database_url: str, data_dir: Path, viewer: str) -> dict[str, str]:
    return {
        **os.environ,
        "OBSLAB_DATABASE_URL": database_url,
        "OBSLAB_DATA_DIR": str(data_dir),
        "OBSLAB_ACTING_USER": viewer,
    }


#: JupyterLab's own settings for tests: no news or update questions popping over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": (
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
}


@contextmanager
def jupyter_lab(
    database_url: str, data_dir: Path, notebook_dir: Path, *, viewer: str = "sobrien", timeout: float = 120.0
) -> Iterator[str]:
    """Plain `jupyter lab` on loopback over ``notebook_dir``, its kernels on ``database_url``; yield the base URL.

    Nothing obslab-specific is passed: the environment's Jupyter config enables obslab's server
    extension, as it does for a user.  ``window.jupyterapp`` is exposed so a test can run cells.
    """
    port = free_port()
    settings = data_dir / "lab-settings"
    for name, text in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(text)
    command = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        f"--ServerApp.root_dir={notebook_dir}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={data_dir / 'lab-workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = obslab_env(database_url, data_dir, viewer)
    with server("jupyter-lab", command, env, port=port, directory=data_dir, timeout=timeout) as running:
        yield running.base
