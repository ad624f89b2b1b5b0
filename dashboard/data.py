"""Every query the dashboard runs, against the published read-only snapshot.

The dashboard reads only the file ``pipelines.warehouse.publish`` swaps in
atomically, never the warehouse the pipeline writes (DuckDB allows one writer
*or* many readers; a reader on the warehouse would block the next run).

Each query opens its own short-lived read-only connection and closes it before
returning: a long-lived connection would pin the old file after a publish.
Results are cached with a short ttl and a bounded number of entries; the
cache key includes the served file's inode and mtime (:class:`Source`), so a
publish changes every key and one page never mixes two publishes.

All SQL is parameterised (named ``$params``); optional filters are written as
``($team::VARCHAR IS NULL OR team = $team)`` so one statement serves "all" and
"one".
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pandas as pd
import streamlit as st

DEFAULT_SNAPSHOT = "data/serving/scorecard.duckdb"
TTL_SECONDS = 60
MAX_ENTRIES = 128

# Pass rates come from the pipeline's check_pass_rates (pipelines/scoring.py:
# pass, waived and the advisory warn pass; not_applicable is skipped). The
# snapshot comparison is stricter on purpose: a check that starts to warn
# (e.g. one release behind) is worth a line in the weekly review.

_cached = functools.partial(st.cache_data, ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)


class Source(NamedTuple):
    """The served file as of now: path plus (inode, mtime_ns) so a publish,
    which replaces the inode, gives every cached query a new key."""

    path: str
    stamp: tuple[int, int]


def snapshot_path() -> Path:
    return Path(os.environ.get("SCORECARD_SNAPSHOT", DEFAULT_SNAPSHOT))


def current_source() -> Source | None:
    """The published snapshot, or None when nothing has been published yet."""
    path = snapshot_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return Source(str(path.resolve()), (info.st_ino, info.st_mtime_ns))


def clear_cache() -> None:
    st.cache_data.clear()


def _frame(src: Source, sql: str, **params: Any) -> pd.DataFrame:
    # DuckDB shares one open instance per path within a process, so a query
    # that starts while another still holds the pre-publish file reads that
    # file; the short ttl bounds how long such a result is served.
    con = duckdb.connect(src.path, read_only=True)
    try:
        return con.execute(sql, params).df()
    finally:
        con.close()


def _row(src: Source, sql: str, **params: Any) -> dict[str, Any] | None:
    """The first row as plain Python values (a one-row frame would coerce ints to floats)."""
    con = duckdb.connect(src.path, read_only=True)
    try:
        cur = con.execute(sql, params)
        row = cur.fetchone()
        return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))
    finally:
        con.close()


# ------------------------------------------------------------------ overview


@_cached
def overview(src: Source) -> dict[str, Any]:
    """What the sidebar and every page need first: snapshots, meta, filter options."""
    con = duckdb.connect(src.path, read_only=True)
    try:
        # The served file holds only complete snapshots (publish filters on
        # runs.status), so any snapshot in runs is servable.
        snapshots = [r[0] for r in con.execute("SELECT DISTINCT snapshot FROM runs ORDER BY snapshot").fetchall()]
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        latest = snapshots[-1] if snapshots else None
        scorecards = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT scorecard FROM service_scores WHERE snapshot = $s ORDER BY scorecard", {"s": latest}
            ).fetchall()
        ]
        teams = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT team FROM services WHERE snapshot = $s AND team IS NOT NULL ORDER BY team",
                {"s": latest},
            ).fetchall()
        ]
        categories = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT category FROM checks WHERE snapshot = $s AND category IS NOT NULL ORDER BY category",
                {"s": latest},
            ).fetchall()
        ]
        services = con.execute("SELECT count(*) FROM services WHERE snapshot = $s", {"s": latest}).fetchone()[0]
    finally:
        con.close()
    return {
        "snapshots": snapshots,
        "latest": latest,
        "published_at": meta.get("published_at"),
        "schema_version": meta.get("schema_version"),
        "scorecards": scorecards,
        "teams": teams,
        "categories": categories,
        "services": services,
    }


@_cached
def scorecard_levels(src: Source, snapshot: dt.date, scorecard: str) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT level, min(level_rank) AS level_rank, count(*) AS checks
           FROM scorecard_checks WHERE snapshot = $snapshot AND scorecard = $scorecard
           GROUP BY level ORDER BY level_rank""",
        snapshot=snapshot,
        scorecard=scorecard,
    )


