"""Capacity on paper, from measurements: what one repository costs to crawl, and what 10,000 or 50,000 need.

Measured here, per unit crawled, with each source's own concurrency:

* GitHub source (per repository): the 500-repo organisation of
  `bench_github` on the loopback fake GitHub, crawled three times with one
  state directory: cold (empty state), unchanged (every ETag answers 304), and
  after a push to one of the five template histories (100 of the 500
  repositories moved: an incremental crawl). Requests by status and bytes
  come from the fake's own log (API answer bodies and git pack bytes; headers
  not counted) and are cross-checked with the source's run report.
* local-git source (per repository): the 1,000-repo organisation `bench_job`
  generates (reused when it is already there), cold crawl cache, then warm.
* Kubernetes source (per workload): `bench_kubernetes`'s 5,000-workload
  cluster on the loopback fake API server (in a forked process).

Each crawl runs in a process of its own (the servers never do), so CPU is the
crawler's: `process_time` plus the CPU of the git processes it starts
(`RUSAGE_CHILDREN`). Wall time per unit is the whole crawl's wall time divided
by the units, so it already includes the source's thread concurrency.

Then `capacity()` (the one place the formula lives) extrapolates to 10,000
and 50,000 repositories at a freshness of 24 h, 6 h and 1 h. docs/scaling.md
shows this output and explains the limits it uses.

    .venv/bin/python -m tests.bench.bench_capacity
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.bench.targets import ROOT, Targets

# GitHub's primary rate limits for the REST API, requests per hour
# (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
# A 304 answer to a conditional request made with an Authorization header is
# not charged (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api).
TOKEN_LIMIT = 5_000  # a personal access token (a user: all of that user's tokens share it)
APP_ENTERPRISE_CLOUD_LIMIT = 15_000  # a GitHub App installation on a GitHub Enterprise Cloud organisation
APP_BASE_LIMIT, APP_PER_REPO, APP_MAX_LIMIT = 5_000, 50, 12_500  # an installation elsewhere

SIZES = (10_000, 50_000)
FRESHNESS_H = (24.0, 6.0, 1.0)
# Not measured here (loopback has no network): a round trip to api.github.com from a
# data centre, assumed, to show how workers grow once latency, not CPU, sets the pace.
ASSUMED_LATENCY_S = 0.3

# Targets: measured here (docs/scaling.md) with headroom. The unchanged re-crawl
# is the one that matters: losing the ETag cache or the mirror check turns
# ~0.06 counted requests per repository into ~2.
UNCHANGED_COUNTED_PER_REPO_MAX = 0.10
COLD_COUNTED_PER_REPO_MAX = 3.0
COLD_CPU_PER_REPO_MAX_S = 0.25
UNCHANGED_GIT_FETCHES_MAX = 0


@dataclass(frozen=True)
class UnitCost:
    """What crawling one unit (a repository, a workload) cost, measured."""

    source: str
    phase: str
    unit: str
    units: int
    counted: float  # API requests charged against a rate limit, per unit
    not_modified: float  # 304 answers (free), per unit
    bytes: float | None  # response bytes per unit (None: not measured / local disk)
    cpu_s: float  # crawler CPU seconds per unit (its own + the git it runs)
    wall_s: float  # wall seconds per unit at the source's concurrency
    concurrency: str
    in_flight: int = 1  # API requests the source keeps in flight at once


def installation_limit(repos: int) -> int:
    """A GitHub App installation's hourly limit outside Enterprise Cloud: 5,000, plus 50 per
    repository once it has more than 20, at most 12,500."""
    extra = APP_PER_REPO * repos if repos > 20 else 0
    return min(APP_MAX_LIMIT, APP_BASE_LIMIT + extra)


def capacity(cost: UnitCost, units: int, freshness_h: float, latency_s: float = 0.0) -> dict:
    """What crawling `units` every `freshness_h` hours at `cost` needs. The only capacity formula.

    Requests per hour are the counted ones (304s are free); identities are
    rounded up (a crawl cannot use 0.3 of a token). A worker is one process
    crawling with the source's concurrency, busy the whole period: the crawl
    of its shard must end before the next one starts. Its time per unit is
    the measured one (loopback: no network) plus, when `latency_s` is given,
    each API request's round trip (a 304 too) shared by the requests in flight.
    """
    if units <= 0 or freshness_h <= 0 or latency_s < 0:
        raise ValueError("units and freshness_h must be positive, latency_s not negative")
    requests_per_hour = units * cost.counted / freshness_h
    crawls_per_day = 24.0 / freshness_h
    wall_s = cost.wall_s + (cost.counted + cost.not_modified) * latency_s / cost.in_flight
    return {
        "units": units,
        "freshness_h": freshness_h,
        "requests_per_hour": requests_per_hour,
        "tokens": math.ceil(requests_per_hour / TOKEN_LIMIT),
        "app_installations_enterprise_cloud": math.ceil(requests_per_hour / APP_ENTERPRISE_CLOUD_LIMIT),
        "app_installations": math.ceil(requests_per_hour / installation_limit(units)),
        "bytes_per_hour": None if cost.bytes is None else units * cost.bytes / freshness_h,
        "cpu_hours_per_day": units * cost.cpu_s * crawls_per_day / 3600.0,
        "workers": max(1, math.ceil(units * wall_s / (freshness_h * 3600.0))),
    }


# ------------------------------------------------------------- measurement


def _cpu() -> tuple[float, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


def _timed(call) -> tuple[object, dict]:
    """Run `call()`; its result and the wall, own-CPU and children-CPU seconds it took."""
    wall0, (own0, kids0) = time.monotonic(), _cpu()
    out = call()
    wall1, (own1, kids1) = time.monotonic(), _cpu()
    return out, {"wall_s": wall1 - wall0, "cpu_own_s": own1 - own0, "cpu_children_s": kids1 - kids0}


def _in_child(function: str, *args: str, env: dict | None = None) -> dict:
    """Run `function(*args)` of this module in a fresh process; its JSON result."""
    code = (f"import json, sys\nfrom tests.bench import bench_capacity as b\n"
            f"print(json.dumps(b.{function}(*sys.argv[1:])))\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"{function} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def github_crawl(base_url: str, state: str) -> dict:
    """In a child: one crawl of the fake organisation with the source's default concurrency, no pacing."""
    from pipelines import stages
    from pipelines.config import GitHubSourceConfig
    from pipelines.sources.github import GitHubSource
    from tests.bench.bench_github import TOKEN_ENV

    cfg = GitHubSourceConfig(organisation="acme", base_url=base_url, token_env=TOKEN_ENV,
                             seconds_between_requests=0, backoff_s=0.05)
    source = GitHubSource(cfg, state_dir=Path(state), production_environments=["production"])
    result, took = _timed(lambda: stages.crawl_repos([source], None))
    errors = [c.facts.error for c in result.crawls if c.facts.error]
    assert not errors, errors[:3]
    return {**took, "repos": len(result.crawls), "report": result.reports[0],
            "concurrency": f"{stages.crawl_workers()} repo threads, {cfg.max_concurrency} API requests in flight",
            "in_flight": cfg.max_concurrency}


