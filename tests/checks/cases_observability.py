"""Outcome cases for the observability checks (checks/observability.py).

Run, with every other table, by test_check_outcomes.py.
"""

from __future__ import annotations

from checks.evidence import DependencyManifest

from conftest import obj
from outcome_cases import (
    F, GO_ONLY, MONOREPO, NA, NO_MANIFESTS, NO_WORKLOADS, P, REPO_DOWN, U, Case, add_objects, add_workload,
    annotations, chain, deps, drop_objects, ev_, files, prod, same,
)  # fmt: skip

CASES = [
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
]
