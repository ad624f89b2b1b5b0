"""Observability checks: can the people on call see what the service is doing?"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from checks._helpers import (
    LONG_RUNNING,
    WorkloadScope,
    applies_to_path,
    coverage_gap,
    found_in_repo,
    judges_workloads,
    monitor_reaches,
    objects_of,
    repo_unknown,
    same_place,
    selector_label,
    selects,
    summarise_names,
    under,
)
from checks.evidence import DependencyManifest, K8sObject, ServiceEvidence, Workload
from checks.model import CheckContext, Outcome, check, failed, passed, unknown

# ------------------------------------------------------------------- metrics


def _scraped_by(w: Workload, objects: list[K8sObject]) -> str | None:
    """How Prometheus finds this workload's pods, or None when nothing does."""
    if w.annotations.get("prometheus.io/scrape") == "true":
        return "prometheus.io/scrape annotation"
    services = []
    for o in objects:
        if o.kind == "PodMonitor":
            if monitor_reaches(o, w) and selects(o.spec, w.pod_labels, empty_matches_all=True):
                return f"PodMonitor {o.name}"
        elif o.kind == "Service" and same_place(o, w) and selects(o.spec, w.pod_labels, key="selector"):
            if o.annotations.get("prometheus.io/scrape") == "true":
                return f"Service {o.name} prometheus.io/scrape annotation"
            services.append(o)
    if not services:
        return None
    monitors = [m for m in objects if m.kind == "ServiceMonitor" and monitor_reaches(m, w)]
    for svc in services:
        for m in monitors:
            if selects(m.spec, svc.labels, empty_matches_all=True):
                return f"ServiceMonitor {m.name} via Service {svc.name}"
    return None


def _pod_monitor_snippet(w: Workload) -> str:
    key, value = selector_label(w)
    return (
        "apiVersion: monitoring.coreos.com/v1\n"
        "kind: PodMonitor\n"
        "metadata:\n"
        f"  name: {w.name}\n"
        f"  namespace: {w.namespace}\n"
        "spec:\n"
        "  selector:\n"
        "    matchLabels:\n"
        f"      {key}: {value}\n"
        "  podMetricsEndpoints:\n"
        "    - port: metrics  # the container port that serves /metrics\n"
        "      path: /metrics\n"
    )


