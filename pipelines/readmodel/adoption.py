"""The Adoption page: golden paths, levels over time, orphans and data freshness."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.readmodel.base import frame


def golden_path_trend(path: str, team: str | None) -> pd.DataFrame:
    """Per snapshot and golden path: services on it and on its latest release, as published
    (shares over the services whose adoption is known; unknown apart)."""
    return frame(
        path,
        """SELECT snapshot, golden_path, services, adopted AS services_on_path, not_adopted, unknown,
                  on_latest AS services_on_latest, behind_latest,
                  adoption_share AS on_path_share, on_latest_share
           FROM adoption_summary
           WHERE team = coalesce($team::VARCHAR, '*')
           ORDER BY snapshot, golden_path""",
        team=team,
    )


def version_distribution(path: str, snapshot: dt.date, team: str | None) -> pd.DataFrame:
    return frame(
        path,
        """SELECT golden_path,
                  CASE WHEN adoption = 'unknown' THEN 'adoption unknown'
                       WHEN adoption = 'not_adopted' THEN 'not on path'
                       WHEN releases_behind IS NULL THEN 'version unknown'
                       WHEN releases_behind = 0 THEN 'latest'
                       WHEN releases_behind = 1 THEN '1 release behind'
                       ELSE releases_behind || ' releases behind' END AS bucket,
                  CASE WHEN adoption = 'unknown' THEN 1001
                       WHEN adoption = 'not_adopted' THEN 1000
                       WHEN releases_behind IS NULL THEN 999
                       ELSE releases_behind END AS bucket_order,
                  string_agg(DISTINCT version, ', ' ORDER BY version) AS versions,
                  any_value(latest) AS latest,
                  count(*) AS services
           FROM golden_path_adoption
           WHERE snapshot = $snapshot AND ($team::VARCHAR IS NULL OR team = $team)
           GROUP BY ALL
           ORDER BY golden_path, bucket_order""",
        snapshot=snapshot, team=team,
    )


def services_behind(path: str, snapshot: dt.date, team: str | None) -> pd.DataFrame:
    return frame(
        path,
        """SELECT service, team, golden_path, version, latest, releases_behind
           FROM golden_path_adoption
           WHERE snapshot = $snapshot AND adoption = 'adopted'
             AND coalesce(releases_behind > 0, version <> latest, false)
             AND ($team::VARCHAR IS NULL OR team = $team)
           ORDER BY releases_behind DESC NULLS LAST, golden_path, team, service""",
        snapshot=snapshot, team=team,
    )


def team_lag(path: str, snapshot: dt.date) -> pd.DataFrame:
    """Per team and path: who lags (off the path or behind its latest release), among known services."""
    return frame(
        path,
        """SELECT team, golden_path, services, not_adopted AS not_on_path, behind_latest, unknown,
                  1 - on_latest_share AS lagging_share
           FROM adoption_summary
           WHERE snapshot = $snapshot AND team <> '*' AND on_latest_share IS NOT NULL
           ORDER BY lagging_share DESC, services DESC, team, golden_path""",
        snapshot=snapshot,
    )


def level_distribution(path: str, scorecard: str, team: str | None) -> pd.DataFrame:
    return frame(
        path,
        """SELECT snapshot, coalesce(level, 'none') AS level, min(level_rank) AS level_rank, count(*) AS services
           FROM service_scores
           WHERE scorecard = $scorecard AND ($team::VARCHAR IS NULL OR team = $team)
           GROUP BY snapshot, coalesce(level, 'none')
           ORDER BY snapshot, level_rank""",
        scorecard=scorecard, team=team,
    )


def orphan_workloads(path: str) -> pd.DataFrame:
    """Cluster workloads no service claims (DESIGN "Identity"), all snapshots."""
    return frame(
        path,
        """SELECT snapshot, cluster, environment, namespace, kind, name, replicas, images
           FROM workloads
           WHERE service IS NULL AND source = 'cluster'
           ORDER BY snapshot, environment, cluster, namespace, name""",
    )


def orphan_manifests(path: str, snapshot: dt.date) -> pd.DataFrame:
    """Workloads in repository manifests that join no service of their repository."""
    return frame(
        path,
        """SELECT repo, file, kind, name, images
           FROM workloads
           WHERE service IS NULL AND source = 'repo' AND snapshot = $snapshot
           ORDER BY repo, file, name""",
        snapshot=snapshot,
    )


def source_freshness(path: str, snapshot: dt.date) -> pd.DataFrame:
    return frame(
        path,
        """WITH p AS (
               SELECT source, count(*) AS problems FROM problems WHERE snapshot = $snapshot GROUP BY source
           )
           SELECT s.source,
                  count(*) AS targets,
                  count(*) FILTER (WHERE lower(s.status) NOT IN ('ok', 'success', 'complete')) AS targets_with_errors,
                  max(s.last_success_at) AS last_success_at,
                  min(s.last_success_at) AS stalest_target_success_at,
                  max(s.crawled_at) AS crawled_at,
                  coalesce(any_value(p.problems), 0) AS problems,
                  string_agg(s.target || ': ' || coalesce(s.reason, s.status), '; ')
                      FILTER (WHERE lower(s.status) NOT IN ('ok', 'success', 'complete')) AS errors
           FROM source_status s LEFT JOIN p USING (source)
           WHERE s.snapshot = $snapshot
           GROUP BY s.source
           ORDER BY targets_with_errors DESC, s.source""",
        snapshot=snapshot,
    )


def problems(path: str, snapshot: dt.date) -> pd.DataFrame:
    return frame(
        path,
        """SELECT source, target, path, reason FROM problems
           WHERE snapshot = $snapshot ORDER BY source, target, path""",
        snapshot=snapshot,
    )
