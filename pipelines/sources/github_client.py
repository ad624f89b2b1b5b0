"""Requests to one GitHub API: authentication, ETags, retries and rate limits.

The only module that imports PyGithub: its requester brings token and
App-installation auth, GitHub Enterprise base URLs and connection pooling.
What the source asks for, and when, is `pipelines.sources.github`'s business;
this client makes each request survive GitHub's limits (see `Client`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from github import Auth, Github

from pipelines import secrets
from pipelines.config import GitHubSourceConfig
from pipelines.sources.github_state import RunReport

log = logging.getLogger(__name__)

USER_AGENT = "platform-scorecard"


class GitHubSourceError(Exception):
    """The source as a whole cannot run (no token, unknown organisation)."""


class RateLimitDeferred(Exception):
    """A rate limit would take longer than `max_wait_s` to reset: stop asking, defer the rest."""


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class Response:
    status: int
    data: Any
    headers: dict[str, str]
    not_modified: bool = False


def _message(text: str) -> str:
    """The server's own words, redacted: proxies and error pages echo request headers."""
    try:
        data = json.loads(text)
    except ValueError:
        return secrets.redact(text)[:200]  # redact first: a cut could leave half a token behind
    return secrets.redact(str(data.get("message", ""))) if isinstance(data, dict) else ""


