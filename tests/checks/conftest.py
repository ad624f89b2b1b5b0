"""Evidence factory: one service that passes every check, for tests to break one fact at a time.

The passing service deliberately carries traps a naive check would fall into:
a staging copy of the workload that fails everything (production must win),
an init container without probes (probes are for app containers), a local
Terraform module (never judged), and a Go-free, monorepo-free layout that
individual tests change when they need to.
"""

from __future__ import annotations

import datetime as dt

import pytest

from checks.evidence import (
    CatalogEntity,
    CodeOwners,
    CodeOwnersRule,
    Container,
    DeliveryMetrics,
    DependencyManifest,
    HelmChart,
    HelmDependency,
    K8sObject,
    ServiceEvidence,
    TemplateInfo,
    TerraformModule,
    Workflow,
    WorkflowRef,
    Workload,
)
from checks.evidence_crossplane import Claim, CompositionCatalogue, CompositionInfo, RevisionInfo, XrdInfo
from checks.evidence_gitops import GitOpsApp, GitOpsRevision, GitOpsSource
from checks.model import CheckContext, GoldenPath, PlatformCompositions

AS_OF = dt.date(2025, 11, 24)
POD_LABELS = {"app.kubernetes.io/name": "payments-api", "backstage.io/kubernetes-id": "payments-api"}
ANNOTATIONS = {
    "backstage.io/kubernetes-id": "payments-api",
    "pagerduty.com/service-id": "PX12345",
    "github.com/project-slug": "acme/payments",
}


def app_container(**changes) -> Container:
    fields = dict(
        name="app",
        image="ghcr.io/acme/payments-api:1.4.2",
        readiness_probe=True,
        liveness_probe=True,
        cpu_request="250m",
        memory_request="256Mi",
        cpu_limit="1",
        memory_limit="512Mi",
        run_as_non_root=True,
        run_as_user=10001,
        secret_refs=["payments-db"],
    )
    fields.update(changes)
    return Container(**fields)


def init_container() -> Container:
    return Container(
        name="migrate",
        image="ghcr.io/acme/payments-api:1.4.2",
        readiness_probe=False,  # init containers cannot have probes: never required of them
        liveness_probe=False,
        cpu_request="50m",
        memory_request="64Mi",
        memory_limit="64Mi",
        run_as_non_root=True,
        init=True,
    )


def prod_workload(**changes) -> Workload:
    fields = dict(
        kind="Deployment",
        name="payments-api",
        namespace="payments",
        labels=dict(POD_LABELS),
        pod_labels=dict(POD_LABELS),
        annotations={},
        replicas=3,
        containers=[init_container(), app_container()],
        pod_run_as_non_root=True,
        cluster="prod-eu",
        environment="production",
    )
    fields.update(changes)
    return Workload(**fields)


def staging_workload() -> Workload:
    """Everything wrong, but not in production: checks must look past it."""
    return Workload(
        kind="Deployment",
        name="payments-api",
        namespace="payments",
        labels=dict(POD_LABELS),
        pod_labels=dict(POD_LABELS),
        annotations={},
        replicas=1,
        containers=[Container(name="app", image="ghcr.io/acme/payments-api:latest", readiness_probe=False, liveness_probe=False)],
        cluster="staging-eu",
        environment="staging",
    )


def obj(kind: str, name: str, spec: dict, labels: dict | None = None, cluster: str | None = "prod-eu", **kw) -> K8sObject:
    return K8sObject(
        kind=kind,
        name=name,
        namespace=kw.pop("namespace", "payments"),
        labels=labels or {},
        annotations=kw.pop("annotations", {}),
        spec=spec,
        cluster=cluster,
        environment="production" if cluster == "prod-eu" else None,
        **kw,
    )


