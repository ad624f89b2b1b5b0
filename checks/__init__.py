"""The check library: pure functions from evidence to findings (no I/O)."""
