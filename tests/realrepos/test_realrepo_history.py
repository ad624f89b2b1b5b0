"""Delivery history and partial clones on the real repositories (../shared/realrepos).

Lead times: bank-of-anthos tags every release `vX.Y.Z` on a `release/*`
branch, off the default branch. For a day whose 30-day window holds release
tags, the run's own stages must give the lead times an independent count
with plain git gives: per tag, `git rev-list <previous tag>..<tag> -- <path>`,
each commit's committer time, p50/p90 by linear interpolation (DuckDB's
quantile_cont, DESIGN.md "Lead time for changes").

Partial clones: these are partial clones themselves; every repository is
crawled at HEAD and at an old as_of without a repository-level error, and the
commits whose trees name absent blobs are crawled too, through a scratch
repository that borrows the real one's objects (git alternates: nothing is
copied, nothing in ../shared is written).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import subprocess
from pathlib import Path

import pytest

from pipelines import stages
from pipelines.config import parse_config
from pipelines.sources.local_git import LocalGitSource
from pipelines.sources.repo_files import kind_of
from tests.realrepos import REALREPOS, needs_realrepos

pytestmark = needs_realrepos

RELEASE = re.compile(r"^v?\d+\.\d+\.\d+$")  # the config's default release_tag_pattern
# By hand from the tree: the whole repository, three services' folders, the manifests folder.
PATHS = {
    "boa-whole": "",
    "boa-frontend": "src/frontend",
    "boa-userservice": "src/accounts/userservice",
    "boa-ledgerwriter": "src/ledger/ledgerwriter",
    "boa-manifests": "kubernetes-manifests",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def release_tags(repo: Path, until: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """(time, commit) per release tag before `until`, oldest first: tagger date if annotated, else committer date."""
    fmt = "%(refname:strip=2) %(objecttype) %(taggerdate:unix) %(committerdate:unix) %(*objectname) %(objectname)"
    tags = []
    for line in git(repo, "for-each-ref", f"--format={fmt}", "refs/tags").splitlines():
        name, kind, tagger, committed, peeled, oid = line.split(" ")
        if RELEASE.search(name):
            at, sha = (int(tagger), peeled) if kind == "tag" else (int(committed), oid)
            when = dt.datetime.fromtimestamp(at, dt.UTC)
            if when < until:
                tags.append((when, sha))
    return sorted(tags)


def quantile_cont(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def expected_lead_times(repo: Path, as_of: dt.date, path: str) -> tuple[int, list[float]]:
    """(release tags in the 30-day window, lead times in hours of the changes they shipped)."""
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
    tags = release_tags(repo, end)
    in_window, hours = 0, []
    for (_, previous), (when, sha) in zip(tags, tags[1:], strict=False):
        if not end - dt.timedelta(days=30) <= when < end:
            continue
        in_window += 1
        out = git(repo, "rev-list", "--timestamp", f"{previous}..{sha}", *(["--", path] if path else []))
        for line in out.splitlines():
            lead = (when - dt.datetime.fromtimestamp(int(line.split()[0]), dt.UTC)).total_seconds() / 3600
            if lead > 0:
                hours.append(lead)
    return in_window, hours


@pytest.mark.parametrize("as_of", [dt.date(2021, 12, 20), dt.date(2022, 10, 25), dt.date(2026, 7, 20)])
def test_bank_of_anthos_release_tag_lead_times_equal_gits_own_count(tmp_path, as_of):
    repo = REALREPOS / "bank-of-anthos.git"
    config = parse_config(
        {
            "sources": {"repos": [{"root": str(REALREPOS), "include": ["bank-of-anthos"]}]},
            "services": [{"name": name, "repo": "bank-of-anthos", "path": path} for name, path in PATHS.items()],
            "warehouse": {"path": str(tmp_path / "warehouse" / "scorecard.duckdb")},
        },
        "test",
        tmp_path,
    )
    point = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)  # ScorecardSettings.crawl_point
    crawl = stages.crawl_repos(stages.repo_sources(config), point)
    records, _ = stages.resolve(crawl.crawls, config, point)
    assert set(PATHS) <= {r.service for r in records}
    metrics = stages.delivery_metrics(records, crawl.crawls, stages.Events(), config, as_of).set_index("service")

    for service, path in PATHS.items():
        tags, hours = expected_lead_times(repo, as_of, path)
        assert tags >= 1, "pick a day whose window holds release tags"
        row = metrics.loc[service]
        assert row.deployments_30d == tags
        for column, q in (("lead_time_p50_hours", 0.5), ("lead_time_p90_hours", 0.9)):
            want, got = quantile_cont(hours, q), row[column]
            if want is None:
                assert got is None or math.isnan(got), (service, column)
            else:
                assert got == pytest.approx(want, abs=1e-6), (service, column)
        if not path:
            assert hours, "the whole repository shipped changes in this window"


# ------------------------------------------------------------- partial clones


def _middle_of_history(repo: Path) -> dt.datetime:
    times = git(repo, "log", "--first-parent", "--format=%ct", "HEAD").split()
    return dt.datetime.fromtimestamp(int(times[len(times) // 2]), dt.UTC) + dt.timedelta(hours=1)


@pytest.mark.parametrize("name", sorted(p.name.removesuffix(".git") for p in REALREPOS.glob("*.git")))
def test_each_real_repository_is_crawled_at_head_and_long_ago(name):
    source = LocalGitSource(REALREPOS, include=[name])
    assert source.repo_names() == [name]
    for as_of in (None, _middle_of_history(REALREPOS / f"{name}.git")):
        crawl = source.crawl(name, as_of)
        assert crawl.facts.error is None, (as_of, crawl.facts.error)
        assert crawl.facts.files


def _commits_naming_absent_blobs(repo: Path) -> dict[str, list[str]]:
    """commit -> paths whose blob is absent, one commit per absent blob (found with plain git)."""
    absent = [line[1:] for line in git(repo, "rev-list", "--all", "--objects", "--missing=print").splitlines()
              if line.startswith("?")]
    found: dict[str, list[str]] = {}
    for oid in absent:
        commits = git(repo, "log", "--all", "--no-renames", "--format=%H %P", f"--find-object={oid}").split()
        for commit in dict.fromkeys(commits):  # it is in the tree that added it, or the parent of the one removing it
            bad = [line.split("\t", 1)[1] for line in git(repo, "ls-tree", "-r", "--long", commit).splitlines()
                   if line.split()[3] == "BAD"]
            if bad:
                found[commit] = bad
                break
    return found


CASES = [
    (name, commit, paths)
    for name in sorted(p.name.removesuffix(".git") for p in REALREPOS.glob("*.git"))
    for commit, paths in (_commits_naming_absent_blobs(REALREPOS / f"{name}.git") if REALREPOS.is_dir() else {}).items()
]


@pytest.mark.skipif(not CASES, reason="no commit in the real repositories names an absent blob")
@pytest.mark.parametrize(("name", "commit", "absent"), CASES, ids=[f"{n}@{c[:8]}" for n, c, _ in CASES])
def test_a_real_commit_with_absent_blobs_is_scored_not_failed(tmp_path, name, commit, absent):
    borrowed = tmp_path / "repos" / f"{name}.git"
    borrowed.parent.mkdir()
    git(tmp_path, "init", "-q", "--bare", str(borrowed))
    (borrowed / "objects" / "info" / "alternates").write_text(f"{REALREPOS / f'{name}.git' / 'objects'}\n")
    git(borrowed, "update-ref", "refs/heads/main", commit)
    git(borrowed, "symbolic-ref", "HEAD", "refs/heads/main")

    source = LocalGitSource(borrowed.parent)
    source.repo_names()
    crawl = source.crawl(name)
    assert crawl.facts.error is None
    listed = git(borrowed, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    assert set(absent) <= set(crawl.facts.files) and len(crawl.facts.files) == len(listed)
    unreadable = {u.path: u.reason for u in crawl.facts.unreadable}
    for path in absent:
        if kind_of(path) is not None:  # a file the crawl reads: unknown, with the reason
            assert "not available in this clone" in unreadable[path]
        else:  # a binary nobody parses: only listed
            assert path not in unreadable
