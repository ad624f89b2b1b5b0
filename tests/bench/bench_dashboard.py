"""Time to first render of every dashboard page on 10,000 services of real pipeline output.

    .venv/bin/python -m tests.bench.bench_dashboard [n_services]

The history (10,000 services × 40 checks × 13 weekly snapshots) is built by
the pipeline's own checks, scoring and publish (``tests/bench/
bench_snapshot.py``) and cached in ``bench-out/`` until the code that builds
it changes. Each page is rendered with AppTest on an empty cache ("cold":
every query runs) and once more ("warm": served from the cache). Python
imports are paid once before timing, as a running server would.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from checks.catalogue import all_checks
from tests.bench.bench_snapshot import BuiltHistory, busiest_team, cached_history
from tests.bench.targets import Targets

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
WORK = ROOT / "bench-out"
PAGES = ("adoption", "teams", "service", "checks", "compare")
TARGET_SECONDS = 2.0
CHECKS = len(all_checks())  # the whole catalogue, as the job evaluates it
SNAPSHOTS = 13


@dataclass(frozen=True)
class PageTiming:
    page: str
    scope: str  # "org" (no team filter) or "team"
    cold_seconds: float
    warm_seconds: float


def _render(page: str, query: dict[str, str]) -> tuple[AppTest, float]:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(query)
    at.switch_page(f"views/{page}.py")
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")
    return at, elapsed


def page_render_times(
    n_services: int = 10_000,
    workdir: Path = WORK,
    scopes: tuple[str, ...] = ("org", "team"),
    pages: tuple[str, ...] = PAGES,
    **history: int,
) -> tuple[list[PageTiming], BuiltHistory]:
    """Per-page (cold, warm) render seconds, and the history they were measured on.

    Scope "org" renders without a team filter, "team" with the largest team
    (about n/40 services). ``history`` passes sizes on to ``cached_history``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    built = cached_history(workdir, n_services, **history)
    return time_pages(built.serving, scopes, pages), built


def time_pages(serving: Path, scopes: tuple[str, ...] = ("org", "team"), pages: tuple[str, ...] = PAGES
               ) -> list[PageTiming]:
    """Per-page (cold, warm) render seconds on the published file ``serving`` (also bench_year's)."""
    team, service = busiest_team(serving)
    queries = {"org": {"service": service}, "team": {"team": team, "service": service}}
    previous = os.environ.get("SCORECARD_SNAPSHOT")
    os.environ["SCORECARD_SNAPSHOT"] = str(serving)
    try:
        for page in pages:  # imports and first-use costs, paid once per server
            _render(page, queries[scopes[0]])
        timings = []
        for scope in scopes:
            query = queries[scope]
            for page in pages:
                st.cache_data.clear()
                at, cold = _render(page, query)
                started = time.perf_counter()
                at.run()
                warm = time.perf_counter() - started
                timings.append(PageTiming(page, scope, cold, warm))
    finally:
        if previous is None:
            os.environ.pop("SCORECARD_SNAPSHOT", None)
        else:
            os.environ["SCORECARD_SNAPSHOT"] = previous
        st.cache_data.clear()
    return timings


def main(argv: list[str] | None = None) -> list[str]:
    """Print the figures; returns the targets missed (`make bench` fails on any)."""
    args = argv or []
    n_services = int(args[0]) if args else 10_000
    timings, built = page_render_times(n_services)
    t = Targets()
    how = "from the cache" if built.build_seconds is None else f"built in {built.build_seconds:.0f} s"
    print(f"history of real pipeline output ({how}): {built.serving.relative_to(ROOT)}")
    print(f"  {built.services:,} services × {built.checks} checks × {built.snapshots} snapshots; rows: "
          + ", ".join(f"{table} {n:,}" for table, n in built.rows.items() if n))
    if (built.services, built.checks, built.snapshots) != (n_services, CHECKS, SNAPSHOTS):
        t.missed.append(f"history is {built.services} × {built.checks} × {built.snapshots}, "
                        f"not {n_services} × {CHECKS} × {SNAPSHOTS}")
    print(f"{'page':<10} {'scope':<6} {'cold s':>8} {'warm s':>8}")
    for p in timings:
        target = t.below(f"{p.page} page ({p.scope}) cold render", p.cold_seconds, TARGET_SECONDS)
        print(f"{p.page:<10} {p.scope:<6} {p.cold_seconds:>8.2f} {p.warm_seconds:>8.2f}  {target}")
    return t.missed


if __name__ == "__main__":
    missed = main(sys.argv[1:])
    for line in missed:
        print(f"missed: {line}")
    raise SystemExit(1 if missed else 0)
