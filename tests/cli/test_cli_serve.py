"""``obslab serve`` and ``demo`` options, and the dashboards package left unloaded by every other command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from obslab.cli import main
from obslab.cli.serve import DEFAULT_PORT

#: Run one command in a fresh interpreter, then print the obslab.dashboards modules it loaded.
PROBE = """
import sys
from obslab.cli import main
main({args!r}, prog_name="obslab", standalone_mode=False)
print("loaded:", ",".join(sorted(m for m in sys.modules if m.startswith("obslab.dashboards"))))
"""


def test_default_port_is_the_dashboard_servers() -> None:
    from obslab.dashboards.serving import serving

    assert DEFAULT_PORT == serving.DEFAULT_PORT
    for name in ("serve", "demo"):
        (port,) = (p for p in main.commands[name].params if p.name == "port")
        assert port.default == serving.DEFAULT_PORT, name


@pytest.mark.parametrize(
    "args", [["--help"], ["users", "--help"], ["serve", "--help"], ["demo", "--help"], ["users", "list"]]
)
def test_commands_do_not_import_the_dashboards(args: list[str], migrated_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"OBSLAB_DATABASE_URL": migrated_url},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "loaded: ", result.stdout
