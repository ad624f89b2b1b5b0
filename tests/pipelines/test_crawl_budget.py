"""A repository that never finishes crawling is recorded as `error` after its time budget; the run goes on."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

from pipelines import stages
from tests.gitrepo import commit, git, init

ROOT = Path(__file__).resolve().parents[2]


def _stall(repo: Path, path: str) -> Path:
    """Replace one blob of the repository by a FIFO: git blocks reading it until its own 60 s timeout."""
    sha = git(repo, "rev-parse", f"HEAD:{path}")
    obj = repo / ".git" / "objects" / sha[:2] / sha[2:]
    obj.unlink()
    os.mkfifo(obj)
    return obj


def _release(fifo: Path) -> None:
    # Unblock the git process left waiting on the FIFO (a writer that opens and closes means EOF).
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def test_a_stalled_repository_is_an_error_after_its_budget_and_the_others_are_scored(tmp_path):
    repos = tmp_path / "repos"
    for name in ("alpha", "beta"):
        commit(init(repos / name), {"README.md": f"# {name}\n", "CODEOWNERS": "* @acme/payments\n"})
    stuck = init(repos / "stuck")
    commit(stuck, {"README.md": "# stuck\n", "CODEOWNERS": "* @acme/payments\n"})
    fifo = _stall(stuck, "README.md")
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources:\n  repos: [{root: repos}]\n  repo_crawl_budget_seconds: 3\n")
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--config", str(cfg)], cwd=ROOT,
                              capture_output=True, text=True, timeout=180, env={**os.environ, "DAGSTER_HOME": ""})
    finally:
        _release(fifo)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert elapsed < 55, f"the run waited for the stalled repository ({elapsed:.0f} s)"
    con = duckdb.connect(str(tmp_path / "serving" / "scorecard.duckdb"), read_only=True)
    try:
        rows = dict(con.execute("SELECT target, status FROM source_status WHERE source = 'git'").fetchall())
        reason = con.execute("SELECT reason FROM source_status WHERE target = 'stuck'").fetchone()[0]
        services = {r[0] for r in con.execute("SELECT service FROM services").fetchall()}
    finally:
        con.close()
    assert rows == {"alpha": "ok", "beta": "ok", "stuck": "error"}
    assert "longer than its 3 s budget" in reason and "repo_crawl_budget_seconds" in reason
    assert {"alpha", "beta"} <= services


class _Source:
    """Every repo but one crawls at once; that one waits until released."""

    kind = "git"
    name = "fake"

    def __init__(self, names: list[str], stuck: str) -> None:
        self.names, self.stuck, self.release = names, stuck, threading.Event()

    def repo_names(self) -> list[str]:
        return self.names

    def crawl(self, name, as_of):
        from pipelines.facts import RepoFacts
        from pipelines.sources.base import RepoCrawl

        if name == self.stuck:
            self.release.wait(60)
        return RepoCrawl(RepoFacts(repo=name, location=name))


def test_stalled_repos_do_not_starve_the_queue_behind_them():
    # More stalled repos than workers: each abandoned worker is replaced, so the rest still run.
    names = [f"r{i:02d}" for i in range(40)]
    sources = [_Source(names[i::4], stuck=names[i]) for i in range(4)] + [_Source(["z1", "z2"], stuck="none")]
    started = time.monotonic()
    try:
        result = stages.crawl_repos(sources, None, budget_seconds=1.0)
    finally:
        for s in sources:
            s.release.set()
    assert time.monotonic() - started < 20
    errors = {s["target"] for s in result.source_status if s["status"] == "error"}
    assert errors == {"r00", "r01", "r02", "r03"}
    assert len(result.crawls) == 42
