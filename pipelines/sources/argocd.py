"""Argo CD's API server as a source of Applications, for organisations that do not
let the crawler read the Application CRDs from their clusters (docs/gitops.md).

``GET /api/v1/applications`` with a bearer token (an Argo CD account or
project-role token with ``applications, get`` on the projects). Query
parameters Argo CD's ApplicationService.List accepts and this source uses:
``projects`` (repeated), ``selector`` (label selector) and ``fields`` (the
response fields to keep, as Argo CD's own web UI sends it, so 2,000
Applications do not ship their managed resources' full state).

The list is not paged and has no ETag / 304: Argo CD answers from its
informer cache in one response. It carries ``metadata.resourceVersion``; when
it equals the previous crawl's, nothing changed and the previous parse is
reused (the body is still fetched: the API offers no cheaper question).

Each item goes through the same parser as an Application CRD listed from a
cluster (items of an ApplicationList lack ``kind``/``apiVersion``; they are
given back). Failures: 401/403 (token), 404 (not an Argo CD API), 429 and
5xx (retried, ``Retry-After`` honoured up to a cap), timeouts, truncated or
non-JSON bodies: the crawl's ``error`` says which, the run goes on and the
GitOps checks read `unknown`. The token is registered with
`pipelines.secrets` and never stored, logged or put in an error.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time

import httpx

from pipelines import secrets
from pipelines.config_argocd import ArgoCDSourceConfig
from pipelines.evidence_gitops import GitOpsCrawl
from pipelines.parsers import parse_k8s_documents

log = logging.getLogger(__name__)

USER_AGENT = "platform-scorecard (argocd source)"
MAX_RESPONSE_BYTES = 512 * 1024 * 1024
_RETRY = frozenset({429, 500, 502, 503, 504})
# What the parser reads (pipelines/parsers/gitops.py), as `fields` paths.
FIELDS = ",".join([
    "metadata.resourceVersion",
    *(f"items.{f}" for f in (
        "metadata.name", "metadata.namespace", "metadata.labels", "spec.project", "spec.source", "spec.sources",
        "spec.destination", "spec.syncPolicy", "status.sync", "status.health", "status.history",
        "status.resources",
    )),
])  # fmt: skip


class _Failed(Exception):
    """The list could not be read; the message is safe to show (no token)."""


class ArgoCDSource:
    def __init__(self, cfg: ArgoCDSourceConfig, *, transport: httpx.BaseTransport | None = None,
                 sleep=time.sleep) -> None:
        self.cfg = cfg
        self.name = f"argocd:{cfg.name}"
        self.transport = transport
        self.sleep = sleep
        self.previous: GitOpsCrawl | None = None  # the last good crawl, for an unchanged list

    def crawl(self) -> GitOpsCrawl:
        now = dt.datetime.now(dt.UTC)
        token = os.environ.get(self.cfg.token_env, "").strip()
        if not token:
            return GitOpsCrawl(self.name, error=f"{self.cfg.token_env} is not set: export an Argo CD API token in it")
        secrets.register(token)
        try:
            body = self._fetch(token)
            result = self._parse(body, now)
        except _Failed as exc:
            reason = secrets.redact(str(exc))
            log.warning("%s not crawled: %s", self.name, reason)
            return GitOpsCrawl(self.name, error=reason, crawled_at=None)
        self.previous = result
        return result

    # ------------------------------------------------------------------ HTTP

    def _params(self) -> list[tuple[str, str]]:
        params = [("projects", p) for p in self.cfg.projects]
        if self.cfg.selector:
            params.append(("selector", self.cfg.selector))
        params.append(("fields", FIELDS))
        return params

    def _fetch(self, token: str) -> bytes:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": USER_AGENT}
        with httpx.Client(base_url=self.cfg.base_url, timeout=self.cfg.timeout_s, verify=self.cfg.verify_tls,
                          transport=self.transport, headers=headers, follow_redirects=False) as client:
            for attempt in range(self.cfg.retries + 1):
                last = attempt == self.cfg.retries
                try:
                    response = client.get("/api/v1/applications", params=self._params())
                    body = response.read()
                except httpx.TimeoutException:
                    if last:
                        raise _Failed(f"no answer within {self.cfg.timeout_s:g} s") from None
                    continue
                except httpx.TransportError as exc:
                    if last:
                        raise _Failed(f"cannot reach {self.cfg.base_url}: {type(exc).__name__}") from None
                    self.sleep(min(2.0**attempt, self.cfg.max_retry_wait_s))
                    continue
                status = response.status_code
                if status == 200:
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise _Failed(f"response over {MAX_RESPONSE_BYTES // 2**20} MiB")
                    return body
                if status in _RETRY and not last:
                    wait = _retry_after(response.headers.get("Retry-After"), 2.0**attempt)
                    if wait > self.cfg.max_retry_wait_s:
                        raise _Failed(f"rate limited ({status}); Retry-After {wait:g} s is over the "
                                      f"{self.cfg.max_retry_wait_s:g} s max_retry_wait_s")
                    self.sleep(wait)
                    continue
                raise _Failed(_status_reason(status, body, self.cfg))
        raise _Failed("gave up after retries")  # unreachable: the last attempt returns or raises

    # ----------------------------------------------------------------- parse

    def _parse(self, body: bytes, now: dt.datetime) -> GitOpsCrawl:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise _Failed(f"the response is not JSON ({len(body)} bytes; cut off or an HTML error page?)") from None
        if not isinstance(document, dict) or not isinstance(document.get("items", []), (list, type(None))):
            raise _Failed("the response is not an ApplicationList (no `items` list)")
        metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
        version = metadata.get("resourceVersion") if isinstance(metadata.get("resourceVersion"), str) else None
        previous = self.previous
        if version and previous is not None and previous.resource_version == version:
            return GitOpsCrawl(self.name, list(previous.apps), None, now, version, True, list(previous.problems))
        items = document.get("items") or []
        for item in items:
            if isinstance(item, dict):
                item.setdefault("kind", "Application")
                item.setdefault("apiVersion", "argoproj.io/v1alpha1")
        inventory = parse_k8s_documents(items, "/api/v1/applications", cluster=self.name,
                                        environment=self.cfg.environment)
        return GitOpsCrawl(self.name, inventory.gitops, None, now, version, False,
                           [f"{p.reason}" for p in inventory.problems])


def _retry_after(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def _status_reason(status: int, body: bytes, cfg: ArgoCDSourceConfig) -> str:
    message = ""
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict):  # grpc-gateway error: {"error": ..., "code": 16, "message": ...}
            message = str(parsed.get("message") or parsed.get("error") or "")[:200]
    except (ValueError, UnicodeDecodeError):
        pass
    detail = f": {message}" if message else ""
    if status == 401:
        return f"unauthorized (401){detail}; check the token in {cfg.token_env} (expired or revoked?)"
    if status == 403:
        return f"forbidden (403){detail}; the token needs `applications, get` on the projects"
    if status == 404:
        return f"not found (404) on /api/v1/applications: is {cfg.base_url} an Argo CD API server?"
    return f"HTTP {status}{detail}"


def crawl_all(configs: list[ArgoCDSourceConfig]) -> list[GitOpsCrawl]:
    """Every configured Argo CD server; one failing never stops the others."""
    out = []
    for cfg in configs:
        try:
            out.append(ArgoCDSource(cfg).crawl())
        except Exception as exc:  # noqa: BLE001 - a crawler bug is that source's error, by type only
            out.append(GitOpsCrawl(f"argocd:{cfg.name}", error=f"crawler failed: {type(exc).__name__}"))
    return out
