"""Benchmark: the Jira source and the request trend at a large platform team's scale.

A loopback Jira Cloud (tests/fakes/jira_server.py) holding 20,000 requests,
paged 100 at a time through `/rest/api/3/search/jql`: the first (full) crawl
and store, an incremental re-crawl after 500 issues changed, then the weekly
trend over 200,000 stored requests for one snapshot and for 13 weekly ones
(a quarter's backfill).

    .venv/bin/python -m tests.bench.bench_jira
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
import time
from pathlib import Path

from tests.bench.targets import Targets

ISSUES = 20_000
STORED = 200_000
CHANGED = 500
# Most of it is the fake's own work (it filters and sorts all 20,000 issues for every page, ~100 ms);
# a real Jira Cloud page of 100 takes longer still, so this guards the client against being the slow part.
FULL_TARGET_S = 60.0
INCREMENTAL_TARGET_S = 5.0
TREND_TARGET_S = 2.0
BACKFILL_TARGET_S = 15.0


def _issues(n: int, now: dt.datetime, rng: random.Random) -> list[dict]:
    from tests.fakes.jira_server import issue

    out = []
    for i in range(1, n + 1):
        created = now - dt.timedelta(minutes=rng.randrange(300 * 1440))
        resolved = created + dt.timedelta(hours=rng.lognormvariate(3, 1))
        stamp = "%Y-%m-%dT%H:%M:%S.000+0000"
        out.append(issue(f"PLAT-{i}", created.strftime(stamp),
                         resolved=resolved.strftime(stamp) if resolved < now else None,
                         updated=(resolved if resolved < now else created).strftime(stamp),
                         issue_type=rng.choice(["New repository", "DNS record", "Question", "Access request"]),
                         labels=(f"team:team-{rng.randrange(40)}",), status="done" if resolved < now else "new"))
    return out


def _config(root: Path, url: str):
    from pipelines.config import load_config

    (root / "scorecard.yaml").write_text(
        "sources:\n  jira:\n    - project: PLAT\n"
        f"      base_url: {url}\n      email_env: BENCH_JIRA_EMAIL\n      token_env: BENCH_JIRA_TOKEN\n"
        "      page_size: 100\n      requesting_team: {label_prefix: 'team:'}\n"
        "      self_service: {issue_types: [New repository, DNS record]}\n"
        "warehouse:\n  path: wh/scorecard.duckdb\n  serving_path: serving/scorecard.duckdb\n",
        encoding="utf-8",
    )
    return load_config(root / "scorecard.yaml")


def run() -> dict:
    import os

    from pipelines import platform_requests, warehouse
    from pipelines.sources.jira import JiraCrawl, parse_issue
    from tests.fakes.jira_server import FakeJira

    rng = random.Random(11)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    root = Path(tempfile.mkdtemp(prefix="bench-jira-"))
    try:
        with FakeJira(issues=_issues(ISSUES, now, rng), max_page=100) as fake:
            os.environ["BENCH_JIRA_EMAIL"], os.environ["BENCH_JIRA_TOKEN"] = fake.email, fake.token
            config = _config(root, fake.url)
            started = time.monotonic()
            platform_requests.crawl_and_store(config, config.warehouse_path)
            full = time.monotonic() - started
            pages = len(fake.requests)
            for found in rng.sample(fake.issues, CHANGED):
                found["fields"]["updated"] = (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
            started = time.monotonic()
            platform_requests.crawl_and_store(config, config.warehouse_path)
            incremental = time.monotonic() - started

        # Grow the store to STORED requests (as if years of them), through the same merge.
        rule = config.sources.jira[0].requesting_team
        extra = JiraCrawl("PLAT", crawled_at=now)
        extra.requests = [parse_issue(i, rule) for i in _issues(STORED - ISSUES, now, rng)]
        extra.requests = [r.__class__(**{**{f: getattr(r, f) for f in r.__slots__}, "key": f"OLD-{n}"})
                          for n, r in enumerate(extra.requests)]
        with warehouse.connect(config.warehouse_path) as con, \
                warehouse.transaction(con, config.warehouse_path, "growing the store"):
            platform_requests.merge(con, extra)
        started = time.monotonic()
        trend = platform_requests.stored_trends(config.warehouse_path, config, [now.date()])[now.date()]
        one = time.monotonic() - started
        dates = [now.date() - dt.timedelta(weeks=k) for k in range(13)]
        started = time.monotonic()
        platform_requests.stored_trends(config.warehouse_path, config, dates)
        backfill = time.monotonic() - started
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"full_s": full, "pages": pages, "incremental_s": incremental, "trend_s": one, "trend_rows": len(trend),
            "backfill_s": backfill}


def main() -> list[str]:
    figures = run()
    t = Targets()
    print(f"full crawl and store, {ISSUES:,} issues in {figures['pages']} pages: {figures['full_s']:.1f} s "
          + t.below("full crawl", figures["full_s"], FULL_TARGET_S))
    print(f"incremental re-crawl ({CHANGED} changed): {figures['incremental_s']:.2f} s "
          + t.below("incremental re-crawl", figures["incremental_s"], INCREMENTAL_TARGET_S))
    print(f"weekly trend over {STORED:,} stored requests: {figures['trend_s']:.2f} s ({figures['trend_rows']} rows) "
          + t.below("trend", figures["trend_s"], TREND_TARGET_S))
    print(f"13 weekly snapshots' trends: {figures['backfill_s']:.2f} s "
          + t.below("backfill trends", figures["backfill_s"], BACKFILL_TARGET_S))
    return t.missed


if __name__ == "__main__":
    raise SystemExit(1 if main() else 0)
