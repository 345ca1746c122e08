"""`obslab duty` from the command line: show with versions, extend, sign up, and refusals without tracebacks."""

from __future__ import annotations

import json

import click.testing
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from tests.helpers.catalog_world import build_world


def run(url: str, who: str, *args: str) -> click.testing.Result:
    return CliRunner().invoke(main, ["duty", *args], env={"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": who})


def test_extend_show_sign_up_and_refuse(migrated_url: str, sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        build_world(session)
    assert run(migrated_url, "pat", "extend", "--through", "2099-01-01").exit_code == 0
    slots = json.loads(run(migrated_url, "sam", "show", "--from", "2098-12-01", "--to", "2098-12-31", "--json").output)
    assert slots and all(slot["standard"] and slot["person"] is None for slot in slots)
    first = slots[0]
    signed = run(migrated_url, "pat", "signup", first["starts_on"], "quinn", "--seen-version", str(first["version"]))
    assert signed.exit_code == 0 and "quinn" in signed.output
    stale = run(migrated_url, "pat", "unlock", first["starts_on"], "--seen-version", str(first["version"]))
    assert stale.exit_code == 1 and "changed by pat" in stale.output and "Traceback" not in stale.output
    refused = run(migrated_url, "ops", "split", slots[1]["starts_on"], "--seen-version", str(slots[1]["version"]))
    assert refused.exit_code == 1 and "ops may not change the duty roster" in refused.output
    shown = run(migrated_url, "sam", "show", "--from", first["starts_on"], "--to", first["ends_on"]).output
    assert "quinn" in shown and "version 2" in shown