# ------------------------------------------------------------------ adoption


@_cached
def golden_path_trend(src: Source, team: str | None) -> pd.DataFrame:
    """Per snapshot and golden path: share of services on it, on its latest
    version, and how many on it are behind latest (the version drift)."""
    return _frame(
        src,
        """SELECT snapshot, golden_path,
                  count(*) AS services,
                  count(*) FILTER (WHERE on_path) AS services_on_path,
                  count(*) FILTER (WHERE on_path AND coalesce(releases_behind = 0, version = latest, false))
                      AS services_on_latest,
                  count(*) FILTER (WHERE on_path AND coalesce(releases_behind > 0, version <> latest, false))
                      AS behind_latest,
                  services_on_path / count(*) AS on_path_share,
                  services_on_latest / count(*) AS on_latest_share
           FROM golden_path_adoption
           WHERE ($team::VARCHAR IS NULL OR team = $team)
           GROUP BY snapshot, golden_path
           ORDER BY snapshot, golden_path""",
        team=team,
    )


@_cached
def version_distribution(src: Source, snapshot: dt.date, team: str | None) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT golden_path,
                  CASE WHEN NOT coalesce(on_path, false) THEN 'not on path'
                       WHEN releases_behind IS NULL THEN 'version unknown'
                       WHEN releases_behind = 0 THEN 'latest'
                       WHEN releases_behind = 1 THEN '1 release behind'
                       ELSE releases_behind || ' releases behind' END AS bucket,
                  CASE WHEN NOT coalesce(on_path, false) THEN 1000
                       WHEN releases_behind IS NULL THEN 999
                       ELSE releases_behind END AS bucket_order,
                  string_agg(DISTINCT version, ', ' ORDER BY version) AS versions,
                  any_value(latest) AS latest,
                  count(*) AS services
           FROM golden_path_adoption
           WHERE snapshot = $snapshot AND ($team::VARCHAR IS NULL OR team = $team)
           GROUP BY ALL
           ORDER BY golden_path, bucket_order""",
        snapshot=snapshot,
        team=team,
    )


@_cached
def services_behind(src: Source, snapshot: dt.date, team: str | None) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT service, team, golden_path, version, latest, releases_behind
           FROM golden_path_adoption
           WHERE snapshot = $snapshot AND on_path AND coalesce(releases_behind > 0, version <> latest, false)
             AND ($team::VARCHAR IS NULL OR team = $team)
           ORDER BY releases_behind DESC NULLS LAST, golden_path, team, service""",
        snapshot=snapshot,
        team=team,
    )


@_cached
def team_lag(src: Source, snapshot: dt.date) -> pd.DataFrame:
    """Per team and path: who lags (off the path or behind its latest release)."""
    return _frame(
        src,
        """SELECT team, golden_path, count(*) AS services,
                  count(*) FILTER (WHERE NOT coalesce(on_path, false)) AS not_on_path,
                  count(*) FILTER (WHERE on_path AND coalesce(releases_behind > 0, version <> latest, false))
                      AS behind_latest,
                  1 - count(*) FILTER (WHERE on_path AND coalesce(releases_behind = 0, version = latest, false))
                      / count(*) AS lagging_share
           FROM golden_path_adoption
           WHERE snapshot = $snapshot
           GROUP BY team, golden_path
           ORDER BY lagging_share DESC, services DESC, team, golden_path""",
        snapshot=snapshot,
    )


