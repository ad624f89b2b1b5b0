"""The Teams page: a team's scorecard, its DORA tiers, and what would lift it a level."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.readmodel.base import frame


def team_overview(path: str, snapshot: dt.date, scorecard: str) -> pd.DataFrame:
    """Per team and level: services at that level and the team's mean score."""
    return frame(
        path,
        """SELECT team, coalesce(level, 'none') AS level, min(level_rank) AS level_rank, count(*) AS services,
                  sum(sum(score_pct)) OVER (PARTITION BY team) / sum(count(*)) OVER (PARTITION BY team)
                      AS mean_score_pct
           FROM service_scores
           WHERE snapshot = $snapshot AND scorecard = $scorecard
           GROUP BY team, coalesce(level, 'none')
           ORDER BY team, level_rank""",
        snapshot=snapshot, scorecard=scorecard,
    )


def team_services(path: str, snapshot: dt.date, scorecard: str, team: str) -> pd.DataFrame:
    return frame(
        path,
        """SELECT service, coalesce(level, 'none') AS level, level_rank, score_pct, next_level,
                  checks_to_next_level, failing, unknown
           FROM service_scores
           WHERE snapshot = $snapshot AND scorecard = $scorecard AND team = $team
           ORDER BY level_rank, score_pct, service""",
        snapshot=snapshot, scorecard=scorecard, team=team,
    )


def scorecard_check_list(path: str, snapshot: dt.date, scorecard: str) -> pd.DataFrame:
    return frame(
        path,
        """SELECT sc.check_id, c.title, c.category, sc.level, sc.level_rank, sc.weight
           FROM scorecard_checks sc
           LEFT JOIN checks c ON c.snapshot = sc.snapshot AND c.check_id = sc.check_id
           WHERE sc.snapshot = $snapshot AND sc.scorecard = $scorecard
           ORDER BY sc.level_rank, sc.weight DESC, sc.check_id""",
        snapshot=snapshot, scorecard=scorecard,
    )


def team_results(path: str, snapshot: dt.date, scorecard: str, team: str, category: str | None) -> pd.DataFrame:
    """The team's results for the scorecard's checks, long form (one row per cell), with their meaning."""
    return frame(
        path,
        """SELECT service, check_id, status, counts_as_pass, blocks_next_level
           FROM scorecard_results
           WHERE snapshot = $snapshot AND scorecard = $scorecard AND team = $team
             AND ($category::VARCHAR IS NULL OR category = $category)""",
        snapshot=snapshot, scorecard=scorecard, team=team, category=category,
    )


def score_trend(path: str, scorecard: str, team: str | None) -> pd.DataFrame:
    """Mean score per snapshot for the org and (when given) one team."""
    return frame(
        path,
        """SELECT snapshot,
                  avg(score_pct) AS org,
                  avg(score_pct) FILTER (WHERE team = $team) AS team
           FROM service_scores
           WHERE scorecard = $scorecard
           GROUP BY snapshot ORDER BY snapshot""",
        scorecard=scorecard, team=team,
    )


def dora_summary(path: str, snapshot: dt.date, team: str | None) -> pd.DataFrame:
    """The team's (or the organisation's) medians and their tiers, as the pipeline published them."""
    return frame(
        path,
        """SELECT services, lead_time_p50_hours, deploy_days_per_week, change_failure_rate, time_to_restore_hours,
                  lead_time_tier, deploy_frequency_tier, change_failure_tier, restore_tier
           FROM team_dora WHERE snapshot = $snapshot AND team = coalesce($team::VARCHAR, '*')""",
        snapshot=snapshot, team=team,
    )


def dora_services(path: str, snapshot: dt.date, team: str | None, service: str | None = None) -> pd.DataFrame:
    return frame(
        path,
        """SELECT service, team, deployments_30d, lead_time_p50_hours, lead_time_p90_hours,
                  deploy_days_per_week, change_failure_rate, time_to_restore_hours, incidents_90d,
                  lead_time_tier, deploy_frequency_tier, change_failure_tier, restore_tier
           FROM dora
           WHERE snapshot = $snapshot AND ($team::VARCHAR IS NULL OR team = $team)
             AND ($service::VARCHAR IS NULL OR service = $service)
           ORDER BY service""",
        snapshot=snapshot, team=team, service=service,
    )


def next_level_blockers(path: str, snapshot: dt.date, scorecard: str, team: str | None) -> pd.DataFrame:
    """For each service, the checks that keep it from its next level (as published: `blocks_next_level`)."""
    return frame(
        path,
        """SELECT r.service, r.team, coalesce(ss.level, 'none') AS level, ss.next_level, r.check_id, c.title,
                  r.weight, r.status
           FROM scorecard_results r
           JOIN service_scores ss USING (snapshot, scorecard, service)
           LEFT JOIN checks c ON c.snapshot = r.snapshot AND c.check_id = r.check_id
           WHERE r.snapshot = $snapshot AND r.scorecard = $scorecard AND r.blocks_next_level
             AND ($team::VARCHAR IS NULL OR r.team = $team)
           ORDER BY r.service, r.weight DESC, r.check_id""",
        snapshot=snapshot, scorecard=scorecard, team=team,
    )


def rank_blockers(blockers: pd.DataFrame) -> pd.DataFrame:
    """Checks ranked by how many services they keep from their next level.

    ``services_lifted`` is cumulative: a service moves up once every one of its
    blockers is fixed, so it counts at the rank of its lowest-ranked blocker.
    Reading down the list answers "fix these k checks, lift that many services".
    """
    cols = ["rank", "check_id", "services_blocked", "services_lifted", "title"]
    if blockers.empty:
        return pd.DataFrame(columns=cols)
    per_check = (
        blockers.groupby("check_id")
        .agg(title=("title", "first"), services_blocked=("service", "nunique"), weight=("weight", "max"))
        .reset_index()
        .sort_values(["services_blocked", "weight", "check_id"], ascending=[False, False, True])
    )
    per_check["rank"] = range(1, len(per_check) + 1)
    ranked = blockers.merge(per_check[["check_id", "rank"]], on="check_id")
    lifted_at = ranked.groupby("service")["rank"].max().value_counts().sort_index()
    per_check["services_lifted"] = per_check["rank"].map(lifted_at).fillna(0).astype(int).cumsum()
    return per_check[cols].reset_index(drop=True)


def close_to_next_level(blockers: pd.DataFrame, max_missing: int = 2) -> pd.DataFrame:
    """Services whose next level needs only ``max_missing`` checks or fewer."""
    cols = ["service", "level", "next_level", "missing", "checks"]
    if blockers.empty:
        return pd.DataFrame(columns=cols)
    g = (
        blockers.groupby(["service", "level", "next_level"])
        .agg(missing=("check_id", "size"), checks=("check_id", lambda s: ", ".join(sorted(s))))
        .reset_index()
    )
    return g[g["missing"] <= max_missing].sort_values(["missing", "service"])[cols].reset_index(drop=True)
