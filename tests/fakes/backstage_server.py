"""A Backstage-catalog-shaped HTTP server for tests: real sockets on loopback, a thread.

Written from the catalog backend's OpenAPI spec
(plugins/catalog-backend/src/schema/openapi.yaml):

* ``GET /api/catalog/entities/by-query``: ``filter`` (repeatable; sets OR-ed,
  comma-separated conditions AND-ed, case-insensitive), ``fields``
  (comma-separated simplified JSON paths), ``limit`` (default 20),
  ``cursor`` (opaque; when given, ``filter`` is ignored: the cursor carries
  the query). Answers ``{items, totalItems, pageInfo: {nextCursor?, prevCursor?}}``.
* ``GET /api/catalog/entities``: the older list: a JSON array, ``offset`` /
  ``limit`` paging, same ``filter`` and ``fields``.
* ``POST /api/catalog/entities/by-refs``: ``{"entityRefs": [...], "fields": [...]}``
  -> ``{"items": [entity | null, ...]}`` in the order asked.

Errors are Backstage's error body ``{"error": {"name", "message"}, "request":
{"method", "url"}, "response": {"statusCode"}}``. Authentication: when
``token`` is set, a request without ``Authorization: Bearer <token>`` gets 401.
Faults are queued per endpoint (``"by-query"``, ``"entities"``, ``"by-refs"``):
a status (with ``Retry-After``), a body cut off mid-JSON, or a pause.
``legacy_only`` makes by-query answer 404 (a backend from before it existed).
Every request is recorded in ``requests``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/api/catalog"


@dataclass
class Fault:
    status: int = 200
    retry_after: str | None = None
    truncate: bool = False  # 200 with a body cut off in the middle (Content-Length honest)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    endpoint: str
    query: dict[str, list[str]]
    authorization: str | None
    body: dict | None = None


def entity(kind: str, name: str, *, namespace: str = "default", spec: dict | None = None,
           annotations: dict | None = None, title: str | None = None) -> dict:
    metadata: dict = {"namespace": namespace, "name": name, "annotations": annotations or {}}
    if title:
        metadata["title"] = title
    e = {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec or {},
         "relations": [{"type": "ownedBy", "targetRef": "group:default/x"}]}
    stamp(e)
    return e


def stamp(e: dict) -> None:
    """Give an entity the uid and etag the catalog would (the etag changes with its content)."""
    meta = e["metadata"]
    meta.pop("etag", None)
    digest = hashlib.sha1(json.dumps(e, sort_keys=True).encode()).hexdigest()
    meta["etag"] = digest[:20]
    meta.setdefault("uid", hashlib.md5(ref_of(e).encode()).hexdigest())


def ref_of(e: dict) -> str:
    m = e["metadata"]
    return f"{e['kind'].lower()}:{m.get('namespace', 'default').lower()}/{m['name'].lower()}"


def prune(e: dict, fields: list[str]) -> dict:
    """Keep only the given simplified JSON paths (the catalog's `fields`)."""
    if not fields:
        return e
    out: dict = {}
    for path in fields:
        parts = path.split(".")
        src, dst = e, out
        for i, part in enumerate(parts):
            if not isinstance(src, dict) or part not in src:
                break
            if i == len(parts) - 1:
                dst[part] = src[part]
            else:
                src = src[part]
                dst = dst.setdefault(part, {})
    return out


def _value(e: dict, key: str) -> object:
    node: object = e
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def matches(e: dict, filters: list[str]) -> bool:
    if not filters:
        return True
    for one_set in filters:
        ok = True
        for condition in one_set.split(","):
            key, _, want = condition.partition("=")
            got = _value(e, key.strip())
            if got is None or (want and str(got).lower() != want.strip().lower()):
                ok = False
                break
        if ok:
            return True
    return False


@dataclass
class FakeBackstage:
    entities: list[dict] = field(default_factory=list)
    token: str | None = None
    legacy_only: bool = False
    no_by_refs: bool = False
    default_limit: int = 20
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    url: str = ""
    _version: int = 0
    _cache: dict = field(default_factory=dict)  # one query's sorted matches, so 10,000 entities page fast

    def fail(self, endpoint: str, *faults: Fault) -> None:
        self.faults.setdefault(endpoint, []).extend(faults)

    def count(self, endpoint: str) -> int:
        return sum(1 for r in self.requests if r.endpoint == endpoint)

    def update(self, name: str, **spec: object) -> None:
        """Change one entity's spec, as a catalog refresh would (its etag changes)."""
        for e in self.entities:
            if e["metadata"]["name"] == name:
                e["spec"].update(spec)
                stamp(e)
        self._version += 1

    def _matching(self, filters: list[str]) -> list[dict]:
        key = (tuple(filters), id(self.entities), len(self.entities), self._version)
        if key not in self._cache:
            self._cache = {key: sorted((e for e in self.entities if matches(e, filters)), key=lambda e: e["metadata"]["uid"])}
        return self._cache[key]

    # --------------------------------------------------------------- serving

    def __enter__(self) -> FakeBackstage:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(h.path)
        query = parse_qs(split.query, keep_blank_values=True)
        body = None
        if method == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            try:
                body = json.loads(h.rfile.read(length) or b"{}")
            except ValueError:
                body = None
        path = split.path
        endpoint = {f"{PREFIX}/entities/by-query": "by-query", f"{PREFIX}/entities": "entities",
                    f"{PREFIX}/entities/by-refs": "by-refs"}.get(path, path)
        self.requests.append(Seen(method, endpoint, query, h.headers.get("Authorization"), body))
        queued = self.faults.get(endpoint)
        fault = queued.pop(0) if queued else None
        if fault and fault.delay:
            time.sleep(fault.delay)
        if self.token is not None and h.headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(h, method, 401, "AuthenticationError", "Missing or invalid credentials")
        if fault and fault.status != 200:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            name = {429: "TooManyRequests", 403: "NotAllowedError"}.get(fault.status, "ServiceUnavailableError")
            return self._error(h, method, fault.status, name, f"injected {fault.status}", headers)
        if (endpoint == "by-query" and self.legacy_only) or (endpoint == "by-refs" and self.no_by_refs) \
                or endpoint not in ("by-query", "entities", "by-refs") or (method == "POST") != (endpoint == "by-refs"):
            return self._error(h, method, 404, "NotFoundError", f"Not found: {path}")
        if endpoint == "by-query":
            payload = self._by_query(query)
        elif endpoint == "entities":
            payload = self._legacy(query)
        else:
            payload = self._by_refs(body or {})
        self._send(h, 200, json.dumps(payload).encode(), truncate=bool(fault and fault.truncate))

    def _fields(self, query: dict) -> list[str]:
        return [f for value in query.get("fields", []) for f in value.split(",") if f]

    def _by_query(self, query: dict) -> dict:
        if "cursor" in query:
            state = json.loads(base64.urlsafe_b64decode(query["cursor"][0]))
            filters, offset = state["filters"], state["offset"]
        else:
            filters, offset = query.get("filter", []), int(query.get("offset", ["0"])[0])
        limit = int(query.get("limit", [str(self.default_limit)])[0])
        wanted = self._matching(filters)
        page = wanted[offset:offset + limit]
        info: dict = {}
        if offset + limit < len(wanted):
            info["nextCursor"] = base64.urlsafe_b64encode(json.dumps({"filters": filters, "offset": offset + limit}).encode()).decode()
        if offset > 0:
            info["prevCursor"] = base64.urlsafe_b64encode(json.dumps({"filters": filters, "offset": max(0, offset - limit)}).encode()).decode()
        fields = self._fields(query)
        return {"items": [prune(e, fields) for e in page], "totalItems": len(wanted), "pageInfo": info}

    def _legacy(self, query: dict) -> list:
        filters = query.get("filter", [])
        wanted = self._matching(filters)
        offset = int(query.get("offset", ["0"])[0])
        limit = int(query["limit"][0]) if "limit" in query else len(wanted)
        fields = self._fields(query)
        return [prune(e, fields) for e in wanted[offset:offset + limit]]

    def _by_refs(self, body: dict) -> dict:
        by_ref = {ref_of(e): e for e in self.entities}
        fields = body.get("fields") or []
        return {"items": [prune(by_ref[r.lower()], fields) if r.lower() in by_ref else None
                          for r in body.get("entityRefs", [])]}

    def _error(self, h: BaseHTTPRequestHandler, method: str, status: int, name: str, message: str,
               headers: dict | None = None) -> None:
        body = {"error": {"name": name, "message": message}, "request": {"method": method, "url": h.path},
                "response": {"statusCode": status}}
        self._send(h, status, json.dumps(body).encode(), headers=headers)

    def _send(self, h: BaseHTTPRequestHandler, status: int, data: bytes, *, truncate: bool = False,
              headers: dict | None = None) -> None:
        if truncate:
            data = data[: max(1, len(data) // 2)]
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(data)


def demo_catalog(components: int = 3) -> list[dict]:
    """Groups payments (child of engineering) and platform, a System, and `components` Components."""
    out = [
        entity("Group", "engineering", spec={"type": "department", "profile": {"displayName": "Engineering"}}),
        entity("Group", "payments", spec={"type": "team", "parent": "engineering",
                                          "profile": {"displayName": "Payments Team"}}),
        entity("Group", "platform", spec={"type": "team", "parent": "engineering"}),
        entity("System", "checkout", spec={"owner": "group:default/payments"}),
        entity("User", "alice", spec={"memberOf": ["payments"]}),
    ]
    for i in range(components):
        name = f"svc-{i}"
        out.append(entity("Component", name, spec={
            "type": "service", "lifecycle": "production", "owner": "group:default/payments" if i % 2 == 0 else "platform",
            "system": "checkout",
        }, annotations={"github.com/project-slug": f"acme/{name}", "backstage.io/kubernetes-id": name,
                        "pagerduty.com/service-id": f"P{i:05d}"}))
    return out
