"""The adoption programme's tables at publish time: 10,000 services, 13 weekly snapshots, every check.

The history is written straight into the warehouse's tables with SQL (the
results' statuses drawn per service, check and date, so services improve
over time), because only the programme's step is measured here: the time a
publish takes with the initiatives' tables on top of one without them.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import pandas as pd

from checks.catalogue import CATALOGUE
from pipelines import programme, warehouse
from pipelines.config import parse_config
from pipelines.scoring import scorecard_checks, status_meanings
from tests.bench.targets import Targets

SERVICES = 10_000
WEEKS = 13
TEAMS = 40
END = dt.date(2026, 11, 23)
DERIVE_TARGET_S = 20.0  # the programme's share of one publish


def config(root: Path):
    return parse_config({
        "initiatives": [
            {"name": "ci", "owner": "platform", "goal": {"checks": ["uses_shared_ci_workflow", "has_codeowners"]},
             "start": "2026-09-01", "deadline": "2026-10-15"},
            {"name": "silver", "owner": "platform", "goal": {"level": "silver"},
             "scope": {"lifecycle": ["production"]}, "start": "2026-10-01", "deadline": "2027-01-31"},
            {"name": "payments-gold", "owner": "payments", "goal": {"level": "gold"},
             "scope": {"teams": ["team-01", "team-02"]}, "start": "2026-10-01", "deadline": "2027-03-31"},
        ],
        "warehouse": {"path": "wh.duckdb", "serving_path": "serving.duckdb"},
    }, "bench.yaml", root)


def build(cfg) -> None:
    dates = [END - dt.timedelta(weeks=w) for w in range(WEEKS)]
    with warehouse.connect(cfg.warehouse_path) as con:
        con.register("_dates", pd.DataFrame({"snapshot": dates}))
        con.register("_cards", scorecard_checks(cfg))
        con.register("_meanings", status_meanings(cfg))
        con.execute("""INSERT INTO runs (run_id, snapshot, kind, status)
                       SELECT 'r-' || snapshot, snapshot, 'run', 'complete' FROM _dates""")
        con.execute("""CREATE TEMP TABLE _services AS
                       SELECT d.snapshot, 'svc-' || i AS service, 'team-' || lpad((i % $teams)::VARCHAR, 2, '0') AS team,
                              CASE WHEN i % 5 = 0 THEN 'experimental' ELSE 'production' END
                              AS lifecycle
                       FROM _dates d, range($n) t(i)""", {"n": SERVICES, "teams": TEAMS})
        con.execute("CREATE TEMP TABLE _scorecard_checks AS SELECT d.snapshot, c.* FROM _dates d, _cards c")
        # A result's status: a draw per (service, check) against a pass share that grows week by week.
        con.execute("""
            CREATE TEMP TABLE _results AS
            SELECT s.snapshot, s.service, s.team, c.check_id, c.level, c.level_rank, c.weight,
                   CASE WHEN h < 0.05 THEN 'not_applicable' WHEN h < 0.08 THEN 'unknown'
                        WHEN h < 0.12 THEN 'warn'
                        WHEN h < 0.45 + 0.03 * (date_diff('week', DATE '2026-08-24', s.snapshot)) THEN 'pass'
                        ELSE 'fail' END AS status
            FROM _services s JOIN _cards c ON true,
                 LATERAL (SELECT (hash(s.service || c.check_id) % 1000) / 1000.0 AS h)""")
        con.execute("""CREATE TEMP TABLE _check_results AS
                       SELECT snapshot, service, team, check_id, status, 'fix ' || check_id || ' in ' || service
                              AS remediation
                       FROM _results""")
        con.execute("""CREATE TEMP TABLE _scorecard_results AS
                       SELECT r.snapshot, 'default' AS scorecard, r.service, r.team, r.check_id, r.level,
                              r.level_rank, r.weight, r.status, m.counts_as_pass, m.applicable, m.status_group
                       FROM _results r JOIN _meanings m ON m.status = r.status AND m.scorecard = 'default'""")
        for name in ("services", "scorecard_checks", "check_results", "scorecard_results"):
            warehouse.load_history(con, name, f"_{name}")


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = config(root)
        started = time.monotonic()
        build(cfg)
        built = time.monotonic() - started
        started = time.monotonic()
        warehouse.publish(cfg.warehouse_path, root / "plain.duckdb")
        plain = time.monotonic() - started
        started = time.monotonic()
        warehouse.publish(cfg.warehouse_path, cfg.serving_path, derive=programme.derive(cfg))
        with_programme = time.monotonic() - started
        with warehouse.read_only(cfg.serving_path) as con:
            rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in programme.TABLES}
            results = con.execute("SELECT count(*) FROM scorecard_results").fetchone()[0]
    return {"build_s": built, "publish_s": plain, "publish_with_programme_s": with_programme,
            "derive_s": with_programme - plain, "rows": rows, "scorecard_results": results}


def main() -> None:
    f = run()
    t = Targets()
    print(f"## {SERVICES:,} services x {WEEKS} snapshots x {len(CATALOGUE)} checks "
          f"({f['scorecard_results']:,} published results), 3 initiatives")
    print(f"  publish without the programme: {f['publish_s']:.1f} s; with it: {f['publish_with_programme_s']:.1f} s")
    print(f"  programme tables: {f['derive_s']:.1f} s {t.below('programme tables', f['derive_s'], DERIVE_TARGET_S)}; "
          + ", ".join(f"{k} {v:,}" for k, v in f["rows"].items()))
    t.check()


if __name__ == "__main__":
    main()
