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
from typing import TYPE_CHECKING

import duckdb

from checks import policy
from checks.catalogue import CATALOGUE
from checks.model import Status

if TYPE_CHECKING:  # pandas costs a second of start-up: `scorecard gate` scores without it (score_rows)
    import pandas as pd

    from pipelines.config import ScorecardConfig, Waiver

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
        open_ = hit & results["status"].map(lambda status, w=waiver: waiver_covers(w, status, as_of))
        results.loc[open_, "status"] = "waived"
        results.loc[hit, "waiver_reason"] = waiver_reason(waiver, as_of)
    return results


_STRICT = policy.Policy(warn_passes=False)


def waiver_covers(waiver: Waiver, status: str, as_of: dt.date) -> bool:
    """Whether an unexpired waiver turns this result into `waived`: whatever would
    block under the strictest reading (a warn too)."""
    return waiver.expires >= as_of and _STRICT.blocks(status)


def waiver_reason(waiver: Waiver, as_of: dt.date) -> str:
    if waiver.expires < as_of:
        return f"waiver expired on {waiver.expires.isoformat()}: {waiver.reason}"
    return f"{waiver.reason} (until {waiver.expires.isoformat()})"


# The tables the scoring SQL reads besides the results, as (column, DuckDB type):
# built as plain rows once (`_*_rows`), then handed to DuckDB as pandas frames by
# `score` and as typed tables by `score_rows`, so both run the same SQL on the same rows.
_STATUS_MEANINGS = (("scorecard", "VARCHAR"), ("status", "VARCHAR"), ("counts_as_pass", "BOOLEAN"),
                    ("applicable", "BOOLEAN"), ("status_group", "VARCHAR"))
_SCORECARD_CHECKS = (("scorecard", "VARCHAR"), ("check_id", "VARCHAR"), ("level", "VARCHAR"),
                     ("level_rank", "BIGINT"), ("weight", "BIGINT"))
_LEVEL_NAMES = (("scorecard", "VARCHAR"), ("level_rank", "BIGINT"), ("level", "VARCHAR"))
_CHECK_RESULTS = (("service", "VARCHAR"), ("team", "VARCHAR"), ("check_id", "VARCHAR"), ("status", "VARCHAR"),
                  ("category", "VARCHAR"))


def _status_meaning_rows(config: ScorecardConfig) -> list[dict]:
    rows = []
    for card in config.scorecards:
        rules = card.policy()
        for status in Status:
            rows.append({"scorecard": card.name, "status": status.value, "counts_as_pass": rules.counts_as_pass(status),
                         "applicable": rules.applicable(status), "status_group": rules.group(status)})
    return rows


def _scorecard_check_rows(config: ScorecardConfig) -> list[dict]:
    rows = []
    for card, checks in config.scorecard_levels().items():
        order = config.level_order(card)
        for check_id, weight, level in checks:
            rows.append(
                {"scorecard": card, "check_id": check_id, "level": level,
                 "level_rank": order.index(level) + 1 if level in order else len(order), "weight": weight}
            )
    return rows


def _level_name_rows(config: ScorecardConfig) -> list[dict]:
    rows = [{"scorecard": c.name, "level_rank": 0, "level": NO_LEVEL} for c in config.scorecards]
    for card in config.scorecards:
        for rank, name in enumerate(config.level_order(card.name), start=1):
            rows.append({"scorecard": card.name, "level_rank": rank, "level": name})
    return rows


def _frame(rows: list[dict], columns: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=[name for name, _ in columns])


def status_meanings(config: ScorecardConfig) -> pd.DataFrame:
    """Per scorecard and status: counts as pass, applicable, group (checks/policy.py)."""
    return _frame(_status_meaning_rows(config), _STATUS_MEANINGS)


def scorecard_checks(config: ScorecardConfig) -> pd.DataFrame:
    return _frame(_scorecard_check_rows(config), _SCORECARD_CHECKS)


def level_names(config: ScorecardConfig) -> pd.DataFrame:
    return _frame(_level_name_rows(config), _LEVEL_NAMES)


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


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[tuple[str, str], ...], rows: list[dict]) -> None:
    # One statement, a typed list per column zipped by unnest: executemany costs
    # DuckDB a statement per row (0.8 s for a monorepo's 600 results).
    select = ", ".join(f"unnest(?::{t}[]) AS {c}" for c, t in columns)  # names and types are ours
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT {select}", [[row[c] for row in rows] for c, _ in columns])


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def score_rows(results: list[dict], config: ScorecardConfig) -> tuple[list[dict], list[dict]]:
    """(service_scores, scorecard_results) as lists of dicts, by the same SQL as :func:`score`.

    For `scorecard gate`, which scores one checkout in a CI job: pandas would
    cost it more start-up time than the whole crawl, and a few hundred rows
    need no frame. ``results``: dicts with service, team, check_id, status.
    """
    con = duckdb.connect()
    try:
        rows = [{**r, "category": CATALOGUE[r["check_id"]].category if r["check_id"] in CATALOGUE else None}
                for r in results]
        _table(con, "check_results", _CHECK_RESULTS, rows)
        _table(con, "scorecard_checks", _SCORECARD_CHECKS, _scorecard_check_rows(config))
        _table(con, "status_meanings", _STATUS_MEANINGS, _status_meaning_rows(config))
        _table(con, "level_names", _LEVEL_NAMES, _level_name_rows(config))
        con.execute(f"CREATE TEMP TABLE results AS {_SCORECARD_RESULTS}")
        con.execute(f"CREATE TEMP TABLE service_scores AS {_SERVICE_SCORES}")
        services = _dicts(con.execute("SELECT * FROM service_scores ORDER BY scorecard, service"))
        scorecard_results = _dicts(con.execute(_BLOCKS_NEXT))
    finally:
        con.close()
    return services, scorecard_results
