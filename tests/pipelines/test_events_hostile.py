"""Hostile event files, as a broken CI job or an attacker with ingest rights would send them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main, run_job

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"service": "api", "environment": "production", "sha": "abc1234", "deployed_at": "2026-11-01T10:00:00Z"}


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def hostile_lines() -> list[str]:
    """Line 2: a 5,000-digit integer; 3: 200,000 nested `[`; 4: 50,000 nested `[` (under the line limit);
    5: a lone surrogate in the service name; 6: a JSON array; lines 1 and 7 are good."""
    return [
        json.dumps(GOOD),
        '{"service": "api", "environment": "production", "sha": "abc1235", "deployed_at": "2026-11-01T11:00:00Z", '
        '"build": ' + "9" * 5000 + "}",
        "[" * 200_000,
        "[" * 50_000,
        '{"service": "\\ud800", "environment": "production", "sha": "abc1236", "deployed_at": "2026-11-01T12:00:00Z"}',
        "[1, 2]",
        json.dumps({**GOOD, "sha": "abc1237", "deployed_at": "2026-11-02T10:00:00Z"}),
    ]


def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources: {repos: []}\n")
    return cfg


def stored(tmp_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(tmp_path / "warehouse" / "scorecard.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_each_bad_line_is_rejected_with_its_number_and_the_rest_is_stored(tmp_path, capsys):
    events = tmp_path / "deploys.jsonl"
    events.write_text("\n".join(hostile_lines()) + "\n")
    code, out, err = run_cli(capsys, "ingest", "deployments", str(events), "--config", str(config(tmp_path)))
    assert code == 0, err
    assert "Ingested 2 deployments" in out and "5 rejected" in out
    assert "line 2: not accepted (a number with too many digits)" in err
    assert "line 3: longer than 64 KiB" in err
    assert "line 4: not accepted (JSON nested too deeply)" in err
    assert "line 5: service: Value error, contains a lone surrogate" in err
    assert "line 6: expected a JSON object" in err
    assert "Traceback" not in err
    assert stored(tmp_path, "SELECT sha FROM deployment_events ORDER BY sha") == [("abc1234",), ("abc1237",)]


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "link-to-dev-zero", "directory"])
def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path, target):
    if target == "fifo":
        path = tmp_path / "events.fifo"
        os.mkfifo(path)  # nobody ever writes to it: reading would block for ever
    elif target == "link-to-dev-zero":
        path = tmp_path / "events.jsonl"
        path.symlink_to("/dev/zero")
    elif target == "directory":
        path = tmp_path
    else:
        path = Path(target)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "ingest", "deployments", str(path), "--config", str(config(tmp_path))],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert time.monotonic() - started < 30
    assert proc.returncode == 2
    assert "not a regular file; refused" in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_configured_delivery_file_with_bad_lines_does_not_stop_the_run(private_org):
    org = private_org
    events = org.config.parent / "events" / "deployments.jsonl"
    good_lines = len([line for line in events.read_text().splitlines() if line.strip()])
    with events.open("a") as out:
        out.write("\n".join(hostile_lines()) + "\n")
    result = run_job(org.config)
    assert result.success
    con = duckdb.connect(str(org.serving), read_only=True)
    try:
        snap = dt.datetime.now(dt.UTC).date()
        reasons = [r[0] for r in con.execute(
            "SELECT reason FROM problems WHERE snapshot = ? AND source = 'deployments' ORDER BY reason", [snap]).fetchall()]
        status = con.execute(
            "SELECT status, items FROM source_status WHERE snapshot = ? AND source = 'deployments'", [snap]).fetchone()
    finally:
        con.close()
    assert any(f"line {good_lines + 2}: not accepted" in r for r in reasons)
    assert any(f"line {good_lines + 5}: service" in r and "surrogate" in r for r in reasons)
    assert status == ("partial", good_lines + 2)


def test_a_configured_delivery_fifo_is_an_error_row_not_a_hung_run(private_org, tmp_path):
    org = private_org
    fifo = tmp_path / "deploys.fifo"
    os.mkfifo(fifo)
    text = org.config.read_text().replace("events/deployments.jsonl", str(fifo))
    org.config.write_text(text)
    result = run_job(org.config)
    assert result.success
    con = duckdb.connect(str(org.serving), read_only=True)
    try:
        row = con.execute(
            "SELECT status, reason FROM source_status WHERE source = 'deployments' ORDER BY snapshot DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert row[0] == "error" and "named pipe (FIFO)" in row[1]
