"""The adoption programme's tables: initiatives' progress and the waivers, published with the snapshot.

Computed when the serving file is published (`warehouse.publish(derive=...)`),
set-based in DuckDB over *every* published date with the current
configuration, so an initiative added today shows its past from the
backfilled history. The unit of work is a (service, goal check) pair:

* an initiative's **goal checks** on a date are the checks it lists, or every
  check of its scorecard at or below its target level (the level rule of
  checks/policy.py: a service reaches a level when every applicable check of
  it and of every lower level counts as passing);
* an item is **done** when its published `scorecard_results.counts_as_pass`
  is true in the initiative's scorecard: never decided again here, so
  `warn_passes` and waivers move progress exactly as they move levels;
  `not_applicable` results are no work at all;
* a service is **done** when none of its items remain, **overdue** when some
  remain on a date after the deadline.

Dates on which the goal's scorecard (or level) did not exist yet are left out
rather than read as "nothing to do".

A date's rows depend on that date's published data and the initiatives
alone, so a publish keeps the rows of unchanged dates while the initiatives
(and this module) are as before (:func:`inputs`, `warehouse.derive_dates`)
and computes only the dates it copied again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.config import ScorecardConfig

TABLES = ("initiatives", "initiative_services", "initiative_remaining", "initiative_progress", "waivers")
DATED = ("initiative_services", "initiative_remaining", "initiative_progress")  # keyed by snapshot: kept per date

_DEFS_COLUMNS = ["initiative", "owner", "description", "scorecard", "goal_kind", "goal_level", "goal_checks",
                 "scope", "start", "deadline"]


def definitions(config: ScorecardConfig) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(initiatives, goal checks, scope) as frames: what the config says, nothing computed."""
    defs, checks, scope = [], [], []
    for ini in config.initiatives:
        goal = ini.goal
        defs.append({
            "initiative": ini.name, "owner": ini.owner, "description": ini.description, "scorecard": goal.scorecard,
            "goal_kind": goal.kind, "goal_level": goal.level, "goal_checks": ", ".join(goal.checks or []) or None,
            "scope": ini.scope.describe(), "start": ini.start, "deadline": ini.deadline,
        })
        checks.extend({"initiative": ini.name, "check_id": cid} for cid in goal.checks or [])
        for key, values in ini.scope.model_dump().items():
            scope.extend({"initiative": ini.name, "key": key, "value": v} for v in values)
    return (pd.DataFrame(defs, columns=_DEFS_COLUMNS).astype({"start": "datetime64[s]", "deadline": "datetime64[s]"}),
            pd.DataFrame(checks, columns=["initiative", "check_id"], dtype=object),
            pd.DataFrame(scope, columns=["initiative", "key", "value"], dtype=object))


def waivers_frame(config: ScorecardConfig) -> pd.DataFrame:
    rows = [{"service": w.service, "check_id": w.check, "reason": w.reason, "approver": w.approver,
             "created": w.created, "expires": w.expires} for w in config.waivers]
    return pd.DataFrame(rows, columns=["service", "check_id", "reason", "approver", "created", "expires"])


_DDL = {
    "initiatives": """initiative VARCHAR, owner VARCHAR, description VARCHAR, scorecard VARCHAR,
        goal_kind VARCHAR, goal_level VARCHAR, goal_checks VARCHAR, scope VARCHAR, start DATE, deadline DATE""",
    "waivers": """service VARCHAR, check_id VARCHAR, reason VARCHAR, approver VARCHAR, created DATE,
        expires DATE""",
}

# Per date, the goal checks of each initiative, then its services in scope and their items.
_ITEMS = """
CREATE TEMP TABLE _items AS
WITH target AS (
    SELECT d.initiative, sc.snapshot, max(sc.level_rank) AS level_rank
    FROM initiatives d JOIN scorecard_checks sc ON sc.scorecard = d.scorecard AND sc.level = d.goal_level
    WHERE d.goal_kind = 'level' AND sc.snapshot IN (SELECT snapshot FROM _dates) GROUP BY ALL
),
goal AS (
    SELECT sc.snapshot, d.initiative, sc.check_id
    FROM initiatives d
    JOIN _goal_checks g ON g.initiative = d.initiative
    JOIN scorecard_checks sc ON sc.scorecard = d.scorecard AND sc.check_id = g.check_id
    WHERE sc.snapshot IN (SELECT snapshot FROM _dates)
    UNION ALL
    SELECT sc.snapshot, d.initiative, sc.check_id
    FROM initiatives d
    JOIN target t ON t.initiative = d.initiative
    JOIN scorecard_checks sc ON sc.scorecard = d.scorecard AND sc.snapshot = t.snapshot AND sc.level_rank <= t.level_rank
),
scope AS (
    SELECT initiative,
           coalesce(list(value) FILTER (WHERE key = 'teams'), []) AS teams,
           coalesce(list(value) FILTER (WHERE key = 'lifecycle'), []) AS lifecycle,
           coalesce(list(value) FILTER (WHERE key = 'systems'), []) AS systems,
           coalesce(list(value) FILTER (WHERE key = 'services'), []) AS services
    FROM _scope GROUP BY initiative
),
dated AS (SELECT DISTINCT snapshot, initiative FROM goal),
in_scope AS (
    SELECT s.snapshot, d.initiative, s.service, coalesce(s.team, '(no owner)') AS team
    FROM initiatives d
    JOIN dated USING (initiative)
    JOIN services s ON s.snapshot = dated.snapshot
    LEFT JOIN scope x ON x.initiative = d.initiative
    WHERE (x.initiative IS NULL OR len(x.teams) = 0 OR list_contains(x.teams, s.team))
      AND (x.initiative IS NULL OR len(x.lifecycle) = 0 OR list_contains(x.lifecycle, s.lifecycle))
      AND (x.initiative IS NULL OR len(x.systems) = 0 OR list_contains(x.systems, s.system))
      AND (x.initiative IS NULL OR len(x.services) = 0 OR list_contains(x.services, s.service))
)
SELECT i.snapshot, i.initiative, i.service, i.team, r.check_id, r.status,
       r.counts_as_pass AS done  -- checks/policy.py, as published: never re-decided
FROM in_scope i
JOIN initiatives d ON d.initiative = i.initiative
LEFT JOIN goal g ON g.snapshot = i.snapshot AND g.initiative = i.initiative
LEFT JOIN scorecard_results r
       ON r.snapshot = i.snapshot AND r.scorecard = d.scorecard AND r.service = i.service
      AND r.check_id = g.check_id AND r.applicable
"""

