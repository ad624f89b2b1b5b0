"""The check model: a check is a pure function plus its human text, kept as data.

A check function takes ``(ServiceEvidence, CheckContext)`` and returns an
:class:`Outcome`. It never does I/O. Its title, rationale, remediation (with
``{placeholders}`` filled from the outcome's params and the service) and doc
link live on the :class:`Check` next to it, so the catalogue, the dashboard,
``scorecard explain`` and the README are all generated from the same place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from checks import file_kinds
from checks.evidence import ServiceEvidence
from checks.thresholds import Thresholds


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"  # data missing or stale: never counted as a fail
    ERROR = "error"  # the check itself broke
    WAIVED = "waived"


CATEGORIES = ("golden_path", "observability", "ownership", "delivery", "reliability", "security")
LEVELS = ("bronze", "silver", "gold")


# Outcome and Finding are NamedTuples, not frozen dataclasses: one of each is made
# per (service, check), and a frozen dataclass's __init__ (object.__setattr__ per
# field) cost about a fifth of an evaluation. Both stay immutable.
_NO_PARAMS: Mapping[str, object] = MappingProxyType({})


class Outcome(NamedTuple):
    status: Status
    detail: str  # one line a person reads: "2 of 3 containers lack a readiness probe: worker, cron"
    params: Mapping[str, object] = _NO_PARAMS  # fills the remediation placeholders
    snippet: str | None = None  # copy-able fix (YAML block, file contents), where the check has one


def passed(detail: str, **params: object) -> Outcome:
    return Outcome(Status.PASS, detail, params)


def failed(detail: str, snippet: str | None = None, **params: object) -> Outcome:
    return Outcome(Status.FAIL, detail, params, snippet)


def warned(detail: str, snippet: str | None = None, **params: object) -> Outcome:
    return Outcome(Status.WARN, detail, params, snippet)


def unknown(detail: str, **params: object) -> Outcome:
    return Outcome(Status.UNKNOWN, detail, params)


def not_applicable(detail: str, **params: object) -> Outcome:
    return Outcome(Status.NOT_APPLICABLE, detail, params)


@dataclass(frozen=True, slots=True)
class GoldenPath:
    """One golden path as configured: what "on the path" means and its releases."""

    reference: str  # template source, workflow target, chart name or module source prefix
    latest: str | None = None
    releases: tuple[str, ...] = ()  # oldest -> newest, for "N releases behind"


@dataclass(frozen=True, slots=True)
class PlatformCompositions:
    """The Crossplane golden path: which compositions the platform publishes (checks.crossplane).

    A composition is the platform's when it is named here, or when its labels
    carry every one of ``match_labels`` (as the platform labels what it publishes).
    """

    compositions: tuple[str, ...] = ()
    match_labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Organisation-level settings every check may read (from the config)."""

    as_of: dt.date
    known_teams: frozenset[str] = frozenset()
    organisation: str | None = None  # fills snippets such as `github.com/project-slug: <org>/<repo>`
    template: GoldenPath | None = None
    ci_workflow: GoldenPath | None = None
    helm_chart: GoldenPath | None = None
    terraform: GoldenPath | None = None
    crossplane: PlatformCompositions | None = None
    gitops: GoldenPath | None = None  # reference: argocd / flux / both; releases: Argo CD projects or Flux sources
    thresholds: Thresholds = field(default_factory=Thresholds)
    production_environments: frozenset[str] = frozenset({"production", "prod"})


CheckFn = Callable[[ServiceEvidence, CheckContext], Outcome]


@dataclass(frozen=True, slots=True)
class Check:
    id: str  # snake_case yes/no question: has_codeowners, uses_base_helm_chart
    title: str
    category: str
    level: str  # default level in the default scorecard
    weight: int
    rationale: str
    remediation: str  # with {placeholders}: {service} {repo} {path} {owner} + the outcome's params
    doc: str  # path below the configurable doc base URL
    fn: CheckFn

    def doc_url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.doc.lstrip('/')}"

    def render_remediation(self, ev: ServiceEvidence, params: Mapping[str, object]) -> str:
        values = _Placeholders(
            service=ev.service,
            repo=ev.repo or "(no repo)",
            path=ev.path or ".",
            owner=ev.team or "(unknown owner)",
        )
        values.update({k: _fmt(v) for k, v in params.items()})
        return self.remediation.format_map(values)


def _fmt(value: object) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


class _Placeholders(dict):
    """A missing placeholder renders as itself instead of raising: a remediation
    text with a typo must not turn a finding into an error."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Finding(NamedTuple):
    check_id: str
    status: Status
    detail: str
    remediation: str | None  # rendered; None when the check passed or does not apply
    snippet: str | None = None
    # What the finding is about, as data (versions, files, workloads): the
    # outcome's params, published with the result so readers need not re-judge.
    params: Mapping[str, object] = _NO_PARAMS


_NEEDS_FIX = frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN, Status.ERROR})


def evaluate(check: Check, ev: ServiceEvidence, ctx: CheckContext) -> Finding:
    """Run one check; a check that raises becomes an `error` finding, never a crashed run."""
    try:
        out = check.fn(ev, ctx)
    except Exception as exc:  # noqa: BLE001 - any bug in one check must not stop the others
        return Finding(check.id, Status.ERROR, f"check failed: {type(exc).__name__}: {exc}", None)
    if ev.unreadable_files and (blind := _unreadable(check, ev, out)) is not None:
        return blind
    remediation = check.render_remediation(ev, out.params) if out.status in _NEEDS_FIX else None
    return Finding(check.id, out.status, out.detail, remediation, out.snippet, out.params)


_MAY_HIDE = {  # outcomes a file the clone lacks could have changed (see checks.file_kinds)
    # not_applicable too: "no Crossplane claims" may only mean the manifest holding them was not read.
    False: frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN, Status.NOT_APPLICABLE}),
    True: frozenset({Status.UNKNOWN}),  # the failure names what a readable file holds
}


def _unreadable(check: Check, ev: ServiceEvidence, out: Outcome) -> Finding | None:
    """`unknown`, naming the files, when a file this check reads is not in the clone."""
    if out.status not in _MAY_HIDE[check.id in file_kinds.FAILS_ON_WHAT_WAS_READ]:
        return None
    files = file_kinds.unread(check.id, ev)
    if not files:
        return None
    detail = file_kinds.detail(files)
    if out.status is Status.UNKNOWN:
        detail = f"{detail}; {out.detail}"
    remediation = file_kinds.REMEDIATION.format(
        repo=ev.repo or "the repository", files=file_kinds.names(files), verb="is" if len({f.path for f in files}) == 1 else "are"
    )
    return Finding(check.id, Status.UNKNOWN, detail, remediation)


# ----------------------------------------------------------------- registry

CATALOGUE: dict[str, Check] = {}


def check(
    *,
    id: str,  # noqa: A002 - the catalogue's own word
    title: str,
    category: str,
    level: str,
    weight: int,
    rationale: str,
    remediation: str,
    doc: str | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register a check function in the catalogue with its human text."""
    if category not in CATEGORIES:
        raise ValueError(f"check {id}: unknown category {category!r}")
    if level not in LEVELS:
        raise ValueError(f"check {id}: unknown level {level!r}")

    def register(fn: CheckFn) -> CheckFn:
        if id in CATALOGUE:
            raise ValueError(f"duplicate check id {id!r}")
        CATALOGUE[id] = Check(
            id=id,
            title=title,
            category=category,
            level=level,
            weight=weight,
            rationale=rationale,
            remediation=remediation,
            doc=doc or f"{category}/{id}",
            fn=fn,
        )
        return fn

    return register
