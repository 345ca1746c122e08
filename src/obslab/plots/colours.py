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
    "failed": "#cf222e",
}
#: Anything without a colour of its own.
OTHER_COLOUR = "#6e7781"
STATUS_ORDER = ("unobserved", "scheduled", "untriggered", "triggered", "observed", "archived", "canceled")
#: One colour per target of a night (its blocks, curve and name): the first 24 of colorcet's glasbey_dark (the
#: most distinguishable first) of relative luminance 0.03 to 0.25, so each reads as a line or as text on the sky.
TARGET_COLOURS = tuple(
    "#d60000 #8c3bff #018700 #6b004f #573b00 #005659 #0000dd #a17569 #bf03b8 #645472 #790000 #0774d8 "
    "#004b00 #8e7b01 #f2007b #5901a3 #a03a52 #9e4b00 #546744 #5e7b87 #60383b #2f5282 #c4668e #008069".split()
)


def ink_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (#rrggbb), by its relative luminance."""
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if luminance > 0.179 else "#ffffff"