@check(
    id="metrics_scraped",
    title="Metrics are scraped by Prometheus",
    category="observability",
    level="bronze",
    weight=3,
    rationale=(
        "Without scraped metrics there are no dashboards, alerts or SLOs: the first sign of trouble is "
        "a customer. A ServiceMonitor/PodMonitor (or the scrape annotation) is all it takes."
    ),
    remediation=(
        "Expose `/metrics` from {workloads} and add a PodMonitor next to the manifests in {repo} "
        "(snippet), or set `prometheus.io/scrape: \"true\"` on the pod template if your Prometheus "
        "uses annotation discovery."
    ),
)
@judges_workloads(LONG_RUNNING, "long-running")
def metrics_scraped(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    gap = coverage_gap(scope, lambda w: _scraped_by(w, scope.objects), "ServiceMonitor", "PodMonitor", sep="; ")
    if isinstance(gap, Outcome):
        return gap
    return failed(gap.detail(scope.where, "not scraped"), snippet=_pod_monitor_snippet(gap.first), workloads=gap.names)


# -------------------------------------------------------------- dependencies


def _manifests(ev: ServiceEvidence) -> list[DependencyManifest]:
    return [m for m in ev.dependencies if applies_to_path(m.file, ev.path)]


# Which packages are OpenTelemetry or structured logging. The parser lists only
# what the service ships with (no devDependencies, test scopes or indirect Go
# modules), so a package here means the service itself uses it.
_OTEL_TOKENS = frozenset({"otel", "otlp"})
_STRUCTURED_LOGGING_PYTHON = {
    "structlog",
    "python-json-logger",
    "loguru",
    "ecs-logging",
    "json-logging",
    "json-log-formatter",
    "eliot",
    "logfmter",
}
_STRUCTURED_LOGGING_NODE_TOKENS = {"pino", "winston", "bunyan", "roarr"}
_STRUCTURED_LOGGING_NODE = {"@aws-lambda-powertools/logger", "tslog"}
_STRUCTURED_LOGGING_GO = (
    "go.uber.org/zap",
    "github.com/rs/zerolog",
    "github.com/sirupsen/logrus",
    "github.com/go-kit/log",
    "github.com/apex/log",
    "github.com/inconshreveable/log15",
    "gopkg.in/inconshreveable/log15.v2",
    "gopkg.in/inconshreveable/log15.v3",
    "github.com/hashicorp/go-hclog",
    "github.com/phuslu/log",
    "github.com/charmbracelet/log",
)
_STRUCTURED_LOGGING_JVM_ARTIFACTS = {
    "logstash-logback-encoder",
    "logback-json-classic",
    "logback-json-core",
    "logback-jackson",
    "log4j-layout-template-json",
    "jsonevent-layout",
}
_STRUCTURED_LOGGING_JVM_GROUPS = {"co.elastic.logging", "net.logstash.logback"}


@lru_cache(maxsize=16384)
def is_opentelemetry(package: str) -> bool:
    """OpenTelemetry API/SDK, instrumentation, exporters and bridges (any ecosystem)."""
    name = package.lower()
    if "opentelemetry" in name:
        return True
    return not _OTEL_TOKENS.isdisjoint(re.split(r"[^a-z0-9]+", name))


@lru_cache(maxsize=16384)
def is_structured_logging(package: str, ecosystem: str) -> bool:
    """Libraries whose point is key/value or JSON log records (not morgan, debug, plain log4j)."""
    name = package.lower()
    if ecosystem == "python":
        return name in _STRUCTURED_LOGGING_PYTHON or name.startswith("structlog-")
    if ecosystem == "node":
        if name in _STRUCTURED_LOGGING_NODE or (name.startswith("@elastic/ecs-") and name.endswith("-format")):
            return True
        return bool(set(re.split(r"[^a-z0-9]+", name)) & _STRUCTURED_LOGGING_NODE_TOKENS)
    if ecosystem == "go":
        return any(name == prefix or name.startswith(prefix + "/") for prefix in _STRUCTURED_LOGGING_GO)
    if ecosystem in ("maven", "gradle"):
        group, _, artifact = name.partition(":")
        return artifact in _STRUCTURED_LOGGING_JVM_ARTIFACTS or group in _STRUCTURED_LOGGING_JVM_GROUPS
    return False


def opentelemetry_packages(manifest: DependencyManifest) -> list[str]:
    return [p for p in manifest.packages if is_opentelemetry(p)]


def structured_logging_packages(manifest: DependencyManifest) -> list[str]:
    return [p for p in manifest.packages if is_structured_logging(p, manifest.ecosystem)]


_OTEL_PACKAGES = {
    "python": "opentelemetry-distro opentelemetry-exporter-otlp",
    "node": "@opentelemetry/sdk-node @opentelemetry/auto-instrumentations-node",
    "go": "go.opentelemetry.io/otel go.opentelemetry.io/otel/sdk",
    "maven": "io.opentelemetry.instrumentation:opentelemetry-instrumentation-bom",
    "gradle": "io.opentelemetry.instrumentation:opentelemetry-instrumentation-bom",
}
_LOGGING_PACKAGES = {
    "python": "structlog (or python-json-logger)",
    "node": "pino",
    "go": "log/slog (standard library) or go.uber.org/zap",
    "maven": "net.logstash.logback:logstash-logback-encoder",
    "gradle": "net.logstash.logback:logstash-logback-encoder",
}


def _suggest(manifests: list[DependencyManifest], table: dict[str, str]) -> str:
    ecosystems = dict.fromkeys(m.ecosystem for m in manifests)
    return "; ".join(f"{e}: {table[e]}" for e in ecosystems if e in table) or "the library for its language"


def _find_package(
    ev: ServiceEvidence, detect: Callable[[DependencyManifest], list[str]], suggestions: dict[str, str]
) -> Outcome | list[DependencyManifest]:
    """`passed` naming the first manifest in which ``detect`` finds packages, `unknown`
    when there is no manifest to read; else the manifests read, for the check to
    say what their absence means (``suggestions`` fills {packages} per ecosystem)."""
    if (missing := repo_unknown(ev, packages="see the platform docs")) is not None:
        return missing
    manifests = _manifests(ev)
    if not manifests:
        return unknown(f"no dependency manifest found under {ev.path or 'the repo root'}", packages=_suggest([], suggestions))
    for m in manifests:
        if found := detect(m):
            return passed(f"{m.file}: {summarise_names(found)}")
    return manifests


@check(
    id="uses_opentelemetry_sdk",
    title="Instrumented with OpenTelemetry",
    category="observability",
    level="silver",
    weight=2,
    rationale=(
        "OpenTelemetry traces follow a request across services, so an incident is found in minutes "
        "instead of by reading logs from five teams. One vendor-neutral SDK keeps backends swappable."
    ),
    remediation=(
        "Add the OpenTelemetry SDK to {service} ({packages}) and export OTLP to the platform collector; "
        "auto-instrumentation covers HTTP, database and queue clients."
    ),
)
def uses_opentelemetry_sdk(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    manifests = _find_package(ev, opentelemetry_packages, _OTEL_PACKAGES)
    if isinstance(manifests, Outcome):
        return manifests
    files = summarise_names(m.file for m in manifests)
    return failed(f"no OpenTelemetry package in {files}", packages=_suggest(manifests, _OTEL_PACKAGES))


@check(
    id="uses_structured_logging",
    title="Logs are structured",
    category="observability",
    level="silver",
    weight=2,
    rationale=(
        "Structured (JSON) logs can be filtered by field and joined to traces; free-text logs need "
        "regexes at 3 a.m. Go's standard log/slog is structured too, but it leaves no trace in go.mod, "
        "so a Go-only service without a logging library is `unknown`, not failed."
    ),
    remediation=(
        "Log through a structured logger in {service} ({packages}), emit JSON in production and include "
        "the trace id in every line."
    ),
)
def uses_structured_logging(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    manifests = _find_package(ev, structured_logging_packages, _LOGGING_PACKAGES)
    if isinstance(manifests, Outcome):
        return manifests
    files = summarise_names(m.file for m in manifests)
    packages = _suggest(manifests, _LOGGING_PACKAGES)
    if all(m.ecosystem == "go" for m in manifests):
        return unknown(f"no logging library in {files}; log/slog (standard library) cannot be seen in go.mod", packages=packages)
    return failed(f"no structured-logging library in {files}", packages=packages)


# ---------------------------------------------------------------- as code


def _objects(ev: ServiceEvidence) -> list[K8sObject]:
    return [*ev.cluster_objects, *ev.repo_objects]


def _names(objs: list[K8sObject]) -> str:
    return summarise_names(f"{o.kind} {o.name}" for o in objs)


@check(
    id="has_dashboards_as_code",
    title="Dashboards are kept as code",
    category="observability",
    level="gold",
    weight=1,
    rationale=(
        "Dashboards in git are reviewed, survive a Grafana rebuild, and are created for every "
        "environment at once instead of being clicked together in production only."
    ),
    remediation=(
        "Export {service}'s Grafana dashboard as JSON into `{dashboard_file}` in {repo} (or a "
        "GrafanaDashboard resource) and provision it from there."
    ),
)
def has_dashboards_as_code(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    dashboard_file = under(ev.path, f"dashboards/{ev.service}.json")
    objs = [
        o for o in _objects(ev)
        if o.kind == "GrafanaDashboard" or (o.kind == "ConfigMap" and "grafana_dashboard" in o.labels)
    ]
    if objs:
        return passed(_names(objs))
    if (found := found_in_repo(ev, "dashboards", dashboard_file=dashboard_file)) is not None:
        return found
    return failed(
        "no dashboard files (dashboards/, grafana/, *.dashboard.json) or GrafanaDashboard resources",
        dashboard_file=dashboard_file,
    )


_ALERT_SNIPPET = """apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {service}-alerts
spec:
  groups:
    - name: {service}
      rules:
        - alert: {alert_name}HighErrorRate
          expr: |
            sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[5m]))
              / sum(rate(http_requests_total{{service="{service}"}}[5m])) > 0.05
          for: 10m
          labels:
            severity: page
          annotations:
            summary: "{service} is failing more than 5% of requests"
"""


def _camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.replace("_", "-").split("-"))


@check(
    id="has_alerts_as_code",
    title="Alerts are kept as code",
    category="observability",
    level="silver",
    weight=2,
    rationale=(
        "Alert rules in git are reviewed with the code they watch and cannot silently disappear when "
        "someone edits a UI; they are what turns metrics into a page."
    ),
    remediation=(
        "Add a PrometheusRule for {service} next to its manifests in {repo} (snippet: a starting "
        "error-rate alert), or alert rule files under `{alerts_dir}`."
    ),
)
def has_alerts_as_code(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    alerts_dir = under(ev.path, "alerts/")
    rules = objects_of(_objects(ev), "PrometheusRule")
    if rules:
        return passed(_names(rules))
    if (found := found_in_repo(ev, "alert_rules", alerts_dir=alerts_dir)) is not None:
        return found
    snippet = _ALERT_SNIPPET.format(service=ev.service, alert_name=_camel(ev.service))
    return failed("no PrometheusRule resource or alert rule files", snippet=snippet, alerts_dir=alerts_dir)


_SLO_KINDS = ("PrometheusServiceLevel", "ServiceLevelObjective", "SLO")
_SLO_ANNOTATION_TOKENS = frozenset({"slo", "slos", "openslo", "sloth", "nobl9"})


def _slo_annotation(ev: ServiceEvidence) -> str | None:
    for key in (*ev.annotations, *(ev.catalog.annotations if ev.catalog else ())):
        tokens = set(key.lower().replace("/", ".").replace("-", ".").split("."))
        if tokens & _SLO_ANNOTATION_TOKENS:
            return key
    return None


_SLO_SNIPPET = """# sloth: {path}
version: prometheus/v1
service: {service}
slos:
  - name: requests-availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{service="{service}"}}[{{{{.window}}}}]))
    alerting:
      name: {alert_name}HighErrorBudgetBurn
"""


@check(
    id="has_slo_defined",
    title="An SLO is defined",
    category="observability",
    level="gold",
    weight=2,
    rationale=(
        "An SLO states how reliable the service must be, so the team knows when to stop shipping "
        "features and fix reliability, and alerts fire on user impact rather than on CPU."
    ),
    remediation=(
        "Define an availability SLO for {service} in `{slo_file}` (Sloth/OpenSLO, snippet) and generate "
        "its burn-rate alerts from it."
    ),
)
def has_slo_defined(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    slo_file = under(ev.path, "slo.yaml")
    objs = objects_of(_objects(ev), *_SLO_KINDS)
    if objs:
        return passed(_names(objs))
    key = _slo_annotation(ev)
    if key is not None:
        return passed(f"catalog annotation {key}")
    if (found := found_in_repo(ev, "slo_files", slo_file=slo_file)) is not None:
        return found
    snippet = _SLO_SNIPPET.format(path=slo_file, service=ev.service, alert_name=_camel(ev.service))
    return failed(
        "no SLO resource (PrometheusServiceLevel), SLO file (slo*.yaml, *.slo.yaml) or SLO annotation",
        snippet=snippet,
        slo_file=slo_file,
    )
