"""binder/: postBuild run in a fresh virtual environment, then the dashboards opened the way binder's launch URL does.

There is no container engine here, so the test does what repo2docker would: binder/postBuild with the repository as
the working directory and the new environment first on PATH, then binder/start in front of the Jupyter server. HOME
is a temporary folder, so the demo lands in a data directory of its own and the developer's is never touched.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from obslab.dashboards.registry import DASHBOARDS
from tests.conftest import BACKEND
from tests.helpers.served import free_port, server

REPO = Path(__file__).resolve().parents[2]
#: mybinder's hub user; binder/start makes them an obslab user with the demo viewer's roles.
VISITOR = "visitor"
#: What repo2docker's environment does not have, or must not leak in from the developer's.
DROPPED = ("OBSLAB_", "XDG_", "JUPYTER", "PYTHON", "VIRTUAL_ENV", "CONDA")

pytestmark = [
    pytest.mark.slow,  # installs obslab[all] from PyPI into a new environment (about 2 minutes)
    pytest.mark.skipif(
        BACKEND != "sqlite",
        reason="binder uses the embedded SQLite default: the PostgreSQL lane would only install it again",
    ),
]


def binder_environment(venv: Path, home: Path) -> dict[str, str]:
    kept = {name: value for name, value in os.environ.items() if not name.startswith(DROPPED)}
    return kept | {"HOME": str(home), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def get(url: str, timeout: float = 180) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        assert response.status == 200, url
        return response.read().decode()


def run(command: list[str], env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_binder_builds_an_environment_that_serves_the_demo_dashboards(tmp_path: Path) -> None:
    venv, home = tmp_path / "venv", tmp_path / "home"
    home.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = binder_environment(venv, home)

    started = time.monotonic()
    build = subprocess.run(
        ["bash", "binder/postBuild"], env=env, cwd=REPO, capture_output=True, text=True, timeout=1200
    )
    assert build.returncode == 0, f"postBuild failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    print(f"binder/postBuild took {time.monotonic() - started:.0f} s")

    # The demo is in the default database of the default data directory, below the temporary HOME.
    database = home / ".local" / "share" / "obslab" / "obslab.sqlite3"
    assert database.is_file(), build.stdout[-2000:]
    assert "demo observatory (seed 2026)" in build.stdout
    kernels = json.loads(run([str(venv / "bin" / "jupyter"), "kernelspec", "list", "--json"], env))["kernelspecs"]
    assert Path(kernels["obslab"]["resource_dir"]).is_relative_to(venv)

    port = free_port()
    command = [
        str(REPO / "binder" / "start"),
        str(venv / "bin" / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        f"--ServerApp.root_dir={REPO}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    hub_env = env | {"JUPYTERHUB_USER": VISITOR}
    with server("binder-lab", command, hub_env, port=port, directory=tmp_path) as lab:
        base = lab.base
        # binder/start made the visitor an obslab user; as staff they see every night the demo reduced.
        nights = json.loads(run([str(venv / "bin" / "obslab"), "runs", "nights", "--json"], hub_env))
        assert len(nights) == 3 and all(night["exposures"] > 0 for night in nights), nights

        # JupyterLab offers the dashboards in its launcher, and serves Panel's files itself (obslab's extension).
        assert "obslab" in get(f"{base}server-proxy/servers-info")
        bokeh = get(f"{base}lab/tree/dashboards/_obslab/bokeh/js/bokeh.min.js")
        assert "Bokeh Contributors" in bokeh[:500], bokeh[:200]  # BokehJS, not JupyterLab's page

        # The launch URL, ?urlpath=obslab/: the first visit starts `obslab serve` behind the proxy.
        index = get(f"{base}obslab/")
        for entry in DASHBOARDS:
            assert f'href="/obslab/voila/render/{entry.slug}.ipynb"' in index, entry.slug
            assert entry.title in index
        assert "Binder visitor" in index and '<span class="role">usint</span>' in index
        assert "not an obslab user" not in index

        page = get(f"{base}obslab/voila/render/catalog.ipynb")
        assert "window.voila_finish()" in page
        assert '"output_type": "error"' not in page and "Traceback" not in page
        scripts = re.findall(r'<script src="([^"]+)"', page)
        assert scripts and all(src.startswith("/obslab/") for src in scripts), scripts  # nothing from a CDN
        preloaded = [src for src in scripts if "/_obslab/" in src]
        assert preloaded, scripts
        get(f"http://127.0.0.1:{port}{preloaded[0]}")
