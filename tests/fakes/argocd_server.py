"""A loopback Argo CD API server: ``GET /api/v1/applications`` as Argo CD answers it.

From Argo CD's ApplicationService.List (swagger ``/api/v1/applications``):
bearer-token auth (401 ``{"error": "invalid session: ...", "code": 16,
"message": ...}`` without a valid one, grpc-gateway's error shape), the
``projects`` (repeated), ``selector`` and ``fields`` query parameters, one
unpaged ``ApplicationList`` (``metadata.resourceVersion``, ``items`` without
``kind``/``apiVersion``), no ETag. Faults are injected per request: a queue
of statuses (429 with ``Retry-After``, 5xx), a body cut off mid-way, an HTML
error page, a slow answer.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    authorization: str | None


@dataclass
class FakeArgoCD:
    tokens: set[str] = field(default_factory=set)
    apps: list[dict] = field(default_factory=list)  # Applications as the CRD holds them
    forbidden_projects: set[str] = field(default_factory=set)  # asking for these gives 403
    statuses: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # next answers: (status, headers)
    truncate: bool = False
    garbage: bool = False
    delay: float = 0.0
    resource_version: int = 1000
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, *apps: dict) -> FakeArgoCD:
        with self._lock:
            self.apps.extend(apps)
            self.resource_version += len(apps)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeArgoCD:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeArgoCD:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- answers

    def answer(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        auth = handler.headers.get("Authorization")
        self.requests.append(Seen(parts.path, query, auth))
        if self.delay:
            time.sleep(self.delay)
        if parts.path != "/api/v1/applications":
            return handler.send_body(404, b"404 page not found\n", "text/plain")
        token = auth.removeprefix("Bearer ") if auth and auth.startswith("Bearer ") else None
        if token not in self.tokens:
            return handler.send_json(401, _error("invalid session: token is expired", 16))
        if self.statuses:
            status, headers = self.statuses.pop(0)
            return handler.send_json(status, _error("too many requests" if status == 429 else "internal error", 14),
                                     headers)
        projects = set(query.get("projects", []) + query.get("project", []))
        if projects & self.forbidden_projects:
            return handler.send_json(403, _error("permission denied: applications, get", 7))
        if self.garbage:
            return handler.send_body(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        with self._lock:
            items = [copy.deepcopy(a) for a in self.apps]
            version = str(self.resource_version)
        items = [a for a in items if (not projects or a["spec"].get("project") in projects)
                 and _selected(a, (query.get("selector") or [""])[0])]
        for item in items:  # items of a List carry no kind/apiVersion
            item.pop("kind", None)
            item.pop("apiVersion", None)
        body = {"metadata": {"resourceVersion": version}, "items": items}
        fields = (query.get("fields") or [""])[0]
        if fields:
            body = _only(body, [f.split(".") for f in fields.split(",") if f])
        data = json.dumps(body).encode()
        if self.truncate:
            return handler.send_truncated(data)
        return handler.send_body(200, data, "application/json")


def _error(message: str, code: int) -> dict:
    return {"error": message, "code": code, "message": message}


def _selected(app: dict, selector: str) -> bool:
    labels = app.get("metadata", {}).get("labels") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def _only(node: object, paths: list[list[str]]) -> object:
    """Keep only the listed dotted paths; "items.x" applies to every item of a list."""
    if not isinstance(node, dict):
        return node
    out: dict = {}
    for key in {p[0] for p in paths if p}:
        if key not in node:
            continue
        rest = [p[1:] for p in paths if p and p[0] == key]
        if any(not r for r in rest):
            out[key] = node[key]
        elif isinstance(node[key], list):
            out[key] = [_only(item, rest) for item in node[key]]
        else:
            out[key] = _only(node[key], rest)
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.fake.answer(self)  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:
        pass

    def send_json(self, code: int, body: dict, headers: dict[str, str] | None = None) -> None:
        self.send_body(code, json.dumps(body).encode(), "application/json", headers)

    def send_body(self, code: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_truncated(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
