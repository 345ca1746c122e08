"""Voila, made offline and frugal: Panel's files from the same server, no CDN links, kernels freed on unload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from obslab.dashboards.registry import DASHBOARDS
from obslab.dashboards.serving.index import current_index
from obslab.dashboards.serving.resources import BOKEH_PREFIX, offline_routes
from obslab.dashboards.serving.voila_kernels import ObslabKernelManager, RenderHandler

TEMPLATE_DIR = Path(__file__).parent / "voila_template"
#: The BokehJS bundles the dashboards use (MathJax is left out: no dashboard typesets formulas).
BOKEH_COMPONENTS = ("bokeh", "bokeh-gl", "bokeh-widgets", "bokeh-tables")
#: JupyterLab extensions Voila must not load: the PyViz one needs JupyterLab's document manager,
#: which Voila lacks, and only logs an error (Panel talks through ipywidgets under Voila instead).
EXTENSION_DENYLIST = ["@pyviz/jupyterlab_pyviz"]


def preload_scripts() -> list[str]:
    """BokehJS, Panel's JS and its Tabulator scripts, as paths below the server's base URL, for the page head.

    Panel's notebook output loads BokehJS asynchronously (after the extension scripts it injects),
    while Voila renders the dashboard's widget as soon as it arrives: a view made before BokehJS is
    there fails with "Could not create a view".  Loading the scripts in the head removes the race.
    """
    from panel.io.resources import CDN_DIST, LOCAL_DIST
    from panel.models.tabulator import DataTabulator

    bokeh = [f"{BOKEH_PREFIX}js/{name}.min.js" for name in BOKEH_COMPONENTS]
    panel = [
        path.replace(LOCAL_DIST, CDN_DIST).lstrip("/")
        for path in [*DataTabulator.__javascript__, "static/extensions/panel/panel.min.js"]
    ]
    return bokeh + panel


class IndexHandler(JupyterHandler):
    """``/`` and ``/voila/tree``: obslab's index instead of Voila's page list.

    Voila's list loads Font Awesome from a CDN, asks for ``/api/kernels`` (which Voila does not serve)
    and logs errors of JupyterLab plugins it cannot run; it also lists files rather than dashboards.
    """

    @tornado.web.authenticated
    def get(self, path: str = "") -> None:
        if path.strip("/"):
            raise tornado.web.HTTPError(404)
        hrefs = [url_path_join(self.base_url, "voila/render", f"{entry.slug}.ipynb") for entry in DASHBOARDS]
        self.xsrf_token  # noqa: B018  (sets the cookie, like every page of this server)
        self.finish(current_index(hrefs, home=self.base_url, served_by="Voila"))


class ObslabVoila(Voila):
    """Voila with obslab's page template, routes to Panel's and Bokeh's files, and kernels that end with their page."""

    name = "obslab-voila"

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        self.voila_configuration.multi_kernel_manager_class = ObslabKernelManager
        self.voila_configuration.extension_denylist = [
            *self.voila_configuration.extension_denylist,
            *EXTENSION_DENYLIST,
        ]
        # Voila's renderer reads template resources from the config object, not from the trait.
        extra = self.voila_configuration.config.VoilaConfiguration
        extra.resources = {**extra.get("resources", {}), "obslab_preload": preload_scripts()}

    def setup_template_dirs(self) -> None:
        super().setup_template_dirs()
        self.template_paths.insert(0, str(TEMPLATE_DIR))

    def init_handlers(self) -> list[Any]:
        # Offline routes first, so they win over Voila's catch-all render route.
        handlers = [*offline_routes(self.server_url)]
        for rule in super().init_handlers():
            if rule[1] is TornadoVoilaHandler:
                rule = (rule[0], RenderHandler, *rule[2:])
            elif rule[1] is TornadoVoilaTreeHandler:
                rule = (rule[0], IndexHandler)
            handlers.append(rule)
        return handlers
