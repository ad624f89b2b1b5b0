"""Helpers shared by the GitHub source tests: a source pointed at the fake, and fact comparison."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from pipelines import stages
from pipelines.config import GitHubSourceConfig
from pipelines.facts import RepoFacts
from pipelines.sources.github import GitHubSource
from pipelines.sources.github_state import GitHubRepoCrawl
from tests.fakes.github_server import FakeGitHub

# Shaped like a real classic token so a leak would be recognisable anywhere.
TOKEN = "ghp_ScorecardTestSecret0123456789abcdefXYZ"
TOKEN_ENV = "SCORECARD_TEST_GITHUB_TOKEN"
# Facts only the API knows, and where a repo was read from: not comparable with a clone.
API_ONLY = {"location", "source", "archived", "branch_protected", "ci_runs"}


def make_source(fake: FakeGitHub, state_dir: Path, **overrides) -> GitHubSource:
    """A source with test-speed settings: no pacing, millisecond backoff, short waits."""
    settings = {
        "organisation": fake.org,
        "base_url": fake.base_url,
        "token_env": TOKEN_ENV,
        "seconds_between_requests": 0,
        "backoff_s": 0.01,
        "max_wait_s": 3,
        "timeout_s": 2,
        **overrides,
    }
    return GitHubSource(GitHubSourceConfig(**settings), state_dir=state_dir, production_environments=["production", "prod"])


def crawl(source: GitHubSource, as_of: dt.datetime | None = None) -> tuple[dict[str, GitHubRepoCrawl], stages.RepoCrawlResult]:
    """Crawl through the same stage the pipeline uses (thread pool, status rows, run report)."""
    result = stages.crawl_repos([source], as_of)
    return {c.facts.repo: c for c in result.crawls}, result  # type: ignore[misc]


def comparable(facts: RepoFacts) -> dict:
    return {f.name: getattr(facts, f.name) for f in dataclasses.fields(facts) if f.name not in API_ONLY}


def serve_directory(fake: FakeGitHub, root: Path, **attrs) -> list[str]:
    names = []
    for child in sorted(Path(root).iterdir()):
        if (child / ".git").exists() or (child / "HEAD").is_file():
            fake.add_repo(child.name, child, **attrs)
            names.append(child.name)
    return names

