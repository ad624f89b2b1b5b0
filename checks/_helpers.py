"""Helpers shared by the checks: workload selection, label selectors, files
under a service path, and short human lists.

Everything here is pure. The file index is memoised on the evidence's
(immutable) file set because several checks ask questions about the same
paths and checks run for every service on every scoring run.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, wraps

from checks.evidence import Container, K8sObject, ServiceEvidence, Workload
from checks.model import CheckContext, CheckFn, Outcome, not_applicable, passed, unknown

# Backstage component types that are never deployed, so workload checks do not apply.
NON_DEPLOYABLE_TYPES = frozenset({"library", "documentation"})
# Labels that join workloads to services (DESIGN.md "Identity"), best first.
JOIN_LABELS = ("backstage.io/kubernetes-id", "app.kubernetes.io/name", "app")

# Which workload kinds a finding applies to (README "What counts as a workload").
# Every kind runs containers: images, resources, users and secrets apply to all.
ALL_KINDS: frozenset[str] | None = None
# Kinds that stay up and may serve traffic: probes and scraping apply. A Job or
# CronJob runs to completion: nothing routes to it and a liveness restart helps nothing.
LONG_RUNNING = frozenset({
    "Deployment", "StatefulSet", "DaemonSet", "ReplicationController", "DeploymentConfig", "Rollout", "ReplicaSet",
    "Pod",
})  # fmt: skip
# Kinds with a replica count: replicas, autoscaler and PodDisruptionBudget apply.
# A DaemonSet runs one pod per node (drains skip it); a bare Pod counts as one
# replica that nothing reschedules, so the replica check applies to it too.
REPLICATED = frozenset({
    "Deployment", "StatefulSet", "ReplicationController", "DeploymentConfig", "Rollout", "ReplicaSet",
})  # fmt: skip
REPLICAS_APPLY = REPLICATED | {"Pod"}


def summarise_names(names: Iterable[str], limit: int = 3) -> str:
    """`a, b, c and 2 more`: enough to act on, short enough for one line."""
    unique = list(dict.fromkeys(names))
    if len(unique) <= limit:
        return ", ".join(unique)
    return f"{', '.join(unique[:limit])} and {len(unique) - limit} more"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def some_of(k: int, n: int, word: str, singular_verb: str = "", plural_verb: str = "") -> str:
    """`1 of 3 containers lacks`, `2 of 3 containers lack`, `1 of 1 container lacks`."""
    verb = singular_verb if k == 1 else plural_verb
    return f"{k} of {n} {word if n == 1 else word + 's'}" + (f" {verb}" if verb else "")


def every(n: int, word: str, singular_verb: str, plural_verb: str) -> str:
    """`the only container has`, `both containers have`, `all 3 containers have`."""
    if n == 1:
        return f"the only {word} {singular_verb}"
    if n == 2:
        return f"both {word}s {plural_verb}"
    return f"all {n} {word}s {plural_verb}"


def repo_unknown(ev: ServiceEvidence, **params: object) -> Outcome | None:
    """The `unknown` outcome for a repo-based check when the repo was not crawled."""
    if ev.repo_error:
        return unknown(f"repository not crawled: {ev.repo_error}", **params)
    if ev.repo is None:
        return unknown("no repository is linked to this service", **params)
    return None


def from_portal(ev: ServiceEvidence) -> bool:
    """The catalog entity came from a running developer portal, not from a file in the repository."""
    return ev.catalog is not None and ev.catalog.origin == "portal"


def catalog_unknown(ev: ServiceEvidence, **params: object) -> Outcome | None:
    """`repo_unknown` for a check of catalog facts: a portal's entity is known without the repository."""
    return None if from_portal(ev) else repo_unknown(ev, **params)


def is_non_deployable(ev: ServiceEvidence) -> bool:
    return (ev.type or "").lower() in NON_DEPLOYABLE_TYPES


# --------------------------------------------------------------- workloads


