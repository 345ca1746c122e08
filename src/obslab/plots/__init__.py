"""Figures: one HoloViews function per figure, fed plain data; no Panel, no database session."""
