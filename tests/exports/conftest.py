"""Published snapshots the export tests read, made by the pipeline's own code.

* ``built``: the dashboard's published history (tests/dashboard/snapshot_fixture.py),
  13 weekly snapshots of the demo organisation, built once per test run.
* ``hostile``: a small real ``scorecard run`` (CLI, own process) over a git
  repository whose services and owners are named by a hostile config: quotes,
  backslashes, newlines, a fake ``# EOF``, path traversal, XML and NUL-free
  control characters. The serving step writes the static exports next to it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dashboard.conftest import built  # noqa: F401 - the shared published history, built once per run
from tests.gitrepo import commit, init

ROOT = Path(__file__).resolve().parents[2]

# Names a user can put in scorecard.yaml (`services:` name and owner) or a repository.
HOSTILE_SERVICES = {
    'evil"} 1\n# EOF': 'team "quoted"',
    "../../etc/passwd": "back\\slash\\",
    "<svg onload=alert(1)>&amp;": "new\nline\nteam",
    "spaced name\twith tab": "ünïcødé-团队 🚀",
}


def scorecard(*args: str, cwd: Path = ROOT, check: bool = True) -> subprocess.CompletedProcess:
    """`scorecard ARGS` as a user runs it: its own process, the installed entry point's main()."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"scorecard {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


@dataclass(frozen=True)
class HostileRun:
    root: Path
    config: Path
    serving: Path


def hostile_org(root: Path) -> Path:
    """A git repository and a config declaring the hostile services in it; returns the config."""
    repo = init(root / "repos" / "evil")
    commit(repo, {"README.md": "# evil\n", "Dockerfile": "FROM scratch\n"},
           when=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    services = [{"name": name, "repo": "evil", "path": "", "owner": owner} for name, owner in HOSTILE_SERVICES.items()]
    # JSON is YAML: every escape above is written exactly.
    config = {"sources": {"repos": [{"root": "repos"}]}, "services": services,
              "scorecards": [{"name": "default"}, {"name": '../"odd" <scorecard>'}]}
    path = root / "scorecard.yaml"
    path.write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    root = tmp_path_factory.mktemp("hostile-exports")
    config = hostile_org(root)
    scorecard("run", "--config", str(config))
    return HostileRun(root, config, root / "serving" / "scorecard.duckdb")
