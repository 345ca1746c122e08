"""`obslab changes` and `obslab express` from a script's point of view: JSON out, clear refusals, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.models import Observation
from obslab.cli import main
from obslab.cli.changes import parse_assignment
from obslab.errors import InvalidInputError
from tests.helpers.catalog_world import World, build_world
from tests.helpers.support import table_counts


@pytest.fixture
def world(migrated_url: str, sessions: sessionmaker[Session]) -> World:
    with sessions() as session, session.begin():
        return build_world(session)


def run(url: str, who: str, *args: str) -> click.testing.Result:
    return CliRunner().invoke(
        main, list(args), env={"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": who}, catch_exceptions=False
    )


def test_assignments_parse_or_are_refused_by_name() -> None:
    assert parse_assignment("tstart[1]=2027-01-10T00:00:00") == ("tstart", 1, "2027-01-10T00:00:00")
    assert parse_assignment(" remarks = a = b ") == ("remarks", 0, "a = b")
    assert parse_assignment("grating=") == ("grating", 0, "")
    with pytest.raises(InvalidInputError, match="--set: 'y_det_offset 1.5' is not allowed; expected NAME=VALUE"):
        parse_assignment("y_det_offset 1.5")


def test_submit_sign_verify_and_approve_from_the_command_line(
    migrated_url: str, world: World, sessions: sessionmaker[Session]
) -> None:
    dry = run(migrated_url, "pat", "changes", "submit", str(world.acis), "--set", "grating=hetg", "--dry-run", "--json")
    assert dry.exit_code == 1  # refused: the JSON says why
    checked = json.loads(dry.output)
    assert not checked["ok"] and {e["parameter"] for e in checked["errors"]} == {"est_cnt_rate", "forder_cnt_rate"}

    submitted = run(
        migrated_url,
        "pat",
        "changes",
        "submit",
        str(world.acis),
        "--set",
        "frame_time=2.8",
        "--comment",
        "faster",
        "--json",
    )
    assert submitted.exit_code == 0, submitted.output
    label = json.loads(submitted.output)["revision"]
    assert label == f"{world.acis}.001"
    shown = json.loads(run(migrated_url, "sam", "changes", "show", label, "--json").output)
    versions = {s["area"]: s["version"] for s in shown["signoffs"]}
    assert (
        shown["changes"] == [{"name": "frame_time", "rank": 0, "original": 3.2, "requested": 2.8}]
        and shown["submitted_by"] == "pat"
    )

    refused = run(migrated_url, "hrch", "changes", "sign", label, "acis")
    assert (
        refused.exit_code == 1 and "hrch may not sign off the acis area: that needs the role 'arcops'" in refused.output
    )
    stale = run(migrated_url, "ops", "changes", "sign", label, "acis", "--seen-version", str(versions["acis"] + 1))
    assert stale.exit_code == 1 and "you saw version" in stale.output and "changed by pat" in stale.output
    for who, area in (("ops", "acis"), ("acisa", "acis_si")):
        signed = run(migrated_url, who, "changes", "sign", label, area, "--seen-version", str(versions[area]))
        assert signed.exit_code == 0, signed.output
    verified = run(
        migrated_url, "pat", "changes", "verify", label, "--approve", "--seen-version", str(shown["version"]), "--json"
    )
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["kind"] == "asis"
    with sessions() as session:
        approved = session.scalar(select(Observation.approved).where(Observation.obsid == world.acis))
    assert approved
    listed = json.loads(run(migrated_url, "sam", "changes", "show", str(world.acis), "--json").output)
    assert [r["revision"] for r in listed] == [label, f"{world.acis}.002"] and listed[0]["closed_at"]


def test_express_from_a_file_and_unknown_actors_refused(migrated_url: str, world: World, tmp_path: Path) -> None:
    listing = tmp_path / "obsids.txt"
    listing.write_text(f"{world.hrc}\n{world.observed}; 99999\n")
    checked = json.loads(run(migrated_url, "pat", "express", str(listing), "--check", "--json").output)
    assert [(r["obsid"], r["status"]) for r in checked["obsids"]] == [
        (world.hrc, "approvable"),
        (world.observed, "not editable"),
        (99999, "unknown obsid"),
    ] and checked["approved"] == []
    done = run(migrated_url, "pat", "express", str(listing), "--json")
    assert json.loads(done.output)["approved"] == [f"{world.hrc}.001"]
    not_theirs = run(migrated_url, "quinn", "changes", "withdraw", f"{world.hrc}.001")
    assert not_theirs.exit_code == 1 and "only its submitter may" in not_theirs.output
    withdrawn = json.loads(run(migrated_url, "pat", "changes", "withdraw", f"{world.hrc}.001", "--json").output)
    assert withdrawn["withdrawn_at"] and withdrawn["revision"] == f"{world.hrc}.001"
    nobody = run(migrated_url, "nobody", "express", str(world.hrc))
    assert nobody.exit_code == 1 and "user 'nobody' is not known to obslab" in nobody.output
    assert "Traceback" not in nobody.output


def test_submit_also_copies_the_change_and_dry_run_writes_nothing(
    migrated_url: str, world: World, sessions: sessionmaker[Session]
) -> None:
    acis, hrc, observed = world.acis, world.hrc, world.observed
    submit = ("changes", "submit", str(acis), "--set", "frame_time=2.8", "--also", f"{hrc},{observed},99999")
    with sessions() as session:
        before = table_counts(session)
    dry = run(migrated_url, "pat", *submit, "--dry-run")
    assert dry.exit_code == 0 and dry.output == "  frame_time: 3.2 -> 2.8\n"
    stale = run(migrated_url, "pat", *submit, "--seen-version", "7")
    assert stale.exit_code == 1 and f"obsid {acis} was changed by someone" in stale.output
    assert "(you saw version 7, it is now 1)" in stale.output
    with sessions() as session:
        assert table_counts(session) == before

    done = run(migrated_url, "pat", *submit, "--set", "y_det_offset=1.5")
    assert done.exit_code == 0 and done.output == (
        f"{acis}: submitted {acis}.001\n"
        f"{hrc}: submitted {hrc}.001\n"
        "  not copied: frame_time: ACIS parameters apply to ACIS only; this is HRC-I\n"
        f"{observed}: not editable\n"
        "  not copied: observed\n"
        "99999: unknown obsid\n"
    )
    # Without --seen-version every observation is taken as read now, the one already changed included.
    again = run(
        migrated_url,
        "pat",
        "changes",
        "submit",
        str(world.no_si_mode),
        "--set",
        "frame_time=2.8",
        "--also",
        str(acis),
        "--json",
    )
    assert again.exit_code == 0, again.output
    assert json.loads(again.output) == {
        "results": [
            {"left_out": [], "obsid": world.no_si_mode, "outcome": "submitted", "revision": f"{world.no_si_mode}.001"},
            {"left_out": [], "obsid": acis, "outcome": "submitted", "revision": f"{acis}.002"},
        ]
    }
