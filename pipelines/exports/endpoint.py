"""`scorecard serve-metrics`: ``GET /metrics`` for Prometheus, from the published snapshot.

A stdlib HTTP server (one thread per request). The text is rendered once
per published version of the snapshot and kept: each scrape only compares
the served file's identity (inode, size, mtime, which ``os.replace`` of a
publish changes) with the one the cached text came from. So a scrape costs
a ``stat``, and a new publish shows at the next scrape without a restart.

Bound to 127.0.0.1 unless told otherwise: the figures name teams and
services, which an operator exposes on purpose (``--host 0.0.0.0``).
"""

from __future__ import annotations

import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipelines import secrets
from pipelines.exports import DEFAULT_PORT
from pipelines.exports.openmetrics import CONTENT_TYPE, metrics_text

log = logging.getLogger(__name__)


class MetricsSource:
    """The rendered metrics of the published file, re-rendered when the file is replaced."""

    def __init__(self, serving: Path) -> None:
        self.serving = serving
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._text: str | None = None

    def _identity(self) -> tuple | None:
        try:
            st = os.stat(self.serving)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def current(self) -> str:
        """The metrics text; raises with a readable reason when there is nothing to serve."""
        with self._lock:  # one render per new version, however many scrapes arrive together
            key = self._identity()
            if key is None:
                raise LookupError(f"no published snapshot at {self.serving} yet: run `scorecard run` first")
            if key != self._key:
                self._text = metrics_text(self.serving)
                self._key = key
            return self._text


def _handler(source: MetricsSource) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "scorecard-metrics"
        sys_version = ""

        def do_GET(self) -> None:  # the name http.server calls
            path = self.path.split("?", 1)[0]
            if path != "/metrics":
                self._send(404, "text/plain; charset=utf-8", "not found: the metrics are at /metrics\n")
                return
            try:
                body = source.current()
            except LookupError as exc:
                self._send(503, "text/plain; charset=utf-8", f"{exc}\n")
                return
            except Exception as exc:  # noqa: BLE001 - a scrape gets a reason, the server keeps serving
                reason = secrets.redact(f"could not read the published snapshot {source.serving}: "
                                        f"{type(exc).__name__}: {exc}")
                log.warning("%s", reason)
                self._send(503, "text/plain; charset=utf-8", reason + "\n")
                return
            self._send(200, CONTENT_TYPE, body)

        def _send(self, status: int, content_type: str, text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # http.server's signature
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


def make_server(serving: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """A server for ``GET /metrics`` (port 0 picks a free one: ``server.server_address``)."""
    server = ThreadingHTTPServer((host, port), _handler(MetricsSource(serving)))
    server.daemon_threads = True
    return server
