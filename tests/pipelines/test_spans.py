"""History is stored as spans (pipelines/spans.py): each view reads exactly the rows each date was written with.

Real DuckDB files; snapshots are staged and promoted by the warehouse's own
functions. Every test compares the views with the rows each date was given,
so a span that claims a date it was not written for, or loses a row, fails.
"""

from __future__ import annotations

import datetime as dt
import uuid

import duckdb
import pandas as pd

from pipelines import retention, spans, warehouse

D = [dt.date(2026, 11, 1) + dt.timedelta(days=k) for k in range(8)]
KEEP_ALL = retention.DefaultPolicy(daily_days=3650, weekly_weeks=None)


def results(**changed: str) -> pd.DataFrame:
    """Three services' results; ``changed`` gives a service a different status (and detail)."""
    rows = []
    for service in ("api", "web", "jobs"):
        status = changed.get(service, "pass")
        rows.append({"service": service, "team": "core", "check_id": "has_owner", "category": "ownership",
                     "status": status, "detail": None if status == "pass" else f"{service} is {status}"})
    frame = pd.DataFrame(rows)
    for column in warehouse.columns("check_results"):
        if column not in frame and column != "snapshot":
            frame[column] = None
    return frame


def promote(path, day: dt.date, frame: pd.DataFrame, policy=KEEP_ALL) -> None:
    with warehouse.connect(path) as con:
        run = {"run_id": uuid.uuid4().hex, "snapshot": day, "kind": "run", "started_at": dt.datetime.now(dt.UTC),
               "finished_at": None, "config_file": "scorecard.yaml", "services": 3, "repos": 3, "message": None}
        with warehouse.transaction(con, path, "writing"):
            warehouse.stage_snapshot(con, run, {"check_results": frame})
        with warehouse.transaction(con, path, "promoting"):
            warehouse.promote(con, run["run_id"], policy)


def view(path, day: dt.date) -> list[tuple]:
    with warehouse.read_only(path) as con:
        return con.execute("""SELECT service, status, detail FROM check_results WHERE snapshot = ?
                              ORDER BY ALL""", [day]).fetchall()


def expected(frame: pd.DataFrame) -> list[tuple]:
    rows = frame[["service", "status", "detail"]].astype(object)
    rows = rows.where(rows.notna(), None)
    return sorted(rows.itertuples(index=False, name=None),
                  key=lambda r: tuple((v is None, v or "") for v in r))  # as ORDER BY ALL: NULLs last


def stored(path) -> int:
    with warehouse.read_only(path) as con:
        return con.execute("SELECT count(*) FROM check_results_spans").fetchone()[0]


def test_unchanged_rows_are_stored_once_and_every_date_reads_what_it_was_written_with(tmp_path):
    path = tmp_path / "w.duckdb"
    written = {}
    for k, day in enumerate(D[:6]):
        written[day] = results(web="fail") if k in (2, 3) else results()  # web fails on two days, then recovers
        promote(path, day, written[day])
    for day, frame in written.items():
        assert view(path, day) == expected(frame), day
    # api and jobs: one span each; web: passing, failing, passing again (its NULL detail matched too).
    assert stored(path) == 2 + 3
    with warehouse.read_only(path) as con:
        assert con.execute("SELECT count(*) FROM check_results").fetchone()[0] == 6 * 3


def test_a_date_replaced_in_the_middle_changes_that_date_only(tmp_path):
    path = tmp_path / "w.duckdb"
    for day in D[:5]:
        promote(path, day, results())
    promote(path, D[2], results(api="fail", jobs="warn"))  # a re-run of an old date, with other results
    for day in D[:5]:
        want = results(api="fail", jobs="warn") if day == D[2] else results()
        assert view(path, day) == expected(want), day
    promote(path, D[5], results())  # the next day extends the spans after the cut
    assert view(path, D[5]) == expected(results())
    promote(path, D[2], results())  # and the date put back as it was reads as before
    for day in D[:6]:
        assert view(path, day) == expected(results()), day


def test_a_deleted_date_is_gone_and_a_new_run_of_it_does_not_bring_its_old_rows_back(tmp_path):
    path = tmp_path / "w.duckdb"
    for day in D[:4]:
        promote(path, day, results())
    with warehouse.connect(path) as con:
        warehouse.delete_snapshot(con, D[1], "deleted by an operator")
    assert view(path, D[1]) == []
    assert view(path, D[0]) == view(path, D[2]) == expected(results())
    promote(path, D[1], results(web="warn"))
    assert view(path, D[1]) == expected(results(web="warn"))
    assert view(path, D[2]) == expected(results())
    with warehouse.connect(path) as con:  # every date deleted: no span is left behind
        for day in D[:4]:
            warehouse.delete_snapshot(con, day, "gone")
    assert stored(path) == 0


def test_retention_drops_the_spans_of_the_dates_it_removes(tmp_path):
    path = tmp_path / "w.duckdb"
    promote(path, D[0], results(api="fail"))  # only on the first date
    for day in D[1:6]:
        promote(path, day, results(), retention.DefaultPolicy(daily_days=3, weekly_weeks=0))
    with warehouse.read_only(path) as con:
        kept = [d for (d,) in con.execute("SELECT DISTINCT snapshot FROM check_results ORDER BY 1").fetchall()]
        failing = con.execute("SELECT count(*) FROM check_results_spans WHERE status = 'fail'").fetchone()[0]
    assert kept == D[3:6]
    assert failing == 0, "the span of a date retention removed is deleted with it"


def test_equal_rows_of_one_snapshot_stay_as_many_rows(tmp_path):
    path = tmp_path / "w.duckdb"
    twice = pd.concat([results(), results().iloc[[0]]], ignore_index=True)
    for day in D[:3]:
        promote(path, day, twice)
    promote(path, D[3], results())  # one of the two equal rows is gone
    for day in D[:3]:
        assert view(path, day) == expected(twice)
    assert view(path, D[3]) == expected(results())


def test_a_warehouse_of_an_older_release_is_converted_to_spans_with_every_row(tmp_path):
    path = tmp_path / "w.duckdb"
    written = {day: results(web="fail") if day == D[1] else results() for day in D[:4]}
    for day, frame in written.items():
        promote(path, day, frame)
    with duckdb.connect(str(path)) as con:  # as a release before spans left it: rows per snapshot
        for name in warehouse.DATA_TABLES:
            con.execute(f"CREATE TABLE _old AS SELECT * FROM {name}")
            con.execute(f"DROP VIEW {name}")
            con.execute(f"DROP TABLE {spans.table(name)}")
            con.execute(f"ALTER TABLE _old RENAME TO {name}")
        con.execute("INSERT INTO check_results (snapshot, service, status) VALUES ('2026-11-02', 'web', 'fail')")
    written[D[1]] = pd.concat([written[D[1]], pd.DataFrame([{"service": "web", "status": "fail", "detail": None}])])
    with warehouse.connect(path):
        pass  # opening it converts it
    for day, frame in written.items():
        assert view(path, day) == expected(frame), day
    assert stored(path) == 2 + 3 + 1  # web: pass, fail (and the second, equal-but-for-detail row), pass
    promote(path, D[4], results())  # and it goes on from there
    assert view(path, D[4]) == expected(results())
