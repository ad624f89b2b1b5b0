"""A loopback receiver for notifications: Slack, Teams and a generic webhook on one real HTTP server.

Answers as the real receivers do (from their public docs, see docs/notifications.md):

* Slack incoming webhook ``POST /services/T.../B.../secret``: ``200 ok``
  (text/plain); a body with neither ``text`` nor ``blocks`` is ``400
  invalid_payload``/``no_text``; a rate limit is ``429`` with ``Retry-After``.
* Teams Workflows webhook ``POST /workflows/...``: ``202 Accepted``, empty
  body, for a ``{"type": "message", "attachments": [Adaptive Card]}``; a
  classic Office 365 connector ``POST /webhookb2/...``: ``200 1`` for a
  MessageCard. Anything else: ``400``.
* Generic webhook (any other path): ``200 {"ok": true}``; when the fake holds
  a ``secret``, a request whose ``X-Scorecard-Signature-256`` is missing or
  wrong is ``401``.

Faults are queued per path and used once each, in order: a status with
headers and body, or a delay longer than the client's timeout.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Fault:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    delay_s: float = 0.0  # before answering: longer than the client's timeout is a timeout


@dataclass
class FakeReceiver:
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    attempts: list[str] = field(default_factory=list)  # every request's path, failed ones too

    def __post_init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler, fake=self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, path: str, *faults: Fault) -> None:
        self.faults.setdefault(path, []).extend(faults)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def answer(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        path = handler.path
        with self._lock:
            self.attempts.append(path)
            fault = self.faults.get(path, []).pop(0) if self.faults.get(path) else None
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            handler.send(fault.status, fault.body.encode(), "text/plain", fault.headers)
            return
        try:
            doc = json.loads(body)
        except ValueError:
            handler.send(400, b"invalid_payload", "text/plain")
            return
        if path.startswith("/services/"):
            if not isinstance(doc, dict) or not (doc.get("text") or doc.get("blocks")):
                handler.send(400, b"no_text", "text/plain")
                return
            status, reply, kind = 200, b"ok", "text/plain"
        elif path.startswith("/workflows/"):
            cards = [a for a in doc.get("attachments", []) if a.get("contentType") ==
                     "application/vnd.microsoft.card.adaptive"] if isinstance(doc, dict) else []
            if doc.get("type") != "message" or not cards:
                handler.send(400, b'{"error":{"code":"InvalidRequestContent"}}', "application/json")
                return
            status, reply, kind = 202, b"", "text/plain"
        elif path.startswith("/webhookb2/"):
            if doc.get("@type") != "MessageCard":
                handler.send(400, b"Summary or Text is required.", "text/plain")
                return
            status, reply, kind = 200, b"1", "text/plain"
        else:
            if self.secret is not None:
                want = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(handler.headers.get("X-Scorecard-Signature-256", ""), want):
                    handler.send(401, b'{"error":"bad signature"}', "application/json")
                    return
            status, reply, kind = 200, b'{"ok":true}', "application/json"
        with self._lock:
            self.received.append(Received(path, {k.lower(): v for k, v in handler.headers.items()}, body))
        handler.send(status, reply, kind)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, *, fake: FakeReceiver) -> None:
        super().__init__(address, handler)
        self.fake = fake

    def handle_error(self, request, client_address) -> None:
        pass  # a client that timed out and hung up is expected in the slow-receiver test


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.server.fake.answer(self)

    def send(self, code: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
