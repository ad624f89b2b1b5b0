"""A GitHub-shaped HTTP server for tests: real sockets on loopback, one thread.

It serves an organisation built from real git repositories made in the test:

* the REST paths the GitHub source calls (branches, workflow runs, teams and
  members, App installation tokens), with `ETag` / `If-None-Match` -> 304,
  `Link` pagination and `x-ratelimit-*` headers from a per-resource budget;
* the GraphQL operations the source sends (dispatched on the operation name,
  answered from the same repository model);
* git smart HTTP, by running `git http-backend` as a CGI program, behind the
  `Authorization: Basic x-access-token:<token>` header GitHub accepts.

This module holds the organisation and decides whether and how a request is
answered (credentials, faults, budgets, git); the REST and GraphQL bodies come
from `github_answers`.

Faults are injected per path (API and git): 500, 502, 403 secondary limit with
`retry-after`, 429, primary limit exhausted, slow responses, truncated JSON,
and repositories that vanish after the inventory listed them. Every request is
recorded in `hits`, so tests can count what the client really sent.

An exhausted REST budget answers 403; an exhausted GraphQL budget answers
HTTP 200 with an error, as GitHub does, in the form `graphql_limit_form`
names: "RATE_LIMITED" (older servers, with `x-ratelimit-remaining: 0`) or
"RATE_LIMIT" (github.com now: `"code": "graphql_rate_limit"`, and no
rate-limit headers, so only the body says the budget is spent).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.fakes import github_answers as answers
from tests.fakes.github_answers import API, iso

GRAPHQL_PATH = "/api/graphql"


@dataclass
class FakeDeployment:
    id: int
    sha: str
    environment: str
    created_at: dt.datetime
    statuses: list[tuple[str, dt.datetime]] = field(default_factory=list)  # (GraphQL state, created_at), oldest first


@dataclass
class FakeRun:
    id: int
    name: str
    head_branch: str
    head_sha: str
    created_at: dt.datetime
    status: str = "completed"
    conclusion: str | None = "success"
    duration_s: float = 60.0
    event: str = "push"
    path: str = ".github/workflows/ci.yml"


@dataclass
class FakeIssue:
    number: int
    created_at: dt.datetime
    closed_at: dt.datetime | None
    labels: list[str] = field(default_factory=lambda: ["incident"])


@dataclass
class FakeRepo:
    owner: str
    name: str
    git_dir: Path  # a `.git` directory or a bare repository
    default_branch: str = "main"
    archived: bool = False
    fork: bool = False
    visibility: str = "PRIVATE"
    topics: list[str] = field(default_factory=list)
    protected: bool = False
    branch_status: int = 200  # 403 / 404: the token may not read the branch
    runs: list[FakeRun] = field(default_factory=list)
    deployments: list[FakeDeployment] = field(default_factory=list)
    issues: list[FakeIssue] = field(default_factory=list)
    pushed_at: dt.datetime | None = None  # None: the head commit's time
    deleted: bool = False
    vanish_after_listing: bool = False  # deleted on its first request after an inventory listed it
    listed: bool = False

    @property
    def node_id(self) -> str:
        return "R_" + base64.b64encode(f"{self.owner}/{self.name}".encode()).decode()


@dataclass
class FakeTeam:
    slug: str
    name: str
    members: list[str] = field(default_factory=list)


@dataclass
class Fault:
    kind: str  # 500 | 502 | secondary | 429 | primary | slow | truncated
    path: re.Pattern
    times: int = 1  # -1: every matching request
    delay: float = 0.0
    retry_after: int = 1


@dataclass
class Hit:
    method: str
    path: str  # with the query string
    status: int
    resource: str  # core | graphql | git | auth
    counted: bool  # charged against the primary rate limit
    operation: str | None = None  # GraphQL operation name
    authorization: str | None = None  # the scheme only ("token", "Basic", "Bearer"), never the credential
    size: int = 0  # response body bytes: what a git fetch or an API answer transferred (a 304 has none)


class FakeGitHub:
    def __init__(self, org: str = "acme", tokens: tuple[str, ...] = ("ghp_fake_test_token",), *,
                 rate_limit: int = 5000, reset_in: float = 3600.0, page_size: int = 100,
                 app_id: int | None = None, app_public_key: str | None = None) -> None:
        self.org = org
        self.tokens = set(tokens)
        self.repos: dict[tuple[str, str], FakeRepo] = {}
        self.teams: list[FakeTeam] = []
        self.faults: list[Fault] = []
        self.hits: list[Hit] = []
        self.rate_limit = rate_limit
        self.reset_in = reset_in
        self.remaining = {"core": rate_limit, "graphql": rate_limit}
        self.reset_at = {"core": 0.0, "graphql": 0.0}
        self.page_size = page_size
        self.app_id = app_id
        self.app_public_key = app_public_key
        self.minted: list[str] = []
        self.graphql_limit_form = "RATE_LIMITED"  # or "RATE_LIMIT": how an exhausted GraphQL budget answers
        self._lock = threading.Lock()
        self._heads: dict[tuple[str, str], tuple[tuple, tuple[str, dt.datetime]]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FakeGitHub:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-github", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def origin(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + API

    # ----------------------------------------------------------------- model

    def add_repo(self, name: str, git_dir: Path, *, owner: str | None = None, **attrs) -> FakeRepo:
        git_dir = Path(git_dir)
        if (git_dir / ".git").is_dir():
            git_dir = git_dir / ".git"
        if "default_branch" not in attrs:
            head = (git_dir / "HEAD").read_text().strip()
            attrs["default_branch"] = head.removeprefix("ref: refs/heads/") if head.startswith("ref:") else "main"
        repo = FakeRepo(owner or self.org, name, git_dir, **attrs)
        self.repos[(repo.owner, name)] = repo
        return repo

    def add_team(self, slug: str, name: str | None = None, members: list[str] | None = None) -> FakeTeam:
        team = FakeTeam(slug, name or slug.replace("-", " ").title(), list(members or []))
        self.teams.append(team)
        return team

    def inject(self, kind: str, path: str, times: int = 1, *, delay: float = 0.0, retry_after: int = 1) -> Fault:
        fault = Fault(kind, re.compile(path), times, delay, retry_after)
        self.faults.append(fault)
        return fault

    def head(self, repo: FakeRepo) -> tuple[str, dt.datetime] | None:
        """(oid, committer time) of the default branch, cached until its ref file changes."""
        ref = repo.git_dir / "refs" / "heads" / repo.default_branch
        packed = repo.git_dir / "packed-refs"
        stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (ref, packed))
        key = (str(repo.git_dir), repo.default_branch)
        cached = self._heads.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        out = subprocess.run(
            ["git", "-C", str(repo.git_dir), "log", "-1", "--format=%H %ct", f"refs/heads/{repo.default_branch}", "--"],
            capture_output=True, text=True, env=_git_env(), check=False,
        ).stdout.split()
        if len(out) != 2:
            return None
        value = (out[0], dt.datetime.fromtimestamp(int(out[1]), dt.UTC))
        self._heads[key] = (stamp, value)
        return value

    # ------------------------------------------------------------ accounting

    def api_hits(self) -> list[Hit]:
        return [h for h in self.hits if h.resource in ("core", "graphql")]

    def counted(self) -> int:
        return sum(1 for h in self.hits if h.counted)

    def clear_hits(self) -> None:
        with self._lock:
            self.hits.clear()

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def _take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times != 0 and fault.path.search(target):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault
        return None

    def _repo(self, owner: str, name: str) -> FakeRepo | None:
        repo = self.repos.get((owner, name))
        if repo is None:
            return None
        if repo.vanish_after_listing and repo.listed:
            repo.deleted = True
        return None if repo.deleted else repo


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return env


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGitHub/1.0"
    # Headers and body leave in one segment: with Nagle and delayed ACKs, two
    # small writes per response cost ~40 ms each on keep-alive connections.
    disable_nagle_algorithm = True
    wbufsize = 1 << 16

    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's signature
        return None

    @property
    def fake(self) -> FakeGitHub:
        return self.server.fake  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    # ---------------------------------------------------------------- plumbing

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, length: int | None = None) -> None:
        try:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer

    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        body = self._body()
        try:
            if split.path.startswith("/api/"):
                self._api(method, split.path, parse_qs(split.query), body)
            elif ".git/" in split.path:
                self._git(method, split.path, split.query, body)
            else:
                self._send(404, b'{"message": "Not Found"}', {"Content-Type": "application/json"})
        except (BrokenPipeError, ConnectionResetError):
            pass

    # --------------------------------------------------------------------- API

    def _auth(self) -> tuple[str | None, str | None]:
        header = self.headers.get("Authorization") or ""
        scheme, _, cred = header.partition(" ")
        return (scheme or None), (cred or None)

    def _api(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        fake = self.fake
        graphql = path == GRAPHQL_PATH
        resource = "graphql" if graphql else "core"
        scheme, cred = self._auth()
        operation = None
        payload: dict = {}
        if graphql:
            try:
                payload = json.loads(body or b"{}")
                m = re.match(r"\s*query\s+(\w+)", payload.get("query", ""))
                operation = m.group(1) if m else None
            except ValueError:
                payload = {}
        target = self.path + (f"#{operation}" if operation else "")

        def hit(status: int, counted: bool = True, res: str = resource, size: int = 0) -> None:
            fake._record(Hit(method, self.path, status, res, counted, operation, scheme, size))

        m = re.fullmatch(rf"{API}/app/installations/(\d+)/access_tokens", path)
        if m and method == "POST":
            status, out = self._installation_token(int(m.group(1)), scheme, cred)
            hit(status, res="auth")
            self._send(status, json.dumps(out).encode(), {"Content-Type": "application/json"})
            return

        if scheme not in ("token", "Bearer") or cred not in fake.tokens:
            hit(401)
            self._json(401, {"message": "Bad credentials"}, resource)
            return

        fault = fake._take_fault(target)
        if fault is not None:
            if fault.kind in ("echo-401", "echo-500"):
                # A proxy or an Enterprise error page that repeats the request's headers back.
                status = int(fault.kind.split("-")[1])
                hit(status)
                auth = self.headers.get("Authorization", "")
                if graphql:
                    self._json(status, {"message": f"Unauthorized request (Authorization: {auth})"}, resource)
                else:
                    page = f"<html><body><h1>{status}</h1><pre>Authorization: {auth}</pre></body></html>"
                    self._send(status, page.encode(), {"Content-Type": "text/html"})
                return
            if fault.kind in ("500", "502"):
                hit(int(fault.kind))
                self._json(int(fault.kind), {"message": "Server Error"}, resource)
                return
            if fault.kind == "secondary":
                hit(403)
                self._json(403, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."},
                           resource, {"retry-after": str(fault.retry_after)})
                return
            if fault.kind == "429":
                hit(429)
                self._json(429, {"message": "Too Many Requests"}, resource, {"retry-after": str(fault.retry_after)})
                return
            if fault.kind == "primary":
                with fake._lock:
                    fake.remaining[resource] = 0
                    fake.reset_at[resource] = time.time() + fake.reset_in
            if fault.kind == "slow":
                time.sleep(fault.delay)

        with fake._lock:
            now = time.time()
            if fake.remaining[resource] <= 0 and now >= fake.reset_at[resource]:
                fake.remaining[resource] = fake.rate_limit
            if fake.reset_at[resource] <= now:
                fake.reset_at[resource] = now + fake.reset_in
            exhausted = fake.remaining[resource] <= 0
        if exhausted and graphql:
            hit(200)
            if fake.graphql_limit_form == "RATE_LIMIT":
                error = {"type": "RATE_LIMIT", "code": "graphql_rate_limit",
                         "message": "API rate limit already exceeded for installation ID 1."}
                self._send(200, json.dumps({"errors": [error]}).encode(), {"Content-Type": "application/json"})
            else:
                error = {"type": "RATE_LIMITED", "message": "API rate limit exceeded for installation ID 1."}
                self._json(200, {"errors": [error]}, resource)
            return
        if exhausted:
            hit(403)
            self._json(403, {"message": "API rate limit exceeded for installation ID 1."}, resource)
            return

        if graphql:
            status, out, extra = 200, answers.graphql(fake, payload, operation), {}
        else:
            status, out, extra = answers.rest(fake, method, path, query)
        raw = json.dumps(out).encode()
        headers = {"Content-Type": "application/json", **extra}
        if method == "GET" and status == 200:
            etag = 'W/"' + hashlib.sha1(raw).hexdigest() + '"'
            headers["ETag"] = etag
            if self.headers.get("If-None-Match") == etag:
                hit(304, counted=False)
                self._send(304, b"", {**headers, **self._rate_headers(resource)})
                return
        with fake._lock:
            fake.remaining[resource] -= 1
        hit(status, size=len(raw))
        if fault is not None and fault.kind == "truncated":
            cut = raw[: max(1, len(raw) // 2)]
            self._send(status, cut, {**headers, **self._rate_headers(resource)})
            return
        self._send(status, raw, {**headers, **self._rate_headers(resource)})

    def _rate_headers(self, resource: str) -> dict[str, str]:
        fake = self.fake
        remaining = max(0, fake.remaining[resource])
        return {
            "x-ratelimit-limit": str(fake.rate_limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(fake.rate_limit - remaining),
            "x-ratelimit-reset": str(math.ceil(fake.reset_at[resource])),
            "x-ratelimit-resource": resource,
        }

    def _json(self, status: int, out: dict, resource: str, extra: dict[str, str] | None = None) -> None:
        headers = {"Content-Type": "application/json", **self._rate_headers(resource), **(extra or {})}
        self._send(status, json.dumps(out).encode(), headers)

    def _installation_token(self, installation: int, scheme: str | None, cred: str | None) -> tuple[int, dict]:
        import jwt  # PyGithub's own dependency; only the App-auth test reaches this

        fake = self.fake
        if scheme != "Bearer" or not cred or fake.app_public_key is None:
            return 401, {"message": "A JSON web token could not be decoded"}
        try:
            claims = jwt.decode(cred, fake.app_public_key, algorithms=["RS256"])
        except jwt.PyJWTError as exc:
            return 401, {"message": f"invalid JWT: {exc}"}
        if str(claims.get("iss")) != str(fake.app_id):
            return 401, {"message": "wrong app id"}
        token = f"ghs_installation_{installation}_{len(fake.minted)}"
        fake.minted.append(token)
        fake.tokens.add(token)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        return 201, {"token": token, "expires_at": iso(expires), "permissions": {}, "repository_selection": "all"}


    # --------------------------------------------------------------------- git

    def _git(self, method: str, path: str, query: str, body: bytes) -> None:
        fake = self.fake
        scheme, cred = self._auth()

        def hit(status: int, size: int = 0) -> None:
            fake._record(Hit(method, self.path, status, "git", False, None, scheme, size))

        fault = fake._take_fault(self.path)
        if fault is not None and fault.kind in ("500", "502"):
            hit(int(fault.kind))
            self._send(int(fault.kind), b"Server Error\n", {"Content-Type": "text/plain"})
            return
        m = re.fullmatch(r"/([^/]+)/([^/]+?)\.git(/.*)", path)
        repo = fake._repo(m.group(1), m.group(2)) if m else None
        if repo is None:
            hit(404)
            self._send(404, b"Repository not found.\n", {"Content-Type": "text/plain"})
            return
        token = None
        if scheme == "Basic" and cred:
            user, _, token = base64.b64decode(cred).decode().partition(":")
        if token not in fake.tokens:
            hit(401)
            self._send(401, b"Authentication required\n", {"WWW-Authenticate": 'Basic realm="GitHub"', "Content-Type": "text/plain"})
            return
        env = {
            **_git_env(),
            "GIT_PROJECT_ROOT": str(repo.git_dir),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": m.group(3),
            "REQUEST_METHOD": method,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
        }
        if self.headers.get("Git-Protocol"):
            env["HTTP_GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
        head, sep, payload = proc.stdout.partition(b"\r\n\r\n")
        if not sep:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status = 200
        headers = {}
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            elif key:
                headers[key.strip()] = value.strip()
        hit(status, len(payload))
        self._send(status, payload, headers)


