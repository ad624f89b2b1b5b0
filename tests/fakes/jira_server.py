"""A Jira-shaped HTTP server for tests: real sockets on loopback, a thread.

Written from Atlassian's REST API reference (docs/jira.md lists the pages):

* Cloud: ``GET``/``POST /rest/api/3/search/jql`` answers ``{"issues",
  "nextPageToken", "isLast"}`` with the token absent on the last page, and only
  the ``fields`` asked for (none asked: ``id`` and ``key`` only); the old
  ``/rest/api/3/search`` answers ``{"startAt", "maxResults", "total",
  "issues"}`` unless ``legacy_removed`` (then 410, as on sites where it is gone).
  Basic auth with email and API token.
* Data Center: ``GET``/``POST /rest/api/2/search`` with startAt paging and a
  personal access token as ``Authorization: Bearer``.

JQL is parsed only as far as the source uses it: ``project = "KEY"``,
``updated >= "yyyy-MM-dd HH:mm"`` (read as UTC here), ``updated >= -Nd``,
``ORDER BY``, and parenthesised extra clauses listed in ``accepted_jql``;
anything else is a 400 with ``errorMessages`` as Jira answers bad JQL. An
account without Browse Projects gets Jira's 400 "does not exist for the field
'project'" (Jira does not say 403 for that). Faults are queued per request:
a status with headers and body, a truncated body, an HTML page.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CLOUD_PATHS = ("/rest/api/3/search/jql", "/rest/api/3/search")
DC_PATH = "/rest/api/2/search"
_UPDATED_AT = re.compile(r'^updated\s*>=\s*"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})"$')
_UPDATED_DAYS = re.compile(r"^updated\s*>=\s*-(\d+)d$")
_PROJECT = re.compile(r'^project\s*=\s*"?([A-Z][A-Z0-9_]*)"?$')


@dataclass
class Seen:
    method: str
    path: str
    jql: str | None
    params: dict  # query parameters or the POST body, without the JQL
    scheme: str | None  # "Basic" / "Bearer", never the credential


@dataclass
class Fault:
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: object = None  # JSON body; None: Jira's generic error shape
    truncate: bool = False  # a 200 whose body stops half way
    html: bool = False  # a 200 login page instead of JSON


def issue(key: str, created: str, *, updated: str | None = None, resolved: str | None = None,
          issue_type: str = "Task", labels: tuple[str, ...] = (), status: str = "indeterminate",
          **custom: object) -> dict:
    """An issue as the search API returns it (only what the tests and the source read)."""
    fields = {
        "issuetype": {"id": "10001", "name": issue_type, "subtask": False},
        "labels": list(labels),
        "status": {"name": {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}[status],
                   "statusCategory": {"id": 2, "key": status, "name": status}},
        "created": created, "updated": updated or resolved or created, "resolutiondate": resolved,
        "summary": f"request {key}", "reporter": {"accountId": "5b10a2844c20165700ede21g", "displayName": "A Person",
                                                  "emailAddress": "a.person@example.com", "name": "aperson"},
        "project": {"key": key.split("-")[0]},
        **custom,
    }
    return {"id": str(abs(hash(key)) % 100000), "key": key, "self": f"/rest/api/3/issue/{key}", "fields": fields}


@dataclass
class FakeJira:
    deployment: str = "cloud"  # or "data_center"
    email: str = "platform-bot@example.com"
    token: str = "ATATT3xFfGF0-fake-api-token-0123456789"
    issues: list[dict] = field(default_factory=list)
    browse: bool = True  # the account has Browse Projects on the project
    legacy_removed: bool = False
    accepted_jql: set[str] = field(default_factory=set)  # extra clauses (with their parentheses) to accept
    max_page: int = 50  # the server's own cap on maxResults
    faults: list[Fault] = field(default_factory=list)  # consumed one per search request
    requests: list[Seen] = field(default_factory=list)
    context_path: str = ""  # Data Center served under e.g. /jira

    def __post_init__(self) -> None:
        self._server: _Server | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.context_path}"

    def start(self) -> FakeJira:
        self._server = _Server(("127.0.0.1", 0), _Handler, fake=self)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeJira:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------- answers

    def _authorised(self, header: str) -> bool:
        scheme, _, credential = header.partition(" ")
        if self.deployment == "cloud":
            return scheme == "Basic" and credential == base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        return scheme == "Bearer" and credential == self.token

    def answer(self, handler: _Handler, method: str) -> None:
        url = urlsplit(handler.path)
        path = url.path
        if self.context_path:  # outside the context path nothing is Jira's
            path = path[len(self.context_path):] if path.startswith(self.context_path + "/") else "/not-jira" + path
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            try:
                params = json.loads(handler.rfile.read(length) or b"{}")
            except ValueError:
                return handler.send_json(400, {"errorMessages": ["Invalid request payload."], "errors": {}})
        else:
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        jql = params.pop("jql", None)
        header = handler.headers.get("Authorization") or ""
        with self._lock:
            self.requests.append(Seen(method, path, jql, params, header.partition(" ")[0] or None))
        served = CLOUD_PATHS if self.deployment == "cloud" else (DC_PATH,)
        if path not in served:
            return handler.send_json(404, {"errorMessages": ["Not Found"], "errors": {}})
        if not self._authorised(header):
            message = "You are not authenticated. Authentication required to perform this operation."
            return handler.send_json(401, {"errorMessages": [message], "errors": {}})
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            return _send_fault(handler, fault)
        if path == "/rest/api/3/search" and self.legacy_removed:
            message = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
            return handler.send_json(410, {"errorMessages": [message], "errors": {}})
        try:
            found = self._search(jql or "")
        except ValueError as exc:
            return handler.send_json(400, {"errorMessages": [str(exc)], "errors": {}})
        fields = params.get("fields")
        wanted = fields if isinstance(fields, list) else (fields.split(",") if fields else [])
        size = min(int(params.get("maxResults") or 50), self.max_page)
        if path.endswith("/jql"):
            start = int(base64.urlsafe_b64decode(params["nextPageToken"]).decode()) if params.get("nextPageToken") else 0
            page = found[start:start + size]
            body: dict = {"issues": [_only(i, wanted) for i in page]}
            if start + size < len(found):
                body["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
            else:
                body["isLast"] = True
        else:
            start = int(params.get("startAt") or 0)
            body = {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(found),
                    "issues": [_only(i, wanted) for i in found[start:start + size]]}
        handler.send_json(200, body)

    def _search(self, jql: str) -> list[dict]:
        text = re.split(r"\s+ORDER\s+BY\s+", jql.strip(), flags=re.IGNORECASE)[0]
        project, since = None, None
        for clause in [c.strip() for c in text.split(" AND ")]:
            if m := _PROJECT.match(clause):
                project = m[1]
            elif m := _UPDATED_AT.match(clause):
                since = dt.datetime.strptime(m[1], "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
            elif m := _UPDATED_DAYS.match(clause):
                since = dt.datetime.now(dt.UTC) - dt.timedelta(days=int(m[1]))
            elif clause in self.accepted_jql:
                continue
            else:
                raise ValueError(f"Error in the JQL Query: the clause {clause!r} could not be parsed.")
        if project is None:
            raise ValueError("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
        mine = [i for i in self.issues if i["key"].startswith(project + "-")]
        if not self.browse or not mine:
            raise ValueError(f"The value '{project}' does not exist for the field 'project'.")
        if since is not None:
            mine = [i for i in mine if _parse(i["fields"]["updated"]) >= since]
        return sorted(mine, key=lambda i: _number(i["key"]))


@functools.cache
def _number(key: str) -> int:
    return int(key.rsplit("-", 1)[1])


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _only(issue: dict, wanted: list[str]) -> dict:
    out = {k: issue[k] for k in ("id", "key", "self")}
    if wanted:
        out["fields"] = {k: v for k, v in issue["fields"].items() if k in wanted or "*all" in wanted}
    return out


def _send_fault(handler: _Handler, fault: Fault) -> None:
    if fault.truncate:
        return handler.send_truncated(json.dumps({"issues": [], "isLast": True, "padding": "x" * 400}).encode())
    if fault.html:
        return handler.send_body(200, b"<html><body>Log in to continue</body></html>", "text/html", {})
    body = fault.body if fault.body is not None else {"errorMessages": [f"HTTP {fault.status}"], "errors": {}}
    handler.send_body(fault.status, json.dumps(body).encode(), "application/json", fault.headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, *, fake: FakeJira) -> None:
        super().__init__(address, handler)
        self.fake = fake

    def handle_error(self, request, client_address) -> None:
        return None  # clients that hang up mid-response are part of the tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Jira
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def do_GET(self) -> None:
        self.server.fake.answer(self, "GET")

    def do_POST(self) -> None:
        self.server.fake.answer(self, "POST")

    def send_json(self, code: int, body: dict) -> None:
        self.send_body(code, json.dumps(body).encode(), "application/json", {})

    def send_body(self, code: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
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

    def log_message(self, format: str, *args: object) -> None:
        return None
