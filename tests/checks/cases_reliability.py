"""Outcome cases for the reliability checks (checks/reliability.py) and the
workload kinds each applies to.

Run, with every other table, by test_check_outcomes.py.
"""

from __future__ import annotations

from dataclasses import replace

from checks.evidence import Container

from conftest import obj
from outcome_cases import (
    F, FORBIDDEN_HPA, NA, NO_WORKLOADS, P, STALE, U, Case, add_objects, add_workload, app, chain, ctx_,
    drop_objects, ev_, init, only_kind, prod, same, thresholds,
)  # fmt: skip

CASES = [
    Case("has_readiness_probes", P, "default", same, detail=("in prod-eu",)),
    Case(
        "has_readiness_probes", F, "missing", app(readiness_probe=False),
        detail=("in prod-eu: 1 of 1 container lacks a readiness probe: app",), remedy=("app",), snippet=("readinessProbe:",),
    ),
    Case(
        "has_readiness_probes", F, "second-workload", add_workload(name="payments-worker", containers=[Container("worker", "w:1", False, True)]),
        detail=("1 of 2 containers", "payments-worker/worker"),
    ),
    Case("has_readiness_probes", F, "repo-fallback", chain(ev_(cluster_workloads=None), lambda ev, ctx: (replace(ev, repo_workloads=[replace(ev.repo_workloads[0], containers=[Container("app", "a:1", False, True)])]), ctx)), detail=("in repo manifests",)),
    Case("has_readiness_probes", U, "no-workloads", NO_WORKLOADS, detail=("no workloads found",)),
    Case("has_liveness_probes", P, "default", same),
    Case("has_liveness_probes", F, "missing", app(liveness_probe=False), detail=("lacks a liveness probe: app",), snippet=("livenessProbe:",)),
    Case("has_liveness_probes", U, "no-workloads", NO_WORKLOADS),
    Case("has_resource_requests", P, "default", same),
    Case(
        "has_resource_requests", F, "no-memory", app(memory_request=None),
        detail=("app (memory)",), remedy=("app",), snippet=("memory: 256Mi",),
    ),
    Case("has_resource_requests", U, "no-workloads", NO_WORKLOADS),
    Case("has_resource_limits", P, "default", same, detail=("a memory limit",)),
    Case("has_resource_limits", P, "no-cpu-limit-is-fine", app(cpu_limit=None)),
    Case("has_resource_limits", F, "no-memory-limit", app(memory_limit=None), detail=("app (memory)",)),
    Case(
        "has_resource_limits", F, "cpu-required", chain(app(cpu_limit=None), thresholds(require_cpu_limit=True)),
        detail=("app (cpu)",), remedy=("(cpu and memory)",), snippet=("cpu:",),
    ),
    Case("has_resource_limits", U, "no-workloads", NO_WORKLOADS),
    Case("runs_multiple_replicas", P, "hpa", same, detail=("HPA min 3",)),
    Case("runs_multiple_replicas", P, "fixed-replicas", chain(drop_objects("HorizontalPodAutoscaler"), prod(replicas=2)), detail=("replicas 2",)),
    Case("runs_multiple_replicas", NA, "daemonset", chain(drop_objects("HorizontalPodAutoscaler"), prod(kind="DaemonSet", replicas=None))),
    Case("has_pod_disruption_budget", NA, "daemonset", prod(kind="DaemonSet", replicas=None)),
    Case("has_autoscaler", NA, "daemonset", prod(kind="DaemonSet", replicas=None)),
    Case(
        "runs_multiple_replicas", F, "single", chain(drop_objects("HorizontalPodAutoscaler"), prod(replicas=1)),
        detail=("in prod-eu: replicas 1",), remedy=("payments-api", "replicas: 2"),
    ),
    Case("runs_multiple_replicas", F, "unset-means-one", chain(drop_objects("HorizontalPodAutoscaler"), prod(replicas=None)), detail=("replicas 1",)),
    Case(
        "runs_multiple_replicas", F, "hpa-min-one",
        chain(drop_objects("HorizontalPodAutoscaler"), add_objects(obj("HorizontalPodAutoscaler", "h", {"target_kind": "Deployment", "target_name": "payments-api", "min": 1}))),
        detail=("HPA min 1",),
    ),
    Case("runs_multiple_replicas", U, "no-workloads", NO_WORKLOADS),
    Case("has_pod_disruption_budget", P, "default", same, detail=("by PDB payments-api",)),
    Case(
        "has_pod_disruption_budget", P, "empty-selector",
        chain(drop_objects("PodDisruptionBudget"), add_objects(obj("PodDisruptionBudget", "all", {"match_labels": {}}))),
    ),
    Case(
        "has_pod_disruption_budget", F, "wrong-labels",
        chain(drop_objects("PodDisruptionBudget"), add_objects(obj("PodDisruptionBudget", "x", {"match_labels": {"app": "other"}}))),
        detail=("no PDB selects payments-api",), snippet=("kind: PodDisruptionBudget", "namespace: payments"),
    ),
    Case(
        "has_pod_disruption_budget", F, "other-namespace",
        chain(drop_objects("PodDisruptionBudget"), add_objects(obj("PodDisruptionBudget", "x", {"match_labels": {"app.kubernetes.io/name": "payments-api"}}, namespace="default"))),
    ),
    Case("has_pod_disruption_budget", U, "no-workloads", NO_WORKLOADS),
    Case("has_autoscaler", P, "default", same, detail=("HorizontalPodAutoscaler payments-api",)),
    Case(
        "has_autoscaler", F, "none", drop_objects("HorizontalPodAutoscaler"),
        detail=("is not autoscaled: payments-api",), snippet=("scaleTargetRef:", "name: payments-api"),
    ),
    Case(
        "has_autoscaler", F, "targets-other",
        chain(drop_objects("HorizontalPodAutoscaler"), add_objects(obj("HorizontalPodAutoscaler", "h", {"target_kind": "Deployment", "target_name": "search", "min": 2}))),
    ),
    Case("has_autoscaler", U, "no-workloads", NO_WORKLOADS),
    # A kind the crawler was forbidden to list is unknown, never an absence (a 403 on HPAs is not "no HPA").
    Case("has_autoscaler", U, "hpas-forbidden", chain(drop_objects("HorizontalPodAutoscaler"), ev_(cluster_unreadable=FORBIDDEN_HPA)),
         detail=("could not read HorizontalPodAutoscaler", "forbidden (403)")),
    Case("has_autoscaler", P, "hpas-forbidden-elsewhere", ev_(cluster_unreadable={"PodDisruptionBudget": "prod-eu: forbidden (403)"})),
    Case("runs_multiple_replicas", U, "single-hpas-forbidden",
         chain(drop_objects("HorizontalPodAutoscaler"), prod(replicas=1), ev_(cluster_unreadable=FORBIDDEN_HPA))),
    Case("has_pod_disruption_budget", U, "pdbs-forbidden",
         chain(drop_objects("PodDisruptionBudget"), ev_(cluster_unreadable={"PodDisruptionBudget": "prod-eu: forbidden (403)"})),
         detail=("could not read PodDisruptionBudget",)),
    Case("metrics_scraped", U, "monitors-forbidden",
         chain(drop_objects("ServiceMonitor"), ev_(cluster_unreadable={"ServiceMonitor": "prod-eu: forbidden (403)"}))),
    Case("uses_external_secrets", U, "externalsecrets-forbidden",
         chain(drop_objects("ExternalSecret"), ev_(cluster_unreadable={"ExternalSecret": "prod-eu: forbidden (403)"}))),
    # A repository not crawled this run keeps its last good catalog for identity, never for judging.
    Case("has_catalog_entity", U, "stale-catalog", STALE, detail=("last good crawl 2026-11-30",)),
    Case("has_lifecycle", U, "stale-catalog", STALE),
    Case("has_oncall_reference", U, "stale-catalog", STALE),
    Case("owner_is_known_team", U, "stale-catalog", chain(STALE, ctx_(known_teams=frozenset({"payments"})))),
    Case("has_lifecycle", P, "config-lifecycle-with-repo-down", chain(STALE, ev_(catalog=None, lifecycle="production"))),
    Case("owner_is_known_team", P, "config-owner-with-repo-down",
         chain(STALE, ev_(owner_source="config"), ctx_(known_teams=frozenset({"payments-team"})))),
    # --------------------------------------- workload kinds (issue 8 item 3)
    Case("has_readiness_probes", NA, "cronjob-only", only_kind("CronJob"),
         detail=("applies to long-running workloads", "this service runs CronJob payments-api")),
    Case("has_liveness_probes", NA, "job-only", only_kind("Job")),
    Case("metrics_scraped", NA, "cronjob-only", only_kind("CronJob")),
    Case("has_pod_disruption_budget", NA, "cronjob-only", only_kind("CronJob")),
    Case("has_autoscaler", NA, "bare-pod", only_kind("Pod", replicas=1)),
    Case("has_readiness_probes", F, "rollout", chain(only_kind("Rollout"), app(readiness_probe=False)), detail=("lacks a readiness probe",)),
    Case("has_readiness_probes", P, "cronjob-beside-deployment",
         add_workload(kind="CronJob", name="payments-report", replicas=None,
                      containers=[Container("report", "r:1", readiness_probe=False, liveness_probe=False)])),
    Case("has_resource_requests", F, "cronjob-counts",
         chain(drop_objects("HorizontalPodAutoscaler"), add_workload(
             kind="CronJob", name="payments-report", replicas=None,
             containers=[Container("report", "r:1", False, False, memory_request="64Mi")])),
         detail=("payments-report/report (cpu)",)),
    Case("runs_multiple_replicas", F, "bare-pod", chain(drop_objects("HorizontalPodAutoscaler"), only_kind("Pod", replicas=1)),
         detail=("bare Pod (never rescheduled)",)),
    Case("runs_multiple_replicas", NA, "job-only", only_kind("Job")),
    Case("runs_multiple_replicas", F, "defaulted-replicas",
         chain(drop_objects("HorizontalPodAutoscaler"), prod(replicas=1, replicas_defaulted=True)),
         detail=("replicas (unset, Kubernetes' default) 1",)),
    # Init containers count for resources, image pinning and user; never for probes.
    Case("has_resource_requests", F, "init-container", init(cpu_request=None, memory_request=None),
         detail=("1 of 2 containers, counting init containers, lacks requests: migrate (cpu, memory)",)),
    Case("has_resource_limits", F, "init-container", init(memory_limit=None),
         detail=("counting init containers", "migrate (memory)")),
    Case("runs_as_non_root", F, "init-container", init(run_as_non_root=False),
         detail=("1 of 2 containers, counting init containers, may run as root: migrate (runAsNonRoot: false)",)),
    Case("no_latest_image_tags", F, "init-container", init(image="busybox"), detail=("migrate (busybox)",)),
    Case("has_readiness_probes", P, "init-without-probe", init(readiness_probe=False), detail=("the only container has",)),
    Case("no_latest_image_tags", P, "default", same),
    Case("no_latest_image_tags", P, "digest", app(image="ghcr.io/acme/payments-api@sha256:" + "a" * 64)),
    Case("no_latest_image_tags", P, "registry-port", app(image="localhost:5000/payments:1.0")),
    Case(
        "no_latest_image_tags", F, "latest", app(image="ghcr.io/acme/payments-api:latest"),
        detail=("app (ghcr.io/acme/payments-api:latest)",), remedy=("app",),
    ),
    Case("no_latest_image_tags", F, "untagged", app(image="localhost:5000/payments"), detail=("localhost:5000/payments",)),
    Case("no_latest_image_tags", U, "no-workloads", NO_WORKLOADS),
]
