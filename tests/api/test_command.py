"""``obslab api`` in a process of its own: serves on loopback, logs every request to stderr, workers, refusals."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from obslab.cli import main
from tests.api.http import call
from tests.helpers.served import BIN, descendants, free_port, obslab_env, server


def test_obslab_api_serves_and_logs_each_request(migrated_url: str, tmp_path: Path) -> None:
    port = free_port()
    command = [str(BIN / "obslab"), "api", "--port", str(port)]
    with server(
        "obslab-api", command, obslab_env(migrated_url, tmp_path, "nobody"), port=port, directory=tmp_path
    ) as run:
        base = run.base.rstrip("/")
        assert call(base, "GET", "/health").status == 200
        missing = call(base, "GET", "/fplane/20261120?full_fplane=0")
        assert missing.status == 404 and missing.json()["code"] == "not_found"
        log = run.log_path.read_text()
    assert f"obslab API on http://127.0.0.1:{port}/" in log
    assert re.search(r"obslab\.api: 127\.0\.0\.1:\d+ GET /health 200 \d+\.\d ms", log), log
    assert re.search(r"obslab\.api: 127\.0\.0\.1:\d+ GET /fplane/20261120\?full_fplane=0 404 \d+\.\d ms", log), log
    assert "uvicorn.access" not in log  # one line per request: obslab's, not uvicorn's as well


@pytest.mark.slow  # two uvicorn workers, each building its own app, in fresh processes
def test_obslab_api_with_two_workers(migrated_url: str, tmp_path: Path) -> None:
    port = free_port()
    command = [str(BIN / "obslab"), "api", "--port", str(port), "--workers", "2"]
    env = obslab_env(migrated_url, tmp_path, "nobody")
    with server("obslab-api", command, env, port=port, directory=tmp_path) as run:
        assert all(call(run.base.rstrip("/"), "GET", "/health").status == 200 for _ in range(6))
        assert len(descendants(run.pid)) >= 2


def test_a_port_in_use_is_named_before_anything_starts(migrated_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_DATA_DIR": str(tmp_path)}
        result = CliRunner().invoke(main, ["api", "--port", str(port)], env=env)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert f"port {port} on 127.0.0.1 is in use" in lines[0] and "pass --port" in lines[0]


def test_loopback_is_the_default(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["api", "--help"])
    assert "[default: 127.0.0.1]" in result.output and "--workers" in result.output
