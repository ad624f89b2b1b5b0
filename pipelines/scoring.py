"""Scores: levels and weighted percentages per service, team and organisation.

Set-based in DuckDB over the check results (DESIGN.md "Scoring"):

* a service reaches a level when every check of that level and all lower
  levels passes; ``waived`` (until expiry) and ``warn`` (advisory) count as
  passing, ``not_applicable`` is skipped, ``unknown`` and ``error`` do not pass;
* the weighted percentage is the sum of weights of passing checks over the sum
  of weights of applicable checks.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipelines.config import ScorecardConfig

PASSING = ("pass", "waived", "warn")
NO_LEVEL = "none"


def apply_waivers(results: pd.DataFrame, config: ScorecardConfig, as_of: dt.date) -> pd.DataFrame:
    """Turn not-passing results into `waived` where an unexpired waiver covers them."""
    results = results.copy()
    if "waiver_reason" not in results.columns:
        results["waiver_reason"] = None
    for waiver in config.waivers:
        hit = (results["service"] == waiver.service) & (results["check_id"] == waiver.check)
        if not hit.any():
            continue
        if waiver.expires < as_of:
            results.loc[hit, "waiver_reason"] = f"waiver expired on {waiver.expires.isoformat()}: {waiver.reason}"
            continue
        open_ = hit & ~results["status"].isin(["pass", "not_applicable"])
        results.loc[open_, "status"] = "waived"
        results.loc[hit, "waiver_reason"] = f"{waiver.reason} (until {waiver.expires.isoformat()})"
    return results


def scorecard_checks(config: ScorecardConfig) -> pd.DataFrame:
    rows = []
    for card, checks in config.scorecard_levels().items():
        order = config.level_order(card)
        for check_id, weight, level in checks:
            rows.append(
                {"scorecard": card, "check_id": check_id, "level": level,
                 "level_rank": order.index(level) + 1 if level in order else len(order), "weight": weight}
            )
    return pd.DataFrame(rows, columns=["scorecard", "check_id", "level", "level_rank", "weight"])


def level_names(config: ScorecardConfig) -> pd.DataFrame:
    rows = [{"scorecard": c.name, "level_rank": 0, "level": NO_LEVEL} for c in config.scorecards]
    for card in config.scorecards:
        for rank, name in enumerate(config.level_order(card.name), start=1):
            rows.append({"scorecard": card.name, "level_rank": rank, "level": name})
    return pd.DataFrame(rows)


_SERVICE_SCORES = """
WITH r AS (
    SELECT sc.scorecard, cr.service, cr.team, sc.check_id, sc.level_rank, sc.weight, cr.status,
           cr.status IN ('pass', 'waived', 'warn') AS ok,
           cr.status <> 'not_applicable' AS applicable
    FROM check_results cr JOIN scorecard_checks sc USING (check_id)
),
blocking AS (
    SELECT scorecard, service, min(level_rank) AS first_blocked
    FROM r WHERE applicable AND NOT ok GROUP BY ALL
),
top AS (
    SELECT scorecard, max(level_rank) AS max_rank FROM scorecard_checks GROUP BY ALL
),
per AS (
    SELECT r.scorecard, r.service, any_value(r.team) AS team,
           sum(r.weight) FILTER (WHERE r.applicable AND r.ok) AS w_pass,
           sum(r.weight) FILTER (WHERE r.applicable) AS w_app,
           count(*) FILTER (WHERE r.applicable AND r.ok) AS passed,
           count(*) FILTER (WHERE r.applicable) AS applicable,
           count(*) FILTER (WHERE r.status IN ('fail', 'error')) AS failing,
           count(*) FILTER (WHERE r.status = 'unknown') AS unknown
    FROM r GROUP BY r.scorecard, r.service
),
ranked AS (
    SELECT per.*, coalesce(b.first_blocked - 1, top.max_rank) AS level_rank
    FROM per JOIN top USING (scorecard) LEFT JOIN blocking b USING (scorecard, service)
)
SELECT ranked.scorecard, ranked.service, ranked.team,
       ln.level, ranked.level_rank,
       round(100.0 * coalesce(w_pass, 0) / nullif(w_app, 0), 1) AS score_pct,
       coalesce(passed, 0)::INTEGER AS passed, coalesce(applicable, 0)::INTEGER AS applicable,
       failing::INTEGER AS failing, unknown::INTEGER AS unknown,
       nxt.level AS next_level,
       (SELECT count(*) FROM r WHERE r.scorecard = ranked.scorecard AND r.service = ranked.service
            AND r.applicable AND NOT r.ok AND r.level_rank <= ranked.level_rank + 1)::INTEGER
           AS checks_to_next_level