@_cached
def level_distribution(src: Source, scorecard: str, team: str | None) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT snapshot, coalesce(level, 'none') AS level, min(level_rank) AS level_rank, count(*) AS services
           FROM service_scores
           WHERE scorecard = $scorecard AND ($team::VARCHAR IS NULL OR team = $team)
           GROUP BY snapshot, coalesce(level, 'none')
           ORDER BY snapshot, level_rank""",
        scorecard=scorecard,
        team=team,
    )


@_cached
def check_pass_rates(
    src: Source, scorecard: str, team: str | None, category: str | None, snapshot: dt.date | None = None
) -> pd.DataFrame:
    """Pass rate per check (and snapshot), with the check's level in the scorecard.

    From the pipeline's ``check_pass_rates`` (team ``'*'`` is the org), so the
    dashboard and the scores never disagree on what counts as passing.
    """
    return _frame(
        src,
        """WITH rates AS (
               SELECT snapshot, check_id, passing, failing, unknown, applicable, pass_rate
               FROM check_pass_rates
               WHERE scorecard = $scorecard AND team = coalesce($team::VARCHAR, '*')
                 AND ($snapshot::DATE IS NULL OR snapshot = $snapshot)
           )
           SELECT r.snapshot, r.check_id, c.title, c.category, sc.level, sc.level_rank, sc.weight,
                  r.passing, r.failing, r.unknown, r.applicable, r.pass_rate
           FROM rates r
           LEFT JOIN checks c ON c.snapshot = r.snapshot AND c.check_id = r.check_id
           LEFT JOIN scorecard_checks sc
                  ON sc.snapshot = r.snapshot AND sc.check_id = r.check_id AND sc.scorecard = $scorecard
           WHERE ($category::VARCHAR IS NULL OR c.category = $category)
           ORDER BY r.snapshot, r.failing DESC, r.check_id""",
        scorecard=scorecard,
        team=team,
        category=category,
        snapshot=snapshot,
    )


@_cached
def orphan_workloads(src: Source) -> pd.DataFrame:
    """Cluster workloads no service claims (DESIGN "Identity"), all snapshots."""
    return _frame(
        src,
        """SELECT snapshot, cluster, environment, namespace, kind, name, replicas, images
           FROM workloads
           WHERE service IS NULL AND source = 'cluster'
           ORDER BY snapshot, environment, cluster, namespace, name""",
    )


@_cached
def orphan_manifests(src: Source, snapshot: dt.date) -> pd.DataFrame:
    """Workloads in repository manifests that join no service of their repository."""
    return _frame(
        src,
        """SELECT repo, file, kind, name, images
           FROM workloads
           WHERE service IS NULL AND source = 'repo' AND snapshot = $snapshot
           ORDER BY repo, file, name""",
        snapshot=snapshot,
    )


@_cached
def source_freshness(src: Source, snapshot: dt.date) -> pd.DataFrame:
    return _frame(
        src,
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


@_cached
def problems(src: Source, snapshot: dt.date) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT source, target, path, reason FROM problems
           WHERE snapshot = $snapshot ORDER BY source, target, path""",
        snapshot=snapshot,
    )


# --------------------------------------------------------------------- teams


@_cached
def team_overview(src: Source, snapshot: dt.date, scorecard: str) -> pd.DataFrame:
    """Per team and level: services at that level and the team's mean score."""
    return _frame(
        src,
        """SELECT team, coalesce(level, 'none') AS level, min(level_rank) AS level_rank, count(*) AS services,
                  sum(sum(score_pct)) OVER (PARTITION BY team) / sum(count(*)) OVER (PARTITION BY team)
                      AS mean_score_pct
           FROM service_scores
           WHERE snapshot = $snapshot AND scorecard = $scorecard
           GROUP BY team, coalesce(level, 'none')
           ORDER BY team, level_rank""",
        snapshot=snapshot,
        scorecard=scorecard,
    )


