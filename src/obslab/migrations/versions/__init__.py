"""Migration versions, oldest first by down_revision chain."""