FROM ranked
JOIN level_names ln ON ln.scorecard = ranked.scorecard AND ln.level_rank = ranked.level_rank
LEFT JOIN level_names nxt ON nxt.scorecard = ranked.scorecard AND nxt.level_rank = ranked.level_rank + 1
ORDER BY ranked.scorecard, ranked.service
"""

_TEAM_SCORES = """
WITH base AS (
    SELECT scorecard, coalesce(team, '(no owner)') AS team, service, level, score_pct FROM service_scores
    UNION ALL
    SELECT scorecard, '*' AS team, service, level, score_pct FROM service_scores
),
totals AS (
    SELECT scorecard, team, count(*) AS services, round(avg(score_pct), 1) AS mean_score_pct
    FROM base GROUP BY ALL
),
levels AS (
    SELECT scorecard, team, level, count(*) AS level_services FROM base GROUP BY ALL
)
SELECT t.scorecard, t.team, t.services::INTEGER AS services, t.mean_score_pct, l.level,
       l.level_services::INTEGER AS level_services
FROM totals t JOIN levels l USING (scorecard, team)
ORDER BY t.scorecard, t.team, l.level
"""

_PASS_RATES = """
WITH r AS (
    SELECT sc.scorecard, coalesce(cr.team, '(no owner)') AS team, cr.check_id, cr.status
    FROM check_results cr JOIN scorecard_checks sc USING (check_id)
),
both_levels AS (
    SELECT * FROM r UNION ALL SELECT scorecard, '*' AS team, check_id, status FROM r
)
SELECT scorecard, team, check_id,
       count(*) FILTER (WHERE status IN ('pass', 'waived', 'warn'))::INTEGER AS passing,
       count(*) FILTER (WHERE status IN ('fail', 'error'))::INTEGER AS failing,
       count(*) FILTER (WHERE status = 'unknown')::INTEGER AS unknown,
       count(*) FILTER (WHERE status <> 'not_applicable')::INTEGER AS applicable,
       round(count(*) FILTER (WHERE status IN ('pass', 'waived', 'warn'))
             / nullif(count(*) FILTER (WHERE status <> 'not_applicable'), 0), 4) AS pass_rate  -- 0..1
FROM both_levels GROUP BY ALL ORDER BY scorecard, team, check_id
"""


def score(results: pd.DataFrame, config: ScorecardConfig) -> dict[str, pd.DataFrame]:
    """service_scores, team_scores (team '*' is the organisation), check_pass_rates, scorecard_checks."""
    cards = scorecard_checks(config)
    con = duckdb.connect()
    try:
        con.register("check_results", results[["service", "team", "check_id", "status"]])
        con.register("scorecard_checks", cards)
        con.register("level_names", level_names(config))
        services = con.execute(_SERVICE_SCORES).df()
        con.register("service_scores", services)
        teams = con.execute(_TEAM_SCORES).df()
        rates = con.execute(_PASS_RATES).df()
    finally:
        con.close()
    return {"service_scores": services, "team_scores": teams, "check_pass_rates": rates, "scorecard_checks": cards}
