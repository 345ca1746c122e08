"""``obslab changes`` and ``obslab express``: change requests from scripts, with --json output."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from obslab.cli._app import App, actor, emit_json, json_option, reports_errors
from obslab.errors import InvalidInputError, NotFoundError
from obslab.formatting import EMPTY, shown, utc

if TYPE_CHECKING:
    from obslab.catalog.changes.multi import TargetResult
    from obslab.catalog.changes.policy import Policy
    from obslab.catalog.models import Revision

#: What only a file name has: a folder separator or a letter (obsid lists hold digits, ranges and separators).
LOOKS_LIKE_A_PATH = re.compile(r"[/\\A-Za-z~]")
#: NAME=VALUE or NAME[RANK]=VALUE; an empty VALUE clears the parameter.
ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[\s*(\d+)\s*\])?\s*=(.*)$", re.DOTALL)


def parse_assignment(text: str) -> tuple[str, int, str]:
    """``"tstart[1]=2027-01-10T00:00:00"`` -> ("tstart", 1, "2027-01-10T00:00:00")."""
    match = ASSIGNMENT.match(text)
    if match is None:
        raise InvalidInputError("--set", text, "NAME=VALUE or NAME[RANK]=VALUE, e.g. y_det_offset=1.5")
    return match[1], int(match[2] or 0), match[3].strip()


def area_titles(app: App) -> dict[str, str]:
    return {area.key: area.label for area in app.context.catalog_policy.rules.areas}


def _when(text: str | None) -> str:
    """An ISO time from the JSON form, as people read it."""
    return utc(datetime.fromisoformat(text)) if text else EMPTY


def print_revision(data: dict[str, Any], titles: dict[str, str]) -> None:
    """One revision as text; areas by the titles the change rules give them, with the key commands take."""
    state = "withdrawn" if data["withdrawn_at"] else "closed" if data["closed_at"] else "open"
    click.echo(
        f"{data['revision']}  {data['kind']}  {state}  version {data['version']}  "
        f"by {data['submitted_by']} at {_when(data['submitted_at'])}"
    )
    for change in data["changes"]:
        rank = f"[{change['rank']}]" if change["rank"] else ""
        click.echo(f"  {change['name']}{rank}: {shown(change['original'])} -> {shown(change['requested'])}")
    for signoff in data["signoffs"]:
        who = f" by {signoff['by']} at {_when(signoff['at'])}" if signoff["by"] else ""
        area = f"{titles.get(signoff['area'], signoff['area'])} ({signoff['area']})"
        state = signoff["state"].replace("_", " ")
        click.echo(f"  {area:<28} {state:<13} version {signoff['version']}{who}")
    if data["comment"]:
        click.echo(f"  comment: {data['comment']}")


@click.group()
def changes() -> None:
    """Submit, inspect and sign change requests on catalog observations."""


seen_option = click.option(
    "--seen-version",
    type=int,
    default=None,
    help="The version you saw (from 'show --json'); refused if the row changed since. "
    "Without it the current version is used, which protects nothing.",
)


@changes.command("show")
@click.argument("what")
@json_option()
@click.pass_obj
@reports_errors
def changes_show(app: App, what: str, as_json: bool) -> None:
    """Show revision WHAT, or every revision of obsid WHAT (WHAT is like 20134.002 or 20134)."""
    from obslab.catalog.changes.guards import find_revision, parse_revision_label
    from obslab.catalog.changes.views.revision import revision_views
    from obslab.catalog.models import Observation, Revision

    with app.sessions() as session:
        if "." in what:
            parse_revision_label(what)
            revisions = [find_revision(session, what)]
        else:
            if not what.strip().isdigit():
                raise InvalidInputError("what", what, "a revision such as 20134.002 or an obsid such as 20134")
            obsid = int(what)
            if session.scalar(select(Observation.id).where(Observation.obsid == obsid)) is None:
                raise NotFoundError(f"obsid {obsid} is not in the catalog")
            revisions = list(
                session.scalars(
                    select(Revision)
                    .where(Revision.obsid == obsid)
                    .order_by(Revision.number)
                    .options(selectinload(Revision.values), selectinload(Revision.signoffs))
                )
            )
        data = [view.as_dict() for view in revision_views(session, revisions)]
    if as_json:
        emit_json(data[0] if "." in what else data)
        return
    if not data:
        click.echo(f"obsid {int(what)} has no revisions yet")
    for item in data:
        print_revision(item, area_titles(app))


@changes.command("submit")
@click.argument("obsid", type=int)
@click.option(
    "--set", "assignments", multiple=True, metavar="NAME[RANK]=VALUE", help="A requested value (repeat); empty clears."
)
@click.option("--kind", type=click.Choice(["norm", "asis", "remove", "clone"]), default="norm", show_default=True)
@click.option("--comment", default="", help="Why the change is needed (shown to every signer).")
@click.option("--also", default="", metavar="OBSIDS", help="Copy the change to these obsids too (ranges allowed).")
@click.option("--dry-run", is_flag=True, help="Check and show errors and warnings; write nothing.")
@seen_option
@json_option()
@click.pass_obj
@reports_errors
def changes_submit(
    app: App,
    obsid: int,
    assignments: tuple[str, ...],
    kind: str,
    comment: str,
    also: str,
    dry_run: bool,
    seen_version: int | None,
    as_json: bool,
) -> None:
    """Submit a change request for OBSID."""
    from obslab.catalog.changes.multi import submit_to_many, versions_as_read_now
    from obslab.catalog.changes.submit import submit_change
    from obslab.catalog.changes.views.revision import revision_views
    from obslab.catalog.obsids import parse_obsid_list

    edits = [parse_assignment(text) for text in assignments]
    others = parse_obsid_list(also) if also.strip() else []
    if dry_run:
        with app.sessions() as session:  # read only: the preview writes nothing, and closing rolls back
            actor(app, session)
            result = _preview_json(session, obsid, edits, app.context.catalog_policy)
    else:
        with app.transaction() as session:
            who = actor(app, session)
            seen = versions_as_read_now(session, obsid, others, source_seen_version=seen_version)
            if others:
                outcomes = submit_to_many(
                    session,
                    who,
                    obsid,
                    others,
                    seen_versions=seen,
                    edits=edits,
                    comment=comment,
                    policy=app.context.catalog_policy,
                )
                result = {"results": [_outcome_json(outcome) for outcome in outcomes]}
            else:
                # An obsid not in the catalog has no version; submit_change then says it is not known.
                revision, check = submit_change(
                    session,
                    who,
                    obsid,
                    seen_version=seen.get(obsid, 0),
                    kind=kind,
                    edits=edits,
                    comment=comment,
                    policy=app.context.catalog_policy,
                )
                result = revision_views(session, [revision])[0].as_dict()
                result["warnings"] = [p.as_dict() for p in check.warnings]
    if as_json:
        emit_json(result)
    else:
        _print_submitted(result)
    if result.get("errors"):  # a refused dry run is a refusal: scripts must see it
        raise SystemExit(1)


def _preview_json(session: Session, obsid: int, edits: list[tuple[str, int, str]], policy: Policy) -> dict[str, Any]:
    from obslab.catalog.changes.submit import preview_change

    check = preview_change(session, obsid, edits, policy=policy)
    return {
        "ok": check.ok,
        "errors": [p.as_dict() for p in check.errors],
        "warnings": [p.as_dict() for p in check.warnings],
        "changes": [
            {"name": c.name, "rank": c.rank, "original": c.original, "requested": c.requested} for c in check.changes
        ],
    }


def _outcome_json(result: TargetResult) -> dict[str, Any]:
    return {
        "obsid": result.obsid,
        "outcome": result.outcome.value,
        "revision": result.revision,
        "left_out": list(result.left_out),
    }


def _print_submitted(result: dict[str, Any]) -> None:
    """The text form of a multi-observation request, a preview (``changes`` and ``errors``) or one revision."""
    if "results" in result:
        for row in result["results"]:
            click.echo(f"{row['obsid']}: {row['outcome']} {row['revision'] or ''}".rstrip())
            for reason in row["left_out"]:
                click.echo(f"  not copied: {reason}")
    elif "errors" in result:
        for change in result["changes"]:
            rank = f"[{change['rank']}]" if change["rank"] else ""
            click.echo(f"  {change['name']}{rank}: {shown(change['original'])} -> {shown(change['requested'])}")
        for problem in result["errors"]:
            click.echo(f"error: {problem['message']}")
    else:
        pending = [s["area"] for s in result["signoffs"] if s["state"] == "pending"]
        click.echo(f"submitted {result['revision']}; waiting for {', '.join(pending) or 'nothing'}")
    for problem in result.get("warnings", []):
        click.echo(f"warning: {problem['message']}")


def _act(app: App, label: str, as_json: bool, act: Any, seen_of: Any) -> None:
    """Run one sign-off action on revision ``label`` as the acting user, then print the revision."""
    from obslab.catalog.changes.guards import find_revision
    from obslab.catalog.changes.views.revision import revision_views

    with app.transaction() as session:
        who = actor(app, session)
        current = find_revision(session, label)
        revision = act(session, who, seen_of(current))
        data = revision_views(session, [revision])[0].as_dict()
    if as_json:
        emit_json(data)
    else:
        print_revision(data, area_titles(app))


@changes.command("sign")
@click.argument("label")
@click.argument("area")
@seen_option
@json_option()
@click.pass_obj
@reports_errors
def changes_sign(app: App, label: str, area: str, seen_version: int | None, as_json: bool) -> None:
    """Sign AREA (general, acis, acis_si, hrc_si...) of revision LABEL."""
    from obslab.catalog.changes.signoff import sign_off

    def seen_of(revision: Revision) -> int:
        row = next((s for s in revision.signoffs if s.area == area), None)
        return seen_version if seen_version is not None else (row.version if row is not None else 0)

    _act(
        app,
        label,
        as_json,
        lambda session, who, seen: sign_off(
            session, who, label, area, seen_version=seen, policy=app.context.catalog_policy
        ),
        seen_of,
    )


def _revision_version(seen_version: int | None) -> Any:
    return lambda revision: seen_version if seen_version is not None else revision.version


@changes.command("verify")
@click.argument("label")
@click.option("--approve", is_flag=True, help="Also approve the observation for flight (sign-off and approve).")
@seen_option
@json_option()
@click.pass_obj
@reports_errors
def changes_verify(app: App, label: str, approve: bool, seen_version: int | None, as_json: bool) -> None:
    """Verify revision LABEL once every other area is done; the catalog takes the requested values."""
    from obslab.catalog.changes.signoff import verify

    _act(
        app,
        label,
        as_json,
        lambda s, who, seen: verify(
            s, who, label, seen_version=seen, approve=approve, policy=app.context.catalog_policy
        ),
        _revision_version(seen_version),
    )


def _plain_revision_action(name: str, help_text: str) -> Any:
    """A command LABEL [--seen-version] [--json] running ``obslab.catalog.signoff.<name>`` on one revision."""

    @changes.command(name, help=help_text)
    @click.argument("label")
    @seen_option
    @json_option()
    @click.pass_obj
    @reports_errors
    def command(app: App, label: str, seen_version: int | None, as_json: bool) -> None:
        from obslab.catalog.changes import signoff

        action = getattr(signoff, name)
        _act(
            app,
            label,
            as_json,
            lambda s, who, seen: action(s, who, label, seen_version=seen, policy=app.context.catalog_policy),
            _revision_version(seen_version),
        )

    return command


changes_discard = _plain_revision_action(
    "discard", "Abandon revision LABEL: its pending areas are discarded and it closes."
)
changes_withdraw = _plain_revision_action(
    "withdraw",
    "Withdraw your own revision LABEL (nobody has acted on it yet, or it is your approval), within the undo window.",
)


@click.command("express")
@click.argument("source")
@click.option("--check", "check_only", is_flag=True, help="Only show each obsid's status; approve nothing.")
@json_option()
@click.pass_obj
@reports_errors
def express(app: App, source: str, check_only: bool, as_json: bool) -> None:
    """Approve a list of obsids for flight: SOURCE is a file of obsids or the list itself (ranges allowed)."""
    from obslab.catalog.changes.express import express_approve, express_check

    path = Path(source)
    if path.is_file():
        text = path.read_text()
    elif LOOKS_LIKE_A_PATH.search(source):
        raise InvalidInputError(
            "source", source, "an existing file of obsids, or obsids like 20001-20050 (no such file)"
        )
    else:
        text = source
    with app.transaction() as session:
        who = actor(app, session)
        rows = express_check(session, who, text)
        approved: tuple[str, ...] = ()
        if not check_only:
            approved = express_approve(session, who, text, policy=app.context.catalog_policy).approved
    result = {
        "approved": list(approved),
        "obsids": [{"obsid": r.obsid, "status": r.status.value, "detail": r.detail} for r in rows],
    }
    if as_json:
        emit_json(result)
        return
    for row in result["obsids"]:
        click.echo(f"{row['obsid']:>8}  {row['status']}{'  ' + row['detail'] if row['detail'] else ''}")
    if not check_only:
        click.echo(f"approved {len(approved)}: {' '.join(approved)}" if approved else "approved none")
