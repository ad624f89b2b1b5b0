"""A free loopback port for a server a test or benchmark starts (Streamlit, PostgreSQL, Redis)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now; the OS may hand it out again, so start the server at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