@dataclass(frozen=True, slots=True)
class WorkloadScope:
    """The workloads a check judges and the objects that sit next to them."""

    workloads: Sequence[Workload]
    objects: Sequence[K8sObject]
    where: str  # "in prod-eu", "in prod-eu, prod-us", "in repo manifests"
    single: bool  # one distinct workload (across clusters): name containers alone
    unreadable: Mapping[str, str] = field(default_factory=dict)  # kind -> "prod-eu: forbidden (403)"

    def label(self, w: Workload, c: Container | None = None) -> str:
        if c is None:
            return w.name
        return c.name if self.single else f"{w.name}/{c.name}"


def workload_scope(
    ev: ServiceEvidence, ctx: CheckContext, kinds: frozenset[str] | None = ALL_KINDS, what: str = ""
) -> WorkloadScope | Outcome:
    # A dozen checks ask this of the same service in a row: remember the last
    # answer. The memo holds the evidence and context objects themselves, so an
    # `is` comparison can never mistake another service for this one.
    memo = _SCOPE_MEMO.get((kinds, what))
    if memo is not None and memo[0] is ev and memo[1] is ctx:
        return memo[2]
    scope = _workload_scope(ev, ctx, kinds, what)
    _SCOPE_MEMO[(kinds, what)] = (ev, ctx, scope)
    return scope


_SCOPE_MEMO: dict[tuple, tuple[ServiceEvidence, CheckContext, WorkloadScope | Outcome]] = {}


def _workload_scope(
    ev: ServiceEvidence, ctx: CheckContext, kinds: frozenset[str] | None, what: str
) -> WorkloadScope | Outcome:
    """Cluster workloads when a cluster reports any (production ones when there
    are), else the manifests in the repo; an Outcome when there is nothing to judge.

    Running state beats manifests because it is what actually serves traffic;
    production beats staging because that is where the maturity matters.
    ``kinds`` narrows the workloads to those the finding applies to; a service
    with none of them gets `not_applicable` naming what it does run (``what``
    says which workloads the check is about: "long-running").
    """
    if ev.cluster_workloads:
        prod = [w for w in ev.cluster_workloads if w.environment in ctx.production_environments]
        workloads = prod or ev.cluster_workloads
        clusters = sorted({w.cluster for w in workloads if w.cluster})
        where = f"in {', '.join(clusters)}" if clusters else "in cluster"
        objects = ev.cluster_objects
        unreadable = ev.cluster_unreadable
    elif ev.cluster_workloads is not None and ev.cluster_errors and not is_non_deployable(ev):
        # A cluster it may run on could not be read: the repo's manifests are no
        # stand-in for what runs there, so the finding waits for a good crawl.
        return unknown(
            f"cluster state unknown: clusters failed: {summarise_names(ev.cluster_errors)}", **_NO_WORKLOAD_PARAMS
        )
    elif ev.repo_workloads:
        workloads, objects = ev.repo_workloads, ev.repo_objects
        files = sorted({w.file for w in workloads if w.file})
        # Name the files: a copy of the workload elsewhere in the repo (w.also_in) is not what was judged.
        where = f"in repo manifests ({summarise_names(files, 2)})" if files else "in repo manifests"
        unreadable = {}
    else:
        return no_workloads(ev)
    if kinds is not None:
        applicable = [w for w in workloads if w.kind in kinds]
        if not applicable:
            runs = summarise_names(f"{w.kind} {w.name}" for w in workloads)
            return not_applicable(f"{where}: applies to {what or 'other'} workloads; this service runs {runs}")
        workloads = applicable
    first = workloads[0]
    single = all(w.name == first.name and w.kind == first.kind for w in workloads)
    return WorkloadScope(workloads, objects, where, single, unreadable)


