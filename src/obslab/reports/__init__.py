"""Nightly reports executed with papermill."""
