"""CI=true turns a skipped browser, corpus or real-repository test into a failure; other skips stay skips."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests import ci_required

REPO = Path(__file__).resolve().parents[1]

SKIPS = textwrap.dedent(
    """
    import pytest

    def test_browser():
        pytest.skip("needs /usr/bin/chromium (apt-get install -y chromium)")

    @pytest.mark.skipif(True, reason="shared corpus not present next to the repository")
    def test_corpus():
        pass

    def test_unrelated():
        pytest.skip("PyYAML built without libyaml")
    """
)


def run(tmp_path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_skips.py").write_text(SKIPS)
    env = {**os.environ, "CI": ci}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.ci_required",
         "--rootdir", str(tmp_path), str(tmp_path / "test_skips.py")],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )


def test_outside_ci_the_skips_are_skips(tmp_path):
    done = run(tmp_path, "")
    assert done.returncode == 0, done.stdout
    assert "3 skipped" in done.stdout


def test_in_ci_an_important_skip_fails_and_says_why(tmp_path):
    done = run(tmp_path, "true")
    if ci_required.missing():  # this machine lacks one: the session refuses to start, naming it
        assert done.returncode != 0 and "CI=true but these are missing" in done.stderr + done.stdout
        return
    assert done.returncode == 1, done.stdout
    # A skip at call time fails the test; a skipif at setup shows as an error: both fail the run.
    assert "1 failed, 1 skipped, 1 error" in done.stdout
    assert "skipped in CI, where it must run: shared corpus not present" in done.stdout
    assert "skipped in CI, where it must run: needs /usr/bin/chromium" in done.stdout


def test_in_ci_a_missing_resource_stops_the_session_with_what_to_do(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(ci_required, "REQUIRED", {"Chromium (browser tests)": (ci_required.SHARED / "no-such", ("chromium",))})
    try:
        ci_required.pytest_sessionstart(None)
    except Exception as exc:  # pytest.UsageError
        assert "Chromium (browser tests)" in str(exc) and "apt-get install -y chromium" in str(exc)
    else:
        raise AssertionError("the session started although Chromium is missing in CI")
