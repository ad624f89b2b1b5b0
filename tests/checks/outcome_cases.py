"""The vocabulary of the outcome case tables: a Case, and mutators that each
change one fact of the fully passing service in conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from checks.evidence import DependencyManifest
from checks.model import Status

from conftest import prod_workload


@dataclass(frozen=True)
class Case:
    check_id: str
    status: Status
    name: str
    mutate: object  # (ev, ctx) -> (ev, ctx)
    detail: tuple[str, ...] = ()  # substrings of the finding's detail
    remedy: tuple[str, ...] = ()  # substrings of the rendered remediation
    snippet: tuple[str, ...] = ()  # substrings of the copy-able fix

    @property
    def id(self) -> str:
        return f"{self.check_id}-{self.status}-{self.name}"


# ------------------------------------------------------------------ mutators


def chain(*steps):
    def run(ev, ctx):
        for step in steps:
            ev, ctx = step(ev, ctx)
        return ev, ctx

    return run


def same(ev, ctx):
    return ev, ctx


def ev_(**changes):
    return lambda ev, ctx: (replace(ev, **changes), ctx)


def ctx_(**changes):
    return lambda ev, ctx: (ev, replace(ctx, **changes))


def thresholds(**values):
    return lambda ev, ctx: (ev, replace(ctx, thresholds=replace(ctx.thresholds, **values)))


def prod(**changes):
    """Change the production cluster workload (the one checks judge)."""

    def run(ev, ctx):
        first, *rest = ev.cluster_workloads
        return replace(ev, cluster_workloads=[replace(first, **changes), *rest]), ctx

    return run


def app(**changes):
    """Change the production `app` container."""

    def run(ev, ctx):
        first, *rest = ev.cluster_workloads
        containers = [replace(c, **changes) if c.name == "app" else c for c in first.containers]
        return replace(ev, cluster_workloads=[replace(first, containers=containers), *rest]), ctx

    return run


def add_workload(**changes):
    def run(ev, ctx):
        return replace(ev, cluster_workloads=[*ev.cluster_workloads, prod_workload(**changes)]), ctx

    return run


def drop_objects(*kinds):
    return lambda ev, ctx: (replace(ev, cluster_objects=[o for o in ev.cluster_objects if o.kind not in kinds]), ctx)


def add_objects(*objects, repo: bool = False):
    if repo:
        return lambda ev, ctx: (replace(ev, repo_objects=[*ev.repo_objects, *objects]), ctx)
    return lambda ev, ctx: (replace(ev, cluster_objects=[*ev.cluster_objects, *objects]), ctx)


def files(add=(), drop=()):
    return lambda ev, ctx: (replace(ev, files=(ev.files - frozenset(drop)) | frozenset(add)), ctx)


def delivery(**changes):
    return lambda ev, ctx: (replace(ev, delivery=replace(ev.delivery, **changes)), ctx)


def template(**changes):
    return lambda ev, ctx: (replace(ev, templates=[replace(ev.templates[0], **changes)]), ctx)


def ci_ref(ref):
    def run(ev, ctx):
        wf = ev.workflows[0]
        refs = [
            replace(r, ref=ref, uses=f"{r.target}@{ref}" if ref else r.target)
            if r.target.startswith("acme/platform-workflows")
            else r
            for r in wf.refs
        ]
        return replace(ev, workflows=[replace(wf, refs=refs)]), ctx

    return run


def workflow(**changes):
    return lambda ev, ctx: (replace(ev, workflows=[replace(ev.workflows[0], **changes)]), ctx)


def base_chart_version(version):
    def run(ev, ctx):
        chart = ev.helm_charts[0]
        return replace(ev, helm_charts=[replace(chart, dependencies=[replace(chart.dependencies[0], version=version)])]), ctx

    return run


def modules(*extra, keep=True):
    return lambda ev, ctx: (replace(ev, terraform_modules=[*(ev.terraform_modules if keep else ()), *extra]), ctx)


def annotations(values: dict):
    def run(ev, ctx):
        return replace(ev, annotations=values, catalog=replace(ev.catalog, annotations=values) if ev.catalog else None), ctx

    return run


def only_kind(kind, replicas=None):
    """The production workload becomes another kind (its staging copy too)."""

    def run(ev, ctx):
        workloads = [replace(w, kind=kind, replicas=replicas) for w in ev.cluster_workloads]
        return replace(ev, cluster_workloads=workloads), ctx

    return run


def init(**changes):
    """Change the production workload's `migrate` init container."""

    def run(ev, ctx):
        first, *rest = ev.cluster_workloads
        containers = [replace(c, **changes) if c.init else c for c in first.containers]
        return replace(ev, cluster_workloads=[replace(first, containers=containers), *rest]), ctx

    return run


NO_WORKLOADS = ev_(cluster_workloads=None, repo_workloads=[])
STALE = ev_(repo_error="deferred: GitHub rate limit until 14:05 UTC (last good crawl 2026-11-30 06:00 UTC)")
REPO_DOWN = ev_(repo_error="git clone failed: repository is empty")
MONOREPO = ev_(path="services/payments")
def deps(file, ecosystem, *packages):
    return ev_(dependencies=[DependencyManifest(file, ecosystem, list(packages))])


GO_ONLY = ev_(dependencies=[DependencyManifest("go.mod", "go", ["github.com/go-chi/chi/v5"])])
NO_MANIFESTS = ev_(dependencies=[])
MODULE = "git::https://github.com/acme/terraform-modules.git//x?ref=v1.0.0"

FORBIDDEN_HPA = {"HorizontalPodAutoscaler": "prod-eu: forbidden (403)"}
P, F, W, U, NA = Status.PASS, Status.FAIL, Status.WARN, Status.UNKNOWN, Status.NOT_APPLICABLE

