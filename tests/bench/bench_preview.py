"""Benchmark of `scorecard preview` on the 1,000-repo organisation of bench_job.

A preview re-checks and re-scores the stored evidence of the latest snapshot
(twice with --against: both configs), stores both sides and reads its report
back. Measured in a fresh process, as an operator runs it, with the cost the
job pays for it: pickling the newest snapshot's evidence.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time

from tests.bench import bench_job
from tests.bench.targets import Targets, scorecard

ROOT = bench_job.ROOT


def _scored(config) -> None:
    """Run the job once unless the warehouse already holds stored evidence for its latest snapshot."""
    from pipelines.config import load_config

    evidence = load_config(config).warehouse_path.parent / "evidence"
    if evidence.is_dir() and any(evidence.glob("*.pickle")):
        return
    env = {**os.environ, "DAGSTER_HOME": ""}
    subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--config", str(config)], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def _save_cost(config) -> dict:
    from pipelines import evidence_store
    from pipelines.config import load_config

    path = load_config(config).warehouse_path
    file = next((path.parent / "evidence").glob("*.pickle"))
    stored = pickle.loads(file.read_bytes())
    started = time.monotonic()
    out = evidence_store.save(path, stored["snapshot"], "bench-copy", stored["evidence"], list(stored["known_teams"]))
    save_s = time.monotonic() - started
    size = out.stat().st_size
    out.unlink()
    return {"save_s": save_s, "mib": size / 2**20, "services": len(stored["evidence"])}


def run(repos: int = 1000, teams: int = 40) -> dict:
    org = bench_job.WORK / f"org-{repos}"
    bench_job._generate(org, repos, teams)
    config = org / "demo" / "scorecard.yaml"
    _scored(config)
    new = config.with_name("preview-bench.yaml")
    new.write_text(config.read_text() + "\nthresholds:\n  ci_workflow_max_releases_behind: 2\n  min_replicas: 3\n")
    stored = scorecard("preview", "--config", str(new), "--format", "json")
    against = scorecard("preview", "--config", str(new), "--against", str(config), "--format", "json")
    return {**_save_cost(config), "preview_s": stored["seconds"], "preview_rss": stored["peak_rss_mib"],
            "against_s": against["seconds"], "against_rss": against["peak_rss_mib"]}


def main() -> None:
    f = run()
    t = Targets()
    print(f"## scorecard preview: {f['services']:,} services")
    print(f"  against the stored snapshot          : {f['preview_s']:7.1f} s   {t.below('preview', f['preview_s'], 60)}"
          f"   peak RSS {f['preview_rss']:,.0f} MiB {t.below('preview RSS', f['preview_rss'], 1536, 'MiB')}")
    print(f"  --against the current config (2 evals): {f['against_s']:6.1f} s   "
          f"{t.below('preview --against', f['against_s'], 60)}   peak RSS {f['against_rss']:,.0f} MiB")
    print(f"  the job's cost: pickling the evidence: {f['save_s']:6.2f} s, {f['mib']:,.1f} MiB "
          f"{t.below('evidence pickling', f['save_s'], 10)}")
    t.check()


if __name__ == "__main__":
    main()