# The dated tables' queries (over the dates in _dates), as "{create} AS SELECT ..." or "{insert} SELECT ...".
_SERVICES = """
SELECT i.snapshot, i.initiative, i.service, i.team,
       count(i.check_id)::INTEGER AS items,
       count(i.check_id) FILTER (WHERE i.done)::INTEGER AS items_done,
       count(i.check_id) FILTER (WHERE NOT i.done)::INTEGER AS items_remaining,
       count(i.check_id) FILTER (WHERE NOT i.done) = 0 AS done,
       count(i.check_id) FILTER (WHERE NOT i.done) > 0 AND i.snapshot > any_value(d.deadline) AS overdue
FROM _items i JOIN initiatives d USING (initiative)
GROUP BY i.snapshot, i.initiative, i.service, i.team
ORDER BY i.initiative, i.snapshot, i.service
"""

_REMAINING = """
SELECT i.snapshot, i.initiative, i.service, i.team, i.check_id, i.status, i.snapshot > d.deadline AS overdue
FROM _items i JOIN initiatives d USING (initiative)
WHERE i.check_id IS NOT NULL AND NOT i.done
ORDER BY i.initiative, i.snapshot, i.team, i.service, i.check_id
"""

# The burn-down: per date, initiative and team ('*' = every team in scope).
_PROGRESS = """
WITH s AS (SELECT * FROM initiative_services WHERE snapshot IN (SELECT snapshot FROM _dates)),
both_levels AS (
    SELECT snapshot, initiative, team, done, overdue, items, items_done, items_remaining FROM s
    UNION ALL
    SELECT snapshot, initiative, '*', done, overdue, items, items_done, items_remaining FROM s
)
SELECT snapshot, initiative, team,
       count(*)::INTEGER AS services,
       count(*) FILTER (WHERE done)::INTEGER AS services_done,
       count(*) FILTER (WHERE NOT done)::INTEGER AS services_remaining,
       count(*) FILTER (WHERE overdue)::INTEGER AS services_overdue,
       sum(items)::INTEGER AS items, sum(items_done)::INTEGER AS items_done,
       sum(items_remaining)::INTEGER AS items_remaining,
       round(count(*) FILTER (WHERE done) / count(*), 4) AS done_share  -- 0..1
FROM both_levels GROUP BY ALL ORDER BY initiative, team, snapshot
"""


def inputs(config: ScorecardConfig) -> dict[str, str]:
    """`warehouse.publish(kept=...)`: the dated tables' inputs besides the published data (the
    initiatives, this module); when they change, every date is derived again."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for frame in definitions(config):
        digest.update(frame.to_json(orient="split", date_format="iso").encode())
    return dict.fromkeys(DATED, digest.hexdigest())


def derive(config: ScorecardConfig):
    """The `warehouse.publish(derive=...)` step adding the programme's tables to the file being published."""
    from pipelines import warehouse

    def add_tables(con: duckdb.DuckDBPyConnection) -> None:
        known = [warehouse.derive_dates(con, name) for name in DATED]
        full = any(dates is None for dates in known)
        if full:  # not kept (all three or none are): every date
            for name in DATED:
                con.execute(f"DROP TABLE IF EXISTS {name}")  # fixed names from this module
            con.execute("CREATE TEMP TABLE _dates AS SELECT DISTINCT snapshot FROM runs")
        else:
            con.execute("CREATE TEMP TABLE _dates (snapshot DATE)")
            if known[0]:
                con.executemany("INSERT INTO _dates VALUES (?)", [[d] for d in known[0]])
        defs, checks, scope = definitions(config)
        for name, ddl in _DDL.items():
            con.execute(f"CREATE TABLE {name} ({ddl})")  # fixed names and DDL from this module
        con.register("_defs", defs)
        con.register("_waivers", waivers_frame(config))
        con.register("_goal_checks", checks)
        con.register("_scope", scope)
        try:
            con.execute("INSERT INTO initiatives BY NAME SELECT * FROM _defs")
            con.execute("INSERT INTO waivers BY NAME SELECT * FROM _waivers")
            con.execute(_ITEMS)
            for name, sql in zip(DATED, (_SERVICES, _REMAINING, _PROGRESS), strict=True):
                if full:
                    con.execute(f"CREATE TABLE {name} AS {sql}")  # fixed names and SQL from this module
                else:
                    con.execute(f"INSERT INTO {name} BY NAME {sql}")
            con.execute("DROP TABLE _items")
            con.execute("DROP TABLE _dates")
        finally:
            for name in ("_defs", "_waivers", "_goal_checks", "_scope"):
                con.unregister(name)

    return add_tables
