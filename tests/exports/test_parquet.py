"""`scorecard export parquet`: every published table, as published, replaced whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import spans, warehouse
from tests.exports.conftest import scorecard


def _published(serving: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_published_table_is_written_with_its_rows_dates_and_schema(built, tmp_path):
    out = tmp_path / "parquet"
    proc = scorecard("export", "parquet", "--config", str(built.config), "--out", str(out))
    assert f"to {out}" in proc.stdout

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    tables = {t["table"]: t for t in manifest["tables"]}
    published = {r[0] for r in _published(built.serving, "SELECT table_name FROM information_schema.tables")}
    # History is stored as spans behind a view per table (pipelines/spans.py): the views are exported,
    # one row per snapshot, and the spans are not.
    stored_as = {spans.table(t) for t in warehouse.DATA_TABLES}
    assert stored_as <= published and not stored_as & set(tables)
    published -= stored_as
    # Every table the publish wrote (the snapshot tables, meta, and what publishing derives from
    # them: rule changes, stored previews, ...), and nothing else.
    assert set(tables) == published >= {*warehouse.SNAPSHOT_TABLES, "meta", "rule_changes"}
    assert sorted(p.name for p in out.iterdir()) == sorted([*(f"{t}.parquet" for t in tables), "manifest.json"])
    assert manifest["latest_snapshot"] == built.latest.isoformat()
    con = duckdb.connect()
    for name, entry in tables.items():
        parquet = str(out / entry["file"])
        assert con.execute("SELECT count(*) FROM read_parquet($p)", {"p": parquet}).fetchone()[0] == entry["rows"]
        assert entry["rows"] == _published(built.serving, f"SELECT count(*) FROM {name}")[0][0]
        assert [c["name"] for c in entry["schema"]] == [
            r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": parquet}).fetchall()]
        if name in warehouse.SNAPSHOT_TABLES and name != "runs":
            # Only complete snapshots are published, so only they are exported (never the killed run's date).
            assert built.incomplete.isoformat() not in entry["snapshots"]
    assert tables["service_scores"]["snapshots"] == [d.isoformat() for d in built.snapshots]

    # The values themselves, not only the counts: the latest scores equal what the pipeline computed.
    got = con.execute("SELECT scorecard, service, level, score_pct FROM read_parquet($p) WHERE snapshot = $s",
                      {"p": str(out / "service_scores.parquet"), "s": built.latest}).df()
    want = built.at("service_scores")[["scorecard", "service", "level", "score_pct"]]
    key = ["scorecard", "service"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  want.sort_values(key).reset_index(drop=True), check_dtype=False)


def test_a_second_export_replaces_the_first_and_a_failed_one_leaves_it(built, tmp_path):
    out = tmp_path / "parquet"
    scorecard("export", "parquet", "--snapshot", str(built.serving), "--out", str(out))
    first = (out / "manifest.json").read_text(encoding="utf-8")
    (out / "stale.parquet").write_bytes(b"from an older export")

    scorecard("export", "parquet", "--snapshot", str(built.serving), "--out", str(out))
    assert not (out / "stale.parquet").exists()  # replaced whole, not merged into
    assert json.loads((out / "manifest.json").read_text())["tables"] == json.loads(first)["tables"]

    # A file that is not a DuckDB database: a clear error, the previous export untouched, no temp folder left.
    bogus = tmp_path / "not-a-snapshot.duckdb"
    bogus.write_text("hello")
    proc = scorecard("export", "parquet", "--snapshot", str(bogus), "--out", str(out), check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("scorecard: ")
    assert (out / "manifest.json").read_text(encoding="utf-8") == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-snapshot.duckdb", "parquet"]


def test_refuses_to_replace_a_folder_that_is_not_an_export(built, tmp_path):
    mine = tmp_path / "my-documents"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    proc = scorecard("export", "parquet", "--snapshot", str(built.serving), "--out", str(mine), check=False)
    assert proc.returncode == 2
    assert "not an earlier export" in proc.stderr
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]


def test_no_published_snapshot_says_how_to_get_one(tmp_path):
    proc = scorecard("export", "parquet", "--snapshot", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "o"),
                     check=False)
    assert proc.returncode == 2
    assert "no published snapshot" in proc.stderr and "scorecard run" in proc.stderr
    assert not (tmp_path / "o").exists()
