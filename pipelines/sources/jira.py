"""A platform team's request queue from Jira (Cloud or Data Center), or an export of it (docs/jira.md).

Only what the request metrics need is kept per issue (:class:`JiraRequest`):
key, created, resolved, updated, issue type, labels, status category and the
requesting team. Summaries, descriptions and people are never read into a
record; the reporter is looked at only to map it to a team when configured.

Endpoints (one ``httpx.Client`` per Jira):

* Cloud: ``GET /rest/api/3/search/jql`` (``POST`` when the JQL is long), paged
  with ``nextPageToken`` until it is absent or ``isLast``; with
  ``legacy_search`` the old ``/rest/api/3/search`` (``startAt``/``total``),
  which Atlassian is removing. Basic auth: email + API token.
* Data Center: ``GET``/``POST /rest/api/2/search`` with ``startAt``/``maxResults``;
  a personal access token as ``Authorization: Bearer``.

Failures never raise out of :meth:`JiraSource.crawl`: 429 waits as long as
``Retry-After`` says (up to ``max_wait_s``), 5xx, timeouts and cut-off bodies
are retried with backoff, and what is left (401, 403, 404, bad JQL, a body
that is not JSON) becomes :attr:`JiraCrawl.error`, one readable line with
Jira's own ``errorMessages``. The caller then keeps the requests it stored
before and shows the source stale.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pipelines import secrets
from pipelines.config_jira import JiraSourceConfig, RequestingTeam

log = logging.getLogger(__name__)

USER_AGENT = "platform-scorecard (jira source)"
POST_AFTER_CHARS = 1500  # longer JQL goes in a POST body: URLs past ~2 kB are cut by proxies
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# JQL compares dates in the searching account's time zone (up to 14 h from UTC),
# so the incremental query starts a day before the last crawl; stored issues are
# merged by key, so what is read twice is harmless.
OVERLAP = dt.timedelta(days=1)
BASE_FIELDS = ("issuetype", "labels", "status", "created", "resolutiondate", "updated")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class JiraRequest:
    """One request as the warehouse stores it (table ``jira_requests``)."""

    key: str
    created: dt.datetime
    resolved: dt.datetime | None
    updated: dt.datetime | None
    issue_type: str | None
    labels: tuple[str, ...]
    team: str | None
    status_category: str | None  # new | indeterminate | done


@dataclass
class JiraCrawl:
    target: str
    requests: list[JiraRequest] = field(default_factory=list)
    error: str | None = None  # nothing from this crawl is used; stored requests stay as they were
    problems: list[str] = field(default_factory=list)  # issues skipped (no key, unreadable dates)
    crawled_at: dt.datetime | None = None
    requests_sent: int = 0
    retries: int = 0
    incremental: bool = False  # read only issues updated since the last crawl


class JiraError(Exception):
    """Jira could not be read; the message is one line an operator can act on (no secrets)."""


# ------------------------------------------------------------------ issues


def _when(value: object) -> dt.datetime | None:
    """Jira's timestamps: ``2024-01-15T10:30:00.000+0000`` (and plain ISO 8601 in exports)."""
    if not value:
        return None
    try:
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"unreadable date {str(value)[:40]!r}") from exc
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def _name(value: object) -> str | None:
    """A field value's display text: a string, an option ({"value"}), a Jira Team ({"name"/"title"}), or the first of a list."""
    if isinstance(value, list):
        return next((n for n in (_name(v) for v in value) if n), None)
    if isinstance(value, dict):
        for key in ("value", "name", "title"):
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key].strip()
        return None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def requesting_team(fields: dict, rule: RequestingTeam) -> str | None:
    """The team that asked, by the first rule that answers (config order: field, label, reporter)."""
    if rule.field:
        team = _name(fields.get(rule.field))
        if team:
            return team
    if rule.label_prefix:
        for label in fields.get("labels") or []:
            if isinstance(label, str) and label.startswith(rule.label_prefix) and label[len(rule.label_prefix):]:
                return label[len(rule.label_prefix):]
    if rule.reporters:
        reporter = fields.get("reporter") or {}
        for key in ("accountId", "name", "key"):  # Cloud has accountId; Data Center name/key
            who = reporter.get(key) if isinstance(reporter, dict) else None
            if who in rule.reporters:
                return rule.reporters[who]
    return None


def parse_issue(raw: object, rule: RequestingTeam) -> JiraRequest:
    """One issue of the search API's ``issues`` array; ValueError says what is missing."""
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        raise ValueError("an issue without a key")
    fields = raw.get("fields") or {}
    if not isinstance(fields, dict):
        raise ValueError(f"{raw['key']}: fields is not an object")
    created = _when(fields.get("created"))
    if created is None:
        raise ValueError(f"{raw['key']}: no created date (is the field hidden from this account?)")
    status = fields.get("status") or {}
    category = (status.get("statusCategory") or {}).get("key") if isinstance(status, dict) else None
    labels = tuple(sorted(str(label) for label in fields.get("labels") or [] if isinstance(label, str)))
    return JiraRequest(
        key=raw["key"], created=created, resolved=_when(fields.get("resolutiondate")),
        updated=_when(fields.get("updated")), issue_type=_name(fields.get("issuetype")), labels=labels,
        team=requesting_team(fields, rule), status_category=category,
    )


