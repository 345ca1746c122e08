"""``obslab api``: serve the REST API (fplane files by date, configuration history) with uvicorn."""

from __future__ import annotations

import click

from obslab.cli._app import App, reports_errors, require_free_port

#: Beside the dashboards' 8866, so both can run on one machine.
DEFAULT_PORT = 8867


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port to use.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.pass_obj
@reports_errors
def api(app: App, host: str, port: int, workers: int) -> None:
    """Serve the REST API (docs at /docs) on 127.0.0.1 unless --host says otherwise."""
    from obslab import schema
    from obslab.api.serving import serve

    schema.check(app.database_url)
    require_free_port(host, port)
    click.echo(f"obslab API on http://{host}:{port}/ (docs at /docs), database {app.where}", err=True)
    serve(app.context, host=host, port=port, workers=workers)
