"""The tables of a snapshot, built from one date's stage results (pipelines/snapshot.py assembles them).

Each function turns what the stages computed (service records, evidence,
check results, delivery metrics) into one published table's frame; none
decides what a result means (checks/policy.py does) or reads a source.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath

import duckdb
import pandas as pd

from checks import policy
from checks.catalogue import all_checks
from checks.evidence import Problem, ServiceEvidence
from checks.model import CheckContext
from pipelines import delivery as dlv
from pipelines import warehouse
from pipelines.evidence import JoinIndex, index_clusters, join_repo_workloads, orphan_workloads
from pipelines.facts import RepoFacts
from pipelines.identity import ServiceRecord
from pipelines.parsers.kubernetes import WORKLOAD_KINDS
from pipelines.sources.base import ClusterCrawl, RepoCrawl


def stored_results(results: pd.DataFrame) -> pd.DataFrame:
    """check_results as stored: each finding's params as a JSON object (NULL when empty), and its
    status group under the default policy (for checks a scorecard leaves out; scorecard_results has
    each scorecard's own)."""
    out = results.copy()
    out["params"] = [json.dumps(p, sort_keys=True, default=str) if p else None for p in results["params"]]
    out["status_group"] = out["status"].map(policy.DEFAULT.group)
    return out


def catalogue_frame(doc_base_url: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"check_id": c.id, "title": c.title, "category": c.category, "level": c.level, "weight": c.weight,
             "rationale": c.rationale, "remediation": c.remediation, "doc_url": c.doc_url(doc_base_url)}
            for c in all_checks()
        ]
    )


def services_frame(records: list[ServiceRecord], evidence: list[ServiceEvidence]) -> pd.DataFrame:
    ev_by = {e.service: e for e in evidence}
    rows = []
    for r in records:
        ev = ev_by.get(r.service)
        owners = ev.codeowners_owners if ev else None
        rows.append(
            {"service": r.service, "team": r.team, "repo": r.repo, "path": r.path, "identity_rule": r.identity_rule,
             "owner_source": r.owner_source, "lifecycle": r.lifecycle, "system": r.system, "type": r.type,
             "repo_error": ev.repo_error if ev else None, "codeowners": ", ".join(owners) if owners else None,
             "identity_detail": r.identity_detail}
        )
    return pd.DataFrame(rows, columns=warehouse.columns("services")[1:])


WORKLOAD_COLUMNS = ["source", "cluster", "environment", "namespace", "kind", "name", "service", "join_label",
                    "replicas", "containers", "images", "repo", "file", "also_in"]


def workloads_frame(
    evidence: list[ServiceEvidence], clusters: list[ClusterCrawl] | None, records: list[ServiceRecord],
    crawls: list[RepoCrawl] | None = None,
) -> pd.DataFrame:
    """Every workload seen, the service it joined and by which rule; orphans with service NULL."""
    rows = []
    join = JoinIndex(records)

    def row(wl, source, service, rule, repo=None):
        return {
            "source": source, "cluster": wl.cluster, "environment": wl.environment, "namespace": wl.namespace,
            "kind": wl.kind, "name": wl.name, "service": service, "join_label": rule,
            "replicas": wl.replicas, "containers": len(wl.containers),
            "images": ", ".join(sorted({c.image or "" for c in wl.containers if not c.init})),
            "repo": repo, "file": wl.file, "also_in": ", ".join(wl.also_in) or None,
        }

    for ev in evidence:
        for wl in ev.cluster_workloads or []:
            matched = join.workload(wl)
            rows.append(row(wl, "cluster", ev.service, matched[1] if matched else None))
    if clusters:
        for wl, label in orphan_workloads(index_clusters(clusters, records)):
            rows.append(row(wl, "cluster", None, label))
    by_repo: dict[str, list[ServiceRecord]] = {}
    for r in records:
        if r.repo:
            by_repo.setdefault(r.repo, []).append(r)
    for crawl in crawls or []:
        facts = crawl.facts
        if facts.error or facts.archived:
            continue
        joined = join_repo_workloads(facts, by_repo.get(facts.repo, []))
        for service, pairs in joined.by_service.items():
            rows.extend(row(wl, "repo", service, rule, facts.repo) for wl, rule in pairs)
        rows.extend(row(wl, "repo", None, None, facts.repo) for wl in joined.orphans)
        rows.extend(_chart_rows(facts, by_repo.get(facts.repo, [])))
    return pd.DataFrame(rows, columns=WORKLOAD_COLUMNS)


def _chart_rows(facts: RepoFacts, records: list[ServiceRecord]) -> list[dict]:
    """Workload kinds a Helm chart's templates declare: seen, not judged (templates are not
    rendered), listed under the service whose folder holds the chart."""
    rows = []
    for chart in facts.helm_charts:
        folder = posixpath.dirname(chart.file)
        owner = max((r for r in records if not r.path or folder == r.path or folder.startswith(r.path + "/")),
                    key=lambda r: len(r.path), default=None)
        for kind in chart.template_kinds:
            if kind in WORKLOAD_KINDS:
                rows.append({
                    "source": "helm-chart", "cluster": None, "environment": None, "namespace": None, "kind": kind,
                    "name": chart.name, "service": owner.service if owner else None,
                    "join_label": "path" if owner else None, "replicas": chart.values.replica_count if chart.values else None,
                    "containers": None, "images": chart.values.image if chart.values else None,
                    "repo": facts.repo, "file": posixpath.join(folder, "templates"), "also_in": None,
                })
    return rows