@_cached
def team_services(src: Source, snapshot: dt.date, scorecard: str, team: str) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT service, coalesce(level, 'none') AS level, level_rank, score_pct, next_level,
                  checks_to_next_level, failing, unknown
           FROM service_scores
           WHERE snapshot = $snapshot AND scorecard = $scorecard AND team = $team
           ORDER BY level_rank, score_pct, service""",
        snapshot=snapshot,
        scorecard=scorecard,
        team=team,
    )


@_cached
def scorecard_check_list(src: Source, snapshot: dt.date, scorecard: str) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT sc.check_id, c.title, c.category, sc.level, sc.level_rank, sc.weight
           FROM scorecard_checks sc
           LEFT JOIN checks c ON c.snapshot = sc.snapshot AND c.check_id = sc.check_id
           WHERE sc.snapshot = $snapshot AND sc.scorecard = $scorecard
           ORDER BY sc.level_rank, sc.weight DESC, sc.check_id""",
        snapshot=snapshot,
        scorecard=scorecard,
    )


@_cached
def team_results(src: Source, snapshot: dt.date, scorecard: str, team: str, category: str | None) -> pd.DataFrame:
    """The team's results for the scorecard's checks, long form (one row per cell)."""
    return _frame(
        src,
        """SELECT r.service, r.check_id, r.status
           FROM check_results r
           JOIN scorecard_checks sc
             ON sc.snapshot = r.snapshot AND sc.check_id = r.check_id AND sc.scorecard = $scorecard
           WHERE r.snapshot = $snapshot AND r.team = $team
             AND ($category::VARCHAR IS NULL OR r.category = $category)""",
        snapshot=snapshot,
        scorecard=scorecard,
        team=team,
        category=category,
    )


@_cached
def score_trend(src: Source, scorecard: str, team: str | None) -> pd.DataFrame:
    """Mean score per snapshot for the org and (when given) one team."""
    return _frame(
        src,
        """SELECT snapshot,
                  avg(score_pct) AS org,
                  avg(score_pct) FILTER (WHERE team = $team) AS team
           FROM service_scores
           WHERE scorecard = $scorecard
           GROUP BY snapshot ORDER BY snapshot""",
        scorecard=scorecard,
        team=team,
    )


# DESIGN "DORA tiers (2023 report)". A month is taken as 30 days; "at least
# once a month" in deploy-days per week is 12/52.
_DORA_TIERS = """
    CASE WHEN lead IS NULL THEN NULL WHEN lead < 24 THEN 'elite' WHEN lead < 24 * 7 THEN 'high'
         WHEN lead < 24 * 30 THEN 'medium' ELSE 'low' END AS lead_time_tier,
    CASE WHEN freq IS NULL THEN NULL WHEN freq >= 5 THEN 'elite' WHEN freq >= 1 THEN 'high'
         WHEN freq >= 12 / 52 THEN 'medium' ELSE 'low' END AS deploy_frequency_tier,
    CASE WHEN cfr IS NULL THEN NULL WHEN cfr <= 0.05 THEN 'elite' WHEN cfr <= 0.10 THEN 'high'
         WHEN cfr <= 0.15 THEN 'medium' ELSE 'low' END AS change_failure_tier,
    CASE WHEN restore IS NULL THEN NULL WHEN restore < 1 THEN 'elite' WHEN restore < 24 THEN 'high'
         WHEN restore < 24 * 7 THEN 'medium' ELSE 'low' END AS restore_tier
"""


@_cached
def dora_summary(src: Source, snapshot: dt.date, team: str | None) -> pd.DataFrame:
    """Medians across the team's (or org's) services, tiered on the median."""
    return _frame(
        src,
        f"""WITH m AS (
               SELECT count(*) AS services,
                      median(lead_time_p50_hours) AS lead,
                      median(deploy_days_per_week) AS freq,
                      median(change_failure_rate) AS cfr,
                      median(time_to_restore_hours) AS restore
               FROM dora
               WHERE snapshot = $snapshot AND ($team::VARCHAR IS NULL OR team = $team)
           )
           SELECT services, lead AS lead_time_p50_hours, freq AS deploy_days_per_week,
                  cfr AS change_failure_rate, restore AS time_to_restore_hours, {_DORA_TIERS}
           FROM m""",
        snapshot=snapshot,
        team=team,
    )


