"""Every check, passing and failing (and unknown / not applicable / warn where the
data allows it), asserted on the text a service owner would read.

Each case starts from the fully passing service in conftest.py and changes
one fact. The coverage tests at the bottom make a new check without pass and
fail cases break the suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pytest

from checks.catalogue import all_checks
from checks.evidence import (
    ENV_PLACEHOLDER as PLACEHOLDER,
    ENV_SWITCH as SWITCH,
    ENV_TEXT as TEXT,
    Container,
    DependencyManifest,
    HelmChart,
    HelmDependency,
    TerraformModule,
    WorkflowRef,
)
from checks.model import CATALOGUE, Status, evaluate

from conftest import make_context, make_evidence, obj, prod_workload


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

CASES = [
    # ------------------------------------------------------------ golden path
    Case("uses_service_template", P, "default", same, detail=("gh:acme/service-template",)),
    Case("uses_service_template", P, "ssh-spelling", template(source="git@github.com:acme/service-template.git")),
    Case("uses_service_template", P, "trailing-slash", template(source="https://github.com/acme/service-template/")),
    Case(
        "uses_service_template", F, "no-answers", ev_(templates=[]),
        detail=(".copier-answers.yml",), remedy=("copier copy --trust https://github.com/acme/service-template.git",),
    ),
    Case(
        "uses_service_template", F, "other-template", template(source="gh:acme/service-template-legacy"),
        detail=("service-template-legacy", "not the platform template"),
    ),
    Case("uses_service_template", U, "no-source", template(source=None), detail=("does not record",)),
    Case("uses_service_template", U, "repo-down", REPO_DOWN, detail=("repository is empty",)),
    Case("uses_service_template", NA, "not-configured", ctx_(template=None)),
    Case("template_up_to_date", P, "latest", same, detail=("v2.3.0", "latest")),
    Case("template_up_to_date", P, "git-describe", template(version="v2.3.0-4-g1a2b3c4")),
    Case(
        "template_up_to_date", W, "one-behind", template(version="v2.2.0"),
        detail=("1 release behind v2.3.0",), remedy=("in the root of payments run `copier update --vcs-ref v2.3.0`",),
    ),
    Case(
        "template_up_to_date", W, "monorepo", chain(MONOREPO, template(version="v2.2.0")),
        remedy=("in `services/payments` of payments run",),
    ),
    Case("template_up_to_date", F, "two-behind", template(version="v2.1.0"), detail=("2 releases behind",)),
    Case("template_up_to_date", F, "strict-threshold", chain(template(version="v2.2.0"), thresholds(template_max_releases_behind=0))),
    Case(
        "template_up_to_date", W, "cookiecutter", template(tool="cookiecutter", version="v2.2.0"),
        remedy=("cruft update --checkout v2.3.0",),
    ),
    Case("template_up_to_date", U, "no-version", template(version=None), detail=("does not record the template version",)),
    Case("template_up_to_date", U, "sha-version", template(version="deadbeefcafe"), detail=("not one of the known releases",)),
    Case("template_up_to_date", NA, "not-on-template", ev_(templates=[])),
    Case("uses_shared_ci_workflow", P, "default", same, detail=("python.yml@v4.2.0",)),
    Case(
        "uses_shared_ci_workflow", F, "hand-written", workflow(refs=[WorkflowRef(".github/workflows/ci.yml", "t", "actions/checkout@v4", "actions/checkout", "v4", False)]),
        detail=("none calls acme/platform-workflows",),
        snippet=("uses: acme/platform-workflows/.github/workflows/<workflow>.yml@v4.2.0",),
    ),
    Case(
        "uses_shared_ci_workflow", F, "lookalike-repo",
        workflow(refs=[WorkflowRef("ci.yml", "t", "acme/platform-workflows-legacy/x.yml@v1", "acme/platform-workflows-legacy/x.yml", "v1", True)]),
    ),
    Case("uses_shared_ci_workflow", F, "no-workflows", ev_(workflows=[]), detail=("no GitHub Actions workflows",)),
    Case("uses_shared_ci_workflow", U, "repo-down", REPO_DOWN),
    Case("shared_ci_workflow_up_to_date", P, "latest", same, detail=("v4.2.0",)),
    Case("shared_ci_workflow_up_to_date", P, "floating-major", ci_ref("v4"), detail=("at v4, not behind the latest release v4.2.0",)),
    Case("shared_ci_workflow_up_to_date", W, "one-behind", ci_ref("v4.1.0"), remedy=("@v4.2.0", ".github/workflows/ci.yml")),
    Case("shared_ci_workflow_up_to_date", F, "old-major", ci_ref("v3.9.0"), detail=("3 releases behind",)),
    Case("shared_ci_workflow_up_to_date", W, "branch", ci_ref("main"), detail=("tracks branch main", "unpinned")),
    Case("shared_ci_workflow_up_to_date", W, "no-ref", ci_ref(None), detail=("unpinned",)),
    Case("shared_ci_workflow_up_to_date", W, "sha", ci_ref("8f4b7f84864484a7bf31766abe9204da3cbe65b3"), detail=("commit 8f4b7f848644",)),
    Case("shared_ci_workflow_up_to_date", U, "unknown-tag", ci_ref("release-candidate"), detail=("not one of the known releases",)),
    Case("shared_ci_workflow_up_to_date", NA, "not-used", ev_(workflows=[])),
    Case("uses_base_helm_chart", P, "default", same, detail=("base-service 3.2.0",)),
    Case(
        "uses_base_helm_chart", F, "own-chart", ev_(helm_charts=[HelmChart("deploy/Chart.yaml", "payments-api", "1.0.0", [HelmDependency("redis", "18.0.0", None)])]),
        detail=("deploy/Chart.yaml does not depend on base-service",), remedy=("deploy/Chart.yaml",),
        snippet=("name: base-service", "version: 3.2.0", "repository: oci://ghcr.io/acme/charts"),
    ),
    Case("uses_base_helm_chart", F, "plain-manifests", ev_(helm_charts=[]), detail=("deployed from plain manifests",)),
    Case("uses_base_helm_chart", F, "no-chart-monorepo", chain(ev_(helm_charts=[]), MONOREPO), remedy=("services/payments/chart/Chart.yaml",)),
    Case("uses_base_helm_chart", NA, "library", chain(ev_(helm_charts=[], type="library"), NO_WORKLOADS)),
    Case("uses_base_helm_chart", NA, "experimental-undeployed", chain(ev_(helm_charts=[], lifecycle="experimental"), NO_WORKLOADS)),
    Case("uses_base_helm_chart", U, "repo-down", REPO_DOWN),
    Case("base_helm_chart_up_to_date", P, "latest", same),
    Case("base_helm_chart_up_to_date", P, "tilde-range", base_chart_version("~3.2.0")),
    Case("base_helm_chart_up_to_date", W, "one-behind", base_chart_version("3.1.0"), detail=("1 release behind 3.2.0",), remedy=("from 3.1.0 to 3.2.0",)),
    Case("base_helm_chart_up_to_date", F, "old", base_chart_version("2.9.0"), detail=("3 releases behind",), remedy=("chart/Chart.yaml",)),
    Case("base_helm_chart_up_to_date", U, "no-version", base_chart_version(None), detail=("does not state a base-service version",)),
    Case("base_helm_chart_up_to_date", NA, "not-used", ev_(helm_charts=[])),
    Case("uses_standard_terraform_modules", P, "default", same, detail=("github.com/acme/terraform-modules",)),
    Case(
        "uses_standard_terraform_modules", F, "third-party",
        modules(TerraformModule("rds.tf", "rds", "terraform-aws-modules/rds/aws", "6.1.0", "registry")),
        detail=("1 of 3 modules is not from", "rds (terraform-aws-modules/rds/aws)"), remedy=("rds (terraform-aws-modules/rds/aws)",),
    ),
    Case(
        "uses_standard_terraform_modules", F, "lookalike-org",
        modules(TerraformModule("x.tf", "x", "github.com/acme/terraform-modules-fork//x?ref=v1", "v1", "git")),
    ),
    Case("uses_standard_terraform_modules", NA, "local-only", modules(TerraformModule("m.tf", "l", "./l", None, "local"), keep=False)),
    Case("uses_standard_terraform_modules", NA, "not-configured", ctx_(terraform=None)),
    Case("uses_standard_terraform_modules", U, "repo-down", REPO_DOWN),
    Case("terraform_modules_pinned", P, "default", same),
    Case("terraform_modules_pinned", P, "registry-pessimistic", modules(TerraformModule("r.tf", "r", "acme/r/aws", "~> 3.0", "registry"))),
    Case("terraform_modules_pinned", P, "sha-ref", modules(TerraformModule("s.tf", "s", MODULE, "8f4b7f84", "git"))),
    Case(
        "terraform_modules_pinned", F, "branch-ref", modules(TerraformModule("net.tf", "vpc", MODULE, "main", "git")),
        detail=("vpc in net.tf (tracks branch main)",), remedy=("vpc in net.tf",),
    ),
    Case("terraform_modules_pinned", F, "registry-no-version", modules(TerraformModule("r.tf", "r", "acme/r/aws", None, "registry")), detail=("no version",)),
    Case("terraform_modules_pinned", F, "open-ended", modules(TerraformModule("r.tf", "r", "acme/r/aws", ">= 3.0", "registry")), detail=("open-ended constraint >= 3.0",)),
    Case("terraform_modules_pinned", F, "git-no-ref", modules(TerraformModule("g.tf", "g", "github.com/acme/terraform-modules//g", None, "git")), detail=("no ?ref=",)),
    Case("terraform_modules_pinned", NA, "none", modules(keep=False)),
    # ---------------------------------------------------------- observability
    Case("metrics_scraped", P, "service-monitor", same, detail=("in prod-eu", "ServiceMonitor payments-api via Service payments-api")),
    Case(
        "metrics_scraped", P, "pod-monitor",
        chain(drop_objects("ServiceMonitor"), add_objects(obj("PodMonitor", "pm", {"match_labels": {"app.kubernetes.io/name": "payments-api"}}))),
        detail=("PodMonitor pm",),
    ),
    Case(
        "metrics_scraped", P, "central-monitor-any-namespace",
        chain(drop_objects("ServiceMonitor"), add_objects(obj("ServiceMonitor", "all-apps", {"match_labels": {"app": "payments-api"}, "namespace_selector": {"any": True}}, namespace="monitoring"))),
        detail=("ServiceMonitor all-apps",),
    ),
    Case(
        "metrics_scraped", P, "central-monitor-match-names",
        chain(drop_objects("ServiceMonitor"), add_objects(obj("ServiceMonitor", "pay", {"match_labels": {"app": "payments-api"}, "namespace_selector": {"matchNames": ["payments"]}}, namespace="monitoring"))),
    ),
    Case("metrics_scraped", P, "pod-annotation", chain(drop_objects("ServiceMonitor"), prod(annotations={"prometheus.io/scrape": "true"}))),
    Case(
        "metrics_scraped", P, "repo-manifests",
        chain(ev_(cluster_workloads=None), add_objects(obj("PodMonitor", "pm", {"match_labels": {"app.kubernetes.io/name": "payments-api"}}, cluster=None), repo=True)),
        detail=("in repo manifests",),
    ),
    Case(
        "metrics_scraped", F, "no-monitor", drop_objects("ServiceMonitor"),
        detail=("1 of 1 workload is not scraped: payments-api",), remedy=("payments-api",),
        snippet=("kind: PodMonitor", "backstage.io/kubernetes-id: payments-api", "namespace: payments"),
    ),
    Case(
        "metrics_scraped", F, "monitor-other-namespace",
        chain(drop_objects("ServiceMonitor"), add_objects(obj("ServiceMonitor", "sm", {"match_labels": {"app": "payments-api"}}, namespace="monitoring"))),
    ),
    Case(
        "metrics_scraped", F, "second-workload-unscraped", add_workload(name="payments-worker", pod_labels={"app": "payments-worker"}),
        detail=("1 of 2 workloads is not scraped: payments-worker",),
    ),
    Case("metrics_scraped", U, "no-workloads", NO_WORKLOADS, detail=("no workloads found", "no cluster data"), remedy=("every workload",)),
    Case("metrics_scraped", NA, "library", chain(NO_WORKLOADS, ev_(type="library"))),
    Case("uses_opentelemetry_sdk", P, "default", same, detail=("opentelemetry-sdk",)),
    Case(
        "uses_opentelemetry_sdk", P, "monorepo-workspace-root", MONOREPO, detail=("pyproject.toml",),
    ),
    Case(
        "uses_opentelemetry_sdk", F, "not-instrumented", ev_(dependencies=[DependencyManifest("pyproject.toml", "python", ["fastapi"])]),
        detail=("no OpenTelemetry package in pyproject.toml",), remedy=("opentelemetry-distro",),
    ),
    Case("uses_opentelemetry_sdk", F, "go", GO_ONLY, remedy=("go.opentelemetry.io/otel",)),
    Case(
        "uses_opentelemetry_sdk", P, "jvm-bridge", deps("build.gradle", "gradle", "io.micrometer:micrometer-tracing-bridge-otel"),
        detail=("build.gradle: io.micrometer:micrometer-tracing-bridge-otel",),
    ),
    Case("uses_opentelemetry_sdk", P, "otlp-exporter", deps("go.mod", "go", "github.com/acme/otlp-exporter")),
    Case(
        "uses_opentelemetry_sdk", F, "otel-inside-a-word", deps("package.json", "node", "hotel-booking-client", "botlpad"),
        detail=("no OpenTelemetry package in package.json",),
    ),
    Case("uses_opentelemetry_sdk", U, "no-manifest", NO_MANIFESTS, detail=("no dependency manifest found",)),
    Case(
        "uses_opentelemetry_sdk", U, "sibling-manifest-ignored",
        chain(MONOREPO, ev_(dependencies=[DependencyManifest("services/search/package.json", "node", ["@opentelemetry/sdk-node"])])),
    ),
    Case("uses_structured_logging", P, "default", same, detail=("structlog",)),
    Case(
        "uses_structured_logging", F, "plain-logging", ev_(dependencies=[DependencyManifest("package.json", "node", ["express"])]),
        detail=("no structured-logging library in package.json",), remedy=("pino",),
    ),
    Case("uses_structured_logging", U, "go-slog-invisible", GO_ONLY, detail=("log/slog",)),
    Case("uses_structured_logging", P, "go-sub-package", deps("go.mod", "go", "go.uber.org/zap/zapcore"), detail=("go.uber.org/zap/zapcore",)),
    Case(
        "uses_structured_logging", U, "go-look-alike", deps("go.mod", "go", "go.uber.org/zapper", "github.com/sirupsen/logrus-x"),
        detail=("no logging library in go.mod",),
    ),
    Case("uses_structured_logging", P, "structlog-plugin", deps("requirements.txt", "python", "structlog-sentry"), detail=("structlog-sentry",)),
    Case("uses_structured_logging", P, "node-scoped-pino", deps("package.json", "node", "@fastify/pino-pretty")),
    Case("uses_structured_logging", P, "ecs-format", deps("package.json", "node", "@elastic/ecs-winston-format")),
    Case(
        "uses_structured_logging", F, "plain-log4j", deps("pom.xml", "maven", "org.apache.logging.log4j:log4j-core", "ch.qos.logback:logback-classic"),
        detail=("no structured-logging library in pom.xml",), remedy=("logstash-logback-encoder",),
    ),
    Case("uses_structured_logging", P, "jvm-group", deps("pom.xml", "maven", "co.elastic.logging:logback-ecs-encoder")),
    Case("uses_structured_logging", U, "no-manifest", NO_MANIFESTS),
    Case("has_dashboards_as_code", P, "file", same, detail=("dashboards/payments-api.json",)),
    Case(
        "has_dashboards_as_code", P, "grafana-operator",
        chain(files(drop=["dashboards/payments-api.json"]), add_objects(obj("GrafanaDashboard", "payments", {}))),
        detail=("GrafanaDashboard payments",),
    ),
    Case(
        "has_dashboards_as_code", P, "sidecar-configmap",
        chain(files(drop=["dashboards/payments-api.json"]), add_objects(obj("ConfigMap", "dash", {}, labels={"grafana_dashboard": "1"}))),
    ),
    Case(
        "has_dashboards_as_code", F, "none", files(drop=["dashboards/payments-api.json"]),
        remedy=("dashboards/payments-api.json",),
    ),
    Case(
        "has_dashboards_as_code", F, "sibling-service-dashboard",
        chain(MONOREPO, files(drop=["dashboards/payments-api.json"], add=["services/search/dashboards/search.json"])),
        remedy=("services/payments/dashboards/payments-api.json",),
    ),
    Case("has_dashboards_as_code", U, "repo-down", chain(REPO_DOWN, files(drop=["dashboards/payments-api.json"]))),
    Case("has_alerts_as_code", P, "prometheus-rule", same, detail=("PrometheusRule payments-api-alerts",)),
    Case("has_alerts_as_code", P, "alerts-dir", chain(drop_objects("PrometheusRule"), files(add=["alerts/payments.yaml"])), detail=("alerts/payments.yaml",)),
    Case("has_alerts_as_code", P, "rules-file", chain(drop_objects("PrometheusRule"), files(add=["prometheus/payments.rules.yml"]))),
    Case(
        "has_alerts_as_code", F, "none", drop_objects("PrometheusRule"),
        snippet=("kind: PrometheusRule", "PaymentsApiHighErrorRate", 'service="payments-api"'),
    ),
    Case("has_alerts_as_code", U, "repo-down", chain(REPO_DOWN, drop_objects("PrometheusRule"))),
    Case("has_slo_defined", P, "sloth-object", same, detail=("PrometheusServiceLevel",)),
    Case("has_slo_defined", P, "slo-file", chain(drop_objects("PrometheusServiceLevel"), files(add=["slo.yaml"])), detail=("slo.yaml",)),
    Case("has_slo_defined", P, "dot-slo-file", chain(drop_objects("PrometheusServiceLevel"), files(add=["observability/payments.slo.yml"]))),
    Case("has_slo_defined", P, "annotation", chain(drop_objects("PrometheusServiceLevel"), annotations({"nobl9.com/project": "payments"}))),
    Case(
        "has_slo_defined", F, "slow-is-not-slo", chain(drop_objects("PrometheusServiceLevel"), files(add=["queries/slow-queries.yaml"])),
        remedy=("slo.yaml",), snippet=("service: payments-api", "{{.window}}"),
    ),
    Case("has_slo_defined", U, "repo-down", chain(REPO_DOWN, drop_objects("PrometheusServiceLevel"))),
    # -------------------------------------------------------------- ownership
    Case("has_codeowners", P, "default", same, detail=("@acme/payments-team",)),
    Case(
        "has_codeowners", F, "no-file", ev_(codeowners=None, codeowners_owners=None),
        detail=("no CODEOWNERS file",), remedy=("`*`", "@payments-team"), snippet=("* @payments-team",),
    ),
    Case(
        "has_codeowners", F, "path-uncovered", chain(MONOREPO, ev_(codeowners_owners=[])),
        detail=("no rule matching /services/payments",), snippet=("/services/payments/ @payments-team",),
    ),
    Case("has_codeowners", U, "repo-down", REPO_DOWN),
    Case("owner_is_known_team", P, "default", same, detail=("payments-team", "catalog spec.owner")),
    Case("owner_is_known_team", P, "backstage-ref", ev_(team="group:default/payments-team")),
    Case(
        "owner_is_known_team", F, "stale-owner", ev_(team="payments-squad-2019"),
        detail=("payments-squad-2019", "not a known team"), remedy=("CODEOWNERS suggests `payments-team`",),
    ),
    Case("owner_is_known_team", F, "no-owner", ev_(team=None), detail=("no owner set",)),
    Case("owner_is_known_team", F, "person", ev_(team="user:default/jdoe"), detail=("owned by a person",)),
    Case("owner_is_known_team", U, "no-directory", ctx_(known_teams=frozenset()), detail=("no team directory",)),
    Case("has_catalog_entity", P, "default", same, detail=("Component payments-api",)),
    Case(
        "has_catalog_entity", F, "missing", ev_(catalog=None, identity_rule="repo"),
        detail=("no catalog entity", "repo rule"), remedy=("catalog-info.yaml",),
        snippet=("name: payments-api", "owner: payments-team", "github.com/project-slug: <org>/payments"),
    ),
    Case(
        "has_catalog_entity", F, "invalid", lambda ev, ctx: (replace(ev, catalog=replace(ev.catalog, errors=["spec.owner missing"])), ctx),
        detail=("spec.owner missing",), remedy=("fix spec.owner missing",),
    ),
    Case("has_catalog_entity", U, "repo-down", chain(REPO_DOWN, ev_(catalog=None))),
    Case("has_oncall_reference", P, "pagerduty", same, detail=("pagerduty.com/service-id",)),
    Case("has_oncall_reference", P, "opsgenie", annotations({"opsgenie.com/team": "payments"})),
    Case(
        "has_oncall_reference", F, "none", annotations({"github.com/project-slug": "acme/payments"}),
        detail=("no on-call annotation",), remedy=("catalog-info.yaml", "payments-team"), snippet=("pagerduty.com/service-id",),
    ),
    Case("has_oncall_reference", U, "repo-down", chain(REPO_DOWN, ev_(catalog=None, annotations={}))),
    Case("has_runbook", P, "root-file", same, detail=("RUNBOOK.md",)),
    Case("has_runbook", P, "docs", files(drop=["RUNBOOK.md"], add=["docs/runbook-payments.md"])),
    Case("has_runbook", P, "annotation", chain(files(drop=["RUNBOOK.md"]), annotations({"acme.com/runbook-url": "https://wiki/x"}))),
    Case(
        "has_runbook", F, "none", files(drop=["RUNBOOK.md"]),
        remedy=("`RUNBOOK.md`",), snippet=("# payments-api runbook", "Owner: payments-team"),
    ),
    Case(
        "has_runbook", F, "sibling-runbook", chain(MONOREPO, files(drop=["RUNBOOK.md"], add=["services/search/RUNBOOK.md"])),
        remedy=("services/payments/RUNBOOK.md",),
    ),
    Case("has_runbook", U, "repo-down", chain(REPO_DOWN, files(drop=["RUNBOOK.md"]))),
    Case("has_readme", P, "root", same, detail=("README.md",)),
    Case("has_readme", P, "service-dir", chain(MONOREPO, files(drop=["README.md"], add=["services/payments/readme.rst"]))),
    Case("has_readme", F, "none", files(drop=["README.md"]), detail=("no README",), snippet=("# payments-api",)),
    Case(
        "has_readme", F, "nested-only", chain(MONOREPO, files(drop=["README.md"], add=["services/payments/src/README.md"])),
        remedy=("services/payments/README.md",),
    ),
    Case("has_readme", U, "repo-down", REPO_DOWN),
    Case("has_lifecycle", P, "default", same, detail=("production",)),
    Case("has_lifecycle", F, "missing", ev_(lifecycle=None), detail=("no lifecycle",), snippet=("lifecycle: production",)),
    Case("has_lifecycle", U, "repo-down", chain(REPO_DOWN, ev_(lifecycle=None, catalog=None))),
    # --------------------------------------------------------------- delivery
    Case("has_ci_on_default_branch", P, "main-filter", same, detail=("ci.yml", "1 of 1 recent runs succeeded")),
    Case("has_ci_on_default_branch", P, "unfiltered", workflow(branches=None)),
    Case("has_ci_on_default_branch", P, "glob", workflow(branches=["ma*"])),
    Case("has_ci_on_default_branch", P, "jenkins", chain(ev_(workflows=[]), files(add=["Jenkinsfile"])), detail=("Jenkinsfile",)),
    Case(
        "has_ci_on_default_branch", F, "develop-only", workflow(branches=["develop"]),
        detail=("no workflow runs on push to main or master",), remedy=(".github/workflows/ci.yml",), snippet=("branches: [main]",),
    ),
    Case("has_ci_on_default_branch", F, "pr-only", workflow(triggers=["pull_request"])),
    Case("has_ci_on_default_branch", P, "develop-is-default", chain(workflow(branches=["develop"]), ev_(default_branch="develop"))),
    Case("has_ci_on_default_branch", F, "main-filter-trunk-default", chain(workflow(branches=["main"]), ev_(default_branch="trunk")), detail=("trunk",)),
    # GitHub's push filters (issue 10): tags only, branches-ignore, `!` negations, `*` not crossing `/`.
    Case("has_ci_on_default_branch", F, "tags-only", workflow(branches=None, push_tags=["v*"])),
    Case("has_ci_on_default_branch", P, "tags-and-branches", workflow(branches=["main"], push_tags=["v*"])),
    Case("has_ci_on_default_branch", F, "branches-ignore-main",
         chain(workflow(branches=None, branches_ignore=["main"]), ev_(default_branch="main"))),
    Case("has_ci_on_default_branch", P, "branches-ignore-others", workflow(branches=None, branches_ignore=["release/**"])),
    Case("has_ci_on_default_branch", F, "negated", chain(workflow(branches=["*", "!main"]), ev_(default_branch="main"))),
    Case("has_ci_on_default_branch", P, "negation-undone", workflow(branches=["*", "!ma*", "main"])),
    Case("has_ci_on_default_branch", F, "star-stops-at-slash", chain(workflow(branches=["team/*"]), ev_(default_branch="team/a/main"))),
    Case("has_ci_on_default_branch", P, "double-star-crosses", chain(workflow(branches=["team/**"]), ev_(default_branch="team/a/main"))),
    Case("has_ci_on_default_branch", F, "no-workflows", ev_(workflows=[]), detail=("no CI workflows",)),
    Case("has_ci_on_default_branch", P, "quiet-repo", ev_(ci_runs=[]), detail=("no recent runs recorded",)),
    Case("has_ci_on_default_branch", P, "not-github", ev_(ci_runs=None)),
    Case("has_ci_on_default_branch", U, "repo-down", REPO_DOWN),
    Case("lead_time_meets_target", P, "elite", same, detail=("p50 lead time 5.0 hours, p90 1.2 days (elite tier)",)),
    Case(
        "lead_time_meets_target", F, "medium", delivery(lead_time_p50_hours=55.2 * 4, lead_time_p90_hours=24 * 20),
        detail=("p50 lead time 9.2 days, p90 20.0 days (medium tier, target high)",), remedy=("high tier", "now: medium"),
    ),
    Case("lead_time_meets_target", F, "elite-target", chain(delivery(lead_time_p50_hours=30.0), thresholds(dora_target_tier="elite")), detail=("high tier, target elite",)),
    Case("lead_time_meets_target", U, "no-data", ev_(delivery=None), detail=("no deployment data",), remedy=("record its production deployments",)),
    Case("lead_time_meets_target", U, "no-deploys", delivery(deployments_30d=0, lead_time_p50_hours=None, lead_time_p90_hours=None)),
    Case("deploys_frequently", P, "high", same, detail=("median 4 deploy-days per week", "(high tier)")),
    Case("deploys_frequently", F, "medium", delivery(deploy_days_per_week=0.5), detail=("medium tier, target high",)),
    Case(
        "deploys_frequently", F, "zero-deploys", delivery(deployments_30d=0, deploy_days_per_week=None),
        detail=("no production deployments in the last 30 days",), remedy=("now: low",),
    ),
    Case("deploys_frequently", U, "no-data", ev_(delivery=None)),
    Case("change_failure_rate_within_target", P, "elite", same, detail=("4.0 %",)),
    Case("change_failure_rate_within_target", P, "high-boundary", delivery(change_failure_rate=3 / 30), detail=("10.0 %,", "(high tier)")),
    Case("change_failure_rate_within_target", F, "low", delivery(change_failure_rate=0.2), detail=("20.0 %", "low tier")),
    Case("change_failure_rate_within_target", U, "no-deploys", delivery(change_failure_rate=None)),
    Case("change_failure_rate_within_target", U, "no-data", ev_(delivery=None)),
    Case("restores_quickly", P, "elite", same, detail=("30 minutes",)),
    Case("restores_quickly", F, "medium", delivery(time_to_restore_hours=48.0), detail=("2.0 days", "medium tier")),
    Case("restores_quickly", NA, "no-incidents", delivery(time_to_restore_hours=None, incidents_90d=0)),
    Case("restores_quickly", U, "unresolved", delivery(time_to_restore_hours=None, incidents_90d=1), detail=("none resolved",)),
    # ------------------------------------------------------------- reliability
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
    # ------------------------------------------- workload kinds (issue 8 item 3)
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
    # --------------------------------------------------------------- security
    Case("no_literal_secrets", P, "default", same),
    Case(
        "no_literal_secrets", F, "env-value", app(literal_env={"DB_PASSWORD": TEXT, "API_TOKEN": TEXT, "LOG_LEVEL": TEXT}),
        detail=("2 env vars with literal secret values", "payments-api/app DB_PASSWORD in prod-eu", "API_TOKEN"),
        remedy=("Rotate", "DB_PASSWORD, API_TOKEN"), snippet=("name: DB_PASSWORD", "secretKeyRef", "key: db-password"),
    ),
    Case(
        "no_literal_secrets", F, "only-in-git",
        lambda ev, ctx: (replace(ev, repo_workloads=[replace(ev.repo_workloads[0], containers=[Container("app", "a:1", True, True, literal_env={"STRIPE_API_KEY": TEXT})])]), ctx),
        detail=("STRIPE_API_KEY in chart/rendered.yaml",),
    ),
    Case("no_literal_secrets", F, "secret-key-pair", app(literal_env={"JWT_SIGNING_KEY": TEXT}), detail=("1 env var", "JWT_SIGNING_KEY")),
    # Settings about a secret, pointers to one, flags and placeholders are not secrets.
    Case(
        "no_literal_secrets", P, "settings-of-a-secret",
        app(literal_env={"TOKEN_EXPIRY_SECONDS": TEXT, "JWT_SECRET_ALGORITHM": TEXT, "PASSWORD_FILE": TEXT, "API_KEYS": TEXT}),
        detail=("no literal secret values",),
    ),
    Case("no_literal_secrets", P, "switch", app(literal_env={"MYSQL_ALLOW_EMPTY_PASSWORD": SWITCH, "MYSQL_RANDOM_ROOT_PASSWORD": SWITCH})),
    Case("no_literal_secrets", P, "placeholder", app(literal_env={"DB_PASSWORD": PLACEHOLDER})),
    Case("no_literal_secrets", P, "not-a-secret-name", app(literal_env={"STRIPE_KEY": TEXT, "PASSPORT_NUMBER": TEXT, "BYPASS": TEXT})),
    Case("no_literal_secrets", U, "no-workloads", NO_WORKLOADS),
    Case("uses_external_secrets", P, "default", same, detail=("payments-db",)),
    Case("uses_external_secrets", P, "vault", chain(drop_objects("ExternalSecret"), prod(annotations={"vault.hashicorp.com/agent-inject": "true"}))),
    Case("uses_external_secrets", F, "vault-disabled", chain(drop_objects("ExternalSecret"), prod(annotations={"vault.hashicorp.com/agent-inject": "false"}))),
    Case("uses_external_secrets", P, "default-target-name", chain(drop_objects("ExternalSecret"), add_objects(obj("ExternalSecret", "payments-db", {})))),
    Case(
        "uses_external_secrets", F, "hand-made-secret", drop_objects("ExternalSecret"),
        detail=("1 of 1 Secret is not managed by an ExternalSecret: payments-db",), remedy=("payments-db",),
        snippet=("kind: ExternalSecret", "name: payments-db", "namespace: payments"),
    ),
    Case("uses_external_secrets", NA, "no-secrets", app(secret_refs=[])),
    Case("uses_external_secrets", U, "no-workloads", NO_WORKLOADS),
    Case("has_dependency_update_bot", P, "dependabot", same, detail=("dependabot configured",)),
    Case(
        "has_dependency_update_bot", P, "dependabot-yaml",
        files(drop=[".github/dependabot.yml"], add=[".github/dependabot.yaml"]), detail=("dependabot configured",),
    ),
    *(
        Case("has_dependency_update_bot", P, f"renovate-{name}", files(drop=[".github/dependabot.yml"], add=[name]), detail=("renovate configured",))
        for name in ("renovate.json", ".renovaterc", ".github/renovate.json5", ".gitlab/renovate.json")
    ),
    Case(
        "has_dependency_update_bot", F, "config-elsewhere",
        files(drop=[".github/dependabot.yml"], add=["services/x/renovate.json", "docs/dependabot.yml", ".github/workflows/renovate.yml"]),
        detail=("no Dependabot or Renovate configuration",),
    ),
    Case(
        "has_dependency_update_bot", F, "none", files(drop=[".github/dependabot.yml"]),
        detail=("no Dependabot or Renovate",),
        snippet=('package-ecosystem: "pip"', 'package-ecosystem: "github-actions"', 'package-ecosystem: "docker"', 'package-ecosystem: "terraform"'),
    ),
    Case("has_dependency_update_bot", U, "repo-down", REPO_DOWN),
    Case("has_security_policy", P, "root", same, detail=("SECURITY.md",)),
    Case("has_security_policy", P, "github-dir", files(drop=["SECURITY.md"], add=[".github/SECURITY.md"])),
    Case("has_security_policy", F, "none", files(drop=["SECURITY.md"]), detail=("no SECURITY.md",), snippet=("Reporting a vulnerability",)),
    Case("has_security_policy", F, "wrong-place", files(drop=["SECURITY.md"], add=["src/SECURITY.md"])),
    Case("has_security_policy", U, "repo-down", REPO_DOWN),
    Case("default_branch_protected", P, "protected", same),
    Case("default_branch_protected", F, "unprotected", ev_(branch_protected=False), detail=("not protected",), remedy=("payments",)),
    Case("default_branch_protected", U, "not-known", ev_(branch_protected=None, repo_source="github"), detail=("did not say",)),
    Case("default_branch_protected", NA, "local-clone", ev_(branch_protected=None, repo_source="local-git"), detail=("GitHub source",)),
    Case("runs_as_non_root", P, "default", same),
    Case("runs_as_non_root", P, "pod-level-user", chain(prod(pod_run_as_non_root=None, pod_run_as_user=1000), app(run_as_non_root=None, run_as_user=None))),
    Case(
        "runs_as_non_root", F, "unset", chain(prod(pod_run_as_non_root=None), app(run_as_non_root=None, run_as_user=None)),
        detail=("app (no runAsNonRoot / runAsUser)",), remedy=("app",), snippet=("runAsNonRoot: true",),
    ),
    Case("runs_as_non_root", F, "root-uid", app(run_as_user=0), detail=("runAsUser: 0",)),
    Case("runs_as_non_root", F, "container-overrides-pod", app(run_as_non_root=False, run_as_user=None), detail=("runAsNonRoot: false",)),
    Case("runs_as_non_root", U, "no-workloads", NO_WORKLOADS),
]


def _run(case: Case):
    ev, ctx = case.mutate(make_evidence(), make_context())
    return evaluate(CATALOGUE[case.check_id], ev, ctx)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_check_outcome(case: Case) -> None:
    finding = _run(case)
    assert finding.status == case.status, finding.detail
    assert finding.detail
    for text in case.detail:
        assert text in finding.detail
    for text in case.remedy:
        assert text in (finding.remediation or "")
    for text in case.snippet:
        assert text in (finding.snippet or "")


@pytest.mark.parametrize("case", [c for c in CASES if c.status not in (P, NA)], ids=lambda c: c.id)
def test_findings_that_need_a_fix_read_as_finished_sentences(case: Case) -> None:
    finding = _run(case)
    assert finding.remediation
    # An unfilled `{placeholder}` means the outcome forgot a param the text needs.
    assert not re.search(r"\{[a-z_]+\}", finding.remediation), finding.remediation


def test_every_check_has_a_passing_case() -> None:
    assert {c.check_id for c in CASES if c.status == P} == {c.id for c in all_checks()}


def test_every_check_has_a_failing_case() -> None:
    assert {c.check_id for c in CASES if c.status == F} == {c.id for c in all_checks()}


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_catalog_snippet_names_the_configured_organisation(evidence, ctx):
    import dataclasses

    from checks.catalogue import CATALOGUE
    from checks.model import evaluate

    ev = dataclasses.replace(evidence, catalog=None)
    with_org = evaluate(CATALOGUE["has_catalog_entity"], ev, dataclasses.replace(ctx, organisation="acme"))
    assert f"github.com/project-slug: acme/{ev.repo}" in with_org.snippet
    without = evaluate(CATALOGUE["has_catalog_entity"], ev, ctx)
    assert f"github.com/project-slug: <org>/{ev.repo}" in without.snippet