def prod_objects() -> list[K8sObject]:
    return [
        obj("Service", "payments-api", {"selector": {"app.kubernetes.io/name": "payments-api"}}, labels={"app": "payments-api"}),
        obj("ServiceMonitor", "payments-api", {"match_labels": {"app": "payments-api"}}),
        obj("PodDisruptionBudget", "payments-api", {"match_labels": {"app.kubernetes.io/name": "payments-api"}}),
        obj(
            "HorizontalPodAutoscaler",
            "payments-api",
            {"target_kind": "Deployment", "target_name": "payments-api", "min": 3, "max": 10},
        ),
        obj("ExternalSecret", "payments-db", {"target": "payments-db"}),
        obj("PrometheusRule", "payments-api-alerts", {}),
        obj("PrometheusServiceLevel", "payments-api", {}),
    ]


FILES = frozenset(
    {
        "README.md",
        "RUNBOOK.md",
        "SECURITY.md",
        ".github/CODEOWNERS",
        ".github/dependabot.yml",
        ".github/workflows/ci.yml",
        ".copier-answers.yml",
        "catalog-info.yaml",
        "chart/Chart.yaml",
        "dashboards/payments-api.json",
        "terraform/main.tf",
        "pyproject.toml",
        "src/payments/app.py",
        "Dockerfile",
    }
)


GITOPS_SHA = "4f2c9e1" + "a" * 33
GITOPS_OLD = "9b1d0aa" + "b" * 33
# The production Argo CD Application deploying it, as a cluster reports it (checks/gitops.py).
GITOPS_APP = GitOpsApp(
    tool="argocd", kind="Application", name="payments-api", namespace="argocd",
    sources=(GitOpsSource("https://github.com/acme/payments.git", "deploy/prod", "main"),),
    project="platform-v2", destination_server="https://kubernetes.default.svc", destination_namespace="payments",
    automated=True, prune=True, self_heal=True, sync_status="Synced", health="Healthy",
    desired_revision=GITOPS_SHA, applied_revision=GITOPS_SHA,
    history=(GitOpsRevision(GITOPS_OLD, "2025-11-20T10:00:00Z", 1), GitOpsRevision(GITOPS_SHA, "2025-11-23T10:00:00Z", 2)),
    cluster="prod-eu", environment="production", linked_by="managed workloads (status.resources)",
)


def make_evidence() -> ServiceEvidence:
    catalog = CatalogEntity(
        kind="Component",
        name="payments-api",
        file="catalog-info.yaml",
        owner="payments-team",
        lifecycle="production",
        type="service",
        system="payments",
        annotations=dict(ANNOTATIONS),
    )
    ci_file = ".github/workflows/ci.yml"
    return ServiceEvidence(
        service="payments-api",
        identity_rule="catalog",
        repo="payments",
        path="",
        team="payments-team",
        owner_source="catalog spec.owner",
        as_of=AS_OF,
        lifecycle="production",
        system="payments",
        type="service",
        annotations=dict(ANNOTATIONS),
        catalog=catalog,
        files=FILES,
        codeowners=CodeOwners(".github/CODEOWNERS", [CodeOwnersRule("*", ["@acme/payments-team"], 1)]),
        codeowners_owners=["@acme/payments-team"],
        templates=[TemplateInfo("copier", ".copier-answers.yml", "gh:acme/service-template", "v2.3.0")],
        workflows=[
            Workflow(
                ci_file,
                "CI",
                ["push", "pull_request"],
                ["main"],
                refs=[
                    WorkflowRef(ci_file, "ci", "actions/checkout@v4", "actions/checkout", "v4", False),
                    WorkflowRef(
                        ci_file,
                        "ci",
                        "acme/platform-workflows/.github/workflows/python.yml@v4.2.0",
                        "acme/platform-workflows/.github/workflows/python.yml",
                        "v4.2.0",
                        True,
                    ),
                ],
            )
        ],
        helm_charts=[
            HelmChart("chart/Chart.yaml", "payments-api", "0.9.0", [HelmDependency("base-service", "3.2.0", "oci://ghcr.io/acme/charts")])
        ],
        terraform_modules=[
            TerraformModule(
                "terraform/main.tf",
                "db",
                "git::https://github.com/acme/terraform-modules.git//postgres?ref=v1.4.0",
                "v1.4.0",
                "git",
            ),
            TerraformModule(
                "terraform/main.tf", "dns", "github.com/acme/terraform-modules//route53?ref=v1.2.0", "v1.2.0", "git"
            ),
            TerraformModule("terraform/main.tf", "local_bits", "./modules/bits", None, "local"),
        ],
        dependencies=[
            DependencyManifest("pyproject.toml", "python", ["fastapi", "opentelemetry-sdk", "structlog"])
        ],
        cluster_workloads=[prod_workload(), staging_workload()],
        cluster_objects=prod_objects(),
        repo_workloads=[prod_workload(cluster=None, environment=None, file="chart/rendered.yaml")],
        repo_objects=[],
        delivery=DeliveryMetrics(
            deployments_30d=42,
            lead_time_p50_hours=5.0,
            lead_time_p90_hours=30.0,
            deploy_days_per_week=4.0,
            change_failure_rate=0.04,
            time_to_restore_hours=0.5,
            incidents_90d=2,
        ),
        archived=False,
        branch_protected=True,
        ci_runs=[{"status": "completed", "conclusion": "success", "created_at": "2025-11-23T10:00:00Z", "duration_s": 300, "name": "CI"}],
        claims=[db_claim()],
        compositions=CROSSPLANE_CATALOGUE,
        gitops=[GITOPS_APP],
    )


