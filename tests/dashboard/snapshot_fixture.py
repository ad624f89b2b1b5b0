"""Builds a small (or, for the benchmark, large) published snapshot file.

The builder goes through the real ``pipelines.warehouse`` API (``connect``,
``replace_snapshot``, ``publish``) so the dashboard is tested against exactly
what the pipeline serves. Everything is generated column-wise with numpy from
a fixed seed: 10,000 services build in a few seconds and the same arguments
always give the same file.

A handful of facts are pinned so tests can name them: ``checkout-api`` (team
payments) passed ``has_readiness_probes`` last week and fails it in the latest
snapshot, with a rendered remediation and a YAML snippet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import warehouse
from checks.policy import DEFAULT as _POLICY

PASSING = tuple(_POLICY.passing)  # the status groups the pipeline scores with

SNAPSHOTS = (dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 23))
# A later run that did not complete: publish must leave it out.
INCOMPLETE_SNAPSHOT = dt.date(2026, 11, 30)

BASE_TEAMS = ("payments", "search", "identity")
BASE_SERVICES = (
    ("checkout-api", "payments"),
    ("ledger", "payments"),
    ("refunds", "payments"),
    ("search-api", "search"),
    ("indexer", "search"),
    ("crawler", "search"),
    ("auth", "identity"),
    ("user-profile", "identity"),
)
KNOWN_SERVICE = "checkout-api"
KNOWN_CHECK = "has_readiness_probes"
KNOWN_DETAIL = "2 of 3 containers lack a readiness probe: worker, cron"
KNOWN_REMEDIATION = (
    "Add a `readinessProbe` to the worker, cron containers in `deploy/values.yaml` of "
    "checkout-api so traffic only reaches pods that are ready."
)
KNOWN_SNIPPET = """containers:
  - name: worker
    readinessProbe:
      httpGet: {path: /healthz/ready, port: 8080}
      periodSeconds: 10
