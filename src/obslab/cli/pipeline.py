"""``obslab pipeline``: run a night's reduction (local threads, a dask LocalCluster, or a cluster) and show status."""

from __future__ import annotations

import sys
from datetime import date

import click

from obslab.cli._app import App, actor, emit_json, json_option, night_date, reports_errors
from obslab.formatting import utc

STAGES = ("calibration", "seeing", "stack", "strehl", "preview")  # a test keeps this equal to the graph's


@click.group("pipeline")
def pipeline() -> None:
    """Reduction pipelines: calibration, lucky-imaging stacks, Strehl, seeing, previews."""


@pipeline.command("run")
@click.option("--night", "night", required=True, callback=night_date, help="The night to reduce, YYYYMMDD.")
@click.option("--stage", "stages", multiple=True, type=click.Choice(STAGES), help="Only these stages (repeatable).")
@click.option("--exposure", "exposures", multiple=True, help="Only these science exposures, by name (repeatable).")
@click.option("--force", is_flag=True, help="Rerun the chosen stages even when they are up to date.")
@click.option(
    "--executor",
    type=click.Choice(["threads", "dask"]),
    default="threads",
    show_default=True,
    help="Where tasks run when OBSLAB_DASK_SCHEDULER is unset: threads in this process, or a dask LocalCluster.",
)
@click.option("--workers", type=click.IntRange(1, 256), help="Threads or LocalCluster workers. Default: the cores.")
@json_option("Print the summary as JSON: counts by outcome and every stage with its outcome and reason.")
@click.pass_obj
@reports_errors
def pipeline_run(
    app: App,
    night: date,
    stages: tuple[str, ...],
    exposures: tuple[str, ...],
    force: bool,
    executor: str,
    workers: int | None,
    as_json: bool,
) -> None:
    """Bring a night's products up to date: run what changed, skip what is up to date, retry what failed.

    Needs the pipeline role (or admin).

    With OBSLAB_DASK_SCHEDULER=tcp://host:port the tasks go to that dask cluster, and products to
    OBSLAB_PRODUCTS_DIR, which every worker must share.
    """
    from obslab.access import require_role
    from obslab.observing.pipeline.executors import make_executor
    from obslab.observing.pipeline.runner import RunOptions, planned_count, run_night

    key = f"{night:%Y%m%d}"
    with app.sessions() as session:
        require_role(actor(app, session), "pipeline", "run the reduction pipeline")
    settings = app.settings
    options = RunOptions(
        stages=stages or STAGES,
        exposures=set(exposures) or None,
        force=force,
        max_retries=settings.pipeline_max_retries,
        alarm_rules=app.context.alarm_rules,
    )
    total = planned_count(app.sessions, key, options)
    runner = make_executor(executor, settings.dask_scheduler, workers)
    try:
        with click.progressbar(length=total, label=f"night {key} on {runner.name}", file=sys.stderr) as bar:
            summary = run_night(
                app.sessions,
                key,
                runner,
                products_dir=settings.resolved_products_dir,
                options=options,
                now=app.context.now,
                on_outcome=lambda _outcome: bar.update(1),
            )
    finally:
        runner.close()
    if as_json:
        emit_json(summary.as_dict())
    else:
        for outcome in summary.outcomes:
            if outcome.outcome in ("failed", "gave up", "waiting"):
                what = f"{outcome.stage} of {outcome.exposure}" if outcome.exposure else f"the night's {outcome.stage}"
                click.echo(f"{outcome.outcome}: {what}: {outcome.reason}")
        counts = summary.counts
        click.echo(
            f"night {key}: {counts['done']} done, {counts['up to date']} skipped as up to date, "
            f"{counts['failed']} failed, {counts['gave up']} given up, {counts['waiting']} waiting"
        )
    if summary.counts["failed"]:
        raise SystemExit(1)


@pipeline.command("status")
@click.option("--night", "night", callback=night_date, help="One night, YYYYMMDD. Default: the latest nights.")
@json_option("Print the status as JSON: per night, counts per stage and state, and the failures with their reasons.")
@click.pass_obj
@reports_errors
def pipeline_status(app: App, night: date | None, as_json: bool) -> None:
    """How far each night's reduction is: per stage, how many are pending, queued, running, done or failed."""
    from obslab.observing.pipeline.status import night_status

    with app.sessions() as session:
        nights = night_status(session, night)
    if night and not nights:
        raise click.ClickException(f"night {night:%Y%m%d} is not recorded; ingest it first (obslab observe ingest)")
    if as_json:
        emit_json([n.as_dict() for n in nights])
        return
    if not nights:
        click.echo("no nights recorded yet")
    for night in nights:
        click.echo(f"night {night.night.strftime('%Y%m%d')}")
        for stage in night.stages:
            states = ", ".join(f"{n} {state}" for state, n in stage.counts.items() if n)
            last = f" (last finished {utc(stage.last_finished)})" if stage.last_finished else ""
            click.echo(f"  {stage.stage:<12} {states}{last}")
        for failure in night.failures:
            what = failure.exposure or "the night"
            click.echo(f"  failed: {failure.stage} of {what} after {failure.retries} tries: {failure.error}")
