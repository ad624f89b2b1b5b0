"""A developer portal's catalog (Backstage): its Components are services, its Groups teams.

Read live over the catalog REST API (docs/backstage.md):

* ``GET {base}/api/catalog/entities/by-query`` with one ``filter`` parameter
  per kind (filter sets are OR-ed; conditions inside one set are AND-ed, so
  ``filter=kind=component,kind=group`` would match nothing), ``fields`` to
  keep only what identity reads, ``limit``, then ``cursor`` from
  ``pageInfo.nextCursor`` alone (the catalog ignores ``filter`` next to a
  cursor: the cursor carries the query);
* ``GET {base}/api/catalog/entities`` with ``offset``/``limit`` when
  by-query answers 404 (backends from before it existed);
* ``POST {base}/api/catalog/entities/by-refs`` on a re-crawl, for the
  entities whose ``metadata.etag`` changed since the last good read.

Or read offline from ``entities_file``: a JSON list of entities, or a saved
by-query response (``{"items": [...]}``).

A portal that cannot be read never raises out of :meth:`BackstageSource.crawl`:
the returned catalog carries ``error`` (a sentence a person can act on, never
the token) and the run goes on with the repositories' own identity.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from checks.evidence import CatalogEntity, Problem
from pipelines import secrets
from pipelines.config_sources import BackstageSourceConfig
from pipelines.parsers.catalog import entity_from_mapping

KINDS = ("component", "system", "group")
# What identity reads; everything else (relations, links, status) is pruned by the server.
FIELDS = (
    "apiVersion", "kind", "metadata.namespace", "metadata.name", "metadata.title", "metadata.description",
    "metadata.annotations", "metadata.etag", "spec.owner", "spec.lifecycle", "spec.system", "spec.type",
    "spec.parent", "spec.profile",
)  # fmt: skip
# A re-crawl's listing: just enough to know each entity and whether it changed.
LIST_FIELDS = ("kind", "metadata.namespace", "metadata.name", "metadata.etag")
BY_REFS_CHUNK = 500
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_PAGES = 100_000  # a cursor that never ends is a broken server, not a big catalog
STATE_VERSION = 1

Progress = Callable[[str, int, int], None]


class PortalError(Exception):
    """The portal could not be read; the message is for people and holds no secret."""


@dataclass(slots=True)
class PortalGroup:
    ref: str  # group:default/payments
    name: str
    display_name: str | None = None  # spec.profile.displayName
    parent: str | None = None  # spec.parent, as written


@dataclass
class PortalCatalog:
    """What one portal said, normalised; ``error`` set when it could not be read at all."""

    source: str  # the config entry's name
    location: str  # base URL or file, for status lines (never holds credentials)
    components: list[CatalogEntity] = field(default_factory=list)
    systems: dict[str, str | None] = field(default_factory=dict)  # system ref -> owner
    groups: dict[str, PortalGroup] = field(default_factory=dict)  # group ref -> group
    problems: list[Problem] = field(default_factory=list)  # entities that were skipped, and why
    error: str | None = None
    crawled_at: dt.datetime | None = None
    stats: dict = field(default_factory=dict)  # requests, pages, fetched, reused, retries, mode
    # Set with `error` when the entities are those of the last good read (from that time):
    # an outage must not make services vanish or checks fail on facts only the portal held.
    stale_since: dt.datetime | None = None

    @property
    def usable(self) -> bool:
        return self.error is None or self.stale_since is not None

    @property
    def items(self) -> int:
        return len(self.components) + len(self.systems) + len(self.groups)


def entity_ref(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind.lower()}:{(namespace or 'default').lower()}/{name.lower()}"


def parse_ref(ref: str, default_kind: str = "group") -> str:
    """``payments``, ``group:payments``, ``default/payments`` -> ``group:default/payments``."""
    text = ref.strip()
    kind, _, rest = text.partition(":") if ":" in text else (default_kind, "", text)
    namespace, _, name = rest.rpartition("/")
    return entity_ref(kind, namespace or "default", name)


def catalog_from_entities(entities: list, source: str, location: str) -> PortalCatalog:
    """Components, Systems and Groups of a list of entities; anything else is skipped, bad ones noted."""
    out = PortalCatalog(source=source, location=location)
    for index, raw in enumerate(entities):
        kind = str(raw.get("kind", "")).lower() if isinstance(raw, dict) else ""
        metadata = raw.get("metadata") if isinstance(raw, dict) else None
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not kind or not isinstance(name, str) or not name:
            out.problems.append(Problem(f"{location} item {index}", "not a catalog entity (no kind or metadata.name); skipped"))
            continue
        ref = entity_ref(kind, metadata.get("namespace"), name)
        spec = raw.get("spec") if isinstance(raw.get("spec"), dict) else {}
        if kind == "component":
            entity = entity_from_mapping(raw, f"the Backstage portal {source} ({ref})")
            if entity is not None:
                entity.origin = "portal"
                entity.path = ""  # set by identity: the portal's path is relative to the repository it names
                out.components.append(entity)
        elif kind == "group":
            profile = spec.get("profile") if isinstance(spec.get("profile"), dict) else {}
            display = profile.get("displayName")
            parent = spec.get("parent")
            out.groups[ref] = PortalGroup(ref, name, display if isinstance(display, str) else None,
                                          parent if isinstance(parent, str) else None)
        elif kind == "system":
            owner = spec.get("owner")
            out.systems[ref] = owner if isinstance(owner, str) else None
    return out


class BackstageSource:
    """One configured portal (``sources.backstage[]``)."""

    kind = "backstage"

    def __init__(
        self, cfg: BackstageSourceConfig, *, base_dir: Path, state_dir: Path | None,
        transport: httpx.BaseTransport | None = None, environ: dict[str, str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.base_dir = base_dir
        self.state_dir = state_dir
        self.transport = transport  # tests: a MockTransport; production: the default
        self.environ = environ if environ is not None else os.environ

    @property
    def location(self) -> str:
        if self.cfg.entities_file is not None:
            return str(self._file())
        return _catalog_base(self.cfg.base_url or "")

    def crawl(self, progress: Progress | None = None) -> PortalCatalog:
        """Every Component, System and Group; never raises for a portal that cannot be read."""
        progress = progress or (lambda stage, done, total: None)
        started = time.monotonic()
        try:
            if self.cfg.entities_file is not None:
                entities, stats = self._read_file(), {"mode": "file", "requests": 0}
            else:
                entities, stats = self._read_api(progress)
        except PortalError as exc:
            return self._last_good(secrets.redact(str(exc)))
        catalog = catalog_from_entities(entities, self.name, self.location)
        catalog.crawled_at = dt.datetime.now(dt.UTC)
        catalog.stats = {**stats, "entities": len(entities), "seconds": round(time.monotonic() - started, 3)}
        return catalog

    def _last_good(self, error: str) -> PortalCatalog:
        now = dt.datetime.now(dt.UTC)
        state = _State.load(self._state_path(), self.location) if self.cfg.entities_file is None else None
        if state is None or not state.entities or state.saved_at is None:
            return PortalCatalog(self.name, self.location, error=error, crawled_at=now)
        catalog = catalog_from_entities(list(state.entities.values()), self.name, self.location)
        catalog.error, catalog.crawled_at, catalog.stale_since = error, now, state.saved_at
        catalog.stats = {"mode": "last good read", "requests": 0}
        return catalog

    # ------------------------------------------------------------------ file

    def _file(self) -> Path:
        path = self.cfg.entities_file
        assert path is not None
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    def _read_file(self) -> list:
        path = self._file()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PortalError(f"entities_file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PortalError(f"cannot read entities_file {path}: {exc}") from None
        except ValueError as exc:
            raise PortalError(f"entities_file {path} is not valid JSON ({exc})") from None
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            return data["items"]
        if isinstance(data, list):
            return data
        raise PortalError(f"entities_file {path}: expected a JSON list of entities or an object with `items`")

    # ------------------------------------------------------------------- API

    def _read_api(self, progress: Progress) -> tuple[list, dict]:
        token = self.environ.get(self.cfg.token_env) or None
        secrets.register(token)  # before any request: an error body may echo it
        state = _State.load(self._state_path(), self.location)
        with _Api(self.cfg, token, self.transport) as api:
            if state.entities:
                entities = self._recrawl(api, state, progress)
            else:
                entities = [e for page in api.pages(FIELDS, progress, self.name) for e in page]
                api.stats["fetched"] = len(entities)
                api.stats["reused"] = 0
            stats = dict(api.stats)
        _State(self.location, {_ref_of(e): e for e in entities if _ref_of(e)}, dt.datetime.now(dt.UTC)).save(
            self._state_path())
        return entities, stats

    def _recrawl(self, api: _Api, state: _State, progress: Progress) -> list:
        """List refs and etags only; fetch in full just the entities that changed (``metadata.etag``)."""
        listed = [e for page in api.pages(LIST_FIELDS, progress, self.name) for e in page]
        keep: list[dict] = []
        changed: list[str] = []
        for item in listed:
            ref = _ref_of(item)
            if ref is None:
                continue
            old = state.entities.get(ref)
            etag = (item.get("metadata") or {}).get("etag")
            if old is not None and etag and (old.get("metadata") or {}).get("etag") == etag:
                keep.append(old)
            else:
                changed.append(ref)
        fetched = api.by_refs(changed, FIELDS) if changed else []
        if fetched is None:  # no by-refs on this backend: one full read instead
            fetched, keep = [e for page in api.pages(FIELDS, progress, self.name) for e in page], []
        api.stats["reused"], api.stats["fetched"] = len(keep), len(fetched)
        return keep + fetched

    def _state_path(self) -> Path | None:
        if self.state_dir is None:
            return None
        return self.state_dir / f"{_safe(self.name)}.json"


def _ref_of(entity: object) -> str | None:
    if not isinstance(entity, dict):
        return None
    metadata = entity.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not entity.get("kind"):
        return None
    return entity_ref(str(entity["kind"]), metadata.get("namespace"), metadata["name"])


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "backstage"


def _catalog_base(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base if base.endswith("/api/catalog") else f"{base}/api/catalog"


@dataclass
class _State:
    """Last good read of a portal: its entities by ref (they carry their etag). Never a token."""

    location: str
    entities: dict[str, dict]
    saved_at: dt.datetime | None = None

    @classmethod
    def load(cls, path: Path | None, location: str) -> _State:
        if path is None or not path.exists():
            return cls(location, {})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(location, {})  # a damaged cache costs one full read, nothing else
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION or data.get("location") != location:
            return cls(location, {})
        entities = data.get("entities")
        try:
            saved_at = dt.datetime.fromisoformat(data["saved_at"])
        except (KeyError, TypeError, ValueError):
            saved_at = None
        return cls(location, entities if isinstance(entities, dict) else {}, saved_at)

    def save(self, path: Path | None) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": STATE_VERSION, "location": self.location, "entities": self.entities,
                   "saved_at": self.saved_at.isoformat() if self.saved_at else None}
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as tmp:
            tmp.write(json.dumps(payload, separators=(",", ":")))  # one C-encoded string: json.dump streams slowly
        os.replace(tmp.name, path)


class _Api:
    """Requests to one catalog: retries, deadline and error wording in one place."""

    def __init__(self, cfg: BackstageSourceConfig, token: str | None, transport: httpx.BaseTransport | None) -> None:
        self.cfg = cfg
        self.base = _catalog_base(cfg.base_url or "")
        self.has_token = token is not None
        headers = {"Accept": "application/json", "User-Agent": "platform-scorecard"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = httpx.Client(base_url=self.base, headers=headers, transport=transport,
                                   timeout=httpx.Timeout(cfg.timeout_s, connect=min(cfg.timeout_s, 10.0)))
        self.deadline = time.monotonic() + cfg.deadline_seconds
        self.stats: dict = {"requests": 0, "pages": 0, "retries": 0, "waited_s": 0.0, "bytes": 0, "mode": "by-query"}

    def __enter__(self) -> _Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    # -------------------------------------------------------------- paging

    def pages(self, fields: tuple[str, ...], progress: Progress, name: str) -> Iterator[list]:
        """Each page of entities of the wanted kinds: by-query's cursor, else the legacy offset list."""
        stage = f"read backstage {name} (pages)"
        filters = [("filter", f"kind={k}") for k in KINDS]
        params: list[tuple[str, str | int]] = [*filters, ("fields", ",".join(fields)), ("limit", self.cfg.page_size)]
        status, data = self.request("GET", "/entities/by-query", params=params)
        if status == 404:
            yield from self._legacy_pages(fields, progress, stage)
            return
        seen: set[str] = set()
        while True:
            items, cursor, total = _query_page(data)
            self.stats["pages"] += 1
            pages_total = max(self.stats["pages"], -(-total // self.cfg.page_size)) if total else self.stats["pages"]
            progress(stage, self.stats["pages"], pages_total)
            yield items
            if not cursor or not items:
                return
            if cursor in seen or self.stats["pages"] >= MAX_PAGES:
                raise PortalError(f"{self.base}/entities/by-query: cursor paging did not advance (cursor repeated)")
            seen.add(cursor)
            status, data = self.request("GET", "/entities/by-query",
                                        params=[("cursor", cursor), ("fields", ",".join(fields)), ("limit", self.cfg.page_size)])
            if status == 404:
                raise PortalError(f"{self.base}/entities/by-query answered 404 in the middle of paging")

    def _legacy_pages(self, fields: tuple[str, ...], progress: Progress, stage: str) -> Iterator[list]:
        self.stats["mode"] = "legacy"
        limit = self.cfg.page_size
        offset = 0
        while True:
            params = [*(("filter", f"kind={k}") for k in KINDS), ("fields", ",".join(fields)),
                      ("offset", offset), ("limit", limit)]
            status, data = self.request("GET", "/entities", params=params)
            if status == 404:
                raise PortalError(f"no catalog API at {self.base} (404 on /entities/by-query and /entities): "
                                  "base_url should be the portal's backend URL, e.g. https://backstage.example.com")
            if not isinstance(data, list):
                raise PortalError(f"{self.base}/entities did not answer a JSON list of entities")
            self.stats["pages"] += 1
            progress(stage, self.stats["pages"], self.stats["pages"] + (len(data) >= limit))
            yield data
            # A backend from before paging ignores limit and offset and returns everything at once.
            if len(data) != limit or self.stats["pages"] >= MAX_PAGES:
                return
            offset += limit

    def by_refs(self, refs: list[str], fields: tuple[str, ...]) -> list | None:
        """The named entities in full; None when this backend has no by-refs endpoint."""
        out: list = []
        for start in range(0, len(refs), BY_REFS_CHUNK):
            chunk = refs[start:start + BY_REFS_CHUNK]
            status, data = self.request("POST", "/entities/by-refs", body={"entityRefs": chunk, "fields": list(fields)})
            if status in (404, 405):
                return None
            items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise PortalError(f"{self.base}/entities/by-refs did not answer {{\"items\": [...]}}")
            out.extend(e for e in items if isinstance(e, dict))  # null: deleted since the listing
        return out

    # ------------------------------------------------------------ requests

    def request(self, method: str, path: str, params: list | None = None, body: dict | None = None) -> tuple[int, object]:
        """(status, decoded JSON) for 200 and 404; any other outcome after retries is a PortalError."""
        url = f"{self.base}{path}"
        for attempt in range(self.cfg.max_retries + 1):
            if time.monotonic() > self.deadline:
                raise PortalError(f"reading {self.base} did not finish within its {self.cfg.deadline_seconds:g} s deadline")
            self.stats["requests"] += 1
            try:
                response = self.client.request(method, path, params=params, json=body)
                content = response.content
            except httpx.TimeoutException as exc:
                phase = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
                raise PortalError(f"timed out {phase} {url} ({self.cfg.timeout_s:g} s timeout)") from None
            except httpx.ConnectError as exc:
                raise PortalError(f"cannot connect to {self.base}: {_reason(exc)}") from None
            except httpx.RemoteProtocolError as exc:
                raise PortalError(f"response from {url} was cut off or malformed ({_reason(exc)})") from None
            except httpx.TransportError as exc:
                raise PortalError(f"request to {url} failed: {_reason(exc)}") from None
            status = response.status_code
            self.stats["bytes"] += len(content)
            if status == 200:
                return status, _decode(content, url)
            if status in (404, 405):
                return status, None
            if status in RETRY_STATUSES and attempt < self.cfg.max_retries:
                pause = _retry_after(response.headers.get("Retry-After"))
                pause = self.cfg.backoff_s * 2**attempt if pause is None else pause
                if pause > self.cfg.max_wait_s:
                    raise PortalError(f"HTTP {status} from {url}: asked to wait {pause:g} s, more than max_wait_s "
                                      f"({self.cfg.max_wait_s:g} s)")
                if time.monotonic() + pause < self.deadline:
                    self.stats["retries"] += 1
                    self.stats["waited_s"] = round(self.stats["waited_s"] + pause, 3)
                    time.sleep(pause)
                    continue
            raise PortalError(self._refusal(status, url, content, attempt + 1))
        raise AssertionError("the last attempt always returns or raises")

    def _refusal(self, status: int, url: str, content: bytes, attempts: int) -> str:
        message = _error_message(content)
        if status == 401:
            how = (f"rejected the token in ${self.cfg.token_env}" if self.has_token
                   else f"needs a token: set ${self.cfg.token_env} (a static token from backend.auth.externalAccess)")
            return f"unauthorized (401): {self.base} {how}{message}"
        if status == 403:
            return f"forbidden (403): the token may not read the catalog (permission catalog.entity.read){message}"
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return f"HTTP {status} from {url}{tries}{message}"


def _query_page(data: object) -> tuple[list, str | None, int | None]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise PortalError("entities/by-query did not answer {items, totalItems, pageInfo}: is base_url a Backstage backend?")
    page_info = data.get("pageInfo") if isinstance(data.get("pageInfo"), dict) else {}
    cursor = page_info.get("nextCursor")
    total = data.get("totalItems")
    return data["items"], cursor if isinstance(cursor, str) and cursor else None, total if isinstance(total, int) else None


def _decode(content: bytes, url: str) -> object:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        raise PortalError(f"response from {url} is not valid JSON ({len(content)} bytes; cut off, or not the catalog API?)") from None


def _error_message(content: bytes) -> str:
    """Backstage's own explanation (``{"error": {"name", "message"}}``), short and redacted, or nothing."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict) or not error.get("message"):
        return ""
    name = f"{error['name']}: " if isinstance(error.get("name"), str) else ""
    # Redact before cutting: a cut could leave half a token behind.
    text = " ".join(f"{name}{error['message']}".split())
    return f" ({secrets.redact(text)[:300]})"


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _reason(exc: Exception) -> str:
    return secrets.redact(" ".join(str(exc).split()) or type(exc).__name__)[:300]