"""

# check_id, title, category, level, weight, pass probability in the first snapshot
CHECKS = (
    ("has_codeowners", "CODEOWNERS covers the service", "ownership", "bronze", 3, 0.80),
    ("has_catalog_entity", "Backstage catalog entity is valid", "ownership", "bronze", 2, 0.75),
    ("has_readiness_probes", "Every container has a readiness probe", "reliability", "bronze", 3, 0.70),
    ("uses_shared_ci_workflow", "CI uses the shared workflow", "golden_path", "silver", 2, 0.60),
    ("uses_base_helm_chart", "Helm chart depends on the base chart", "golden_path", "silver", 2, 0.55),
    ("exports_metrics", "Metrics are scraped by Prometheus", "observability", "silver", 2, 0.60),
    ("has_runbook", "A runbook is linked", "ownership", "silver", 1, 0.50),
    ("has_pod_disruption_budget", "A PodDisruptionBudget protects the workload", "reliability", "gold", 2, 0.40),
    ("has_slo", "An SLO is defined", "observability", "gold", 1, 0.35),
    ("has_dependency_update_bot", "Dependabot or Renovate is configured", "security", "gold", 1, 0.45),
)
WORKLOAD_CHECKS = frozenset({"has_readiness_probes", "has_pod_disruption_budget", "exports_metrics"})
LEVEL_RANK = {"bronze": 1, "silver": 2, "gold": 3}
SCORECARDS = {
    "default": {c[0]: c[3] for c in CHECKS},
    "production-readiness": {
        "has_readiness_probes": "bronze",
        "exports_metrics": "bronze",
        "has_pod_disruption_budget": "silver",
        "has_slo": "silver",
        "has_dependency_update_bot": "silver",
    },
}
GOLDEN_PATHS = {
    "template": ("1.0.0", "1.1.0", "1.2.0", "2.0.0"),
    "ci_workflow": ("v1", "v2", "v3"),
    "helm_chart": ("0.8.0", "0.9.0", "1.0.0"),
    "terraform": ("5.0", "5.1", "6.0"),
}


@dataclass
class BuiltSnapshot:
    serving: Path
    warehouse: Path
    snapshots: tuple[dt.date, ...]
    # What was written, per table, over all complete snapshots: tests derive
    # their expectations from these with pandas, independently of the
    # dashboard's SQL.
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def latest(self) -> dt.date:
        return self.snapshots[-1]


def build_snapshot(
    root: Path,
    *,
    n_services: int = 8,
    n_teams: int | None = None,
    n_snapshots: int = len(SNAPSHOTS),
    seed: int = 7,
    published: bool = True,
) -> BuiltSnapshot:
    """Write a warehouse under ``root`` and publish it; returns paths and frames.

    ``n_snapshots`` keeps the latest complete snapshots (1 to 3); the
    incomplete run after them is always written, and never published.
    """
    rng = np.random.default_rng(seed)
    complete = SNAPSHOTS[len(SNAPSHOTS) - n_snapshots :]
    n_teams = n_teams or max(len(BASE_TEAMS), n_services // 250)
    services = _services(n_services, n_teams)
    frames: dict[str, list[pd.DataFrame]] = {}

    def add(table: str, snapshot: dt.date, df: pd.DataFrame) -> None:
        frames.setdefault(table, []).append(df.assign(snapshot=snapshot))

    # Stable per (service, check) draws make a service keep a passing check
    # from week to week, so trends improve the way a real org's do.
    n_checks = len(CHECKS)
    base_u = rng.random((n_services, n_checks))
    kind_u = rng.random((n_services, n_checks))
    path_u = rng.random((n_services, len(GOLDEN_PATHS)))
    behind0 = rng.integers(0, 3, size=(n_services, len(GOLDEN_PATHS)))
    for k, snapshot in enumerate((*complete, INCOMPLETE_SNAPSHOT)):
        noise = rng.random((n_services, n_checks))
        results = _check_results(services, k, base_u, kind_u, noise, snapshot)
        scorecard_checks = _scorecard_checks()
        scores = _service_scores(results, scorecard_checks, services)
        add("services", snapshot, services)
        add("checks", snapshot, _checks())
        add("check_results", snapshot, results)
        add("scorecard_checks", snapshot, scorecard_checks)
        add("service_scores", snapshot, scores)
        add("team_scores", snapshot, _team_scores(scores))
        add("check_pass_rates", snapshot, _check_pass_rates(results, scorecard_checks))
        add("golden_path_adoption", snapshot, _adoption(services, k, path_u, behind0))
        add("workloads", snapshot, _workloads(services, k))
        add("dora", snapshot, _dora(services, k, rng))
        add("source_status", snapshot, _source_status(snapshot))
        add("problems", snapshot, _problems())
        status = "complete" if snapshot in complete else "failed"
        add("runs", snapshot, _run(snapshot, status, len(services)))

    wh_path = root / "warehouse" / "scorecard.duckdb"
    serving = root / "serving" / "scorecard.duckdb"
    with warehouse.connect(wh_path) as con:
        for table, parts in frames.items():
            for part in parts:
                warehouse.replace_snapshot(con, table, part["snapshot"].iloc[0], part.drop(columns="snapshot"))
    if published:
        warehouse.publish(wh_path, serving)
    written = {
        table: pd.concat([p for p in parts if p["snapshot"].iloc[0] in complete], ignore_index=True)
        for table, parts in frames.items()
    }
    return BuiltSnapshot(serving=serving, warehouse=wh_path, snapshots=complete, frames=written)


def _services(n: int, n_teams: int) -> pd.DataFrame:
    teams = np.array(list(BASE_TEAMS) + [f"team-{i:03d}" for i in range(len(BASE_TEAMS), n_teams)])
    base = BASE_SERVICES[:n]
    names = [s for s, _ in base] + [f"svc-{i:05d}" for i in range(len(base), n)]
    idx = np.arange(n)
    team = np.concatenate([np.array([t for _, t in base], dtype=object), teams[idx[len(base) :] % n_teams]])
    rule = np.where(idx % 5 == 4, "repo_fallback", np.where(idx % 7 == 3, "config", "catalog"))
    owner_source = np.where(rule == "repo_fallback", "codeowners", np.where(rule == "config", "config", "catalog"))
    names_arr = np.array(names, dtype=object)
    return pd.DataFrame(
        {
            "service": names_arr,
            "team": team,
            "repo": "acme/" + names_arr,
            "path": np.where(idx % 6 == 5, "services/" + names_arr, None),
            "identity_rule": rule,
            "owner_source": owner_source,
            "lifecycle": np.where(idx % 9 == 8, "experimental", "production"),
            "system": team.astype(object) + "-platform",
            "type": np.where(idx % 8 == 6, "library", "service"),
            "repo_error": None,
            "codeowners": "@acme/" + team.astype(object),
            "identity_detail": None,
        }
    )


def _checks() -> pd.DataFrame:
    df = pd.DataFrame(CHECKS, columns=["check_id", "title", "category", "level", "weight", "p"]).drop(columns="p")
    df["rationale"] = "Why " + df["title"].str.lower() + " matters for operating the service."
    df["remediation"] = "Make sure that " + df["title"].str.lower() + " (see the doc link)."
    df["doc_url"] = "https://platform.example.com/docs/checks/" + df["category"] + "/" + df["check_id"]
    return df


def _check_results(
    services: pd.DataFrame,
    k: int,
    base_u: np.ndarray,
    kind_u: np.ndarray,
    noise: np.ndarray,
    snapshot: dt.date,
) -> pd.DataFrame:
    n, c = base_u.shape
    p = np.array([chk[5] for chk in CHECKS]) + 0.08 * k
    passing = base_u < p[None, :]
    status = np.select([kind_u < 0.75, kind_u < 0.85, kind_u < 0.95], ["fail", "warn", "unknown"], "error")
    status = np.where(passing, np.where(kind_u > 0.97, "waived", "pass"), status)
    # A little week-to-week churn so "compare snapshots" has regressions.
    status = np.where(passing & (noise < 0.04), "fail", status)
    library = (services["type"].to_numpy() == "library")[:, None]
    workload_col = np.array([chk[0] in WORKLOAD_CHECKS for chk in CHECKS])[None, :]
    status = np.where(library & workload_col, "not_applicable", status)

    check_ids = np.array([chk[0] for chk in CHECKS], dtype=object)
    categories = np.array([chk[2] for chk in CHECKS], dtype=object)
    titles = np.array([chk[1] for chk in CHECKS], dtype=object)
    df = pd.DataFrame(
        {
            "service": np.repeat(services["service"].to_numpy(), c),
            "team": np.repeat(services["team"].to_numpy(), c),
            "check_id": np.tile(check_ids, n),
            "category": np.tile(categories, n),
            "status": status.ravel().astype(object),
            "title": np.tile(titles, n),
        }
    )
    needs_fix = df["status"].isin(["fail", "warn", "unknown", "error"])
    df["detail"] = np.where(needs_fix, df["title"] + ": not met", df["title"] + ": ok")
    df["remediation"] = np.where(
        needs_fix, "Fix " + df["check_id"] + " for " + df["service"] + ": see the check's doc page.", None
    )
    df["snippet"] = None
    df["waiver_reason"] = np.where(df["status"] == "waived", "Accepted risk until 2027-01-31 (ticket PLAT-42)", None)
    df = df.drop(columns="title")

    # checkout-api holds Bronze until the readiness probe regression in the
    # latest snapshot drops it, so "moved level" and "regressed" have a case.
    bronze = [chk[0] for chk in CHECKS if chk[3] == "bronze"]
    df.loc[(df["service"] == KNOWN_SERVICE) & df["check_id"].isin(bronze), ["status", "detail", "remediation"]] = [
        "pass",
        "ok",
        None,
    ]
    pinned = (df["service"] == KNOWN_SERVICE) & (df["check_id"] == KNOWN_CHECK)
    if snapshot >= SNAPSHOTS[-1]:
        df.loc[pinned, ["status", "detail", "remediation", "snippet"]] = [
            "fail",
            KNOWN_DETAIL,
            KNOWN_REMEDIATION,
            KNOWN_SNIPPET,
        ]
    else:
        df.loc[pinned, ["status", "detail", "remediation", "snippet"]] = [
            "pass",
            "every container has a readiness probe",
            None,
            None,
        ]
    return df


def _scorecard_checks() -> pd.DataFrame:
    weights = {c[0]: c[4] for c in CHECKS}
    rows = [
        (name, check_id, level, LEVEL_RANK[level], weights[check_id])
        for name, levels in SCORECARDS.items()
        for check_id, level in levels.items()
    ]
    return pd.DataFrame(rows, columns=["scorecard", "check_id", "level", "level_rank", "weight"])


def _service_scores(results: pd.DataFrame, scorecard_checks: pd.DataFrame, services: pd.DataFrame) -> pd.DataFrame:
    """DESIGN "Scoring": a level needs every check of it and below to pass
    (waived passes, not_applicable is skipped, unknown does not pass)."""
    rank_name = {v: k for k, v in LEVEL_RANK.items()}
    df = results[["service", "check_id", "status"]].merge(scorecard_checks, on="check_id")
    applicable = df["status"] != "not_applicable"
    ok = df["status"].isin(PASSING)
    df["blocking_rank"] = np.where(applicable & ~ok, df["level_rank"], 99)
    df["w_app"] = np.where(applicable, df["weight"], 0)
    df["w_ok"] = np.where(ok, df["weight"], 0)
    df["is_ok"] = ok
    df["is_app"] = applicable
    df["is_unknown"] = df["status"] == "unknown"
    g = df.groupby(["scorecard", "service"], sort=False).agg(
        first_block=("blocking_rank", "min"),
        max_rank=("level_rank", "max"),
        w_app=("w_app", "sum"),
        w_ok=("w_ok", "sum"),
        passed=("is_ok", "sum"),
        applicable=("is_app", "sum"),
        unknown=("is_unknown", "sum"),
    )
    g["level_rank"] = np.minimum(g["first_block"] - 1, g["max_rank"])
    g["level"] = g["level_rank"].map(rank_name)
    g["score_pct"] = np.where(g["w_app"] > 0, 100.0 * g["w_ok"] / g["w_app"].clip(lower=1), 0.0).round(1)
    g["failing"] = g["applicable"] - g["passed"] - g["unknown"]
    g = g.reset_index()
    nxt = g["level_rank"] + 1
    g["next_level"] = np.where(nxt <= g["max_rank"], nxt.map(rank_name), None)
    blocking = df[df["blocking_rank"] < 99].merge(
        g[["scorecard", "service", "level_rank"]], on=["scorecard", "service"], suffixes=("", "_svc")
    )
    to_next = (
        blocking[blocking["level_rank"] == blocking["level_rank_svc"] + 1]
        .groupby(["scorecard", "service"])
        .size()
        .rename("checks_to_next_level")
    )
    g = g.merge(to_next, on=["scorecard", "service"], how="left")
    g["checks_to_next_level"] = g["checks_to_next_level"].fillna(0).astype(int)
    g = g.merge(services[["service", "team"]], on="service")
    return g[
        [
            "scorecard",
            "service",
            "team",
            "level",
            "level_rank",
            "score_pct",
            "passed",
            "applicable",
            "failing",
            "unknown",
            "next_level",
            "checks_to_next_level",
        ]
    ]


def _team_scores(scores: pd.DataFrame) -> pd.DataFrame:
    s = scores.assign(level=scores["level"].fillna("none"))
    per_team = s.groupby(["scorecard", "team"]).agg(services=("service", "size"), mean_score_pct=("score_pct", "mean"))
    per_level = s.groupby(["scorecard", "team", "level"]).size().rename("level_services")
    return per_level.reset_index().merge(per_team.reset_index(), on=["scorecard", "team"])


def _check_pass_rates(results: pd.DataFrame, scorecard_checks: pd.DataFrame) -> pd.DataFrame:
    df = results[["team", "check_id", "status"]].merge(scorecard_checks[["scorecard", "check_id"]], on="check_id")
    df["passing"] = df["status"].isin(PASSING)
    df["unknown"] = df["status"] == "unknown"
    df["applicable"] = df["status"] != "not_applicable"
    df["failing"] = df["applicable"] & ~df["passing"] & ~df["unknown"]
    org = df.assign(team="*")
    both = pd.concat([df, org], ignore_index=True)
    counts = ["passing", "failing", "unknown", "applicable"]
    out = both.groupby(["scorecard", "team", "check_id"])[counts].sum().reset_index()
    out["pass_rate"] = out["passing"] / out["applicable"].where(out["applicable"] > 0)
    return out


def _adoption(services: pd.DataFrame, k: int, path_u: np.ndarray, behind0: np.ndarray) -> pd.DataFrame:
    parts = []
    for j, (path, releases) in enumerate(GOLDEN_PATHS.items()):
        on = path_u[:, j] < 0.45 + 0.1 * k + 0.05 * j
        behind = np.clip(behind0[:, j] - k // 2, 0, len(releases) - 1)
        version = np.array(releases, dtype=object)[len(releases) - 1 - behind]
        parts.append(
            pd.DataFrame(
                {
                    "service": services["service"].to_numpy(),
                    "team": services["team"].to_numpy(),
                    "golden_path": path,
                    "on_path": on,
                    "version": np.where(on, version, None),
                    "latest": releases[-1],
                    "releases_behind": pd.array(np.where(on, behind, -1), dtype="Int64"),
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    df.loc[~df["on_path"], "releases_behind"] = pd.NA
    return df


def _workloads(services: pd.DataFrame, k: int) -> pd.DataFrame:
    svc = services[services["type"] == "service"]
    n = len(svc)
    owned = pd.DataFrame(
        {
            "source": "cluster",
            "cluster": "prod-eu",
            "environment": "production",
            "namespace": svc["team"].to_numpy(),
            "kind": "Deployment",
            "name": svc["service"].to_numpy(),
            "service": svc["service"].to_numpy(),
            "join_label": "backstage.io/kubernetes-id",
            "replicas": (np.arange(n) % 3) + 1,
            "containers": (np.arange(n) % 2) + 1,
            "images": "registry.acme.io/" + svc["service"].to_numpy() + ":1." + str(k),
            "repo": None,
            "file": None,
            "also_in": None,
        }
    )
    n_orphans = max(3, len(services) // 100) - (1 if k >= 2 else 0)
    orphans = pd.DataFrame(
        {
            "source": "cluster",
            "cluster": np.where(np.arange(n_orphans) % 2 == 0, "prod-eu", "prod-us"),
            "environment": "production",
            "namespace": "default",
            "kind": np.where(np.arange(n_orphans) % 3 == 2, "CronJob", "Deployment"),
            "name": [f"legacy-worker-{i}" for i in range(n_orphans)],
            "service": None,
            "join_label": None,
            "replicas": 1,
            "containers": 1,
            "images": "registry.acme.io/legacy:latest",
            "repo": None,
            "file": None,
            "also_in": None,
        }
    )
    # Declared in a repo but never seen in a cluster: not an orphan workload.
    declared = orphans.head(1).assign(source="repo", name="declared-only", cluster=None)
    return pd.concat([owned, orphans, declared], ignore_index=True)


def _tier(value: np.ndarray, cuts: tuple[float, float, float], higher_is_better: bool = False) -> np.ndarray:
    """DESIGN "DORA tiers (2023 report)"."""
    e, h, m = cuts
    if higher_is_better:
        return np.select([value >= e, value >= h, value >= m], ["elite", "high", "medium"], "low").astype(object)
    return np.select([value < e, value < h, value < m], ["elite", "high", "medium"], "low").astype(object)


def _dora(services: pd.DataFrame, k: int, rng: np.random.Generator) -> pd.DataFrame:
    n = len(services)
    lead = rng.lognormal(3.0 - 0.2 * k, 1.2, n).round(1)
    freq = rng.gamma(2.0, 0.8 + 0.2 * k, n).round(2)
    cfr = rng.beta(1.5, 12, n).round(3)
    restore = rng.lognormal(2.0, 1.5, n).round(1)
    return pd.DataFrame(
        {
            "service": services["service"].to_numpy(),
            "team": services["team"].to_numpy(),
            "deployments_30d": (freq * 4).round().astype(int),
            "lead_time_p50_hours": lead,
            "lead_time_p90_hours": (lead * 3).round(1),
            "deploy_days_per_week": freq,
            "change_failure_rate": cfr,
            "time_to_restore_hours": restore,
            "incidents_90d": (cfr * 20).round().astype(int),
            "lead_time_tier": _tier(lead, (24, 24 * 7, 24 * 30)),
            "deploy_frequency_tier": _tier(freq, (5, 1, 12 / 52), higher_is_better=True),
            "change_failure_tier": np.select(
                [cfr <= 0.05, cfr <= 0.10, cfr <= 0.15], ["elite", "high", "medium"], "low"
            ).astype(object),
            "restore_tier": _tier(restore, (1, 24, 24 * 7)),
        }
    )


def _at(snapshot: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(snapshot, dt.time(hour), tzinfo=dt.UTC)


def _source_status(snapshot: dt.date) -> pd.DataFrame:
    rows = [
        ("github", "acme", "ok", None, _at(snapshot, 2), 120, _at(snapshot, 2)),
        ("cluster", "prod-eu", "ok", None, _at(snapshot, 2), 340, _at(snapshot, 2)),
        ("cluster", "prod-us", "error", "401 Unauthorized: token expired", _at(snapshot, 2), 0, _at(SNAPSHOTS[0], 2)),
        ("deploy_log", "deploys.jsonl", "ok", None, _at(snapshot, 3), 52, _at(snapshot, 3)),
    ]
    return pd.DataFrame(
        rows, columns=["source", "target", "status", "reason", "crawled_at", "items", "last_success_at"]
    )


def _problems() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("github", "acme/legacy-repo", "catalog-info.yaml", "invalid YAML: mapping values are not allowed here"),
            ("cluster", "prod-us", None, "401 Unauthorized: token expired"),
        ],
        columns=["source", "target", "path", "reason"],
    )


def _run(snapshot: dt.date, status: str, services: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run_id": f"run-{snapshot.isoformat()}",
                "kind": "scheduled",
                "started_at": _at(snapshot, 1),
                "finished_at": _at(snapshot, 4) if status == "complete" else None,
                "status": status,
                "config_file": "scorecard.yaml",
                "services": services,
                "repos": services,
                "message": None if status == "complete" else "cluster crawl timed out",
            }
        ]
    )
