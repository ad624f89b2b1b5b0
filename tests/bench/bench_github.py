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
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
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


def main() -> None:
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
