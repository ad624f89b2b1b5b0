"""Benchmark of the crawl-and-score job on a generated 1,000-repo organisation.

Prints crawl+evidence time, check evaluations per second, scoring time, the
whole job's wall time and peak RSS. Each measurement runs in a fresh process so
peak memory is the job's own, not the generator's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.targets import Targets, peak_rss_mib

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench-out"


def _generate(org: Path, repos: int, teams: int) -> float:
    from pipelines.demo.generate import generate_demo

    stamp = org / f".generated-{repos}-{dt.datetime.now(dt.UTC).date()}"
    if stamp.exists():
        return 0.0
    shutil.rmtree(org, ignore_errors=True)
    started = time.monotonic()
    generate_demo(org / "demo", repos=repos, teams=teams, days=90, end=dt.datetime.now(dt.UTC).date())
    stamp.touch()
    return time.monotonic() - started


def _probe_job(config: str) -> dict:
    """Run in a child: the whole Dagster job with a cold crawl cache, then again over unchanged repos."""
    from pipelines.cli import run_job
    from pipelines.config import load_config

    cfg = load_config(config)
    shutil.rmtree(cfg.warehouse_path.parent, ignore_errors=True)
    started = time.monotonic()
    result = run_job(Path(config))
    job_s = time.monotonic() - started
    assert result.success
    rss_job = peak_rss_mib()

    started = time.monotonic()
    rerun = run_job(Path(config))
    rerun_s = time.monotonic() - started
    assert rerun.success
    return {"job_s": job_s, "rerun_s": rerun_s, "peak_rss_job_mib": rss_job}


def _probe_stages(config: str) -> dict:
    """Run in a fresh child: each stage alone; check evaluation timed cold, then warm.

    Cold is the first evaluation in a process that has run nothing else, as a
    scheduled run meets it (imports, compiled globs, per-check tables built on
    first use); warm is the best of three passes after it, which is what a
    backfill's later dates see. The figure used to be warm only, measured
    after two whole jobs in the same process had filled every cache.
    """
    from pipelines import stages
    from pipelines.config import load_config
    from pipelines.scoring import apply_waivers, score

    cfg = load_config(config)
    shutil.rmtree(cfg.warehouse_path.parent / "crawl-cache", ignore_errors=True)
    as_of = dt.datetime.now(dt.UTC).date()
    t0 = time.monotonic()
    crawl = stages.crawl_repos(stages.repo_sources(cfg), None)
    clusters = stages.crawl_clusters(cfg)
    events = stages.load_events(cfg)
    records, _ = stages.resolve(crawl.crawls, cfg, None)
    metrics = stages.delivery_metrics(records, crawl.crawls, events, cfg, as_of)
    evidence = stages.assemble_evidence(records, crawl.crawls, clusters, metrics, as_of)
    t1 = time.monotonic()
    ctx = cfg.check_context(as_of)
    started = time.monotonic()
    results = stages.evaluate_checks(evidence, ctx)
    cold_s = time.monotonic() - started
    # Best of three: one pass is half a second, so a scheduler hiccup on a
    # shared machine would otherwise decide whether the target is met.
    warm_s = float("inf")
    for _ in range(3):
        started = time.monotonic()
        results = stages.evaluate_checks(evidence, ctx)
        warm_s = min(warm_s, time.monotonic() - started)
    t2 = time.monotonic()
    frames = score(apply_waivers(results, cfg, as_of), cfg)
    t3 = time.monotonic()
    return {
        "repos": len(crawl.crawls),
        "services": len(evidence),
        "evaluations": len(results),
        "crawl_evidence_s": t1 - t0,
        "checks_cold_s": cold_s,
        "checks_warm_s": warm_s,
        "evaluations_per_s_cold": len(results) / cold_s,
        "evaluations_per_s_warm": len(results) / warm_s,
        "scoring_s": t3 - t2,
        "score_rows": len(frames["service_scores"]),
    }


def _child(probe: str, config: Path) -> dict:
    env = {**os.environ, "DAGSTER_HOME": ""}
    proc = subprocess.run(
        [sys.executable, "-c", f"import json, tests.bench.bench_job as b; print(json.dumps(b.{probe}({str(config)!r})))"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"job benchmark ({probe}) failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(repos: int = 1000, teams: int = 40) -> dict:
    org = WORK / f"org-{repos}"
    gen_s = _generate(org, repos, teams)
    config = org / "demo" / "scorecard.yaml"
    figures = {**_child("_probe_job", config), **_child("_probe_stages", config)}
    figures["generate_s"] = gen_s
    return figures


# Cold: the first pass also builds what later passes reuse; it must still keep a
# 10,000-service organisation's 400,000 evaluations under ~8 s.
COLD_TARGET = 50_000


def main() -> None:
    f = run()
    t = Targets()
    print(f"## Crawl-and-score job: {f['repos']} repos, {f['services']} services")
    print(f"  whole Dagster job, cold crawl cache : {f['job_s']:7.1f} s   {t.below('job', f['job_s'], 180)}")
    print(f"  whole job again, unchanged repos    : {f['rerun_s']:7.1f} s   (incremental crawl cache)")
    print(f"  crawl + evidence                    : {f['crawl_evidence_s']:7.1f} s")
    print(f"  check evaluation, cold (fresh process): {f['checks_cold_s']:5.2f} s   {f['evaluations']:,} evaluations, "
          f"{f['evaluations_per_s_cold']:,.0f}/s {t.above('check evaluation cold', f['evaluations_per_s_cold'], COLD_TARGET)}")
    print(f"  check evaluation, warm (best of 3)  : {f['checks_warm_s']:7.2f} s   "
          f"{f['evaluations_per_s_warm']:,.0f}/s {t.above('check evaluation warm', f['evaluations_per_s_warm'], 100_000)}")
    print(f"  scoring (DuckDB, set-based)         : {f['scoring_s']:7.2f} s")
    print(f"  peak RSS during the job             : {f['peak_rss_job_mib']:7.0f} MiB "
          f"{t.below('peak RSS', f['peak_rss_job_mib'], 1536, 'MiB')}")
    if f["generate_s"]:
        print(f"  (generating the organisation took {f['generate_s']:.1f} s, not counted)")
    t.check()


if __name__ == "__main__":
    main()
