"""HoloViews' Bokeh backend, loaded when a figure is made: it imports Panel, so never when a module is imported."""

from __future__ import annotations


def use_bokeh() -> None:
    """Register HoloViews' Bokeh backend (once), so the figures' Bokeh options work outside a dashboard too."""
    import holoviews.plotting.bokeh  # noqa: F401
