"""The ``obslab`` command: the main group and its registrations; one module per group, shared parts in _app."""

from __future__ import annotations

import click

from obslab import __version__
from obslab.cli._app import App, ObslabGroup
from obslab.cli.alarms import alarms
from obslab.cli.alerts import alerts
from obslab.cli.api import api
from obslab.cli.changes import changes, express
from obslab.cli.config import config
from obslab.cli.db import db
from obslab.cli.duty import duty
from obslab.cli.hub import hub
from obslab.cli.notify import notify
from obslab.cli.observe import observe
from obslab.cli.pipeline import pipeline
from obslab.cli.plan import plan
from obslab.cli.report import report
from obslab.cli.runs import programs, runs
from obslab.cli.serve import demo, serve
from obslab.cli.trends import trends
from obslab.cli.users import users


@click.group(cls=ObslabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="obslab")
@click.option("--debug", is_flag=True, help="On an error, print the traceback too (or set OBSLAB_DEBUG=1).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """obslab: observatory operations — catalog sign-off, configurations, scheduling, runs and reports.

    Settings come from OBSLAB_* environment variables (see the README); with none set,
    obslab uses a SQLite database in your per-user data directory.
    """
    ctx.obj = App()
    ctx.call_on_close(ctx.obj.close)


COMMANDS = (db, serve, demo, users, changes, express, notify, duty, plan, alerts, alarms, trends, report, api)
for command in (*COMMANDS, config, observe, pipeline, runs, programs, hub):
    main.add_command(command)