@_cached
def dora_services(src: Source, snapshot: dt.date, team: str | None, service: str | None = None) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT service, team, deployments_30d, lead_time_p50_hours, lead_time_p90_hours,
                  deploy_days_per_week, change_failure_rate, time_to_restore_hours, incidents_90d,
                  lead_time_tier, deploy_frequency_tier, change_failure_tier, restore_tier
           FROM dora
           WHERE snapshot = $snapshot AND ($team::VARCHAR IS NULL OR team = $team)
             AND ($service::VARCHAR IS NULL OR service = $service)
           ORDER BY service""",
        snapshot=snapshot,
        team=team,
        service=service,
    )


@_cached
def next_level_blockers(src: Source, snapshot: dt.date, scorecard: str, team: str | None) -> pd.DataFrame:
    """For each service, the checks of its next level that do not pass yet.

    The next level is the lowest scorecard level ranked above the service's
    current one. A check with no result counts as not passing (DESIGN: missing
    data is unknown, and unknown does not pass).
    """
    return _frame(
        src,
        """WITH levels AS (
               SELECT DISTINCT level, level_rank FROM scorecard_checks
               WHERE snapshot = $snapshot AND scorecard = $scorecard
           ), s AS (
               SELECT ss.service, ss.team, coalesce(ss.level, 'none') AS level, ss.level_rank,
                      min(l.level_rank) AS next_rank
               FROM service_scores ss JOIN levels l ON l.level_rank > ss.level_rank
               WHERE ss.snapshot = $snapshot AND ss.scorecard = $scorecard
                 AND ($team::VARCHAR IS NULL OR ss.team = $team)
               GROUP BY ALL
           )
           SELECT s.service, s.team, s.level, sc.level AS next_level, sc.check_id, c.title, sc.weight,
                  coalesce(r.status, 'unknown') AS status
           FROM s
           JOIN scorecard_checks sc
             ON sc.snapshot = $snapshot AND sc.scorecard = $scorecard AND sc.level_rank = s.next_rank
           LEFT JOIN check_results r ON r.snapshot = $snapshot AND r.service = s.service AND r.check_id = sc.check_id
           LEFT JOIN checks c ON c.snapshot = $snapshot AND c.check_id = sc.check_id
           WHERE coalesce(r.status, 'unknown') NOT IN ('pass', 'waived', 'not_applicable')
           ORDER BY s.service, sc.weight DESC, sc.check_id""",
        snapshot=snapshot,
        scorecard=scorecard,
        team=team,
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


# ------------------------------------------------------------------- service


@_cached
def service_names(src: Source, snapshot: dt.date, team: str | None) -> list[str]:
    df = _frame(
        src,
        """SELECT service FROM services
           WHERE snapshot = $snapshot AND ($team::VARCHAR IS NULL OR team = $team) ORDER BY service""",
        snapshot=snapshot,
        team=team,
    )
    return df["service"].tolist()


@_cached
def service_profile(src: Source, snapshot: dt.date, scorecard: str, service: str) -> dict[str, Any] | None:
    return _row(
        src,
        """SELECT sv.service, sv.team, sv.repo, sv.path, sv.identity_rule, sv.identity_detail, sv.owner_source, sv.codeowners,
                  sv.lifecycle, sv.system, sv.type, sv.repo_error,
                  coalesce(ss.level, 'none') AS level, ss.level_rank, ss.score_pct, ss.passed, ss.applicable,
                  ss.failing, ss.unknown, ss.next_level, ss.checks_to_next_level
           FROM services sv
           LEFT JOIN service_scores ss
                  ON ss.snapshot = sv.snapshot AND ss.service = sv.service AND ss.scorecard = $scorecard
           WHERE sv.snapshot = $snapshot AND sv.service = $service""",
        snapshot=snapshot,
        scorecard=scorecard,
        service=service,
    )


@_cached
def service_trend(src: Source, scorecard: str, service: str) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT snapshot, coalesce(level, 'none') AS level, level_rank, score_pct
           FROM service_scores WHERE scorecard = $scorecard AND service = $service ORDER BY snapshot""",
        scorecard=scorecard,
        service=service,
    )