# Crossplane (tests/checks/cases_crossplane.py): the platform's Postgres API, two compositions
# (one the platform's) and four revisions of the platform's; the service's claim is on the latest.
CROSSPLANE_CATALOGUE = CompositionCatalogue(
    xrds=[XrdInfo("xpostgresqlinstances.platform.acme.io", "platform.acme.io", "XPostgreSQLInstance", "PostgreSQLInstance")],
    compositions=[
        CompositionInfo("postgres-aws", "XPostgreSQLInstance", "platform.acme.io/v1alpha1", {"platform.acme.io/published": "true"}),
        CompositionInfo("postgres-handmade", "XPostgreSQLInstance", "platform.acme.io/v1alpha1", {}),
    ],
    revisions=[RevisionInfo(f"postgres-aws-r{n}", "postgres-aws", n, "prod-eu") for n in (1, 2, 3, 4)],
)
PLATFORM_COMPOSITIONS = PlatformCompositions(compositions=("postgres-aws",))


def db_claim(**changes) -> Claim:
    fields = dict(
        kind="PostgreSQLInstance", api_group="platform.acme.io", name="payments-db", namespace="payments",
        shape="claim", file="deploy/db.yaml", composition="postgres-aws", revision="postgres-aws-r4",
        update_policy="Manual", recognised_by="xrd",
    )
    fields.update(changes)
    return Claim(**fields)


def make_context() -> CheckContext:
    return CheckContext(
        as_of=AS_OF,
        known_teams=frozenset({"payments-team", "platform-team", "search-team"}),
        template=GoldenPath("https://github.com/acme/service-template.git", releases=("v2.1.0", "v2.2.0", "v2.3.0")),
        ci_workflow=GoldenPath("acme/platform-workflows", releases=("v4.0.0", "v4.1.0", "v4.2.0")),
        helm_chart=GoldenPath("oci://ghcr.io/acme/charts/base-service", releases=("3.0.0", "3.1.0", "3.2.0")),
        terraform=GoldenPath("github.com/acme/terraform-modules"),
        crossplane=PLATFORM_COMPOSITIONS,
        gitops=GoldenPath("argocd", "platform-v2", ("legacy", "platform-v1", "platform-v2")),
    )


@pytest.fixture
def evidence() -> ServiceEvidence:
    return make_evidence()


@pytest.fixture
def ctx() -> CheckContext:
    return make_context()
