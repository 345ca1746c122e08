"""HoloViews' Bokeh backend, loaded when a figure is made: it imports Panel, so never when a module is imported."""

from __future__ import annotations


def use_bokeh() -> None:
    """Register HoloViews' Bokeh backend (once), so the figures' Bokeh options work outside a dashboard too."""
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401

    # What hv.extension would do, without its notebook display hooks: until it is set, hv.opts.Overlay and the
    # other option builders do not exist in a plain process (a report's kernel, a script, a test).
    hv.Store.set_current_backend("bokeh")