@_cached
def service_checks(src: Source, snapshot: dt.date, scorecard: str, service: str) -> pd.DataFrame:
    """Every result of the service, ordered by what unlocks the next level.

    ``unlock`` is 0 for a not-passing check of the next level, 1 for one of a
    higher level, 2 for one outside the scorecard and 3 for passing or skipped
    checks; within a group, lower levels and heavier weights come first.
    """
    return _frame(
        src,
        """WITH cur AS (
               SELECT level_rank FROM service_scores
               WHERE snapshot = $snapshot AND scorecard = $scorecard AND service = $service
           ), nxt AS (
               SELECT min(sc.level_rank) AS next_rank
               FROM scorecard_checks sc, cur
               WHERE sc.snapshot = $snapshot AND sc.scorecard = $scorecard AND sc.level_rank > cur.level_rank
           )
           SELECT r.check_id, c.title, r.category, r.status, r.detail, r.remediation, r.snippet, r.waiver_reason,
                  c.rationale, c.doc_url, sc.level, sc.level_rank, sc.weight,
                  CASE WHEN r.status IN ('pass', 'waived', 'not_applicable') THEN 3
                       WHEN sc.level_rank IS NULL THEN 2
                       WHEN sc.level_rank = nxt.next_rank THEN 0
                       ELSE 1 END AS unlock
           FROM check_results r
           CROSS JOIN nxt
           LEFT JOIN checks c ON c.snapshot = r.snapshot AND c.check_id = r.check_id
           LEFT JOIN scorecard_checks sc
                  ON sc.snapshot = r.snapshot AND sc.check_id = r.check_id AND sc.scorecard = $scorecard
           WHERE r.snapshot = $snapshot AND r.service = $service
           ORDER BY unlock, sc.level_rank NULLS LAST, sc.weight DESC NULLS LAST, r.check_id""",
        snapshot=snapshot,
        scorecard=scorecard,
        service=service,
    )


# -------------------------------------------------------------------- checks


