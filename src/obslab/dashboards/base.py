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

    def table_of(self, name: str, *, selected: str | None = None, **options: Any) -> pn.widgets.Tabulator:
        """A read-only table showing the state's DataFrame param ``name``, following it as it changes.

        ``selected`` names the state's param holding the position of the selected row in that frame (None: no row
        of it is selected); the table highlights that row and no other, whatever the rows were before.  When the
        table is empty it says ``state.empty_text(name)``.

        One explicit watcher rather than ``Tabulator(value=state.param.rows)``: with the bound reference, a
        table inline in JupyterLab once kept its old rows after the state (and the status line) had changed,
        while the watcher has held over every earlier CI run.
        """
        table = data_table(getattr(self.state, name), empty=self.state.empty_text(name), **options)

        def highlight() -> list[int]:
            row = getattr(self.state, selected) if selected else None
            return [] if row is None else [row]

        def follow(*events: param.parameterized.Event) -> None:
            # Rows and selection in one update: a new frame with the old selection could point past its end.
            update: dict[str, Any] = {"selection": highlight()}
            if any(event.name == name for event in events):
                update["value"] = getattr(self.state, name)
            table.param.update(**update)

        self.state.param.watch(follow, [name, selected] if selected else [name])
        table.selection = highlight()
        return table
