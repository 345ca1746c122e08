"""``obslab serve`` and ``obslab demo``: serve the dashboards, after loading the demo observatory for ``demo``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import func, select

from obslab.cli._app import App, reports_errors, require_free_port

#: The port both commands serve on unless told otherwise. A copy of obslab.dashboards.serving.DEFAULT_PORT
#: (a test keeps them equal): reading it from there would import the dashboards package, and set Panel's
#: CDN root, on every `obslab` invocation, even `obslab --help`.
DEFAULT_PORT = 8866

#: Who `obslab demo` shows as the viewer when OBSLAB_ACTING_USER is not set: a demo USINT
#: scientist with two roles (and an apostrophe in her name, which every page must escape).
DEMO_VIEWER = "sobrien"

#: The tables whose row counts `obslab demo` prints.
DEMO_TABLES = (
    "observations",
    "revisions",
    "signoffs",
    "users",
    "instrument_configurations",
    "observing_requests",
    "nights",
    "exposures",
    "frame_files",
    "pipeline_stages",
    "metrics",
)


def serve_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options `serve` and `demo` share."""
    options = [
        click.option(
            "--panel", "use_panel", is_flag=True, help="Serve with `panel serve` (Bokeh server) instead of Voila."
        ),
        click.option(
            "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port on 127.0.0.1."
        ),
        click.option(
            "--preheat/--no-preheat",
            default=True,
            show_default=True,
            help="Voila only: keep one kernel per dashboard running ahead of the next visitor.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def serve_dashboards(app: App, *, use_panel: bool, port: int, preheat: bool) -> None:
    """Serve every dashboard on loopback until interrupted."""
    from obslab.dashboards.serving import serving

    def announce(url: str) -> None:
        how = "panel serve" if use_panel else "Voila"
        click.echo(f"serving the dashboards with {how}; open {url}  (Ctrl-C stops)")

    require_free_port(_host(), port)
    # Kernels and sessions read settings themselves: hand them the database this command resolved.
    os.environ["OBSLAB_DATABASE_URL"] = app.database_url
    if use_panel:
        serving.serve_panel(host=serving.DEFAULT_HOST, port=port, announce=announce)
    else:
        directory = app.settings.data_dir / "dashboards"
        serving.serve_voila(
            directory,
            host=serving.DEFAULT_HOST,
            port=port,
            preheat=preheat,
            announce=announce,
            idle_timeout=app.settings.dashboard_kernel_idle_timeout,
            cull_interval=app.settings.dashboard_kernel_cull_interval,
        )


@click.command()
@serve_options
@click.option(
    "--hub-service",
    is_flag=True,
    help="Run as the JupyterHub service the hub starts (deploy/jupyterhub/): one Panel server, every viewer the hub "
    "user of their login; address and prefix come from the hub.",
)
@click.pass_obj
@reports_errors
def serve(app: App, use_panel: bool, port: int, preheat: bool, hub_service: bool) -> None:
    """Serve every dashboard on 127.0.0.1, with an index page listing them."""
    from obslab import schema

    schema.check(app.database_url)
    if hub_service:
        from obslab.dashboards.serving import serving

        os.environ["OBSLAB_DATABASE_URL"] = app.database_url
        serving.serve_hub_service(announce=lambda url: click.echo(f"serving the dashboards for JupyterHub at {url}"))
        return
    serve_dashboards(app, use_panel=use_panel, port=port, preheat=preheat)


@click.command()
@click.option("--no-serve", is_flag=True, help="Load the demo observatory and exit without serving dashboards.")
@click.option("--seed", default=2026, show_default=True, type=int, help="Seed of the generated demo observatory.")
@serve_options
@click.pass_obj
@reports_errors
def demo(app: App, no_serve: bool, seed: int, use_panel: bool, port: int, preheat: bool) -> None:
    """Load the demo observatory into an empty database (or top up an earlier demo of the same seed), then serve.

    A database that holds anything but the demo is left untouched.
    """
    from obslab import schema
    from obslab.demo import holds_other_data, load_demo, reduce_demo_nights
    from obslab.models import Base

    if not no_serve:
        require_free_port(_host(), port)
    schema.upgrade(app.database_url)
    with app.transaction() as session:
        if holds_other_data(session):
            click.echo(f"{app.where} already holds an observatory that is not the demo: not loading the demo")
            added = None
        else:
            raw_dir = app.settings.data_dir / "raw"
            added = load_demo(session, site=app.settings.site, seed=seed, raw_dir=raw_dir).total_inserted
    if added is not None:
        # After the load's commit: the runner opens transactions of its own.
        runs = reduce_demo_nights(app.sessions, app.settings, rules=app.context.alarm_rules)
        done = sum(run.counts["done"] for run in runs)
        click.echo(f"demo observatory (seed {seed}) in {app.where}")
        click.echo(f"  rows added by this run: {added}")
        click.echo(f"raw frames in {raw_dir}; pipeline stages run by this run: {done}")
    with app.sessions() as session:
        for name in DEMO_TABLES:
            count = session.scalar(select(func.count()).select_from(Base.metadata.tables[name]))
            click.echo(f"  {name:<26} {count:>7}")
    if not no_serve:
        os.environ.setdefault("OBSLAB_ACTING_USER", app.settings.acting_user or DEMO_VIEWER)
        serve_dashboards(app, use_panel=use_panel, port=port, preheat=preheat)


def _host() -> str:
    from obslab.dashboards.serving.serving import DEFAULT_HOST  # only when serving: --help stays light

    return DEFAULT_HOST