def _push_to_template(template: Path) -> None:
    """A new commit (same tree) on a template's main: every repository sharing that history moved."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(template), *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    head = git("rev-parse", "refs/heads/main")
    env_date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    new = subprocess.run(["git", "-C", str(template), "commit-tree", f"{head}^{{tree}}", "-p", head, "-m", "bench push"],
                         check=True, capture_output=True, text=True,
                         env={**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                              "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
                              "GIT_AUTHOR_DATE": env_date, "GIT_COMMITTER_DATE": env_date}).stdout.strip()
    git("update-ref", "refs/heads/main", new, head)


def _github_phase(fake, state: Path, phase: str) -> UnitCost:
    from tests.bench.bench_github import TOKEN, TOKEN_ENV

    fake.clear_hits()
    child = _in_child("github_crawl", fake.base_url, str(state), env={TOKEN_ENV: TOKEN})
    hits = list(fake.hits)
    api = [h for h in hits if h.resource in ("core", "graphql")]
    by_status = collections.Counter(h.status for h in api)
    counted = sum(1 for h in hits if h.counted)
    not_modified = by_status.get(304, 0)
    report = child["report"]
    # The source's own accounting must agree with the server's, or a figure below is wrong.
    assert report["counted"] == counted, (report["counted"], counted)
    assert report["not_modified"] == not_modified, (report["not_modified"], not_modified)
    repos = child["repos"]
    transferred = sum(h.size for h in hits if h.resource in ("core", "graphql", "git"))
    git_fetches = report["git_fetches"]
    _github_phase.details[phase] = {"by_status": dict(by_status), "git_fetches": git_fetches,
                                    "api_bytes": sum(h.size for h in api),
                                    "git_bytes": sum(h.size for h in hits if h.resource == "git"),
                                    "requests": report["requests"], "counted": counted}
    return UnitCost("GitHub", phase, "repo", repos, counted / repos, not_modified / repos, transferred / repos,
                    (child["cpu_own_s"] + child["cpu_children_s"]) / repos, child["wall_s"] / repos,
                    child["concurrency"], child["in_flight"])


_github_phase.details = {}  # type: ignore[attr-defined]


def measure_github() -> list[UnitCost]:
    from tests.bench import bench_github as bg
    from tests.fakes.github_server import FakeGitHub

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    work = Path(tempfile.mkdtemp(prefix="bench-capacity-github-"))
    try:
        with FakeGitHub(tokens=(bg.TOKEN,)) as fake:
            bg._organisation(fake, work, now)
            state = work / "state"
            costs = [_github_phase(fake, state, "cold"),
                     _github_phase(fake, state, "unchanged")]
            _push_to_template(work / "template-0")  # 1 of 5 histories: 20% of the repositories
            costs.append(_github_phase(fake, state, "20% pushed"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return costs


def local_crawl(root: str, cache: str) -> dict:
    """In a child: one crawl of a folder of local repositories with the crawl's thread pool."""
    from pipelines import stages
    from pipelines.sources.local_git import LocalGitSource

    source = LocalGitSource(Path(root), cache_dir=Path(cache))
    result, took = _timed(lambda: stages.crawl_repos([source], None))
    # The generated organisation has a few hostile repositories on purpose (empty, broken): crawled all the same.
    errors = sum(1 for c in result.crawls if c.facts.error)
    assert errors < len(result.crawls) / 50, f"{errors} of {len(result.crawls)} repositories failed"
    return {**took, "repos": len(result.crawls), "concurrency": f"{stages.crawl_workers()} repo threads"}


