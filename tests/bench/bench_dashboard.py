"""Time to first render of every dashboard page on a large snapshot.

    .venv/bin/python -m tests.bench.bench_dashboard [n_services]

Builds a snapshot with the test fixture builder (``tests/dashboard/
snapshot_fixture.py``), then renders each page with AppTest on an empty
cache ("cold": every query runs) and once more ("warm": served from the
cache). Python imports are paid once before timing, as a running server would.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
PAGES = ("adoption", "teams", "service", "checks", "compare")
TARGET_SECONDS = 2.0


@dataclass(frozen=True)
class PageTiming:
    page: str
    scope: str  # "org" (no team filter) or "team"
    cold_seconds: float
    warm_seconds: float


def _fixture_builder() -> ModuleType:
    from tests.dashboard import snapshot_fixture

    return snapshot_fixture


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
    workdir: Path | None = None,
    scopes: tuple[str, ...] = ("org", "team"),
    pages: tuple[str, ...] = PAGES,
) -> tuple[list[PageTiming], float]:
    """Per-page (cold, warm) render seconds, and the seconds it took to build the snapshot.

    Scope "org" renders without a team filter, "team" with one team's ~n/40 services.
    """
    builder = _fixture_builder()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        started = time.perf_counter()
        built = builder.build_snapshot(Path(tmp), n_services=n_services)
        build_seconds = time.perf_counter() - started
        queries = {
            "org": {"service": builder.KNOWN_SERVICE},
            "team": {"team": "payments", "service": builder.KNOWN_SERVICE},
        }
        previous = os.environ.get("SCORECARD_SNAPSHOT")
        os.environ["SCORECARD_SNAPSHOT"] = str(built.serving)
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
    return timings, build_seconds


def main(argv: list[str] | None = None) -> int:
    args = argv or []
    n_services = int(args[0]) if args else 10_000
    timings, build_seconds = page_render_times(n_services)
    print(f"snapshot with {n_services:,} services built in {build_seconds:.1f} s")
    print(f"{'page':<10} {'scope':<6} {'cold s':>8} {'warm s':>8}")
    for t in timings:
        flag = "" if t.cold_seconds < TARGET_SECONDS else f"  over the {TARGET_SECONDS:.0f} s target"
        print(f"{t.page:<10} {t.scope:<6} {t.cold_seconds:>8.2f} {t.warm_seconds:>8.2f}{flag}")
    return 0 if all(t.cold_seconds < TARGET_SECONDS for t in timings) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
