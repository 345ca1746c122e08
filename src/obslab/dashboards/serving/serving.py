"""Serve every dashboard on loopback: through Voila (the default) or through Panel's own server."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from obslab.dashboards.registry import DASHBOARDS, SERVER_KIND_VARIABLE, DashboardEntry

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
#: Seconds Voila waits for a cell's output once the kernel has replied (nbclient's default is 4).
IOPUB_TIMEOUT = 30


def notebook_document(cells: list[str], *, name: str, title: str) -> dict[str, Any]:
    """A notebook (nbformat 4, outputs stripped) of code ``cells``, as a JSON-ready dict."""
    code = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"{name}-{n}",
            "metadata": {},
            "outputs": [],
            "source": source.splitlines(keepends=True),
        }
        for n, source in enumerate(cells, start=1)
    ]
    metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "title": title,
    }
    return {"cells": code, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def notebook_json(entry: DashboardEntry) -> dict[str, Any]:
    """The dashboard's Voila notebook as a JSON-ready dict."""
    return notebook_document(entry.notebook_cells(), name=entry.slug, title=entry.title)


def notebook_text(entry: DashboardEntry) -> str:
    """The notebook file's exact text (what is committed in dashboards/ and what `obslab serve` writes)."""
    return json.dumps(notebook_json(entry), indent=1, ensure_ascii=False) + "\n"


def write_notebooks(directory: Path) -> list[Path]:
    """Write one notebook per dashboard into ``directory`` (made if missing); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for entry in DASHBOARDS:
        path = directory / f"{entry.slug}.ipynb"
        path.write_text(notebook_text(entry), encoding="utf-8")
        paths.append(path)
    return paths


def culling_arguments(idle_timeout: int, cull_interval: int) -> list[str]:
    """Voila arguments shutting down kernels no browser has been connected to for ``idle_timeout`` s (0: never).

    ``cull_connected`` stays False: a page still open keeps its kernel however quiet it is, since
    culling it would leave a dead dashboard on someone's screen.  Voila never culls its pool of
    preheated kernels (``VoilaKernelManager.cull_kernel_if_idle`` skips them).
    """
    return [
        f"--MappingKernelManager.cull_idle_timeout={idle_timeout}",
        f"--MappingKernelManager.cull_interval={cull_interval}",
        "--MappingKernelManager.cull_connected=False",
    ]


def voila_arguments(
    directory: Path,
    *,
    host: str,
    port: int,
    preheat: bool,
    idle_timeout: int,
    cull_interval: int,
) -> list[str]:
    """Command-line arguments for ObslabVoila serving ``directory``, culling kernels idle ``idle_timeout`` s."""
    arguments = [
        str(directory),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={host}",
        "--Voila.port_retries=0",
        "--show_tracebacks=False",
        "--theme=light",
        # nbclient waits 4 s by default for a cell's output after its reply, then renders the cell
        # without it: on a loaded machine a dashboard (a large Bokeh document) then came out blank.
        f"--VoilaExecutor.iopub_timeout={IOPUB_TIMEOUT}",
        *culling_arguments(idle_timeout, cull_interval),
    ]
    if preheat:
        arguments += ["--preheat_kernel=True", "--pool_size=1"]
    return arguments


def serve_voila(
    directory: Path,
    *,
    host: str,
    port: int,
    preheat: bool,
    announce: Callable[[str], None],
    idle_timeout: int,
    cull_interval: int,
) -> None:
    """Write the notebooks and serve them with Voila until interrupted; ``/`` is obslab's index."""
    from obslab.dashboards.serving.voila_app import ObslabVoila

    write_notebooks(directory)
    os.environ[SERVER_KIND_VARIABLE] = "voila"  # kernels inherit it, so pages link the Voila way
    announce(f"http://{host}:{port}/")
    arguments = voila_arguments(
        directory, host=host, port=port, preheat=preheat, idle_timeout=idle_timeout, cull_interval=cull_interval
    )
    ObslabVoila.launch_instance(argv=arguments)


def serve_panel(*, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve every dashboard with Panel's server until interrupted; ``/`` is obslab's index."""
    import panel as pn

    from obslab.dashboards.serving.index import PanelIndexHandler
    from obslab.dashboards.serving.resources import server_extension

    os.environ[SERVER_KIND_VARIABLE] = "panel"
    server_extension()
    apps = {entry.slug: entry.load_viewer() for entry in DASHBOARDS}
    announce(f"http://{host}:{port}/")
    pn.serve(
        apps,
        extra_patterns=[(r"/?", PanelIndexHandler)],  # ahead of Panel's own index, which needs the internet
        address=host,
        port=port,
        show=False,
        title={e.slug: e.title for e in DASHBOARDS},
        websocket_origin=[f"{host}:{port}", f"localhost:{port}"],
        threaded=False,
    )


def serve_hub_service(*, announce: Callable[[str], None]) -> None:
    """Serve every dashboard as the JupyterHub service the hub started: each viewer the hub user of their login."""
    import panel as pn

    from obslab.dashboards.context import default_context
    from obslab.dashboards.serving import hub_service
    from obslab.dashboards.serving.resources import server_extension

    environ = hub_service.require_hub_environment()
    host, port, prefix = hub_service.service_address(environ)
    secrets = hub_service.server_secrets()
    os.environ[SERVER_KIND_VARIABLE] = "panel"
    server_extension()
    process = default_context()

    def page(entry: DashboardEntry) -> Callable[[], Any]:
        viewer_class = entry.load_viewer()

        def build() -> Any:
            # The cookie the session was opened with, carried in its signed token: not something a page can change.
            cookies = pn.state.curdoc.session_context.request.cookies
            name = hub_service.user_of_cookies(cookies, secrets["cookie_secret"])
            if name is None:
                return pn.pane.Alert("Your hub login has ended: reload the page to log in again.", alert_type="warning")
            return viewer_class(process.for_viewer(name))

        return build

    # The browser's origin is the hub's public address, which the hub configuration passes on.
    origins = [origin for origin in os.environ.get("OBSLAB_HUB_ORIGINS", "").split(",") if origin]
    announce(f"http://{host}:{port}{prefix}/")
    pn.serve(
        {entry.slug: page(entry) for entry in DASHBOARDS},
        extra_patterns=hub_service.hub_routes(prefix),
        prefix=prefix,
        address=host,
        port=port,
        show=False,
        title={e.slug: e.title for e in DASHBOARDS},
        websocket_origin=origins or [f"{host}:{port}"],
        threaded=False,
        auth_provider=hub_service.HubAuthProvider(prefix),
        **secrets,
    )
