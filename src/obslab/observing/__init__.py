"""Observing: nights, exposures, frame files, pipelines, metrics and trending."""