# Which check says a service is on a golden path (its passing finding carries the version).
GOLDEN_PATH_CHECKS = {
    "template": "uses_service_template",
    "ci_workflow": "uses_shared_ci_workflow",
    "helm_chart": "uses_base_helm_chart",
    "terraform": "uses_standard_terraform_modules",
    "crossplane": "uses_platform_compositions",
    "gitops": "deployed_through_gitops",
}
ADOPTION_COLUMNS = ["service", "team", "golden_path", "on_path", "version", "latest", "releases_behind", "adoption"]


def adoption_frame(results: pd.DataFrame, ctx: CheckContext) -> pd.DataFrame:
    """Per service and golden path, read from the `uses_*` findings: adopted, not adopted
    or unknown (checks/policy.py), and the version the finding recorded."""
    paths = {"template": ctx.template, "ci_workflow": ctx.ci_workflow, "helm_chart": ctx.helm_chart,
             "terraform": ctx.terraform, "crossplane": ctx.crossplane, "gitops": ctx.gitops}
    by_check = {check: name for name, check in GOLDEN_PATH_CHECKS.items() if paths[name] is not None}
    found = results[results["check_id"].isin(list(by_check))]
    rows = []
    for service, team, check_id, status, params in zip(
        found["service"], found["team"], found["check_id"], found["status"], found["params"], strict=True
    ):
        state = policy.adoption_state(status)
        if state is None:
            continue
        params = params or {}
        name = by_check[check_id]
        rows.append({
            "service": service, "team": team, "golden_path": name,
            "on_path": {policy.ADOPTED: True, policy.NOT_ADOPTED: False}.get(state),
            # Crossplane has no release list: a composition's latest revision is per claim, in the finding.
            "version": params.get("version"), "latest": getattr(paths[name], "latest", params.get("latest")),
            "releases_behind": params.get("releases_behind"), "adoption": state,
        })
    return pd.DataFrame(rows, columns=ADOPTION_COLUMNS).astype({"releases_behind": "Int64"})


_ADOPTION_SUMMARY = """
WITH base AS (
    SELECT coalesce(team, '(no owner)') AS team, golden_path, adoption, releases_behind, version, latest
    FROM adoption
    UNION ALL
    SELECT '*' AS team, golden_path, adoption, releases_behind, version, latest FROM adoption
)
SELECT team, golden_path, count(*) AS services,
       count(*) FILTER (WHERE adoption = 'adopted') AS adopted,
       count(*) FILTER (WHERE adoption = 'not_adopted') AS not_adopted,
       count(*) FILTER (WHERE adoption = 'unknown') AS unknown,
       count(*) FILTER (WHERE adoption = 'adopted' AND coalesce(releases_behind = 0, version = latest, false))
           AS on_latest,
       count(*) FILTER (WHERE adoption = 'adopted' AND coalesce(releases_behind > 0, version <> latest, false))
           AS behind_latest,
       -- checks/policy.py: the denominator is the services whose adoption is known
       adopted / nullif(adopted + not_adopted, 0) AS adoption_share,
       on_latest / nullif(adopted + not_adopted, 0) AS on_latest_share
FROM base GROUP BY ALL ORDER BY team, golden_path
"""


def adoption_summary(adoption: pd.DataFrame) -> pd.DataFrame:
    """Per team ('*' = the organisation) and golden path: adopted, not, unknown, and the shares."""
    con = duckdb.connect()
    try:
        con.register("adoption", adoption)
        return con.execute(_ADOPTION_SUMMARY).df()
    finally:
        con.close()


def dora_frame(metrics: pd.DataFrame, records: list[ServiceRecord]) -> pd.DataFrame:
    teams = {r.service: r.team for r in records}
    out = metrics.copy()
    out["team"] = out["service"].map(teams)
    return out


def team_dora(dora: pd.DataFrame) -> pd.DataFrame:
    """Per team ('*' = the organisation): medians over its services, tiered on the median by the
    same tier rules as each service (checks/dora.py)."""
    columns = ["team", "services", "lead_time_p50_hours", "deploy_days_per_week", "change_failure_rate",
               "time_to_restore_hours"]
    if dora.empty:
        return pd.DataFrame(columns=[*columns, *dlv.TIER_COLUMNS])
    both = pd.concat([dora.assign(team=dora["team"].fillna("(no owner)")), dora.assign(team="*")])
    out = both.groupby("team").agg(
        services=("service", "count"), lead_time_p50_hours=("lead_time_p50_hours", "median"),
        deploy_days_per_week=("deploy_days_per_week", "median"), change_failure_rate=("change_failure_rate", "median"),
        time_to_restore_hours=("time_to_restore_hours", "median"),
    ).reset_index()
    return dlv.add_tiers(out)


def problems_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "target", "path", "reason"])


def identity_problems(problems: list[Problem]) -> list[dict]:
    return [{"source": "identity", "target": p.path, "path": p.path, "reason": p.reason} for p in problems]


def source_status_row(source: str, target: str, status: str, reason: str | None, at: dt.datetime | None, items: int) -> dict:
    """One row of the source_status table."""
    return {
        "source": source, "target": target, "status": status, "reason": reason,
        "crawled_at": at, "items": items, "last_success_at": at if status == "ok" else None,
    }
