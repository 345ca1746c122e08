"""``obslab alerts``: take notices (VOEvent XML or JSON) from files, or watch a directory for them."""

from __future__ import annotations

import time
from pathlib import Path

import click

from obslab.cli._app import App, actor, emit_json, json_option
from obslab.errors import ConflictError, ObslabError

#: Where `watch` moves a packet once handled, under the watched directory.
DONE, REFUSED = "done", "refused"


@click.group()
def alerts() -> None:
    """Receive alerts (VOEvent 2.0, GCN JSON, LVK igwn.gwalert): store, de-duplicate, follow events, apply
    the alert policies, re-plan on a ToO."""


def _ingest_file(app: App, path: Path) -> dict[str, object]:
    """One file in its own transaction: a refused packet is reported and leaves the database as it was."""
    try:
        packet = path.read_bytes()
    except OSError as error:
        return {"file": str(path), "refused": f"cannot be read: {error.strerror}"}
    try:
        return {"file": str(path)} | ingest_payload(app, str(path), packet)
    except ConflictError as error:
        # Raced by another writer (a re-plan stored meanwhile): nothing was stored, so the file is taken again.
        return {"file": str(path), "refused": f"{error}; nothing stored, taken again later", "again": True}


def ingest_payload(app: App, source: str, payload: bytes) -> dict[str, object]:
    """One notice from a file or a Kafka topic (``source``) in its own transaction; a refusal changes nothing.

    A conflict (a plan stored by someone else while this notice re-planned) is raised, not reported: the notice
    was fine and is taken again (the listener retries it; the watcher leaves the file for its next look).
    """
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
                fov_deg=app.settings.telescope_fov_deg,
            )
    except ConflictError:
        raise
    except ObslabError as error:
        return {"refused": str(error)}
    return {
        "key": outcome.key,
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
    """Take the notices in PATHS (*.xml VOEvent, *.json GCN or LVK); exits 1 if any was refused (the others
    are still taken)."""
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
    """Take every *.xml and *.json notice arriving in DIRECTORY, oldest name first;
    each moves to done/ or refused/ once handled."""
    for name in (DONE, REFUSED):
        (directory / name).mkdir(exist_ok=True)
    while True:
        for path in sorted([*directory.glob("*.xml"), *directory.glob("*.json")]):
            result = _ingest_file(app, path)
            _show(result)
            if not result.get("again"):
                path.replace(directory / (REFUSED if "refused" in result else DONE) / path.name)
        if once:
            return
        time.sleep(interval)


@alerts.command("listen")
@click.option("--max-messages", type=click.IntRange(min=1), help="Stop after this many notices (not heartbeats).")
@click.option(
    "--idle-exit", type=click.FloatRange(min=0, min_open=True), help="Stop after this many seconds without a notice."
)
@click.option(
    "--stale-after",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds without a gcn.heartbeat message before health is said to be stale.",
)
@click.option(
    "--health-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Keep a JSON health record here (last heartbeat and notice, counts, stale), rewritten every second.",
)
@click.pass_obj
def alerts_listen(
    app: App, max_messages: int | None, idle_exit: float | None, stale_after: float, health_file: Path | None
) -> None:
    """Take notices from GCN's Kafka topics (settings kafka_*) as they come; each is committed only once stored,
    so a crash or a restart loses none. SIGTERM or Ctrl-C finishes the notice in hand, then stops."""
    import importlib.util
    import sys

    from obslab.access import require_role
    from obslab.cli._app import explain
    from obslab.errors import SettingsError
    from obslab.scheduling.service import SCHEDULER_ROLE

    # Before any broker: every notice would otherwise be refused, and refusals are committed (never retried).
    with app.transaction() as session:
        require_role(actor(app, session), SCHEDULER_ROLE, "ingest alerts")
    if importlib.util.find_spec("gcn_kafka") is None:
        raise SettingsError("obslab alerts listen needs gcn-kafka: pip install 'obslab[kafka]'")
    from obslab.scheduling import listener

    settings = app.settings
    listener.check_settings(settings)
    # A service manager's log should show each notice as it is taken, not a buffer's worth later.
    getattr(sys.stdout, "reconfigure", lambda **_: None)(line_buffering=True)
    options = listener.ListenOptions(
        max_messages=max_messages, idle_exit=idle_exit, stale_after=stale_after, health_file=health_file
    )
    with listener.stop_on_signals() as stop:
        loop = listener.Listener(
            connect=lambda on_error: listener.make_consumer(settings, on_error),
            topics=settings.kafka_topics,
            handle=lambda topic, payload: ingest_payload(app, topic, payload),
            show=lambda label, result: _show({"file": label} | result),
            say=lambda line: click.echo(line, err=True),
            options=options,
            stop=stop,
            describe=lambda error: explain(error, app) or f"{type(error).__name__}: {error}",
            secrets=listener.secrets(settings),
        )
        click.echo(f"listen: {len(loop.topics)} topics as group {settings.kafka_group_id!r}", err=True)
        health = loop.run()
    why = "signal" if stop.is_set() else "done"
    click.echo(f"listen: stopped ({why}): {listener.summary(health.counts)}", err=True)
