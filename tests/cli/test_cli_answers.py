"""Refusals exit non-zero, empty answers say they are empty, and every message names what was expected."""

from __future__ import annotations

import click.testing
import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from tests.helpers.catalog_world import World, build_world


@pytest.fixture
def world(migrated_url: str, sessions: sessionmaker[Session]) -> World:
    with sessions() as session, session.begin():
        return build_world(session)


def run(url: str, who: str, *args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), env={"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": who})


def test_a_refused_dry_run_exits_non_zero_naming_the_parameter(migrated_url: str, world: World) -> None:
    refused = run(migrated_url, "pat", "changes", "submit", str(world.acis), "--set", "ra=400", "--dry-run")
    assert refused.exit_code == 1
    assert "error: ra (RA): '400' is out of range; expected 0 to 360 deg" in refused.output
    fine = run(migrated_url, "pat", "changes", "submit", str(world.acis), "--set", "ra=351", "--dry-run")
    assert fine.exit_code == 0, fine.output


def test_empty_answers_say_they_are_empty(migrated_url: str, world: World) -> None:
    shown = run(migrated_url, "sam", "changes", "show", str(world.acis))
    assert (shown.exit_code, shown.output) == (0, f"obsid {world.acis} has no revisions yet\n")
    roster = run(migrated_url, "sam", "duty", "show", "--from", "2030-01-01", "--to", "2030-01-31")
    assert roster.exit_code == 0
    assert roster.output == "no duty slots between 2030-01-01 and 2030-01-31 (add weeks with 'obslab duty extend')\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["express", "approvals/missing.txt"],
            "source: 'approvals/missing.txt' is not allowed; expected an existing file of obsids",
        ),
        (
            ["plan", "--night", "2026-11-21", "--lost", "07:00", "--dry-run"],
            "lost: '07:00' is not allowed; expected a UTC range HH:MM-HH:MM, e.g. 07:10-08:30",
        ),
        (
            ["duty", "signup", "2026-11-25", "pat", "--seen-version", "1"],
            "no duty slot starts on 2026-11-25: give the first day of a slot, as 'obslab duty show' lists them",
        ),
        (["plan", "explain", "REQ-0099"], "request 'REQ-0099' does not exist: give its number (e.g. 4) or its name"),
    ],
)
def test_refusals_name_what_was_expected(migrated_url: str, world: World, args: list[str], expected: str) -> None:
    result = run(migrated_url, "root", *args)
    assert result.exit_code == 1
    assert expected in result.output, result.output
