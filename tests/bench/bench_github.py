"""Benchmark of the GitHub source: API requests per repository and crawl time, 500 repositories.

The organisation lives on the loopback fake GitHub (tests/fakes/github_server.py):
500 small repositories sharing five template histories (written with
`git fast-import`), each with CI runs and production deployments, 25 teams.
It is crawled twice with the real PyGithub client: cold (empty state
directory), then again with nothing changed.

Counted requests are those charged against the primary rate limit: every
API request except 304 answers to conditional requests. They are taken from
the server's own log, and cross-checked with the source's run report.

    .venv/bin/python -m tests.bench.bench_github
    .venv/bin/python -m tests.bench.bench_github --blob-filter [--with-lazy-fetch]

`--blob-filter` measures a mirror fetched with `--filter=blob:none` (partial
clone) against today's full shallow fetch, on one generated repository with
binary assets and vendored code (see `blob_filter`): bytes transferred (from
the fake's own log), mirror size on disk, time, and whether the local-clone
reader can read the result. The figures are in docs/github.md.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOS = 500
TEMPLATES = 5
TEAMS = 25
TOKEN = "ghp_BenchmarkToken0123456789abcdefghijkl"
TOKEN_ENV = "SCORECARD_BENCH_GITHUB_TOKEN"
PRODUCTION_PACING_S = 0.07  # GitHubSourceConfig.seconds_between_requests default
OPENSSF_SCORECARD_PER_REPO = 70  # about what OpenSSF Scorecard spends per repository


def _template(path: Path, variant: int, now: dt.datetime) -> str:
    """A small service repository with two weeks of history; returns the head sha."""
    from pipelines.demo.gitfast import FastImportStream, init_repo, run_fast_import

    stream = FastImportStream("main")
    who = ("Dev", "dev@example.com")
    stream.commit(author=who, when=now - dt.timedelta(days=14), message="start", changes={
        "README.md": f"# service {variant}\n",
        "catalog-info.yaml": (f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{variant}\n"
                              f"spec:\n  type: service\n  owner: team-{variant:02d}\n  lifecycle: production\n"),
        "CODEOWNERS": f"* @acme/team-{variant:02d}\n",
        ".github/workflows/ci.yml": "on:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                                    "    steps: [{uses: actions/checkout@v4}, {run: make test}]\n",
        "chart/Chart.yaml": "apiVersion: v2\nname: svc\nversion: 1.0.0\ndependencies:\n"
                            "  - {name: acme-base-chart, version: 2.3.0, repository: oci://charts.acme.dev}\n",
        "requirements.txt": "opentelemetry-sdk==1.27.0\nstructlog==24.1.0\n",
    })
    for day in range(13, 0, -1):
        stream.commit(author=who, when=now - dt.timedelta(days=day), message=f"change {day}",
                      changes={"app.py": f"VERSION = {14 - day}\n"})
    init_repo(path, "main")
    marks = run_fast_import(path, stream, checkout=False)
    return marks[max(marks)]


def _organisation(fake, work: Path, now: dt.datetime) -> None:
    from tests.fakes.github_server import FakeDeployment, FakeRun

    heads = [_template(work / f"template-{v}", v, now) for v in range(TEMPLATES)]
    for i in range(REPOS):
        v = i % TEMPLATES
        head = heads[v]
        runs = [FakeRun(i * 100 + n, "CI", "main", head, now - dt.timedelta(days=n, hours=2)) for n in range(10)]
        deploys = [FakeDeployment(i * 100 + n, head, "production", now - dt.timedelta(days=n, hours=1),
                                  [("IN_PROGRESS", now - dt.timedelta(days=n, hours=1)),
                                   ("SUCCESS", now - dt.timedelta(days=n, minutes=50))]) for n in range(10)]
        fake.add_repo(f"service-{i:03d}", work / f"template-{v}", protected=i % 3 != 0, runs=runs,
                      deployments=deploys, topics=["service"])
    for t in range(TEAMS):
        fake.add_team(f"team-{t:02d}", members=[f"dev{t}-{m}" for m in range(6)])


def _crawl(fake, state: Path) -> tuple[dict, float, dict]:
    from pipelines import stages
    from pipelines.config import GitHubSourceConfig
    from pipelines.sources.github import GitHubSource

    cfg = GitHubSourceConfig(organisation="acme", base_url=fake.base_url, token_env=TOKEN_ENV,
                             seconds_between_requests=0, backoff_s=0.05)
    source = GitHubSource(cfg, state_dir=state, production_environments=["production"])
    fake.clear_hits()
    started = time.monotonic()
    result = stages.crawl_repos([source], None)
    elapsed = time.monotonic() - started
    errors = [c.facts.error for c in result.crawls if c.facts.error]
    assert not errors, errors[:3]
    counted = [h for h in fake.hits if h.counted]
    server = {
        "inventory": sum(1 for h in counted if h.operation == "OrgRepositories"),
        "teams": sum(1 for h in counted if "/teams" in h.path),
        "per_repo": sum(1 for h in counted if h.operation != "OrgRepositories" and "/teams" not in h.path),
        "not_modified": sum(1 for h in fake.hits if h.status == 304),
        "git_requests": sum(1 for h in fake.hits if h.resource == "git"),
    }
    return server, elapsed, result.reports[0]


def run() -> dict:
    """Build the organisation, crawl it cold and unchanged; the figures `make bench` prints."""
    from tests.fakes.github_server import FakeGitHub

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    work = Path(tempfile.mkdtemp(prefix="bench-github-"))
    previous = os.environ.get(TOKEN_ENV)
    os.environ[TOKEN_ENV] = TOKEN
    try:
        with FakeGitHub(tokens=(TOKEN,)) as fake:
            started = time.monotonic()
            _organisation(fake, work, now)
            build_s = time.monotonic() - started
            cold, cold_s, cold_report = _crawl(fake, work / "state")
            warm, warm_s, warm_report = _crawl(fake, work / "state")
    finally:
        if previous is None:
            os.environ.pop(TOKEN_ENV, None)
        else:
            os.environ[TOKEN_ENV] = previous
        shutil.rmtree(work, ignore_errors=True)
    assert cold_report["counted"] == cold["inventory"] + cold["teams"] + cold["per_repo"]
    return {
        "repos": REPOS,
        "build_s": round(build_s, 2),
        "first_crawl_s": round(cold_s, 2),
        "first_per_repo_counted": round(cold["per_repo"] / REPOS, 3),
        "first_inventory_pages": cold["inventory"],
        "first_team_requests": cold["teams"],
        "first_counted_total": cold_report["counted"],
        "first_git_fetches": cold_report["git_fetches"],
        "recrawl_s": round(warm_s, 2),
        "recrawl_per_repo_counted": round(warm["per_repo"] / REPOS, 4),
        "recrawl_counted_total": warm_report["counted"],
        "recrawl_not_modified": warm["not_modified"],
        "recrawl_git_requests": warm["git_requests"],
        "production_pacing_first_s": round(cold_report["requests"] * PRODUCTION_PACING_S, 1),
        "production_pacing_recrawl_s": round(warm_report["requests"] * PRODUCTION_PACING_S, 1),
    }


# ------------------------------------------------------------- blob filter


def _asset_repo(path: Path, now: dt.datetime, *, assets: bool) -> None:
    """A service repo: the config files the checks read, 1,500 source and 400 vendored
    files, optionally 40 incompressible 50-300 KB assets, 61 commits over 210 days."""
    import base64
    import random

    from pipelines.demo.gitfast import FastImportStream, init_repo, run_fast_import

    rnd = random.Random(7)
    words = "def class return import self value result data item request response error user order payment".split()

    def text(lines: int, width: int) -> str:
        return "\n".join(" ".join(rnd.choice(words) for _ in range(width)) for _ in range(lines))

    def asset() -> str:
        return base64.b64encode(rnd.randbytes(rnd.randint(40_000, 220_000))).decode()

    files = {
        "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: shop}\n"
                             "spec: {type: service, owner: payments, lifecycle: production}\n",
        "CODEOWNERS": "* @acme/payments\n",
        "README.md": "# shop\n",
        ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps: [{run: make}]\n",
        "chart/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
        "deploy/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop}\n",
        "requirements.txt": "structlog==24.1.0\n",
    }
    files.update({f"src/pkg{i % 30}/mod{i}.py": text(rnd.randint(40, 200), 10) for i in range(1500)})
    files.update({f"vendor/lib{i % 20}/file{i}.js": text(rnd.randint(50, 300), 12) for i in range(400)})
    if assets:
        files.update({f"static/img/asset{i}.png": asset() for i in range(40)})
    stream = FastImportStream("main")
    who = ("Dev", "dev@example.com")
    stream.commit(author=who, when=now - dt.timedelta(days=210), message="start", changes=files)
    for c in range(60):
        changes = {f"src/pkg{i % 30}/mod{i}.py": text(rnd.randint(40, 200), 10) for i in rnd.sample(range(1500), 5)}
        if assets and c % 6 == 0:
            changes[f"static/img/asset{rnd.randrange(40)}.png"] = asset()
        stream.commit(author=who, when=now - dt.timedelta(days=200 - c * 3), message=f"change {c}", changes=changes)
    init_repo(path, "main")
    run_fast_import(path, stream, checkout=False)
    for key in ("uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"):  # as GitHub serves partial clones
        subprocess.run(["git", "-C", str(path), "config", key, "true"], check=True, capture_output=True)


def _disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _partial_fetch(mirror_dir: Path, url: str, since: dt.datetime) -> None:
    """A blobless shallow fetch: the promisor remote is configured by URL only (no token in the config)."""
    from pipelines.sources import github_mirror as gm

    gm.ensure_mirror(mirror_dir, "main")
    for key, value in (("core.repositoryformatversion", "1"), ("extensions.partialClone", "origin"),
                       ("remote.origin.url", url), ("remote.origin.promisor", "true"),
                       ("remote.origin.partialclonefilter", "blob:none")):
        subprocess.run(["git", "-C", str(mirror_dir), "config", key, value], check=True, capture_output=True,
                       env=gm._env("", None))
    subprocess.run(["git", "-C", str(mirror_dir), "fetch", "--quiet", "--no-write-fetch-head", "--filter=blob:none",
                    f"--shallow-since={int(since.timestamp())}", "origin", "+refs/heads/main:refs/heads/main",
                    "+refs/tags/*:refs/tags/*"], check=True, capture_output=True, env=gm._env(url, TOKEN))


def _git_traffic(fake) -> tuple[int, int]:
    hits = [h for h in fake.hits if h.resource == "git"]
    return len(hits), sum(h.size for h in hits)


def blob_filter(*, with_lazy_fetch: bool = False) -> list[dict]:
    """Full shallow fetch vs `--filter=blob:none`, per generated repository (with and without assets)."""
    from pipelines.sources import github_mirror as gm
    from pipelines.sources.local_git import LocalGitSource
    from pipelines.sources.repo_files import kind_of
    from tests.fakes.github_server import FakeGitHub

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    since = now - dt.timedelta(days=400)  # history_days default
    work = Path(tempfile.mkdtemp(prefix="bench-blob-filter-"))
    rows = []
    try:
        with FakeGitHub(tokens=(TOKEN,)) as fake:
            for assets in (True, False):
                name = "with-assets" if assets else "text-only"
                _asset_repo(work / "upstream" / name, now, assets=assets)
                fake.add_repo(name, work / "upstream" / name)
                url = f"{fake.origin}/acme/{name}.git"
                row: dict = {"repo": name}

                full = work / "full" / name
                fake.clear_hits()
                started = time.monotonic()
                gm.fetch(full, url, "main", TOKEN, since=since)
                row["full_fetch_s"] = round(time.monotonic() - started, 2)
                row["full_requests"], row["full_bytes"] = _git_traffic(fake)
                row["full_disk"] = _disk(full)
                crawl = LocalGitSource(work / "full").crawl(name)
                row["full_files"], row["full_error"] = len(crawl.facts.files), crawl.facts.error

                partial = work / "partial" / name
                fake.clear_hits()
                started = time.monotonic()
                _partial_fetch(partial, url, since)
                row["partial_fetch_s"] = round(time.monotonic() - started, 2)
                row["partial_requests"], row["partial_bytes"] = _git_traffic(fake)
                row["partial_disk"] = _disk(partial)
                # Today's reader: `ls-tree --long` wants every blob's size; its git has no token.
                fake.clear_hits()
                row["reader_error"] = LocalGitSource(work / "partial").crawl(name).facts.error
                row["reader_lazy_statuses"] = sorted({h.status for h in fake.hits if h.resource == "git"})

                # What adopting it would take: list without sizes, fetch the blobs the
                # checks read in one request (token in env), then read only those.
                started = time.monotonic()
                fake.clear_hits()
                listing = subprocess.run(["git", "-C", str(partial), "ls-tree", "-r", "-z", "refs/heads/main"],
                                         check=True, capture_output=True, env=gm._env("", None)).stdout
                wanted = []
                for record in filter(None, listing.split(b"\0")):
                    meta, _, path = record.partition(b"\t")
                    _, kind, oid = meta.split()
                    if kind == b"blob" and kind_of(path.decode()) is not None:
                        wanted.append(oid.decode())
                subprocess.run(["git", "-C", str(partial), "-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet",
                                "--no-tags", "--no-write-fetch-head", "--filter=blob:none", "origin", *wanted],
                               check=True, capture_output=True, env=gm._env(url, TOKEN))
                row["wanted_blobs"] = len(wanted)
                row["wanted_fetch_s"] = round(time.monotonic() - started, 2)
                row["wanted_requests"], row["wanted_bytes"] = _git_traffic(fake)
                row["partial_disk_after_wanted"] = _disk(partial)

                if with_lazy_fetch:
                    # Today's reader if the token reached its lazy fetches: one fetch per blob.
                    lazy = work / "lazy" / name
                    _partial_fetch(lazy, url, since)
                    fake.clear_hits()
                    started = time.monotonic()
                    subprocess.run(["git", "-C", str(lazy), "ls-tree", "-r", "-z", "--long", "refs/heads/main"],
                                   check=True, capture_output=True, env=gm._env(url, TOKEN))
                    row["lazy_ls_tree_s"] = round(time.monotonic() - started, 1)
                    row["lazy_requests"], row["lazy_bytes"] = _git_traffic(fake)
                rows.append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def print_blob_filter(rows: list[dict]) -> None:
    mb = 1e6
    for r in rows:
        print(f"{r['repo']}: {r['full_files']} files")
        print(f"  full shallow fetch (today): {r['full_bytes'] / mb:.2f} MB transferred, {r['full_disk'] / mb:.2f} MB "
              f"on disk, {r['full_fetch_s']} s, {r['full_requests']} git requests; read: {r['full_error'] or 'ok'}")
        print(f"  --filter=blob:none:         {r['partial_bytes'] / mb:.2f} MB transferred, {r['partial_disk'] / mb:.2f} MB "
              f"on disk, {r['partial_fetch_s']} s, {r['partial_requests']} git requests")
        print(f"    read by today's reader:   {r['reader_error']} (lazy fetch answered {r['reader_lazy_statuses']})")
        print(f"    + the {r['wanted_blobs']} blobs the checks read, one fetch: {r['wanted_bytes'] / 1e3:.1f} kB, "
              f"{r['wanted_fetch_s']} s incl. listing; {r['partial_disk_after_wanted'] / mb:.2f} MB on disk")
        if "lazy_ls_tree_s" in r:
            print(f"    today's reader with the token in its env: ls-tree --long {r['lazy_ls_tree_s']} s, "
                  f"{r['lazy_requests']} git requests, {r['lazy_bytes'] / mb:.2f} MB")


def main() -> None:
    if "--blob-filter" in sys.argv:
        print_blob_filter(blob_filter(with_lazy_fetch="--with-lazy-fetch" in sys.argv))
        return
    r = run()
    print(f"GitHub source, {r['repos']} repositories on the loopback fake (org built in {r['build_s']} s)")
    print(f"  first crawl:  {r['first_per_repo_counted']:.2f} counted API requests per repo "
          f"(target <= 3; OpenSSF Scorecard ~{OPENSSF_SCORECARD_PER_REPO}) "
          f"+ {r['first_inventory_pages']} inventory pages + {r['first_team_requests']} team requests; "
          f"{r['first_git_fetches']} git fetches; {r['first_crawl_s']} s")
    print(f"  re-crawl:     {r['recrawl_per_repo_counted']:.4f} counted API requests per repo (target < 0.05); "
          f"{r['recrawl_counted_total']} counted in all, {r['recrawl_not_modified']} answered 304; "
          f"{r['recrawl_git_requests']} git requests; {r['recrawl_s']} s")
    print(f"  (pacing off; the production default of {PRODUCTION_PACING_S} s between requests would add about "
          f"{r['production_pacing_first_s']} s / {r['production_pacing_recrawl_s']} s)")


if __name__ == "__main__":
    main()
