"""A deterministic demo observatory: people, catalog, changes, configurations, requests, nights, roster."""

from obslab.demo.loader import DemoSummary, holds_other_data, load_demo
from obslab.demo.reduction import reduce_demo_nights

__all__ = ["DemoSummary", "holds_other_data", "load_demo", "reduce_demo_nights"]
