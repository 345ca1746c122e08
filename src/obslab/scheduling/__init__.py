"""Scheduling: night geometry, observing requests, the planner and alerts."""
