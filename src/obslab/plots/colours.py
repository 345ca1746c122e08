"""Colours by state or status, shared by the figures and the dashboards' badges."""

from __future__ import annotations

#: Badge colours by state or status; anything else is grey.
BADGE_COLOURS = {
    "signed": "#1a7f37",
    "complete": "#1a7f37",
    "approved": "#1a7f37",
    "observed": "#1a7f37",
    "done": "#1a7f37",
    "pending": "#9a6700",
    "open": "#9a6700",
    "scheduled": "#0969da",
    "unobserved": "#57606a",
    "untriggered": "#8250df",
    "triggered": "#bf3989",
    "not_required": "#6e7781",
    "superseded": "#6e7781",
    "archived": "#6e7781",
    "discarded": "#cf222e",
    "canceled": "#cf222e",
    "error": "#cf222e",
}
#: Anything without a colour of its own.
OTHER_COLOUR = "#6e7781"
STATUS_ORDER = ("unobserved", "scheduled", "untriggered", "triggered", "observed", "archived", "canceled")
