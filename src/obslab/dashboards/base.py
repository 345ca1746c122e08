"""The base of every dashboard page: a Viewer that builds its state when none is given and binds tables to it."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from obslab.dashboards.context import DashboardContext
from obslab.dashboards.state.base import DashboardState
from obslab.dashboards.widgets import data_table


class PageViewer(pn.viewable.Viewer):
    """A thin view over one state; a subclass narrows ``state`` to its state class, which is built on demand."""

    state = param.ClassSelector(class_=DashboardState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        if params.get("state") is None:  # not setdefault: building a default state reads the configured database
            params["state"] = self.param["state"].class_(context)
        super().__init__(**params)

    def table_of(self, name: str, **options: Any) -> pn.widgets.Tabulator:
        """A read-only table showing the state's DataFrame param ``name``, following it as it changes.

        One explicit watcher rather than ``Tabulator(value=state.param.rows)``: with the bound reference, a
        table inline in JupyterLab once kept its old rows after the state (and the status line) had changed,
        while the watcher has held over every earlier CI run.
        """
        table = data_table(getattr(self.state, name), **options)
        self.state.param.watch(lambda event: setattr(table, "value", event.new), name)
        return table
