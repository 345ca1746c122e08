"""Instrument configuration history and the fplane text format."""
