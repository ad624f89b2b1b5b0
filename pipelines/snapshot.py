"""The tables of one dated snapshot, as the warehouse stores them.

`warehouse_snapshot` (pipelines/assets.py) stages what :func:`snapshot_frames`
returns. The dashboard's test fixture and the 10,000-service benchmark build
their snapshots with the same function, so what they serve cannot drift from
what a run publishes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import frames, rules, stages
from pipelines.config import ScorecardConfig
from pipelines.platform_requests import RequestResult

SOURCE_STATUS_COLUMNS = ["source", "target", "status", "reason", "crawled_at", "items", "last_success_at"]


def snapshot_frames(
    config: ScorecardConfig,
    as_of: dt.date,
    config_path: Path,
    *,
    repo_crawl: stages.RepoCrawlResult,
    cluster_crawl: list | None,
    gitops_crawls: list | None = None,  # Argo CD API servers (pipelines.sources.argocd)
    events: stages.Events,
    registry: tuple[list, list],
    metrics: pd.DataFrame,
    evidence: list,
    results: pd.DataFrame,
    scores: dict[str, pd.DataFrame],
    requests: RequestResult | None = None,
) -> dict[str, pd.DataFrame]:
    """Every snapshot table but `runs`, from what the run's stages produced.

    ``registry`` is (service records, identity problems); ``results`` the
    check results with waivers applied; ``scores`` what `scoring.score` returned;
    ``requests`` the `jira_requests` asset's result for this date.
    """
    records, identity_problems = registry
    ctx = config.check_context(as_of)
    status = list(repo_crawl.source_status) + list(events.status)
    problems = list(repo_crawl.problems) + list(events.problems) + frames.identity_problems(identity_problems)
    if cluster_crawl is not None:
        c_status, c_problems = stages.cluster_status(cluster_crawl)
        status += c_status
        problems += c_problems
    g_status, g_problems = stages.gitops_api_status(gitops_crawls or [])
    status += g_status
    problems += g_problems
    problems += unknown_waivers(config, records, config_path)
    requests = requests or RequestResult()
    status += requests.status
    problems += requests.problems
    adoption = frames.adoption_frame(results, ctx)
    dora = frames.dora_frame(metrics, records)
    return {
        "source_status": pd.DataFrame(status, columns=SOURCE_STATUS_COLUMNS),
        "problems": frames.problems_frame(problems),
        "services": frames.services_frame(records, evidence),
        "workloads": frames.workloads_frame(evidence, cluster_crawl, records, repo_crawl.crawls),
        "golden_path_adoption": adoption,
        "adoption_summary": frames.adoption_summary(adoption),
        "checks": frames.catalogue_frame(config.doc_base_url),
        "check_results": frames.stored_results(results),
        "dora": dora,
        "team_dora": frames.team_dora(dora),
        "rule_sets": rules.rule_sets_frame(config),
        "request_trend": requests.trend,
        **scores,
    }


def config_warnings(frames: dict[str, pd.DataFrame]) -> list[str]:
    """The problems the configuration itself caused (waivers naming no service), for the run log."""
    problems = frames["problems"]
    return problems.loc[problems["source"] == "config", "reason"].tolist()


def unknown_waivers(config: ScorecardConfig, records: list, config_path: Path) -> list[dict]:
    """Waivers naming a service this run did not find: a problem row each (services are only known after the crawl)."""
    known = {r.service for r in records}
    return [
        {"source": "config", "target": f"waivers[{i}]", "path": str(config_path),
         "reason": f"waivers[{i}]: service {w.service!r} (check {w.check}) is not a service of this snapshot; "
                   "the waiver has no effect: fix the name or remove the waiver"}
        for i, w in enumerate(config.waivers) if w.service not in known
    ]


def fill_last_success(con: duckdb.DuckDBPyConnection, status: pd.DataFrame) -> None:
    """A target that failed now keeps the time of its last good crawl, for staleness."""
    if status.empty:
        return
    failed = status["last_success_at"].isna()
    if not failed.any():
        return
    prev = con.execute(
        "SELECT source, target, max(last_success_at) FROM source_status WHERE last_success_at IS NOT NULL GROUP BY ALL"
    ).fetchall()
    last = {(s, t): at for s, t, at in prev}
    filled = [
        at if not pd.isna(at) else last.get((s, t))
        for s, t, at in zip(status["source"], status["target"], status["last_success_at"], strict=True)
    ]
    status["last_success_at"] = pd.to_datetime(pd.Series(filled, index=status.index, dtype=object), utc=True)