def judges_workloads(
    kinds: frozenset[str] | None = ALL_KINDS, what: str = ""
) -> Callable[[Callable[[WorkloadScope, ServiceEvidence, CheckContext], Outcome]], CheckFn]:
    """Make ``judge(scope, ev, ctx)`` a check function over the service's workloads.

    When there is nothing to judge, the finding is the scope's own outcome
    (`not_applicable` for a library or for other kinds of workload, `unknown`
    when the workloads could not be seen), so no workload check can ever read
    missing data as a fail. ``kinds`` and ``what`` as for :func:`workload_scope`.
    """

    def wrap(judge: Callable[[WorkloadScope, ServiceEvidence, CheckContext], Outcome]) -> CheckFn:
        @wraps(judge)
        def run(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
            scope = workload_scope(ev, ctx, kinds, what)
            if isinstance(scope, Outcome):
                return scope
            return judge(scope, ev, ctx)

        return run

    return wrap


@dataclass(frozen=True, slots=True)
class Gap:
    """Workloads nothing covers (name -> the first copy, for a snippet), beside the covered ones."""

    missing: Mapping[str, Workload]
    covered: Mapping[str, str]

    @property
    def names(self) -> list[str]:
        return list(self.missing)

    @property
    def total(self) -> int:
        return len(self.covered.keys() | self.missing.keys())

    @property
    def first(self) -> Workload:
        return next(iter(self.missing.values()))

    def detail(self, where: str, state: str) -> str:
        """`in prod-eu: 1 of 2 workloads is not scraped: worker`."""
        return f"{where}: {some_of(len(self.missing), self.total, 'workload', 'is', 'are')} {state}: {summarise_names(self.missing)}"


def coverage_gap(
    scope: WorkloadScope, cover: Callable[[Workload], str | None], *kinds: str, sep: str = ", "
) -> Gap | Outcome:
    """Whether an object of ``kinds`` covers every workload (``cover`` names the one
    covering ``w``: "PDB api", "HorizontalPodAutoscaler api"), for the checks that
    look for one next to each workload.

    `passed`, naming what covers each, when nothing is missing; `unknown` when
    ``kinds`` could not be read, since the missing one may exist; else the
    :class:`Gap` for the check to word its failure. A workload counts once
    across clusters, uncovered when any copy is.
    """
    covered: dict[str, str] = {}
    missing: dict[str, Workload] = {}
    for w in scope.workloads:
        found = cover(w)
        if found is None:
            missing.setdefault(w.name, w)
        else:
            covered.setdefault(w.name, found)
    if not missing:
        return passed(f"{scope.where}: " + sep.join(f"{name} by {how}" for name, how in covered.items()))
    if (blind := unreadable_kinds(scope, *kinds)) is not None:
        return blind
    return Gap(missing, covered)


def unreadable_kinds(scope: WorkloadScope, *kinds: str) -> Outcome | None:
    """`unknown` when an object kind a finding depends on could not be read.

    Called only where a check would otherwise fail for want of such objects:
    a 403 on HPAs must not read as "no autoscaler".
    """
    missing = [f"{k} ({scope.unreadable[k]})" for k in kinds if k in scope.unreadable]
    if not missing:
        return None
    return unknown(f"{scope.where}: could not read {'; '.join(missing)}", **_NO_WORKLOAD_PARAMS)


# Generic fillers so a workload check's remediation still reads as a sentence
# when there is nothing to name yet.
_NO_WORKLOAD_PARAMS = {
    "containers": "every container",
    "workloads": "every workload",
    "secrets": "each Secret",
    "env_vars": "secret env vars",
    "min_replicas": 2,
    "limits": "memory",
}


def no_workloads(ev: ServiceEvidence) -> Outcome:
    """`not_applicable` for components that are never deployed, else `unknown`, saying why."""
    if is_non_deployable(ev):
        return not_applicable(f"a {ev.type} is not deployed")
    reasons = []
    if ev.cluster_workloads is None:
        reasons.append("no cluster data")
    else:
        reasons.append("no workloads joined to this service in any cluster")
    if ev.cluster_errors:
        reasons.append(f"clusters failed: {summarise_names(ev.cluster_errors)}")
    if ev.repo_error:
        reasons.append(f"repository not crawled: {ev.repo_error}")
    else:
        reasons.append("no manifests in the repo" if ev.repo else "no repository")
    return unknown("no workloads found (" + "; ".join(reasons) + ")", **_NO_WORKLOAD_PARAMS)


def all_workloads(ev: ServiceEvidence) -> list[Workload]:
    """Cluster and repo workloads together: for findings where either copy is a problem
    (a secret committed to git leaks whether or not it is deployed)."""
    return [*(ev.cluster_workloads or ()), *ev.repo_workloads]


def app_containers(w: Workload) -> list[Container]:
    return [c for c in w.containers if not c.init]


def counts_init(scope: WorkloadScope) -> str:
    """`, counting init containers` when the counts below include any: a reader
    checking "1 of 2 containers" against the manifest needs to know."""
    return ", counting init containers" if any(c.init for w in scope.workloads for c in w.containers) else ""


def container_gaps(scope: WorkloadScope, lacks, include_init: bool = False) -> tuple[list[str], int]:
    """Labels of containers for which ``lacks(container, workload)`` is truthy, and
    the number of distinct containers. A container counts once across clusters
    and counts as lacking when any copy lacks.

    Init containers (``include_init``) count where Kubernetes treats them as
    containers: resources (they are scheduled with them), image pinning and the
    user they run as; never for probes, which they cannot have."""
    total: set[str] = set()
    lacking: dict[str, None] = {}
    for w in scope.workloads:
        for c in w.containers:
            if c.init and not include_init:
                continue
            label = scope.label(w, c)
            total.add(label)
            if lacks(c, w):
                lacking[label] = None
    return list(lacking), len(total)


def selector_label(w: Workload) -> tuple[str, str]:
    """The label a generated manifest should select the workload's pods by."""
    for key in JOIN_LABELS:
        if key in w.pod_labels:
            return key, w.pod_labels[key]
    if w.pod_labels:
        return next(iter(w.pod_labels.items()))
    return "app.kubernetes.io/name", w.name


# ----------------------------------------------------------------- selectors


def labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    for k, v in selector.items():
        if labels.get(k) != v:
            return False
    return True


def _expression_matches(expr: Mapping, labels: Mapping[str, str]) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or ()
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False


def selects(spec: Mapping, labels: Mapping[str, str], key: str = "match_labels", empty_matches_all: bool = False) -> bool:
    """Whether a normalised selector in ``spec`` selects ``labels``.

    ``empty_matches_all`` follows the Kubernetes object's own rule: an empty
    PDB (policy/v1) or monitor selector selects everything, a Service with no
    selector selects nothing.
    """
    selector = spec.get(key) or {}
    expressions = spec.get("match_expressions") or ()
    if not selector and not expressions:
        return empty_matches_all
    return labels_match(selector, labels) and all(_expression_matches(e, labels) for e in expressions)


def same_place(obj: K8sObject, w: Workload) -> bool:
    """Same namespace, and same cluster when both know theirs."""
    if obj.namespace != w.namespace:
        return False
    return obj.cluster is None or w.cluster is None or obj.cluster == w.cluster


def monitor_reaches(monitor: K8sObject, w: Workload) -> bool:
    """Whether a ServiceMonitor/PodMonitor looks into the workload's namespace.

    Prometheus Operator's `namespaceSelector` (`any: true` or `matchNames`)
    lets monitors living in a central `monitoring` namespace watch others.
    """
    if monitor.cluster is not None and w.cluster is not None and monitor.cluster != w.cluster:
        return False
    selector = monitor.spec.get("namespace_selector") or {}
    if selector.get("any") is True:
        return True
    names = selector.get("matchNames")
    if names:
        return w.namespace in names
    return monitor.namespace == w.namespace


def objects_of(objects: Iterable[K8sObject], *kinds: str) -> list[K8sObject]:
    return [o for o in objects if o.kind in kinds]


def targets(obj: K8sObject, w: Workload) -> bool:
    """An HPA (or KEDA ScaledObject) scales this workload."""
    spec = obj.spec
    kind = spec.get("target_kind")
    return spec.get("target_name") == w.name and (kind is None or kind == w.kind) and same_place(obj, w)


# --------------------------------------------------------------------- files


def applies_to_path(file: str, path: str) -> bool:
    """A file in the service's subtree, or in a directory above it (a workspace
    root manifest applies to every service below it); never a sibling's."""
    if not path:
        return True
    if file.startswith(path + "/"):
        return True
    directory = posixpath.dirname(file)
    return directory == "" or path == directory or path.startswith(directory + "/")


def in_subtree(file: str, path: str) -> bool:
    return not path or file.startswith(path + "/")


_MARKDOWNISH = frozenset({"", ".md", ".markdown", ".rst", ".adoc", ".txt", ".org"})
_YAML = frozenset({".yaml", ".yml"})
_DASHBOARD_EXT = frozenset({".json", ".jsonnet", ".libsonnet", ".yaml", ".yml", ".py"})
_DASHBOARD_DIRS = frozenset({"dashboards", "dashboard", "grafana"})
_ALERT_DIRS = frozenset({"alerts", "alerting", "prometheus-rules", "monitors"})
_ALERT_EXT = frozenset({".yaml", ".yml", ".json", ".tf"})
_ALERT_TOKENS = frozenset({"alert", "alerts", "rules"})
_SLO_DIRS = frozenset({"slo", "slos", "openslo", "sloth"})
_SLO_TOKENS = frozenset({"slo", "slos"})


@dataclass(frozen=True, slots=True)
class FileIndex:
    """What the service's files say, computed once per (files, path, service)."""

    readmes: tuple[str, ...]
    runbooks: tuple[str, ...]
    security_policies: tuple[str, ...]
    dashboards: tuple[str, ...]
    alert_rules: tuple[str, ...]
    slo_files: tuple[str, ...]
    other_ci: tuple[str, ...]


def _tokens(stem: str) -> set[str]:
    return set(stem.replace("-", ".").replace("_", ".").split("."))


_OTHER_CI = ("jenkinsfile", ".gitlab-ci.yml", ".circleci/config.yml", "azure-pipelines.yml", ".buildkite/pipeline.yml", ".drone.yml")


# Every file the index keeps has one of these words in its path (the rules
# below all need one), so one C-speed regex scan over the joined paths finds
# the few candidates and the per-file Python work runs on those alone. That
# keeps a 5,000-file monorepo as cheap as a small repo.
_KEYWORDS = re.compile(
    "readme|runbook|security|dashboard|grafana|alert|rules|monitors|slo|jenkinsfile|gitlab-ci"
    "|circleci|azure-pipelines|buildkite|drone"
)


def _candidates(files: frozenset[str]) -> list[str]:
    joined = "\n".join(files)
    lower = joined.lower()
    if len(lower) != len(joined):  # a non-ASCII path changed length when lowered
        return sorted(f for f in files if _KEYWORDS.search(f.lower()))
    found: dict[int, str] = {}
    for m in _KEYWORDS.finditer(lower):
        start = lower.rfind("\n", 0, m.start()) + 1
        if start not in found:
            end = lower.find("\n", m.end())
            found[start] = joined[start : end if end != -1 else len(joined)]
    return sorted(found.values())


@lru_cache(maxsize=2048)
def _index(files: frozenset[str], path: str, service: str) -> FileIndex:
    readmes, runbooks, security, dashboards, alerts, slos, other_ci = [], [], [], [], [], [], []
    path_l = path.lower().strip("/")
    service_l = service.lower()
    for original in _candidates(files):
        f = original.lower()
        directory, name = posixpath.split(f)
        stem, ext = posixpath.splitext(name)
        own = in_subtree(f, path_l)
        # A shared monorepo folder (`dashboards/`) counts for the service its file is named after.
        named_for_service = service_l in name
        if name.startswith("readme") and ext in _MARKDOWNISH and directory in (path_l, ""):
            readmes.append(original)
        if ext in _MARKDOWNISH and (name.startswith("runbook") or "runbooks" in directory.split("/")):
            # The repo root's RUNBOOK.md / docs/runbook*.md is the fallback the brief names;
            # another service's runbook folder in a monorepo is not.
            root_level = name.startswith("runbook") and directory in ("", "docs")
            if own or root_level or named_for_service:
                runbooks.append(original)
        if stem == "security" and ext in _MARKDOWNISH and directory in ("", ".github", "docs"):
            security.append(original)
        if f in _OTHER_CI:
            other_ci.append(original)
        if not (own or named_for_service):
            continue
        segments = set(directory.split("/"))
        stem_tokens = _tokens(stem)
        if ext in _DASHBOARD_EXT and (segments & _DASHBOARD_DIRS or "dashboard" in stem_tokens):
            dashboards.append(original)
        if ext in _ALERT_EXT and (segments & _ALERT_DIRS or (ext in _YAML and stem_tokens & _ALERT_TOKENS)):
            alerts.append(original)
        if ext in _YAML and (segments & _SLO_DIRS or stem_tokens & _SLO_TOKENS):
            slos.append(original)
    return FileIndex(
        tuple(readmes), tuple(runbooks), tuple(security), tuple(dashboards), tuple(alerts), tuple(slos), tuple(other_ci)
    )


def file_index(ev: ServiceEvidence) -> FileIndex:
    files = ev.files if isinstance(ev.files, frozenset) else frozenset(ev.files)
    return _index(files, ev.path.strip("/"), ev.service)


def found_in_repo(ev: ServiceEvidence, kind: str, **params: object) -> Outcome | None:
    """`passed` naming the service's files of ``kind`` (a :class:`FileIndex` field:
    "dashboards", "runbooks"), `unknown` when the repository was not crawled
    (``params`` fill the remediation), None when the repository has none."""
    if (missing := repo_unknown(ev, **params)) is not None:
        return missing
    if files := getattr(file_index(ev), kind):
        return passed(summarise_names(files))
    return None


def under(path: str, name: str) -> str:
    """Where to create ``name`` for a service at ``path`` (repo-root relative)."""
    return f"{path.strip('/')}/{name}" if path.strip("/") else name


# ------------------------------------------------------------------- sources


@lru_cache(maxsize=4096)
def normalise_source(source: str) -> str:
    """Compare git/template/module sources by what they point at, not how they are spelled:
    `gh:acme/tpl`, `https://github.com/acme/tpl.git/` and `git@github.com:acme/tpl` are one thing."""
    s = source.strip().lower()
    for prefix in ("git::", "git+"):
        if s.startswith(prefix):
            s = s[len(prefix) :]
    s = s.split("?", 1)[0]
    for prefix in ("https://", "http://", "ssh://", "git://"):
        if s.startswith(prefix):
            s = s[len(prefix) :]
            break
    if s.startswith("git@"):
        s = s[4:].replace(":", "/", 1)
    if s.startswith("gh:"):
        s = "github.com/" + s[3:]
    if s.startswith("github.com/"):
        s = s[len("github.com/") :]
    base, sep, sub = s.partition("//")
    base = base.rstrip("/")
    if base.endswith(".git"):
        base = base[:-4]
    s = f"{base}/{sub}" if sep and sub else base
    return s.rstrip("/")


def source_matches(source: str, reference: str) -> bool:
    """``source`` is ``reference`` or lives below it (`acme/x/...` under `acme/x`, not `acme/x-old`)."""
    s, r = normalise_source(source), normalise_source(reference)
    return s == r or s.startswith(r + "/")


def team_slug(owner: str) -> str:
    """`group:default/payments`, `@acme/payments`, `Payments` -> `payments`."""
    s = owner.strip().lower()
    if ":" in s:
        s = s.split(":", 1)[1]
    return s.lstrip("@").rsplit("/", 1)[-1]
