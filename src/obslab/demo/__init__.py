"""A deterministic demo observatory: people, catalog, change requests, configurations, requests, nights, roster."""

from obslab.demo.loader import DemoSummary, load_demo

__all__ = ["DemoSummary", "load_demo"]
