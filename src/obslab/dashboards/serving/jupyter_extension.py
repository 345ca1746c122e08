"""A Jupyter server extension serving Panel's and Bokeh's files, so dashboards inline in JupyterLab stay offline."""

from __future__ import annotations

from typing import Any

from obslab.dashboards.serving.resources import offline_routes


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "obslab.dashboards.serving.jupyter_extension"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Add the offline routes ahead of every other rule.

    In a notebook, Panel asks for its files relative to the page, e.g. /lab/tree/dashboards/_obslab/...,
    which JupyterLab's own /lab/tree/(.*) rule would answer with its HTML page.  Tornado tries rules
    in order and adds each extension's rules after the ones before it (extensions load alphabetically,
    jupyterlab first), so ours are moved to the front.
    """
    web_app = serverapp.web_app
    rules = web_app.default_router.rules
    before = set(map(id, rules))
    web_app.add_handlers(".*$", offline_routes(web_app.settings["base_url"]))
    ours = [rule for rule in rules if id(rule) not in before]
    rules[:] = ours + [rule for rule in rules if id(rule) in before]
    serverapp.log.info("obslab: Panel and Bokeh files served locally for dashboards in notebooks")