class Client:
    """Requests to one GitHub API with ETags, retries and rate-limit accounting.

    PyGithub's own retry is off (`retry=0`): its urllib3 retry would sleep
    through a primary-limit reset of up to an hour, where this client defers
    the remaining repositories instead, and would hide retries from the report.
    """

    def __init__(self, cfg: GitHubSourceConfig, report: RunReport, *, base_dir: Path | None = None,
                 token: str | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.cfg = cfg
        self.report = report
        self._sleep = sleep
        self._clock = clock
        self._auth = _auth(cfg, base_dir, token)
        self._gh = Github(
            base_url=cfg.base_url,
            auth=self._auth,
            user_agent=USER_AGENT,
            per_page=100,
            timeout=cfg.timeout_s,
            retry=0,
            pool_size=cfg.max_concurrency,
            seconds_between_requests=cfg.seconds_between_requests or None,
            # GraphQL queries are POSTs but not writes: PyGithub's 1 s pause between
            # writes (meant for mutations) would pace every inventory page.
            seconds_between_writes=cfg.seconds_between_requests or None,
            lazy=True,
        )
        self._req = self._gh.requester
        self._slots = threading.BoundedSemaphore(cfg.max_concurrency)
        self._lock = threading.Lock()
        self._limits: dict[str, tuple[int, float]] = {}  # resource -> (remaining, reset epoch)
        self.deferred: str | None = None

    def close(self) -> None:
        self._gh.close()

    def git_token(self) -> str:
        """The token git sends; an App installation token is refreshed by PyGithub when it expires."""
        token = self._auth.token
        secrets.register(token)  # a fresh installation token is a new secret
        return token

    # ------------------------------------------------------------- requests

    def get(self, path: str, params: dict | None = None, *, cached: dict | None = None, category: str) -> Response:
        """GET a REST path; with `cached` ({"etag", "data"}) a 304 returns the cached data."""
        headers = {"Accept": "application/vnd.github+json"}
        if cached and cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        resp = self._request("GET", path, params, headers, None, "core", category)
        if resp.not_modified and cached:
            resp.data = cached.get("data")
        return resp

    def graphql(self, query: str, variables: dict, *, category: str) -> tuple[dict, list[dict]]:
        """(data, errors); GraphQL answers partial data with per-field errors."""
        resp = self._request("POST", self._req.graphql_url, None, {}, {"query": query, "variables": variables},
                             "graphql", category)
        if resp.status != 200:
            raise ApiError(resp.status, f"GraphQL HTTP {resp.status}: {_message(json.dumps(resp.data))}")
        body = resp.data if isinstance(resp.data, dict) else {}
        return body.get("data") or {}, list(body.get("errors") or [])

    def _request(self, verb: str, url: str, params: dict | None, headers: dict, body: Any, resource: str,
                 category: str) -> Response:
        cfg = self.cfg
        what = f"{verb} {urlsplit(url).path}"
        for attempt in range(cfg.max_retries + 1):
            self._await_budget(resource)
            last = attempt == cfg.max_retries
            try:
                with self._slots:
                    status, rheaders, text = self._req.requestJson(verb, url, params, dict(headers), body)
            except OSError as exc:  # requests' connection errors and timeouts are OSErrors
                self.report.count(category, status=0)
                if last:
                    raise ApiError(0, f"{what}: {type(exc).__name__} after {attempt + 1} attempts") from None
                self._backoff(attempt, f"{what}: {type(exc).__name__}")
                continue
            self.report.count(category, status=status)
            self._note_limits(rheaders, resource)
            if status == 304:
                return Response(304, None, rheaders, not_modified=True)
            if status in (403, 429):
                if resource == "graphql" and _graphql_rate_limited(_safe_json(text)):
                    self._graphql_exhausted(rheaders)  # the same error body, sent with a 4xx
                    continue
                wait = self._limit_wait(status, rheaders, text, attempt)
                if wait is not None:
                    if last:
                        self._defer(f"rate limit still hit after {attempt + 1} attempts ({what})")
                    self._wait_or_defer(wait, f"secondary rate limit on {what}")
                    continue
                if rheaders.get("x-ratelimit-remaining") == "0":
                    continue  # primary limit: _await_budget waits for the reset or defers
            if status >= 500:
                if last:
                    raise ApiError(status, f"{what}: HTTP {status} after {attempt + 1} attempts")
                self._backoff(attempt, f"{what}: HTTP {status}")
                continue
            if 200 <= status < 300:
                try:
                    data = json.loads(text) if text else None
                except ValueError:
                    if last:
                        raise ApiError(status, f"{what}: invalid JSON after {attempt + 1} attempts") from None
                    self._backoff(attempt, f"{what}: truncated or invalid JSON")
                    continue
                if resource == "graphql" and _graphql_rate_limited(data):
                    self._graphql_exhausted(rheaders)
                    continue  # _await_budget waits for the reset or defers
                return Response(status, data, rheaders)
            return Response(status, _safe_json(text), rheaders)
        self._defer(f"rate limit on {what} still hit after {cfg.max_retries + 1} attempts")
        raise AssertionError("unreachable: _defer raises")

    # ---------------------------------------------------------- rate limits

    def _note_limits(self, headers: dict, resource: str) -> None:
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        res = headers.get("x-ratelimit-resource", resource)
        try:
            value = (int(float(remaining)), float(reset))
        except ValueError:
            return
        with self._lock:
            self._limits[res] = value
            self.report.rate_limit_remaining[res] = value[0]

    def _graphql_exhausted(self, headers: dict) -> None:
        """The body said the GraphQL budget is spent: believe it over `x-ratelimit-remaining`,
        which the newer answer may not send (or may not send as 0)."""
        now = self._clock()
        reset = None
        for name, base in (("retry-after", now), ("x-ratelimit-reset", 0.0)):
            try:
                value = base + float(headers[name])
            except (KeyError, ValueError):
                continue
            if value > now:
                reset = value
                break
        with self._lock:
            known = self._limits.get("graphql", (0, 0.0))[1]
            # Without a reset time, a minute: GitHub's own advice for a limit that does not say.
            self._limits["graphql"] = (0, reset or (known if known > now else now + 60))

    def _limit_wait(self, status: int, headers: dict, text: str, attempt: int) -> float | None:
        """Seconds to wait for a secondary limit, or None when this is not one."""
        retry_after = headers.get("retry-after")
        message = _message(text).lower()
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        if status == 429 or "secondary rate limit" in message or "abuse" in message:
            # GitHub: without retry-after, wait at least a minute, then increase exponentially.
            return min(max(60.0, self.cfg.backoff_s * 2**attempt), max(self.cfg.max_wait_s, 0.0))
        return None

    def _await_budget(self, resource: str) -> None:
        with self._lock:
            if self.deferred:
                raise RateLimitDeferred(self.deferred)
            remaining, reset = self._limits.get(resource, (1, 0.0))
        if remaining > 0:
            return
        wait = reset - self._clock() + 1.0
        if wait > 0:
            until = dt.datetime.fromtimestamp(reset, dt.UTC).strftime("%H:%M UTC")
            self._wait_or_defer(wait, f"primary rate limit ({resource}) exhausted until {until}")
        with self._lock:
            if self._limits.get(resource, (1, 0.0))[0] <= 0:
                self._limits[resource] = (1, 0.0)  # the reset has passed: probe again

    def _wait_or_defer(self, wait: float, why: str) -> None:
        if wait > self.cfg.max_wait_s:
            self._defer(f"{why}; would wait {wait:.0f} s, over max_wait_s={self.cfg.max_wait_s:.0f}")
        log.info("GitHub %s: waiting %.1f s", why, wait)
        self.report.add(waited_s=wait, retries=1)
        self._sleep(wait)

    def _defer(self, why: str) -> None:
        with self._lock:
            if not self.deferred:
                self.deferred = f"deferred: {why}"
                log.warning("GitHub crawl %s; the remaining repositories are deferred to the next run", why)
            reason = self.deferred
        raise RateLimitDeferred(reason)

    def _backoff(self, attempt: int, why: str) -> None:
        wait = min(self.cfg.backoff_s * 2**attempt, max(self.cfg.max_wait_s, self.cfg.backoff_s))
        log.info("GitHub API %s; retry %d in %.2f s", why, attempt + 1, wait)
        self.report.add(waited_s=wait, retries=1)
        self._sleep(wait)


def _safe_json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _graphql_rate_limited(data: Any) -> bool:
    """An exhausted GraphQL budget, answered with HTTP 200 and an error in the body.

    Older servers (and GitHub Enterprise Server) say `"type": "RATE_LIMITED"`;
    github.com now says `"type": "RATE_LIMIT", "code": "graphql_rate_limit"`.
    """
    if not isinstance(data, dict):
        return False
    return any(
        isinstance(e, dict) and (e.get("type") in ("RATE_LIMITED", "RATE_LIMIT") or e.get("code") == "graphql_rate_limit")
        for e in data.get("errors") or []
    )


def _auth(cfg: GitHubSourceConfig, base_dir: Path | None, token: str | None = None) -> Auth.Auth:
    """The App installation, else ``token`` (from the Dagster resource), else the variable ``token_env`` names."""
    if cfg.app is not None:
        path = cfg.app.private_key_path
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            key = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise GitHubSourceError(f"cannot read the GitHub App private key {path}: {exc.strerror or exc}") from None
        secrets.register(key)
        return Auth.AppAuth(cfg.app.app_id, key).get_installation_auth(cfg.app.installation_id)
    token = (token or os.environ.get(cfg.token_env, "")).strip()
    if not token:
        raise GitHubSourceError(
            f"environment variable {cfg.token_env} is not set; it must hold a GitHub token (see docs/github.md)"
        )
    secrets.register(token)
    return Auth.Token(token)


def next_link(headers: dict) -> str | None:
    """The `rel="next"` URL of a paginated REST answer, from its `Link` header."""
    for part in (headers.get("link") or "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None

