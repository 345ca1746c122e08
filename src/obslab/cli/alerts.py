"""``obslab alerts``: take VOEvent packets from files, or watch a directory for them."""

from __future__ import annotations

import time
from pathlib import Path

import click

from obslab.cli._app import App, actor, emit_json, json_option
from obslab.errors import ObslabError

#: Where `watch` moves a packet once handled, under the watched directory.
DONE, REFUSED = "done", "refused"


@click.group()
def alerts() -> None:
    """Receive alerts (VOEvent 2.0): store, de-duplicate, apply the alert policies, re-plan on a ToO."""


def _ingest_file(app: App, path: Path) -> dict[str, object]:
    """One file in its own transaction: a refused packet is reported and leaves the database as it was."""
    try:
        packet = path.read_bytes()
    except OSError as error:
        return {"file": str(path), "refused": f"cannot be read: {error.strerror}"}
    return {"file": str(path)} | ingest_payload(app, str(path), packet)


def ingest_payload(app: App, source: str, payload: bytes) -> dict[str, object]:
    """One notice from a file or a Kafka topic (``source``) in its own transaction; a refusal changes nothing."""
    from obslab.scheduling.alerts import ingest

    try:
        with app.transaction() as session:
            outcome = ingest(
                session,
                actor(app, session),
                payload,
                site=app.settings.site,
                source=source,
                policies=app.context.alert_policies,
            )
    except ObslabError as error:
        return {"refused": str(error)}
    return {
        "ivorn": outcome.ivorn,
        "status": outcome.status.value,
        "decision": outcome.decision,
        "request": outcome.request_id,
        "plan_version": outcome.plan_version,
    }


def _show(result: dict[str, object]) -> None:
    if "refused" in result:
        click.echo(f"{result['file']}: refused: {result['refused']}", err=True)
    else:
        replanned = f" (re-planned: version {result['plan_version']})" if result["plan_version"] else ""
        click.echo(f"{result['file']}: {result['status']}: {result['decision']}{replanned}")


@alerts.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option("Print one JSON object per file, as a list.")
@click.pass_obj
def alerts_ingest(app: App, paths: tuple[Path, ...], as_json: bool) -> None:
    """Take the VOEvent packets in PATHS; exits 1 if any was refused (the others are still taken)."""
    results = [_ingest_file(app, path) for path in paths]
    if as_json:
        emit_json(results)
    else:
        for result in results:
            _show(result)
    if any("refused" in result for result in results):
        raise SystemExit(1)


@alerts.command("watch")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="Seconds between looks."
)
@click.option("--once", is_flag=True, help="Take what is there now, then stop.")
@click.pass_obj
def alerts_watch(app: App, directory: Path, interval: float, once: bool) -> None:
    """Take every *.xml packet arriving in DIRECTORY, oldest name first;
    each moves to done/ or refused/ once handled."""
    for name in (DONE, REFUSED):
        (directory / name).mkdir(exist_ok=True)
    while True:
        for path in sorted(directory.glob("*.xml")):
            result = _ingest_file(app, path)
            _show(result)
            path.replace(directory / (REFUSED if "refused" in result else DONE) / path.name)
        if once:
            return
        time.sleep(interval)
