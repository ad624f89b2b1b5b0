"""Operator mistakes and faults get one clear line naming the file or value and what to do."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse
from pipelines.cli import main
from pipelines.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])  # an operator's `duckdb warehouse.duckdb` shell, left open
    print("ready", flush=True)
    time.sleep(120)
""")


@pytest.fixture
def held_warehouse(private_org):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(private_org.warehouse)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    yield proc
    proc.kill()
    proc.wait()


def test_a_warehouse_held_by_another_writer_is_named_with_its_holder(private_org, held_warehouse, monkeypatch, capsys):
    monkeypatch.setattr(warehouse, "LOCK_WAIT_SECONDS", 0.5)
    published = private_org.serving.read_bytes()
    code, _, err = run_cli(capsys, "run", "--config", str(private_org.config))
    assert code == 2
    first = next(line for line in err.splitlines() if line.startswith("scorecard: "))  # after the progress lines
    assert str(private_org.warehouse) in first and f"process {held_warehouse.pid}" in first
    assert "wait for that process to finish" in first
    assert "Traceback" not in err and "IOException" not in err
    assert private_org.serving.read_bytes() == published

    events = private_org.root / "e.jsonl"
    events.write_text('{"service": "a", "environment": "production", "sha": "abc1234", "deployed_at": "2026-01-01T00:00:00Z"}\n')
    code, _, err = run_cli(capsys, "ingest", "deployments", str(events), "--config", str(private_org.config))
    assert code == 2 and err.count("\n") == 1 and f"process {held_warehouse.pid}" in err


def test_bad_dates_and_steps_are_named(private_org, capsys):
    code, _, err = run_cli(capsys, "run", "--as-of", "2026-13-45", "--config", str(private_org.config))
    assert code == 2 and err.strip().endswith("expected YYYY-MM-DD, e.g. " + dt.datetime.now(dt.UTC).date().isoformat())
    assert "--as-of '2026-13-45' is not a date" in err
    with pytest.raises(SystemExit) as exit_:
        main(["backfill", "--every", "0d", "--config", str(private_org.config)])
    assert exit_.value.code == 2
    assert "argument --every: must be at least 1d" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_explain_on_a_corrupt_serving_file_says_what_to_do(private_org, capsys, damage):
    serving = private_org.serving
    data = serving.read_bytes()
    serving.write_bytes({"garbage": b"not a database " * 5000, "truncated": data[: len(data) // 3], "empty": b""}[damage])
    code, out, err = run_cli(capsys, "explain", "payments-api", "--config", str(private_org.config))
    assert code == 2 and not out
    assert str(serving) in err and "publish a fresh one with `scorecard run`" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def _can_mount_tmpfs(tmp: Path) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {tmp}"],
                           capture_output=True)
    return probe.returncode == 0


FILL_AND_RUN = textwrap.dedent("""
    import os, sys
    from pipelines.cli import main
    disk, keep = sys.argv[1], int(sys.argv[2])
    st = os.statvfs(disk)
    with open(os.path.join(disk, "filler"), "wb") as f:   # another tenant fills the disk
        f.write(b"\\0" * (st.f_bavail * st.f_frsize - keep))
    sys.exit(main(["run", "--config", sys.argv[3]]))
""")


def test_a_full_disk_says_no_space_left_and_leaves_the_published_snapshot(private_org, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _can_mount_tmpfs(disk):
        pytest.skip("needs `unshare -m` and tmpfs mounts (root or user namespaces)")
    config = load_config(private_org.config)
    text = private_org.config.read_text()
    full = private_org.config.with_name("full-disk.yaml")
    # The warehouse moves onto a small disk; the served file stays where it was.
    moved = text.replace('path: "../warehouse/scorecard.duckdb"', f'path: "{disk}/scorecard.duckdb"')
    assert moved != text, "the demo config's warehouse section changed; adapt this test"
    full.write_text(moved.replace('serving_path: "../serving/scorecard.duckdb"', f'serving_path: "{config.serving_path}"'))
    published = config.serving_path.read_bytes()
    script = (f"mount -t tmpfs -o size=48m tmpfs {disk} && cp {config.warehouse_path} {disk}/ && "
              f"exec {sys.executable} -c '{FILL_AND_RUN}' {disk} {256 * 1024} {full}")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "DAGSTER_HOME": ""})
    assert proc.returncode == 2, proc.stderr[-3000:]
    first = next(line for line in proc.stderr.splitlines() if line.startswith("scorecard: "))
    assert "No space left on device" in first and f"{disk}/scorecard.duckdb" in first, proc.stderr[-3000:]
    assert "free space on that disk" in first
    assert "cannot rollback" not in proc.stderr and "Traceback" not in proc.stderr
    assert config.serving_path.read_bytes() == published
    con = duckdb.connect(str(config.serving_path), read_only=True)
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    con.close()
