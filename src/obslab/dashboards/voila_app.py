"""Voila, made offline: Panel's files served from the same server and a template without CDN links."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.utils import url_path_join
from voila.app import Voila

from obslab.dashboards.resources import PANEL_DIST_ROUTE, panel_dist_dir

TEMPLATE_DIR = Path(__file__).parent / "voila_template"
#: JupyterLab extensions Voila must not load: the PyViz one needs JupyterLab's document manager,
#: which Voila lacks, and only logs an error (Panel talks through ipywidgets under Voila instead).
EXTENSION_DENYLIST = ["@pyviz/jupyterlab_pyviz"]


def preload_scripts() -> list[str]:
    """Panel extension scripts the page loads in its head, as paths below the server's base URL.

    Panel's notebook output injects these asynchronously; a Tabulator created by the next output
    could then render before they arrive and fail with "Could not create a view".  Loading them in
    the head removes the race.
    """
    from panel.io.resources import CDN_DIST, LOCAL_DIST
    from panel.models.tabulator import DataTabulator

    return [script.replace(LOCAL_DIST, CDN_DIST).lstrip("/") for script in DataTabulator.__javascript__]


class ObslabVoila(Voila):
    """Voila with obslab's page template and a route to Panel's installed dist folder."""

    name = "obslab-voila"

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        self.voila_configuration.extension_denylist = [*self.voila_configuration.extension_denylist,
                                                       *EXTENSION_DENYLIST]  # fmt: skip
        # Voila's renderer reads template resources from the config object, not from the trait.
        extra = self.voila_configuration.config.VoilaConfiguration
        extra.resources = {**extra.get("resources", {}), "obslab_preload": preload_scripts()}

    def setup_template_dirs(self) -> None:
        super().setup_template_dirs()
        self.template_paths.insert(0, str(TEMPLATE_DIR))

    def init_handlers(self) -> list[Any]:
        # First, so it wins over Voila's catch-all render route.
        route = (url_path_join(self.server_url, PANEL_DIST_ROUTE), tornado.web.StaticFileHandler,
                 {"path": str(panel_dist_dir())})  # fmt: skip
        return [route, *super().init_handlers()]
