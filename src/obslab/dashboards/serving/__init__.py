"""Serving the dashboards: offline Panel and Bokeh files, Voila, Panel's server and the Jupyter server extension."""
