"""Keep every Panel and Bokeh asset on the server that serves the page: no CDN, ever."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

#: Where pages look for Panel's files instead of the public CDN (Panel appends "<version>/dist/").
LOCAL_CDN_ROOT = "/_obslab/panel/"
#: Tornado route for those files.  In notebooks Panel writes the root relative to the page, so the
#: files are asked for below whatever path the page has (/voila/render/, /lab/tree/...): match any prefix.
PANEL_DIST_ROUTE = r"/(?:.*/)?_obslab/panel/[^/]+/dist/(.*)"
#: Bokeh's static files, served below any page path like Panel's.
BOKEH_PREFIX = "_obslab/bokeh/"
BOKEH_ROUTE = r"/(?:.*/)?_obslab/bokeh/(.*)"


def configure_offline_resources() -> None:
    """Point Panel at LOCAL_CDN_ROOT; warn if Panel was imported before and so still uses the CDN."""
    if "panel" in sys.modules and os.environ.get("PANEL_CDN_ROOT") != LOCAL_CDN_ROOT:
        warnings.warn(
            "panel was imported before obslab.dashboards, so its styles would come from a CDN; "
            "restart the kernel and import obslab.dashboards first",
            RuntimeWarning,
            stacklevel=3,
        )
    os.environ["PANEL_CDN_ROOT"] = LOCAL_CDN_ROOT


def panel_dist_dir() -> Path:
    """The folder of Panel's installed JavaScript and CSS."""
    import panel

    return Path(panel.__file__).parent / "dist"


def offline_routes(base_url: str) -> list[tuple[str, Any, dict[str, str]]]:
    """Tornado rules serving Panel's dist folder and BokehJS below ``base_url``, for Voila and Jupyter servers."""
    import tornado.web
    from bokeh.util.paths import bokehjs_path
    from jupyter_server.utils import url_path_join

    return [
        (url_path_join(base_url, PANEL_DIST_ROUTE), tornado.web.StaticFileHandler, {"path": str(panel_dist_dir())}),
        (url_path_join(base_url, BOKEH_ROUTE), tornado.web.StaticFileHandler, {"path": str(bokehjs_path())}),
    ]


def notebook_extension() -> None:
    """Load Panel and HoloViews into a notebook (Voila or JupyterLab) with every asset inline or local.

    ``comms="ipywidgets"`` is what makes callbacks work under Voila; it works in JupyterLab too,
    so one notebook serves both.
    """
    import holoviews.plotting.bokeh  # noqa: F401  (registers the backend without publishing its JS again)
    import panel as pn

    pn.extension("tabulator", comms="ipywidgets", inline=True)


def server_extension() -> None:
    """Load Panel and HoloViews into a ``panel serve`` process (assets come from that server)."""
    import holoviews.plotting.bokeh  # noqa: F401
    import panel as pn

    pn.extension("tabulator")