@_cached
def check_catalogue(src: Source, snapshot: dt.date, scorecard: str) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT c.check_id, c.title, c.category, coalesce(sc.level, c.level) AS level,
                  sc.level_rank, coalesce(sc.weight, c.weight) AS weight, sc.check_id IS NOT NULL AS in_scorecard,
                  c.rationale, c.remediation, c.doc_url
           FROM checks c
           LEFT JOIN scorecard_checks sc
                  ON sc.snapshot = c.snapshot AND sc.check_id = c.check_id AND sc.scorecard = $scorecard
           WHERE c.snapshot = $snapshot
           ORDER BY sc.level_rank NULLS LAST, c.category, c.check_id""",
        snapshot=snapshot,
        scorecard=scorecard,
    )


@_cached
def failing_services(src: Source, snapshot: dt.date, scorecard: str, check_id: str, team: str | None) -> pd.DataFrame:
    return _frame(
        src,
        """SELECT r.service, r.team, r.status, r.detail, coalesce(ss.level, 'none') AS level, ss.score_pct
           FROM check_results r
           LEFT JOIN service_scores ss
                  ON ss.snapshot = r.snapshot AND ss.service = r.service AND ss.scorecard = $scorecard
           WHERE r.snapshot = $snapshot AND r.check_id = $check_id
             AND r.status NOT IN ('pass', 'waived', 'not_applicable')
             AND ($team::VARCHAR IS NULL OR r.team = $team)
           ORDER BY CASE r.status WHEN 'fail' THEN 0 WHEN 'error' THEN 1 WHEN 'warn' THEN 2 ELSE 3 END,
                    r.team, r.service""",
        snapshot=snapshot,
        scorecard=scorecard,
        check_id=check_id,
        team=team,
    )


# ------------------------------------------------------------------- compare


@_cached
def compare_summary(src: Source, scorecard: str, before: dt.date, after: dt.date, team: str | None) -> dict[str, Any]:
    return _row(
        src,
        """WITH a AS (SELECT * FROM service_scores WHERE snapshot = $before AND scorecard = $scorecard
                        AND ($team::VARCHAR IS NULL OR team = $team)),
                b AS (SELECT * FROM service_scores WHERE snapshot = $after AND scorecard = $scorecard
                        AND ($team::VARCHAR IS NULL OR team = $team))
           SELECT (SELECT count(*) FROM a) AS services_before,
                  (SELECT count(*) FROM b) AS services_after,
                  (SELECT avg(score_pct) FROM a) AS mean_score_before,
                  (SELECT avg(score_pct) FROM b) AS mean_score_after,
                  (SELECT count(*) FROM a JOIN b USING (service) WHERE b.level_rank > a.level_rank) AS moved_up,
                  (SELECT count(*) FROM a JOIN b USING (service) WHERE b.level_rank < a.level_rank) AS moved_down""",
        scorecard=scorecard,
        before=before,
        after=after,
        team=team,
    )


@_cached
def level_moves(src: Source, scorecard: str, before: dt.date, after: dt.date, team: str | None) -> pd.DataFrame:
    """Services whose level changed between two snapshots (and ones that appeared or left)."""
    return _frame(
        src,
        """WITH a AS (SELECT * FROM service_scores WHERE snapshot = $before AND scorecard = $scorecard),
                b AS (SELECT * FROM service_scores WHERE snapshot = $after AND scorecard = $scorecard)
           SELECT coalesce(b.service, a.service) AS service, coalesce(b.team, a.team) AS team,
                  CASE WHEN a.service IS NULL THEN 'new'
                       WHEN b.service IS NULL THEN 'gone'
                       WHEN b.level_rank > a.level_rank THEN 'up' ELSE 'down' END AS movement,
                  coalesce(a.level, 'none') AS level_before, coalesce(b.level, 'none') AS level_after,
                  a.score_pct AS score_before, b.score_pct AS score_after
           FROM a FULL JOIN b ON a.service = b.service
           WHERE a.level_rank IS DISTINCT FROM b.level_rank
             AND ($team::VARCHAR IS NULL OR coalesce(b.team, a.team) = $team)
           ORDER BY CASE movement WHEN 'down' THEN 0 WHEN 'up' THEN 1 WHEN 'new' THEN 2 ELSE 3 END,
                    team, service""",
        scorecard=scorecard,
        before=before,
        after=after,
        team=team,
    )


@_cached
def check_changes(
    src: Source, before: dt.date, after: dt.date, team: str | None, category: str | None
) -> pd.DataFrame:
    """Results that flipped between passing and failing from one snapshot to the other."""
    return _frame(
        src,
        """SELECT b.service, b.team, b.check_id, b.category,
                  CASE WHEN a.status IN ('pass', 'waived') THEN 'regressed' ELSE 'improved' END AS change,
                  a.status AS status_before, b.status AS status_after, b.detail
           FROM check_results a
           JOIN check_results b ON b.service = a.service AND b.check_id = a.check_id
           WHERE a.snapshot = $before AND b.snapshot = $after
             AND ((a.status IN ('pass', 'waived') AND b.status IN ('fail', 'warn', 'error'))
               OR (a.status IN ('fail', 'warn', 'error') AND b.status IN ('pass', 'waived')))
             AND ($team::VARCHAR IS NULL OR b.team = $team)
             AND ($category::VARCHAR IS NULL OR b.category = $category)
           ORDER BY change DESC, b.check_id, b.team, b.service""",
        before=before,
        after=after,
        team=team,
        category=category,
    )
