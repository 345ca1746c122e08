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
        """A read-only table showing the state's DataFrame param ``name``, following it as it changes."""
        return data_table(self.state.param[name], **options)
