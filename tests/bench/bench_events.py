"""Benchmark: ingest 1,000,000 events, then score an organisation with them (issue 9, item 6).

A 100-repository demo organisation; 950,000 deployments (production and
staging, mostly successful) and 50,000 incidents for its services, spread
over 365 days, go in through `scorecard ingest`; then `scorecard run` twice
(the first run after the ingest, and a later one). Each step runs in its own
process, so each peak RSS is that step's own.

    .venv/bin/python -m tests.bench.bench_events
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

from tests.bench.targets import ROOT, Targets, scorecard

WORK = ROOT / "bench-out" / "events"
DEPLOYMENTS = 950_000
INCIDENTS = 50_000
RSS_TARGET_MIB = 1536.0
RUN_TARGET_S = 60.0


def _org() -> Path:
    from pipelines.demo.generate import generate_demo

    today = dt.datetime.now(dt.UTC).date()
    stamp = WORK / f".generated-{today}"
    if not stamp.exists():
        shutil.rmtree(WORK, ignore_errors=True)
        generate_demo(WORK / "demo", repos=100, teams=10, days=90, end=today)
        stamp.touch()
    for generated in ("warehouse", "serving"):
        shutil.rmtree(WORK / generated, ignore_errors=True)
    return WORK / "demo" / "scorecard.yaml"


def _services(config: Path) -> list[str]:
    import duckdb

    from pipelines.config import load_config

    con = duckdb.connect(str(load_config(config).serving_path), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT DISTINCT service FROM services ORDER BY 1").fetchall()]
    finally:
        con.close()


def _write_events(services: list[str]) -> tuple[Path, Path]:
    rng = random.Random(9)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    deployments, incidents = WORK / "deployments-1m.jsonl", WORK / "incidents-50k.jsonl"
    with deployments.open("w") as out:
        for i in range(DEPLOYMENTS):
            at = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
            env = "production" if rng.random() < 0.7 else "staging"
            status = "success" if rng.random() < 0.93 else "failure"
            out.write(f'{{"service": "{rng.choice(services)}", "environment": "{env}", "sha": "{i:012x}", '
                      f'"deployed_at": "{at.isoformat()}", "status": "{status}"}}\n')
    with incidents.open("w") as out:
        for _ in range(INCIDENTS):
            opened = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
            resolved = opened + dt.timedelta(minutes=rng.randrange(10, 3000))
            out.write(f'{{"service": "{rng.choice(services)}", "opened_at": "{opened.isoformat()}", '
                      f'"resolved_at": "{resolved.isoformat()}"}}\n')
    return deployments, incidents


def run() -> dict:
    config = _org()
    baseline = scorecard("run", "--config", str(config))
    deployments, incidents = _write_events(_services(config))
    ingest_d = scorecard("ingest", "deployments", str(deployments), "--config", str(config))
    ingest_i = scorecard("ingest", "incidents", str(incidents), "--config", str(config))
    first = scorecard("run", "--config", str(config))
    later = scorecard("run", "--config", str(config))
    return {"baseline": baseline, "ingest_deployments": ingest_d, "ingest_incidents": ingest_i,
            "first_run": first, "later_run": later, "file_mib": deployments.stat().st_size / 2**20}


def main() -> None:
    f = run()
    t = Targets()
    ingest, first, later = f["ingest_deployments"], f["first_run"], f["later_run"]
    print(f"## ingest and run with {DEPLOYMENTS + INCIDENTS:,} events (100-repo organisation, "
          f"{f['file_mib']:.0f} MiB of deployment lines)")
    print(f"  {'run before any event is ingested':<36}: {f['baseline']['seconds']:7.1f} s  "
          f"{f['baseline']['peak_rss_mib']:7,.0f} MiB")
    print(f"  {f'ingest {DEPLOYMENTS:,} deployments':<36}: {ingest['seconds']:7.1f} s  {ingest['peak_rss_mib']:7,.0f} MiB "
          f"{t.below('peak RSS of the ingest', ingest['peak_rss_mib'], RSS_TARGET_MIB, 'MiB')}")
    print(f"  {f'ingest {INCIDENTS:,} incidents':<36}: {f['ingest_incidents']['seconds']:7.1f} s  "
          f"{f['ingest_incidents']['peak_rss_mib']:7,.0f} MiB")
    for name, r in (("first run after the ingest", first), ("a later run", later)):
        print(f"  {name:<36}: {r['seconds']:7.1f} s {t.below(name, r['seconds'], RUN_TARGET_S)}  "
              f"{r['peak_rss_mib']:7,.0f} MiB {t.below(f'peak RSS of {name}', r['peak_rss_mib'], RSS_TARGET_MIB, 'MiB')}")
    t.check()


if __name__ == "__main__":
    main()
