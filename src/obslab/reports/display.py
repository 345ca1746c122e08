"""Figures in a report notebook as plain Bokeh, with BokehJS inline: the HTML opens with no network.

HoloViews' own notebook display wraps figures in Panel, whose styles and scripts a static page would fetch from a
CDN or a server; a report embeds each figure as a Bokeh model (``bokeh.embed.components``) after BokehJS itself,
written once into the page. The nightly figures are Bokeh already; a template's own HoloViews figure is rendered to
Bokeh first (which imports HoloViews' Bokeh plotting, and Panel with it, only then).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any


@functools.cache
def _bokehjs(components: tuple[str, ...]) -> str:
    from bokeh.resources import Resources

    # The code itself only: INLINE also names script files by URL (Panel registers one for its ES modules, which a
    # report never draws), and a file opened on its own would fetch those from wherever it was opened.
    scripts = Resources(mode="inline", components=list(components)).js_raw
    return "".join(f'<script type="text/javascript">{code}</script>' for code in scripts)


def load_bokeh(components: Sequence[str] = ("bokeh",)) -> None:
    """Write BokehJS into the notebook's output, once: its core only by default (1.3 MB, against 3.9 MB with the
    widgets, tables, WebGL and MathJax bundles no report figure uses); a template drawing widgets names them."""
    from IPython.display import HTML, display

    display(HTML(_bokehjs(tuple(components))))


def rehearse() -> None:
    """Pay Bokeh's first-use costs in a warm kernel, showing nothing: BokehJS read from disk, and one small figure
    with the glyphs, annotations and tools the report figures use turned into a script (0.2 s the first time)."""
    import pandas as pd
    from bokeh.embed import components
    from bokeh.models import BoxAnnotation, ColumnDataSource, HoverTool, Legend
    from bokeh.plotting import figure

    _bokehjs(("bokeh",))
    drawn = figure(width=100, height=100, x_axis_type="datetime", tools="xpan,xwheel_zoom,reset")
    frame = pd.DataFrame({"x": pd.to_datetime([0, 1], unit="s", utc=True), "y": [0.0, 1.0]})
    drawn.scatter("x", "y", source=ColumnDataSource(frame), legend_label="a")  # a frame's source loads narwhals
    drawn.line([0, 1], [0, 1])
    drawn.quad(top=[1], bottom=[0], left=[0], right=[1])
    drawn.hbar(y=[0], right=[1], height=0.5)
    drawn.add_layout(BoxAnnotation(left=0, right=1))
    drawn.add_layout(Legend(click_policy="hide"), "right")
    drawn.add_tools(HoverTool(tooltips=[("x", "@x")]))
    components(drawn)


def show(figure: Any) -> None:
    """Show a figure from ``obslab.plots`` (a Bokeh model, or a HoloViews element) as an embedded Bokeh model."""
    from bokeh.embed import components
    from bokeh.model import Model
    from IPython.display import HTML, display

    if not isinstance(figure, Model):
        import holoviews as hv

        from obslab.plots.backend import use_bokeh

        use_bokeh()
        figure = hv.render(figure, backend="bokeh")
    script, div = components(figure)
    display(HTML(f'<div class="obslab-report-figure">{div}</div>{script}'))


__all__ = ["load_bokeh", "rehearse", "show"]
