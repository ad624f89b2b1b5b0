"""Reliability checks on the service's Kubernetes workloads.

Which workloads: see ``_helpers.workload_scope`` (production cluster state
first, then other cluster state, then the repo's manifests). A container or
workload running in several clusters counts once, and counts as lacking if
any copy lacks.
"""

from __future__ import annotations

from checks._helpers import (
    LONG_RUNNING,
    REPLICAS_APPLY,
    REPLICATED,
    WorkloadScope,
    container_gaps,
    counts_init,
    coverage_gap,
    every,
    judges_workloads,
    objects_of,
    same_place,
    selector_label,
    selects,
    some_of,
    summarise_names,
    targets,
    unreadable_kinds,
)
from checks.evidence import Container, ServiceEvidence, Workload
from checks.model import CheckContext, Outcome, check, failed, passed, unknown

def _probe_check(scope: WorkloadScope, kind: str) -> Outcome:
    attr = f"{kind}_probe"
    lacking, total = container_gaps(scope, lambda c, w: not getattr(c, attr))
    if not lacking:
        return passed(f"{scope.where}: {every(total, 'container', 'has', 'have')} a {kind} probe")
    return failed(
        f"{scope.where}: {some_of(len(lacking), total, 'container', 'lacks', 'lack')} a {kind} probe: {summarise_names(lacking)}",
        snippet=_probe_snippet(kind, lacking),
        containers=lacking,
    )


def _probe_snippet(kind: str, containers: list[str]) -> str:
    path, extra = ("/readyz", "  periodSeconds: 5\n  failureThreshold: 3\n") if kind == "readiness" else (
        "/livez",
        "  periodSeconds: 10\n  failureThreshold: 6  # generous: a restart is the last resort\n",
    )
    return (
        f"# under each of: {', '.join(containers)}\n"
        f"{kind}Probe:\n"
        "  httpGet:\n"
        f"    path: {path}\n"
        "    port: http\n"
        f"{extra}"
    )