def measure_local_git(repos: int = 1000, teams: int = 40) -> list[UnitCost]:
    from tests.bench.bench_job import WORK, _generate

    org = WORK / f"org-{repos}"
    _generate(org, repos, teams)  # reused when `bench_job` made it today
    costs = []
    with tempfile.TemporaryDirectory(prefix="bench-capacity-cache-") as cache:
        for phase in ("cold", "unchanged"):
            c = _in_child("local_crawl", str(org / "demo" / "repos"), cache)
            n = c["repos"]
            costs.append(UnitCost("local git", phase, "repo", n, 0.0, 0.0, None,
                                  (c["cpu_own_s"] + c["cpu_children_s"]) / n, c["wall_s"] / n, c["concurrency"]))
    return costs


def kubernetes_crawl() -> dict:
    """In a child (the fake API server forks from it): one crawl of the 5,000-workload cluster."""
    import logging

    from pipelines.sources.kubeconfig import Endpoint
    from pipelines.sources.kubernetes import KubernetesSource
    from tests.bench import bench_kubernetes as bk
    from tests.fakes.k8s_server import serve_in_process

    with tempfile.TemporaryDirectory(prefix="bench-capacity-k8s-") as tmp:
        url, stop = serve_in_process(lambda: bk._serve(tmp))
        try:
            endpoint = Endpoint(server=url, source="bench", ca_file=Path(tmp) / "test-ca.crt", token=bk.TOKEN)
            source = KubernetesSource("bench", "production", lambda: endpoint, page_size=bk.PAGE_SIZE)
            counter = bk._RequestCounter()
            log = logging.getLogger("httpx")
            log.addHandler(counter)
            log.setLevel(logging.INFO)
            crawl, took = _timed(source.crawl)
            log.removeHandler(counter)
        finally:
            stop()
    assert crawl.error is None, crawl.error
    return {**took, "workloads": len(crawl.inventory.workloads), "requests": counter.requests}


def measure_kubernetes() -> list[UnitCost]:
    c = _in_child("kubernetes_crawl")
    n = c["workloads"]
    return [UnitCost("Kubernetes", "cold", "workload", n, c["requests"] / n, 0.0, None,
                     (c["cpu_own_s"] + c["cpu_children_s"]) / n, c["wall_s"] / n, "1 list request at a time")]


# ------------------------------------------------------------------ output


