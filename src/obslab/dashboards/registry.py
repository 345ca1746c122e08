"""The list of dashboards: one entry each, used for navigation, the served notebooks and `panel serve`."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

#: Set by `obslab serve` so pages link to each other the way the server names them.
SERVER_KIND_VARIABLE = "OBSLAB_DASHBOARD_SERVER"


@dataclass(frozen=True)
class DashboardEntry:
    """One dashboard: its URL slug, title, one-line description and Viewer class ("module:Class")."""

    slug: str
    title: str
    description: str
    viewer: str

    @property
    def viewer_module(self) -> str:
        return self.viewer.partition(":")[0]

    @property
    def viewer_class(self) -> str:
        return self.viewer.partition(":")[2]

    def load_viewer(self) -> type[Any]:
        """Import and return the Viewer class."""
        return getattr(importlib.import_module(self.viewer_module), self.viewer_class)

    def notebook_cells(self) -> list[str]:
        """The three cells of this dashboard's Voila notebook: extension, import, display."""
        return [
            "from obslab.dashboards.serving.resources import notebook_extension\n\nnotebook_extension()",
            f"from {self.viewer_module} import {self.viewer_class}",
            f"{self.viewer_class}()",
        ]


DASHBOARDS: tuple[DashboardEntry, ...] = (
    DashboardEntry(
        slug="catalog",
        title="Catalog",
        description=("Observations: filter, sort, cone search, sky plot; parameters, sign-off state and history."),
        viewer="obslab.dashboards.catalog:CatalogBrowser",
    ),
    DashboardEntry(
        slug="change",
        title="Change request",
        description=(
            "Request a change to one observation: its parameters as a form, checked as you "
            "type, reviewed before it is submitted."
        ),
        viewer="obslab.dashboards.editor:ChangeEditor",
    ),
    DashboardEntry(
        slug="signoff",
        title="Sign-off",
        description=(
            "Open change requests: every area's state, notes, and the sign-offs, "
            "verification and approval that are yours."
        ),
        viewer="obslab.dashboards.signoff:SignoffBoard",
    ),
    DashboardEntry(
        slug="express",
        title="Express",
        description=(
            "Approve a list of observations for flight: each obsid's status first, then the approvable ones together."
        ),
        viewer="obslab.dashboards.express:ExpressApproval",
    ),
    DashboardEntry(
        slug="schedule",
        title="Schedule",
        description=(
            "Tonight's plan: blocks over the twilight, altitudes, why each request is left "
            "out; re-plan, what-if, alerts."
        ),
        viewer="obslab.dashboards.schedule:NightSchedule",
    ),
    DashboardEntry(
        slug="mine",
        title="My actions",
        description="What you submitted, signed and verified in the undo window, each with its undo.",
        viewer="obslab.dashboards.actions:MyActions",
    ),
    DashboardEntry(
        slug="duty",
        title="Duty roster",
        description=("Who is on duty week by week: sign up, split, merge or hand back slots, never leaving a gap."),
        viewer="obslab.dashboards.duty:DutyRoster",
    ),
    DashboardEntry(
        slug="runs",
        title="Runs",
        description=(
            "Observing nights and their exposures by program: previews, metrics, every pipeline stage with its "
            "provenance, force redo."
        ),
        viewer="obslab.dashboards.runs:RunBrowser",
    ),
    DashboardEntry(
        slug="trends",
        title="Trending",
        description=(
            "Pipeline metrics against time: alarms marked, nightly medians, configuration changes; "
            "the alarm log with acknowledge."
        ),
        viewer="obslab.dashboards.trending:TrendingView",
    ),
    DashboardEntry(
        slug="reports",
        title="Reports",
        description=(
            "Nightly reports: the archive by template, night and state, a report read in place, run now with progress."
        ),
        viewer="obslab.dashboards.reports:ReportsView",
    ),
    DashboardEntry(
        slug="configs",
        title="Configurations",
        description=(
            "Instrument configurations on both time axes: what was valid then as known then, corrections, "
            "diffs, the focal plane."
        ),
        viewer="obslab.dashboards.configs:ConfigsView",
    ),
)


def link_to(slug: str | None) -> str | None:
    """A link to a dashboard (None = the index) relative to the current page, or None when inline.

    Relative links keep working under any base URL (a JupyterHub prefix, a reverse proxy).
    """
    kind = os.environ.get(SERVER_KIND_VARIABLE, "")
    if kind == "voila":  # pages are /voila/render/<slug>.ipynb, the index is /voila/tree
        return f"{slug}.ipynb" if slug else "../tree"
    if kind == "panel":  # pages are /<slug>, the index is /
        return slug if slug else "./"
    return None
