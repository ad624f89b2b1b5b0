"""Retention thins history at promotion (dailies, then weeklies), and compaction gives the space back.

Real DuckDB files throughout: snapshots are staged and promoted by the
warehouse's own functions, `scorecard snapshots list` is the real CLI, the
published file is the real publish's.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import duckdb
import pandas as pd
import pytest

from pipelines import programme, publishing, retention, warehouse
from pipelines.cli import main
from pipelines.config import Compaction, ConfigError, load_config

NEWEST = dt.date(2026, 11, 23)  # a Monday


def days_back(n: int, newest: dt.date = NEWEST) -> list[dt.date]:
    return [newest - dt.timedelta(days=k) for k in range(n - 1, -1, -1)]


def policy(daily_days: int, weekly_weeks: int | None) -> retention.DefaultPolicy:
    return retention.DefaultPolicy(daily_days, weekly_weeks)


# ------------------------------------------------------------ which dates


def test_a_year_of_dailies_keeps_90_days_then_the_last_snapshot_of_each_iso_week():
    year = days_back(365)
    dropped = set(retention.thinned(year, retention.DefaultPolicy()))
    kept = sorted(set(year) - dropped)
    recent = [d for d in kept if d > NEWEST - dt.timedelta(days=90)]
    assert recent == days_back(90), "every day of the newest 90 is kept"
    older = [d for d in kept if d <= NEWEST - dt.timedelta(days=90)]
    weeks = [d.isocalendar()[:2] for d in older]
    assert len(weeks) == len(set(weeks)), "at most one snapshot per ISO week beyond the dailies"
    for day in older:  # the week's last date present (Sunday, as every day of the year is present)
        assert day == max(d for d in year if d.isocalendar()[:2] == day.isocalendar()[:2])
    # 365 - 90 = 275 older days span 40 ISO weeks (one of them shared with the dailies' first days)
    assert len(kept) == 90 + len({d.isocalendar()[:2] for d in year[:275]} - {year[275].isocalendar()[:2]})
    assert len(kept) < 135


def test_weeklies_end_after_the_configured_weeks_or_never():
    year = days_back(365)
    short = sorted(set(year) - set(retention.thinned(year, policy(7, 2))))
    daily_from = NEWEST - dt.timedelta(days=6)
    assert [d for d in short if d >= daily_from] == days_back(7)
    older = [d for d in short if d < daily_from]
    assert older == [dt.date(2026, 11, 8), dt.date(2026, 11, 15)], "two Sundays before the dailies, nothing older"
    forever = sorted(set(year) - set(retention.thinned(year, policy(7, None))))
    assert forever[0] == dt.date(2025, 11, 30), "the first complete week's Sunday of the year stays for ever"
    # 51 whole ISO weeks before the dailies; the week of 16 November ends inside them (its Sunday is a daily)
    assert len(forever) == 7 + 51 and dt.date(2026, 11, 16) not in forever


def test_a_weekly_backfill_beyond_the_dailies_keeps_every_date():
    # Weekly snapshots on Mondays: each is its week's last, whatever the weekday.
    mondays = [NEWEST - dt.timedelta(weeks=k) for k in range(30)]
    assert retention.thinned(mondays, retention.DefaultPolicy()) == []
    assert retention.thinned([], retention.DefaultPolicy()) == []


# ---------------------------------------------------------------- config


def _config(tmp_path, retention_yaml: str):
    path = tmp_path / "scorecard.yaml"
    (tmp_path / "repos").mkdir(exist_ok=True)
    path.write_text("sources: {repos: [{root: ./repos}]}\nwarehouse:\n  retention:\n" + retention_yaml)
    return load_config(path)


def test_retention_is_configurable_in_the_warehouse_section(tmp_path):
    config = _config(tmp_path, "    daily_days: 30\n    weekly_weeks: forever\n")
    assert (config.warehouse.retention.daily_days, config.warehouse.retention.weekly_weeks) == (30, None)
    config = _config(tmp_path, "    weekly_weeks: 10\n")
    assert (config.warehouse.retention.daily_days, config.warehouse.retention.weekly_weeks) == (90, 10)


@pytest.mark.parametrize(("text", "expected"), [
    ("    weekly_weeks: sometimes\n", r"warehouse\.retention\.weekly_weeks: expected a number of weeks .* or `forever`"),
    ("    weekly_weeks: -1\n", r"warehouse\.retention\.weekly_weeks: expected a number of weeks"),
    ("    daily_days: 0\n", r"warehouse\.retention\.daily_days: .*greater than or equal to 1"),
    ("    dailies: 30\n", r"warehouse\.retention\.dailies: "),
])
def test_invalid_retention_is_refused_at_its_key_path(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=expected):
        _config(tmp_path, text)


# ------------------------------------------------------ through the warehouse


def _frames(day: dt.date, services: int = 3) -> dict[str, pd.DataFrame]:
    cols = [c for c in warehouse.columns("check_results") if c != "snapshot"]
    rows = [{c: None for c in cols} | {"service": f"svc-{i}", "check_id": "has_readme", "status": "pass",
                                       "team": "t", "detail": f"README found on {day}"} for i in range(services)]
    return {"check_results": pd.DataFrame(rows)}


def promote_day(con, path, day: dt.date, rules=None) -> warehouse.Promoted:
    run = {"run_id": uuid.uuid4().hex, "snapshot": day, "kind": "run", "started_at": dt.datetime.now(dt.UTC),
           "finished_at": None, "config_file": "scorecard.yaml", "services": 3, "repos": 3, "message": None}
    with warehouse.transaction(con, path, "writing the snapshot"):
        warehouse.stage_snapshot(con, run, _frames(day))
    with warehouse.transaction(con, path, "promoting the snapshot"):
        return warehouse.promote(con, run["run_id"], rules)


def test_promotion_thins_history_in_its_transaction_and_says_so(tmp_path, capsys):
    config = _config(tmp_path, "    daily_days: 10\n    weekly_weeks: 3\n")
    path = config.warehouse_path
    rules = config.warehouse.retention
    retired = []
    with warehouse.connect(path) as con:
        for day in days_back(60):
            retired += promote_day(con, path, day, rules).retired
        in_history = [r[0] for r in con.execute("SELECT DISTINCT snapshot FROM check_results ORDER BY 1").fetchall()]
    expected = sorted(set(days_back(60)) - set(retention.thinned(days_back(60), rules)))
    assert in_history == expected
    assert len(in_history) == 10 + 3 and sorted(retired) == sorted(set(days_back(60)) - set(expected))

    assert main(["snapshots", "list", "--format", "json", "--config", str(config.base_dir / "scorecard.yaml")]) == 0
    runs = {r["snapshot"]: r for r in json.loads(capsys.readouterr().out)}
    gone = runs[str(days_back(60)[0])]
    assert gone["status"] == "deleted" and gone["message"].startswith("retention: removed by run ")
    assert "dailies for 10 days, then the last snapshot of each ISO week for 3 weeks" in gone["message"]
    assert runs[str(NEWEST)]["status"] == "complete"
    main(["snapshots", "list", "--config", str(config.base_dir / "scorecard.yaml")])
    listed = capsys.readouterr().out
    assert "retention: removed by run" in listed
    assert (f"Retention (warehouse.retention): dailies for 10 days, then the last snapshot of each ISO week "
            f"for 3 weeks; {len(retired)} runs' snapshots removed by it so far") in listed

    served = publishing.publish(config)
    with warehouse.read_only(served.served) as con:
        assert [r[0] for r in con.execute("SELECT DISTINCT snapshot FROM check_results ORDER BY 1").fetchall()] \
            == expected


def test_a_failed_promotion_retires_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as con:
        for day in days_back(20):
            promote_day(con, path, day, policy(30, 0))
        with pytest.raises(warehouse.WarehouseError, match="not awaiting promotion|belongs to run"), \
                warehouse.transaction(con, path, "promoting"):
            warehouse.promote(con, "no-such-run", policy(1, 0))
        assert con.execute("SELECT count(DISTINCT snapshot) FROM check_results").fetchone()[0] == 20


# -------------------------------------------------------------- compaction


def _table(path, table: str) -> pd.DataFrame:
    with warehouse.read_only(path) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").df()


def test_compaction_shrinks_a_file_with_deleted_rows_and_keeps_every_remaining_row(tmp_path):
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as con:
        # 60 complete dates whose rows all differ from day to day: one span per row.
        con.execute("""INSERT INTO runs (run_id, snapshot, status)
                       SELECT 'r' || i, DATE '2026-01-01' + i::INT, 'complete' FROM range(60) t(i)""")
        con.execute("""INSERT INTO check_results_spans (service, check_id, status, detail, first_seen, last_seen)
                       SELECT 'svc-' || (i % 2000), 'check-' || (i % 40), 'pass', 'detail ' || hash(i),
                              DATE '2026-01-01' + (i % 60)::INT, DATE '2026-01-01' + (i % 60)::INT
                       FROM range(3000000) t(i)""")
    with warehouse.connect(path) as con:
        con.execute("UPDATE runs SET status = 'deleted' WHERE snapshot < DATE '2026-02-20'")  # 50 of 60 dates
        warehouse.drop_unused_spans(con)
    kept = _table(path, "check_results")
    runs = _table(path, "meta")
    before = path.stat().st_size
    free, total = warehouse.free_space(path)
    assert free / total > 0.5, "DuckDB keeps the deleted rows' blocks in the file"
    assert path.stat().st_size >= before, "a checkpoint alone does not shrink the file"

    assert warehouse.compact_if_due(path, Compaction(min_free_share=0.9)) is None, "below the configured share"
    done = warehouse.compact_if_due(path, Compaction(min_free_mib=1))
    assert done is not None and done.after_bytes < before / 3
    assert path.stat().st_size == done.after_bytes
    pd.testing.assert_frame_equal(_table(path, "check_results"), kept)
    pd.testing.assert_frame_equal(_table(path, "meta"), runs)
    with warehouse.connect(path) as con:  # the key of meta survived: an upsert still works
        warehouse.set_meta(con, "schema_version", str(warehouse.SCHEMA_VERSION))
        assert con.execute("SELECT count(*) FROM meta WHERE key = 'schema_version'").fetchone()[0] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["w.duckdb"], "no temp file left behind"


def test_compaction_is_not_due_on_a_dense_file_and_a_broken_file_is_explained(tmp_path):
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as con:
        con.execute("INSERT INTO check_results_spans (service, first_seen, last_seen) "
                    "SELECT 's' || i, DATE '2026-01-01', DATE '2026-01-01' FROM range(1000) t(i)")
    assert warehouse.compact_if_due(path, None) is None
    assert warehouse.compact_if_due(tmp_path / "missing.duckdb", None) is None
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database" * 1000)
    with pytest.raises(warehouse.WarehouseError, match="broken.duckdb is not a readable DuckDB database"):
        warehouse.compact(broken)
    assert broken.read_bytes() == b"not a database" * 1000


# ------------------------------------------------------- incremental publish


def _published(path) -> dict[str, pd.DataFrame]:
    with warehouse.read_only(path) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        return {t: con.execute(f"SELECT * FROM \"{t}\" ORDER BY ALL").df() for t in tables
                if t != "meta"} | {"meta": con.execute(
                    "SELECT * FROM meta WHERE key <> 'published_at' ORDER BY ALL").df()}


def test_an_incremental_publish_equals_a_full_one_and_readers_of_the_old_file_are_unaffected(tmp_path):
    config = _config(tmp_path, "    daily_days: 5\n    weekly_weeks: 2\n")
    path, served = config.warehouse_path, config.serving_path
    with warehouse.connect(path) as con:
        for day in days_back(20, NEWEST - dt.timedelta(days=3)):
            promote_day(con, path, day, config.warehouse.retention)
    publishing.publish(config)  # the first publish is a full one: nothing served yet
    before = _published(served)
    reader = duckdb.connect(str(served), read_only=True)
    try:
        old_dates = reader.execute("SELECT count(DISTINCT snapshot) FROM check_results").fetchone()[0]
        with warehouse.connect(path) as con:
            for day in days_back(3):  # three new days: retention thins older ones
                promote_day(con, path, day, config.warehouse.retention)
            promote_day(con, path, NEWEST - dt.timedelta(days=1), config.warehouse.retention)  # a re-run replaces
            with warehouse.transaction(con, path, "deleting"):
                warehouse.delete_snapshot(con, NEWEST - dt.timedelta(days=2), "deleted by an operator")
        assert warehouse._reusable(served), "the second publish starts from the served file"
        publishing.publish(config)
        assert reader.execute("SELECT count(DISTINCT snapshot) FROM check_results").fetchone()[0] == old_dates
    finally:
        reader.close()

    incremental = _published(served)
    full = tmp_path / "full.duckdb"
    warehouse.publish(path, full, derive=publishing.derive(config, path), incremental=False,
                      kept=programme.inputs(config))
    expected = _published(full)
    assert incremental.keys() == expected.keys() and "rule_changes" in expected
    for table, frame in expected.items():
        pd.testing.assert_frame_equal(incremental[table], frame, obj=table)
    dates = set(incremental["check_results"]["snapshot"].dt.date)
    assert NEWEST - dt.timedelta(days=2) not in dates and NEWEST in dates
    assert dates != set(before["check_results"]["snapshot"].dt.date)


def test_a_served_file_of_an_older_release_is_published_in_full(tmp_path):
    config = _config(tmp_path, "    daily_days: 5\n")
    path, served = config.warehouse_path, config.serving_path
    with warehouse.connect(path) as con:
        for day in days_back(3):
            promote_day(con, path, day, config.warehouse.retention)
    publishing.publish(config)
    assert warehouse._reusable(served)
    with duckdb.connect(str(served)) as con:  # as an older release wrote it: rows per snapshot, a column missing
        con.execute("CREATE TABLE old_results AS SELECT * EXCLUDE (waiver_expires) FROM check_results")
        con.execute("DROP VIEW check_results")
        con.execute("DROP TABLE check_results_spans")
        con.execute("ALTER TABLE old_results RENAME TO check_results")
    assert not warehouse._reusable(served)
    publishing.publish(config)
    assert warehouse._reusable(served)
    assert len(_published(served)["check_results"]) == 3 * 3
