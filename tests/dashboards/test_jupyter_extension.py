"""obslab's Jupyter server extension: Panel's and Bokeh's files win over JupyterLab's own routes, and it is enabled."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import tornado.web
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from obslab.dashboards.serving import jupyter_extension
from obslab.dashboards.serving.resources import panel_dist_dir

ROOT = Path(__file__).resolve().parents[2]


class LabPage(tornado.web.RequestHandler):
    """Stands in for JupyterLab's /lab/tree/(.*) rule, which answers any path below it with its HTML page."""


def handler_for(app: tornado.web.Application, path: str) -> type:
    request = HTTPServerRequest(
        start_line=RequestStartLine("GET", path, "HTTP/1.1"), headers=HTTPHeaders({"Host": "127.0.0.1"})
    )
    return app.find_handler(request).handler_class


def test_files_below_a_notebook_page_are_served_from_the_installed_packages() -> None:
    app = tornado.web.Application(base_url="/user/ana/")
    app.add_handlers(".*$", [(r"/user/ana/lab/tree/(.*)", LabPage)])  # an extension loaded earlier (jupyterlab)
    jupyter_extension._load_jupyter_server_extension(SimpleNamespace(web_app=app, log=logging.getLogger("test")))

    below_notebook = "/user/ana/lab/tree/dashboards/_obslab/panel/1.9.4/dist/bundled/datatabulator/x.js"
    assert handler_for(app, below_notebook) is tornado.web.StaticFileHandler
    assert handler_for(app, "/user/ana/lab/tree/_obslab/bokeh/js/bokeh.min.js") is tornado.web.StaticFileHandler
    assert handler_for(app, "/user/ana/lab/tree/dashboards/catalog.ipynb") is LabPage
    assert (panel_dist_dir() / "panel.min.js").is_file()


def test_the_extension_is_enabled_by_the_shipped_config_and_by_bootstrap() -> None:
    shipped = ROOT / "jupyter-config" / "jupyter_server_config.d" / "obslab.json"
    enabled = json.loads(shipped.read_text())["ServerApp"]["jpserver_extensions"]
    assert enabled == {jupyter_extension.__name__: True}
    assert jupyter_extension._jupyter_server_extension_points() == [{"module": jupyter_extension.__name__}]
    assert "jupyter-config/jupyter_server_config.d/obslab.json" in (ROOT / "pyproject.toml").read_text()
    assert str(shipped.relative_to(ROOT)) in (ROOT / "scripts" / "bootstrap").read_text()