def _si(value: float | None, unit: str = "B") -> str:
    if value is None:
        return "n/a"
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f} {prefix}{unit}"
    return f"{value:.0f} {unit}"


def cost_table(costs: list[UnitCost]) -> list[str]:
    lines = ["| source | crawl | per | counted requests | 304s | bytes | CPU ms | wall ms | concurrency |",
             "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for c in costs:
        lines.append(f"| {c.source} | {c.phase} ({c.units:,} {c.unit}s) | {c.unit} | {c.counted:.3f} | "
                     f"{c.not_modified:.3f} | {_si(c.bytes)} | {c.cpu_s * 1000:.1f} | {c.wall_s * 1000:.1f} | "
                     f"{c.concurrency} |")
    return lines


def capacity_table(costs: list[UnitCost]) -> list[str]:
    lines = [("| source, crawl | units | freshness | counted req/h | PATs (5,000/h) | App inst. EC (15,000/h) | "
              f"App inst. (12,500/h) | transfer/h | CPU-h/day | workers | workers at {ASSUMED_LATENCY_S:g} s/request |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in costs:
        for units in SIZES:
            for fresh in FRESHNESS_H:
                r = capacity(c, units, fresh)
                slow = capacity(c, units, fresh, latency_s=ASSUMED_LATENCY_S)
                limited = c.source == "GitHub"  # the others' APIs have no hourly budget to divide
                ids = [r[k] if limited else "n/a" for k in ("tokens", "app_installations_enterprise_cloud",
                                                            "app_installations")]
                lines.append(
                    f"| {c.source}, {c.phase} | {units:,} {c.unit}s | {fresh:g} h | {r['requests_per_hour']:,.0f} | "
                    f"{ids[0]} | {ids[1]} | {ids[2]} | {_si(r['bytes_per_hour'])} | {r['cpu_hours_per_day']:.1f} | "
                    f"{r['workers']} | {slow['workers'] if c.counted + c.not_modified else 'n/a'} |")
    return lines


def run() -> dict:
    started = time.monotonic()
    github = measure_github()
    local = measure_local_git()
    k8s = measure_kubernetes()
    return {"github": github, "local": local, "kubernetes": k8s, "github_details": _github_phase.details,
            "seconds": time.monotonic() - started}


def main() -> list[str]:
    r = run()
    costs: list[UnitCost] = r["github"] + r["local"] + r["kubernetes"]
    t = Targets()
    gh = {c.phase: c for c in r["github"]}
    details = r["github_details"]
    print("Measured cost per unit crawled (crawler process only; servers on loopback):")
    print("\n".join(cost_table(costs)))
    for phase, d in details.items():
        print(f"  GitHub {phase}: {d['requests']} API requests by status {d['by_status']}, {d['counted']} counted; "
              f"{d['git_fetches']} git fetches; {_si(d['api_bytes'])} API + {_si(d['git_bytes'])} git")
    unchanged, cold, fetches = gh["unchanged"], gh["cold"], details["unchanged"]["git_fetches"]
    t.below("unchanged re-crawl: counted requests per repo", unchanged.counted, UNCHANGED_COUNTED_PER_REPO_MAX, "")
    t.below("unchanged re-crawl: git fetches", fetches, UNCHANGED_GIT_FETCHES_MAX + 1, "")
    t.below("cold crawl: counted requests per repo", cold.counted, COLD_COUNTED_PER_REPO_MAX, "")
    t.below("cold crawl: CPU ms per repo", cold.cpu_s * 1000, COLD_CPU_PER_REPO_MAX_S * 1000, "ms")
    print(f"  targets: unchanged re-crawl {unchanged.counted:.3f} counted requests per repo (<= "
          f"{UNCHANGED_COUNTED_PER_REPO_MAX}) and {fetches} git fetches (<= {UNCHANGED_GIT_FETCHES_MAX}); cold crawl "
          f"{cold.counted:.2f} counted per repo (< {COLD_COUNTED_PER_REPO_MAX:g}) and {cold.cpu_s * 1000:.0f} ms CPU "
          f"per repo (< {COLD_CPU_PER_REPO_MAX_S * 1000:.0f} ms)")
    print("\nExtrapolated with capacity() (tests/bench/bench_capacity.py):")
    print("\n".join(capacity_table(costs)))
    print(f"\n(measured in {r['seconds']:.0f} s)")
    return t.missed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