def _collect(issues: object, rule: RequestingTeam, crawl: JiraCrawl) -> None:
    if not isinstance(issues, list):
        raise JiraError("the response has no `issues` array: is base_url a Jira server?")
    for raw in issues:
        try:
            crawl.requests.append(parse_issue(raw, rule))
        except ValueError as exc:
            crawl.problems.append(str(exc))


# ------------------------------------------------------------------ HTTP


def _messages(response: httpx.Response) -> str:
    """Jira's own explanation: ``errorMessages`` and ``errors`` of its error body, else the body's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip().replace("\n", " ")
    if not isinstance(body, dict):
        return ""
    found = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors")
    if isinstance(errors, dict):
        found += [f"{k}: {v}" for k, v in errors.items()]
    if not found and isinstance(body.get("message"), str):
        found.append(body["message"])
    return "; ".join(found)


class JiraClient:
    """The search endpoints of one Jira, with retries; raises :class:`JiraError` for what retrying cannot fix."""

    def __init__(self, cfg: JiraSourceConfig, headers: dict[str, str], *, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.cfg = cfg
        self.sleep = sleep
        self.sent = 0
        self.retries = 0
        self.client = httpx.Client(
            base_url=cfg.base_url or "", timeout=cfg.timeout_s, follow_redirects=False, transport=transport,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **headers},
        )

    def close(self) -> None:
        self.client.close()

    @property
    def path(self) -> str:
        if self.cfg.deployment == "data_center":
            return "/rest/api/2/search"
        return "/rest/api/3/search" if self.cfg.legacy_search else "/rest/api/3/search/jql"

    def pages(self, jql: str, fields: list[str]) -> Iterator[dict]:
        """Every page of the search, as Jira answered it."""
        token_paging = self.path.endswith("/jql")
        post = len(jql) > POST_AFTER_CHARS
        start, token = 0, None
        while True:
            query: dict[str, object] = {"jql": jql, "maxResults": self.cfg.page_size}
            if token_paging:
                if token:
                    query["nextPageToken"] = token
            else:
                query["startAt"] = start
            if post:
                page = self._call("POST", json={**query, "fields": fields})
            else:
                page = self._call("GET", params={**query, "fields": ",".join(fields)})
            yield page
            issues = page.get("issues") or []
            if token_paging:
                token = page.get("nextPageToken")
                # The last page carries no token (or isLast: true; older sites send both).
                if not token or page.get("isLast") is True:
                    return
            else:
                start = int(page.get("startAt", start)) + len(issues)
                total = page.get("total")
                if not issues or (isinstance(total, int) and start >= total):
                    return

    def _call(self, method: str, **kwargs) -> dict:
        attempt = 0
        while True:
            self.sent += 1
            try:
                response = self.client.request(method, self.path, **kwargs)
                if response.status_code not in RETRY_STATUSES:
                    return self._json(response)
                wait = self._wait(response, attempt)
                problem = f"HTTP {response.status_code}"
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                # A body cut off mid-way arrives as RemoteProtocolError ("incomplete message body").
                wait, problem = self.cfg.backoff_s * 2 ** attempt, _transport_problem(exc)
            if attempt >= self.cfg.max_retries:
                raise JiraError(f"{problem} after {attempt + 1} attempts at {self.path}")
            attempt += 1
            self.retries += 1
            log.info("jira %s: %s, retrying in %.1f s", self.cfg.target, problem, wait)
            self.sleep(wait)

    def _wait(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After")
        if header is not None:
            try:
                seconds = max(0.0, float(header))
            except ValueError:
                seconds = self.cfg.backoff_s * 2 ** attempt
            if seconds > self.cfg.max_wait_s:
                raise JiraError(f"rate limited (HTTP {response.status_code}): Jira asks to wait {seconds:.0f} s, "
                                f"longer than max_wait_s ({self.cfg.max_wait_s:.0f} s); the next run tries again")
            return seconds
        return self.cfg.backoff_s * 2 ** attempt

    def _json(self, response: httpx.Response) -> dict:
        code = response.status_code
        who = "the API token in $" + self.cfg.token_env + " and the email in $" + self.cfg.email_env \
            if self.cfg.deployment == "cloud" else "the personal access token in $" + self.cfg.token_env
        if code == 401:
            raise JiraError(f"authentication failed (HTTP 401): check {who}")
        if code == 403:
            raise JiraError(f"forbidden (HTTP 403): the account needs Browse Projects on {self.cfg.project} "
                            f"({_messages(response) or 'no reason given'})")
        if code == 404:
            hint = ("the old search endpoint may be gone: remove legacy_search" if self.cfg.legacy_search
                    else "check base_url (a Data Center context path belongs in it) and `deployment`")
            raise JiraError(f"not found (HTTP 404) at {self.path}: {hint}")
        if code == 400:
            raise JiraError(f"Jira rejected the search (HTTP 400): {_messages(response) or 'no reason given'}")
        if code >= 300:
            raise JiraError(f"unexpected HTTP {code} at {self.path}: {_messages(response)[:200]}")
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            raise JiraError(f"the answer at {self.path} is not JSON ({kind}): a proxy or login page in the way?") from None
        if not isinstance(body, dict):
            raise JiraError(f"the answer at {self.path} is not a search result object")
        return body


def _transport_problem(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the response was cut off (incomplete body)"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    return f"transport error ({type(exc).__name__})"


# ------------------------------------------------------------------ source


def jql_for(cfg: JiraSourceConfig, since: dt.datetime | None) -> str:
    """``project = KEY [AND (extra)] AND updated >= "yyyy-MM-dd HH:mm"``, ordered by key for stable paging."""
    parts = [f'project = "{cfg.project}"']
    if cfg.jql:
        parts.append(f"({cfg.jql})")
    parts.append(f'updated >= "{since:%Y-%m-%d %H:%M}"' if since else f"updated >= -{cfg.history_days}d")
    return " AND ".join(parts) + " ORDER BY key ASC"


class JiraSource:
    """One `sources.jira` entry: ``crawl(since)`` returns the requests updated since then (all from a file)."""

    kind = "jira"

    def __init__(self, cfg: JiraSourceConfig, *, resolve: Callable[[Path], Path] = lambda p: p,
                 environ: dict[str, str] | None = None, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.cfg = cfg
        self.target = cfg.target
        self._resolve = resolve
        self._environ = environ
        self._sleep = sleep
        self._now = now

    def crawl(self, since: dt.datetime | None = None, progress: Progress | None = None) -> JiraCrawl:
        crawl = JiraCrawl(self.target, crawled_at=self._now())
        try:
            if self.cfg.issues_file is not None:
                self._read_file(crawl)
            else:
                self._read_api(crawl, since, progress)
        except JiraError as exc:
            crawl.error = secrets.redact(str(exc))
            crawl.requests = []
            log.warning("jira %s not crawled: %s", self.target, crawl.error)
        except Exception as exc:
            # The type only: an unexpected exception's text is not known to be free of credentials.
            crawl.error, crawl.requests = f"crawler failed: {type(exc).__name__}", []
            log.warning("jira %s crawler failed", self.target, exc_info=True)
        return crawl

    def _read_file(self, crawl: JiraCrawl) -> None:
        path = self._resolve(self.cfg.issues_file)  # type: ignore[arg-type]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise JiraError(f"issues_file {path.name} does not exist") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise JiraError(f"issues_file {path.name} is not readable JSON: {str(exc)[:120]}") from None
        _collect(data.get("issues") if isinstance(data, dict) else data, self.cfg.requesting_team, crawl)

    def _credentials(self) -> dict[str, str]:
        env = os.environ if self._environ is None else self._environ
        token = env.get(self.cfg.token_env)
        if not token:
            raise JiraError(f"${self.cfg.token_env} is not set: it must hold the "
                            + ("API token" if self.cfg.deployment == "cloud" else "personal access token"))
        if self.cfg.deployment == "data_center":
            secrets.register(token)
            return {"Authorization": f"Bearer {token}"}
        email = env.get(self.cfg.email_env)
        if not email:
            raise JiraError(f"${self.cfg.email_env} is not set: Jira Cloud needs the account's email with the API token")
        # Both halves are secrets: the email identifies the account, and the
        # basic-auth header is base64 of the pair (registered under that user too).
        secrets.register(email)
        secrets.register(token, users=(email,))
        pair = base64.b64encode(f"{email}:{token}".encode()).decode("ascii")
        return {"Authorization": f"Basic {pair}"}

    def _read_api(self, crawl: JiraCrawl, since: dt.datetime | None, progress: Progress | None) -> None:
        client = JiraClient(self.cfg, self._credentials(), sleep=self._sleep)
        crawl.incremental = since is not None
        fields = [*BASE_FIELDS]
        if self.cfg.requesting_team.field:
            fields.append(self.cfg.requesting_team.field)
        if self.cfg.requesting_team.reporters:
            fields.append("reporter")
        stage = f"crawl jira {self.target}"
        try:
            for page in client.pages(jql_for(self.cfg, since - OVERLAP if since else None), fields):
                _collect(page.get("issues"), self.cfg.requesting_team, crawl)
                done = len(crawl.requests) + len(crawl.problems)
                total = page.get("total") if isinstance(page.get("total"), int) else done + self.cfg.page_size
                if progress is not None:
                    progress(stage, done, max(done, total))
        finally:
            crawl.requests_sent, crawl.retries = client.sent, client.retries
            client.close()
        if progress is not None:
            done = len(crawl.requests) + len(crawl.problems)
            progress(stage, done, done)
        log.info("jira %s: %d issues in %d requests (%s)", self.target, len(crawl.requests), crawl.requests_sent,
                 "incremental" if crawl.incremental else "full")
