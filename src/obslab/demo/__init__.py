"""A deterministic demo observatory: people, catalog, change requests, configurations, requests, nights, roster."""

from obslab.demo.loader import DemoSummary, holds_other_data, load_demo

__all__ = ["DemoSummary", "holds_other_data", "load_demo"]
