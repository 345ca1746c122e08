"""Figures in a report notebook as plain Bokeh, with BokehJS inline: the HTML opens with no network.

HoloViews' own notebook display wraps figures in Panel, whose styles and scripts a static page would fetch from a
CDN or a server; a report renders each figure to a Bokeh model and embeds it (``bokeh.embed.components``) after
BokehJS itself, written once into the page.
"""

from __future__ import annotations

from typing import Any


def load_bokeh() -> None:
    """Write BokehJS into the notebook's output, once, and draw HoloViews figures with Bokeh."""
    from bokeh.resources import INLINE
    from IPython.display import HTML, display

    from obslab.plots.backend import use_bokeh

    use_bokeh()
    # The code itself only: INLINE also names script files by URL (Panel registers one for its ES modules, which a
    # report never draws), and a file opened on its own would fetch those from wherever it was opened.
    display(HTML("".join(f'<script type="text/javascript">{code}</script>' for code in INLINE.js_raw)))


def show(figure: Any) -> None:
    """Show a HoloViews figure from ``obslab.plots`` as an embedded Bokeh model."""
    import holoviews as hv
    from bokeh.embed import components
    from IPython.display import HTML, display

    script, div = components(hv.render(figure, backend="bokeh"))
    display(HTML(f'<div class="obslab-report-figure">{div}</div>{script}'))


__all__ = ["load_bokeh", "show"]
