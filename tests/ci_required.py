"""In CI nothing important is skipped: the browser, corpus, real-repository and cluster tests must run.

On a user's clone ``../shared`` may be absent and Chromium, PostgreSQL or Redis
not installed, so those tests skip there. CI (``CI=true``) has them all; a skip for lack of one
would hide a whole class of failures behind a green run, so there it fails
the session at the start (what is missing, and how to get it) and turns any
such skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CHROMIUM = Path("/usr/bin/chromium")

# What CI must have, and the words by which a test's skip reason names it.
REQUIRED = {
    "Chromium (browser tests)": (CHROMIUM, ("chromium",)),
    "the configuration corpus": (SHARED / "corpus" / "INDEX.tsv", ("corpus",)),
    "the real repositories": (SHARED / "realrepos", ("real repositories", "realrepos")),
    # The distributed test (tests/pipelines/test_cluster.py): the Debian packages' servers.
    "PostgreSQL (cluster tests)": (Path("/usr/lib/postgresql"), ("postgresql",)),
    "Redis (cluster tests)": (Path("/usr/bin/redis-server"), ("redis",)),
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing() -> list[str]:
    return [f"{name} at {path}" for name, (path, _) in REQUIRED.items() if not path.exists()]


def important(reason: str) -> bool:
    reason = reason.lower()
    return any(word in reason for _, words in REQUIRED.values() for word in words)


def _reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_sessionstart(session) -> None:
    if in_ci() and (gone := missing()):
        raise pytest.UsageError(
            "CI=true but these are missing, so their tests would be skipped: " + "; ".join(gone)
            + " (install Chromium, PostgreSQL and Redis with `apt-get install -y chromium postgresql redis-server`, "
            "as .ci/run does; ../shared comes with the CI checkout)"
        )


def _fail_important_skip(report) -> None:
    if in_ci() and report.skipped and not hasattr(report, "wasxfail") and important(reason := _reason(report)):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where it must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_important_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_important_skip(outcome.get_result())
