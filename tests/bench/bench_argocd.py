"""Benchmark of the Argo CD API source: 2,000 Applications over loopback.

The fake Argo CD (tests/fakes/argocd_server.py) runs in a forked process so
the figures are the client's: 2,000 Applications in 40 projects, each with
10 entries of sync history and its Deployment and Service in
`status.resources`, read with one `GET /api/v1/applications` (Argo CD does
not page it) and parsed by the same code as Application CRDs. A second crawl
of the unchanged list reuses the first parse (same `resourceVersion`).

    .venv/bin/python -m tests.bench.bench_argocd
"""

from __future__ import annotations

import os
import time

APPS = 2_000
TOKEN = "bench-argocd-token-0123456789"
TARGET_SECONDS = 10.0


def _serve():
    from tests.fakes.argocd_server import FakeArgoCD
    from tests.fakes.gitops_objects import application

    fake = FakeArgoCD(tokens={TOKEN})
    for i in range(APPS):
        history = [(f"{i:08x}{r:032x}", f"2026-11-{1 + r:02d}T10:00:00Z") for r in range(10)]
        fake.add(application(f"svc-{i:05d}", project=f"team-{i % 40:02d}", repo=f"svc-{i:05d}",
                             namespace=f"team-{i % 40:02d}", history=history, revision=history[-1][0],
                             sync="OutOfSync" if i % 9 == 0 else "Synced", self_heal=i % 4 != 0))
    return fake


def run() -> dict:
    from pipelines.config_argocd import ArgoCDSourceConfig
    from pipelines.sources.argocd import ArgoCDSource
    from tests.fakes.k8s_server import serve_in_process

    url, stop = serve_in_process(_serve)
    os.environ["SCORECARD_BENCH_ARGOCD_TOKEN"] = TOKEN
    try:
        source = ArgoCDSource(ArgoCDSourceConfig(name="bench", base_url=url, token_env="SCORECARD_BENCH_ARGOCD_TOKEN"))
        started = time.monotonic()
        first = source.crawl()
        crawl_s = time.monotonic() - started
        started = time.monotonic()
        again = source.crawl()
        recrawl_s = time.monotonic() - started
    finally:
        stop()
        os.environ.pop("SCORECARD_BENCH_ARGOCD_TOKEN", None)
    assert first.error is None and len(first.apps) == APPS, first.error
    assert again.reused and len(again.apps) == APPS
    return {"apps": len(first.apps), "history": sum(len(a.history) for a in first.apps),
            "crawl_s": round(crawl_s, 2), "recrawl_s": round(recrawl_s, 2),
            "apps_per_s": round(APPS / crawl_s), "within_target": crawl_s < TARGET_SECONDS}


def main() -> int:
    result = run()
    print(f"Argo CD: {result['apps']:,} Applications, {result['history']:,} history entries, one list request")
    print(f"crawl time:        {result['crawl_s']:.2f} s  ({result['apps_per_s']:,} Applications/s; "
          f"target < {TARGET_SECONDS:.0f} s)")
    print(f"unchanged re-crawl: {result['recrawl_s']:.2f} s  (same resourceVersion: parse reused)")
    print("within target" if result["within_target"] else "OVER TARGET")
    return 0 if result["within_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
