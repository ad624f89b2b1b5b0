"""Fakes of external systems, served over real loopback sockets."""