@check(
    id="has_readiness_probes",
    title="Containers have readiness probes",
    category="reliability",
    level="bronze",
    weight=3,
    rationale=(
        "Without a readiness probe Kubernetes sends traffic to a pod before it can serve and keeps "
        "sending it while the pod is overloaded, turning every deploy into a burst of errors."
    ),
    remediation=(
        "Add a readinessProbe to {containers} in {service}'s manifests or Helm values in {repo} "
        "(snippet), pointing at an endpoint that checks the pod can serve."
    ),
)
@judges_workloads(LONG_RUNNING, "long-running")
def has_readiness_probes(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    return _probe_check(scope, "readiness")


@check(
    id="has_liveness_probes",
    title="Containers have liveness probes",
    category="reliability",
    level="silver",
    weight=2,
    rationale=(
        "A liveness probe lets Kubernetes restart a container that is stuck (deadlock, exhausted "
        "pool) instead of leaving it up and failing until a human notices."
    ),
    remediation=(
        "Add a livenessProbe to {containers} in {service}'s manifests or Helm values in {repo} "
        "(snippet). Check only the process itself, never a dependency, or an outage elsewhere restarts "
        "every pod."
    ),
)
@judges_workloads(LONG_RUNNING, "long-running")
def has_liveness_probes(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    return _probe_check(scope, "liveness")


def _missing_requests(c: Container) -> list[str]:
    return [n for n, v in (("cpu", c.cpu_request), ("memory", c.memory_request)) if not v]


@check(
    id="has_resource_requests",
    title="Containers request CPU and memory",
    category="reliability",
    level="bronze",
    weight=3,
    rationale=(
        "Requests are what the scheduler places pods by. Without them pods land on full nodes, get "
        "evicted first under pressure, and capacity planning is guesswork."
    ),
    remediation=(
        "Set `resources.requests` (cpu and memory) for {containers} in {repo}, from the p95 usage "
        "on the service's dashboard (snippet)."
    ),
)
@judges_workloads()
def has_resource_requests(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    lacking, total = container_gaps(scope, lambda c, w: _missing_requests(c), include_init=True)
    if not lacking:
        return passed(f"{scope.where}: {every(total, 'container', 'requests', 'request')} cpu and memory{counts_init(scope)}")
    details = _gaps_with_reason(scope, lacking, _missing_requests)
    return failed(
        f"{scope.where}: {some_of(len(lacking), total, 'container')}{counts_init(scope)}, "
        f"{'lacks' if len(lacking) == 1 else 'lack'} requests: {summarise_names(details)}",
        snippet="resources:\n  requests:\n    cpu: 100m\n    memory: 256Mi\n",
        containers=lacking,
    )


def _gaps_with_reason(scope: WorkloadScope, lacking: list[str], reason) -> list[str]:
    wanted = set(lacking)
    out: dict[str, list[str]] = {}
    for w in scope.workloads:
        for c in w.containers:
            label = scope.label(w, c)
            if label in wanted:
                missing = out.setdefault(label, [])
                missing.extend(r for r in reason(c) if r not in missing)
    return [f"{label} ({', '.join(missing)})" for label, missing in out.items()]


def _limit_reasons(require_cpu: bool):
    def reasons(c: Container) -> list[str]:
        missing = [] if c.memory_limit else ["memory"]
        if require_cpu and not c.cpu_limit:
            missing.append("cpu")
        return missing

    return reasons


@check(
    id="has_resource_limits",
    title="Containers have a memory limit",
    category="reliability",
    level="silver",
    weight=2,
    rationale=(
        "A memory limit keeps one leaking container from starving its neighbours on the node. CPU "
        "limits are not required by default (they cause throttling even on idle nodes); set the "
        "`require_cpu_limit` threshold to true to require them too."
    ),
    remediation=(
        "Set `resources.limits` ({limits}) for {containers} in {repo}, a little above the highest usage "
        "you have seen (snippet)."
    ),
)
@judges_workloads()
def has_resource_limits(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    require_cpu = ctx.thresholds.require_cpu_limit
    reasons = _limit_reasons(require_cpu)
    lacking, total = container_gaps(scope, lambda c, w: reasons(c), include_init=True)
    if not lacking:
        what = "memory and cpu limits" if require_cpu else "a memory limit"
        return passed(f"{scope.where}: {every(total, 'container', 'has', 'have')} {what}{counts_init(scope)}")
    details = _gaps_with_reason(scope, lacking, reasons)
    return failed(
        f"{scope.where}: {some_of(len(lacking), total, 'container')}{counts_init(scope)}, "
        f"{'lacks' if len(lacking) == 1 else 'lack'} limits: {summarise_names(details)}",
        snippet="resources:\n  limits:\n    memory: 512Mi\n" + ("    cpu: \"1\"\n" if require_cpu else ""),
        containers=lacking,
        limits="cpu and memory" if require_cpu else "memory",
    )


def _hpa_for(scope: WorkloadScope, w: Workload):
    for o in scope.objects:
        if o.kind in ("HorizontalPodAutoscaler", "ScaledObject") and targets(o, w):
            return o
    return None


@check(
    id="runs_multiple_replicas",
    title="Runs at least two replicas",
    category="reliability",
    level="silver",
    weight=3,
    rationale=(
        "With one replica every node drain, rollout or crash is an outage. Two or more (or an "
        "autoscaler whose minimum is two) keep serving while one pod is away."
    ),
    remediation=(
        "Run {workloads} with at least {min_replicas} replicas in {repo}: set `replicas: {min_replicas}` "
        "or the autoscaler's `minReplicas: {min_replicas}`, and make sure the service tolerates "
        "concurrent instances."
    ),
)
@judges_workloads(REPLICAS_APPLY, "replicated")
def runs_multiple_replicas(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    minimum = ctx.thresholds.min_replicas
    workloads = scope.workloads
    short: dict[str, str] = {}
    counts: dict[str, str] = {}
    for w in workloads:
        hpa = _hpa_for(scope, w)
        if hpa is not None:
            # The autoscaler owns the replica count; its minimum is the floor that matters.
            n, how = int(hpa.spec.get("min") or 1), "HPA min"
        elif w.kind == "Pod":
            n, how = 1, "bare Pod (never rescheduled):"
        else:
            n = w.replicas if w.replicas is not None else 1
            how = "replicas" if not w.replicas_defaulted else "replicas (unset, Kubernetes' default)"
        text = f"{how} {n}"
        if n < minimum:
            short[w.name] = text
        else:
            counts.setdefault(w.name, text)
    if not short:
        return passed(f"{scope.where}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if (blind := unreadable_kinds(scope, "HorizontalPodAutoscaler")) is not None:
        return blind  # an HPA with minReplicas >= 2 may exist
    names = list(short)
    listed = summarise_names(f"{k} {v}" for k, v in short.items()) if not scope.single else next(iter(short.values()))
    return failed(f"{scope.where}: {listed}", workloads=names, min_replicas=minimum)


def _pdb_snippet(w: Workload) -> str:
    key, value = selector_label(w)
    return (
        "apiVersion: policy/v1\n"
        "kind: PodDisruptionBudget\n"
        "metadata:\n"
        f"  name: {w.name}\n"
        f"  namespace: {w.namespace}\n"
        "spec:\n"
        "  maxUnavailable: 1\n"
        "  selector:\n"
        "    matchLabels:\n"
        f"      {key}: {value}\n"
    )


@check(
    id="has_pod_disruption_budget",
    title="Protected by a PodDisruptionBudget",
    category="reliability",
    level="gold",
    weight=2,
    rationale=(
        "Without a PDB a node upgrade may evict every replica at once; with one, voluntary "
        "disruptions wait until enough pods are ready elsewhere."
    ),
    remediation=(
        "Add a PodDisruptionBudget selecting the pods of {workloads} in the same namespace, next to "
        "the manifests in {repo} (snippet)."
    ),
)
@judges_workloads(REPLICATED, "replicated")
def has_pod_disruption_budget(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    pdbs = objects_of(scope.objects, "PodDisruptionBudget")

    def pdb_for(w: Workload) -> str | None:
        selecting = (p for p in pdbs if same_place(p, w) and selects(p.spec, w.pod_labels, empty_matches_all=True))
        return next((f"PDB {p.name}" for p in selecting), None)

    gap = coverage_gap(scope, pdb_for, "PodDisruptionBudget")
    if isinstance(gap, Outcome):
        return gap
    return failed(
        f"{scope.where}: no PDB selects {summarise_names(gap.names)}", snippet=_pdb_snippet(gap.first), workloads=gap.names
    )


def _hpa_snippet(w: Workload) -> str:
    return (
        "apiVersion: autoscaling/v2\n"
        "kind: HorizontalPodAutoscaler\n"
        "metadata:\n"
        f"  name: {w.name}\n"
        f"  namespace: {w.namespace}\n"
        "spec:\n"
        "  scaleTargetRef:\n"
        "    apiVersion: apps/v1\n"
        f"    kind: {w.kind}\n"
        f"    name: {w.name}\n"
        "  minReplicas: 2\n"
        "  maxReplicas: 10\n"
        "  metrics:\n"
        "    - type: Resource\n"
        "      resource:\n"
        "        name: cpu\n"
        "        target:\n"
        "          type: Utilization\n"
        "          averageUtilization: 70\n"
    )


@check(
    id="has_autoscaler",
    title="Scales automatically",
    category="reliability",
    level="gold",
    weight=1,
    rationale=(
        "An autoscaler absorbs traffic spikes without a page and gives capacity back when idle, "
        "instead of a fixed replica count sized for last year's peak."
    ),
    remediation=(
        "Add a HorizontalPodAutoscaler for {workloads} in {repo} (snippet; requires CPU requests), "
        "and remove the fixed `replicas:` so deploys do not fight the autoscaler."
    ),
)
@judges_workloads(REPLICATED, "replicated")
def has_autoscaler(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    def scaler(w: Workload) -> str | None:
        hpa = _hpa_for(scope, w)
        return None if hpa is None else f"{hpa.kind} {hpa.name}"

    gap = coverage_gap(scope, scaler, "HorizontalPodAutoscaler")
    if isinstance(gap, Outcome):
        return gap
    return failed(gap.detail(scope.where, "not autoscaled"), snippet=_hpa_snippet(gap.first), workloads=gap.names)


def _floating_tag(image: str) -> str | None:
    """Why an image reference floats, or None when it is pinned."""
    if "@" in image:
        return None
    name = image.rsplit("/", 1)[-1]
    if ":" not in name:
        return "no tag"
    if name.rsplit(":", 1)[1] == "latest":
        return ":latest"
    return None


@check(
    id="no_latest_image_tags",
    title="Images are pinned (no :latest)",
    category="reliability",
    level="bronze",
    weight=2,
    rationale=(
        "`:latest` (or no tag) means a restart can pull different code than was tested, and a "
        "rollback cannot return to what ran before."
    ),
    remediation=(
        "Pin {containers} in {repo} to an immutable tag (the git sha or release version your CI "
        "pushes) or a digest (`image@sha256:...`)."
    ),
)
@judges_workloads()
def no_latest_image_tags(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    floating: dict[str, str] = {}
    seen: set[str] = set()
    for w in scope.workloads:
        for c in w.containers:  # init containers run code too
            if c.image is None:
                continue
            label = scope.label(w, c)
            seen.add(label)
            why = _floating_tag(c.image)
            if why is not None:
                floating.setdefault(label, f"{label} ({c.image})")
    if not seen:
        return unknown(f"{scope.where}: no container image recorded", containers="the containers")
    if not floating:
        return passed(f"{scope.where}: {every(len(seen), 'image', 'is', 'are')} pinned")
    return failed(
        f"{scope.where}: {some_of(len(floating), len(seen), 'container', 'uses', 'use')} a floating tag: "
        f"{summarise_names(floating.values())}",
        containers=list(floating),
    )
