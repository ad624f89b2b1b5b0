"""Scores: levels and weighted percentages per service, team and organisation.

Set-based in DuckDB over the check results, by the rules of checks/policy.py
(DESIGN.md "Scoring"). The meaning of each status under each scorecard is
computed in Python from the policy (`status_meanings`) and joined in, so the
SQL holds no status list of its own; what it derives is published with the
snapshot (`scorecard_results`), so no reader decides it again:

* a service reaches a level when every applicable check of that level and all
  lower levels counts as passing;
* the weighted percentage is the sum of weights of passing checks over the sum
  of weights of applicable checks;
* a check blocks the next level when it is applicable, does not pass, and is
  of the level right above the service's.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from checks import policy
from checks.catalogue import CATALOGUE
from checks.model import Status
from pipelines.config import ScorecardConfig

NO_LEVEL = policy.NO_LEVEL


def apply_waivers(results: pd.DataFrame, config: ScorecardConfig, as_of: dt.date) -> pd.DataFrame:
    """Turn not-passing results into `waived` where an unexpired waiver covers them."""
    results = results.copy()
    if "waiver_reason" not in results.columns:
        results["waiver_reason"] = None
    # When the waiver covering a result ends (or ended): the snapshot comparison tells
    # "the waiver expired" from "the service regressed" by it (readmodel/compare.py).
    results["waiver_expires"] = None
    for waiver in config.waivers:
        hit = (results["service"] == waiver.service) & (results["check_id"] == waiver.check)
        if not hit.any():
            continue
        results.loc[hit, "waiver_expires"] = waiver.expires
        if waiver.expires < as_of:
            results.loc[hit, "waiver_reason"] = f"waiver expired on {waiver.expires.isoformat()}: {waiver.reason}"
            continue
        # A waiver covers whatever would block under the strictest reading (a warn too).
        open_ = hit & results["status"].map(_STRICT.blocks)
        results.loc[open_, "status"] = "waived"
        results.loc[hit, "waiver_reason"] = f"{waiver.reason} (until {waiver.expires.isoformat()})"
    return results


_STRICT = policy.Policy(warn_passes=False)


def status_meanings(config: ScorecardConfig) -> pd.DataFrame:
    """Per scorecard and status: counts as pass, applicable, group (checks/policy.py)."""
    rows = []
    for card in config.scorecards:
        rules = card.policy()
        for status in Status:
            rows.append({"scorecard": card.name, "status": status.value, "counts_as_pass": rules.counts_as_pass(status),
                         "applicable": rules.applicable(status), "status_group": rules.group(status)})
    return pd.DataFrame(rows, columns=["scorecard", "status", "counts_as_pass", "applicable", "status_group"])


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


_SCORECARD_RESULTS = """
SELECT sc.scorecard, cr.service, cr.team, cr.check_id, cr.category, sc.level, sc.level_rank, sc.weight, cr.status,
       m.counts_as_pass, m.applicable, m.status_group
FROM check_results cr
JOIN scorecard_checks sc USING (check_id)
JOIN status_meanings m ON m.scorecard = sc.scorecard AND m.status = cr.status
"""

_SERVICE_SCORES = """
WITH blocking AS (
    SELECT scorecard, service, min(level_rank) AS first_blocked
    FROM results WHERE applicable AND NOT counts_as_pass GROUP BY ALL
),
top AS (
    SELECT scorecard, max(level_rank) AS max_rank FROM scorecard_checks GROUP BY ALL
),
per AS (
    SELECT scorecard, service, any_value(team) AS team,
           sum(weight) FILTER (WHERE applicable AND counts_as_pass) AS w_pass,
           sum(weight) FILTER (WHERE applicable) AS w_app,
           count(*) FILTER (WHERE applicable AND counts_as_pass) AS passed,
           count(*) FILTER (WHERE applicable) AS applicable,
           count(*) FILTER (WHERE status_group = 'failing') AS failing,
           count(*) FILTER (WHERE status_group = 'unknown') AS unknown
    FROM results GROUP BY scorecard, service
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
       (SELECT count(*) FROM results r WHERE r.scorecard = ranked.scorecard AND r.service = ranked.service
            AND r.applicable AND NOT r.counts_as_pass AND r.level_rank = ranked.level_rank + 1)::INTEGER
           AS checks_to_next_level
FROM ranked
JOIN level_names ln ON ln.scorecard = ranked.scorecard AND ln.level_rank = ranked.level_rank
LEFT JOIN level_names nxt ON nxt.scorecard = ranked.scorecard AND nxt.level_rank = ranked.level_rank + 1
ORDER BY ranked.scorecard, ranked.service
"""

_BLOCKS_NEXT = """
SELECT r.*, (r.applicable AND NOT r.counts_as_pass AND r.level_rank = s.level_rank + 1) AS blocks_next_level
FROM results r JOIN service_scores s USING (scorecard, service)
ORDER BY r.scorecard, r.service, r.level_rank, r.check_id
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
WITH both_levels AS (
    SELECT scorecard, coalesce(team, '(no owner)') AS team, check_id, status_group, applicable FROM results
    UNION ALL
    SELECT scorecard, '*' AS team, check_id, status_group, applicable FROM results
)
SELECT scorecard, team, check_id,
       count(*) FILTER (WHERE status_group = 'passing')::INTEGER AS passing,
       count(*) FILTER (WHERE status_group = 'failing')::INTEGER AS failing,
       count(*) FILTER (WHERE status_group = 'unknown')::INTEGER AS unknown,
       count(*) FILTER (WHERE applicable)::INTEGER AS applicable,
       round(count(*) FILTER (WHERE status_group = 'passing') / nullif(count(*) FILTER (WHERE applicable), 0), 4)
           AS pass_rate  -- 0..1
FROM both_levels GROUP BY ALL ORDER BY scorecard, team, check_id
"""


def score(results: pd.DataFrame, config: ScorecardConfig) -> dict[str, pd.DataFrame]:
    """service_scores, scorecard_results, team_scores (team '*' is the organisation),
    check_pass_rates and scorecard_checks."""
    cards = scorecard_checks(config)
    con = duckdb.connect()
    try:
        frame = results[["service", "team", "check_id", "status"]].copy()
        frame["category"] = frame["check_id"].map(lambda c: CATALOGUE[c].category if c in CATALOGUE else None)
        con.register("check_results", frame)
        con.register("scorecard_checks", cards)
        con.register("status_meanings", status_meanings(config))
        con.register("level_names", level_names(config))
        con.register("results", con.execute(_SCORECARD_RESULTS).df())
        services = con.execute(_SERVICE_SCORES).df()
        con.register("service_scores", services)
        scorecard_results = con.execute(_BLOCKS_NEXT).df()
        teams = con.execute(_TEAM_SCORES).df()
        rates = con.execute(_PASS_RATES).df()
    finally:
        con.close()
    return {"service_scores": services, "scorecard_results": scorecard_results, "team_scores": teams,
            "check_pass_rates": rates, "scorecard_checks": cards}
