"""`scorecard gate` as a CI job runs it: the installed entry point on real git checkouts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import catalog_info, commit, git, init
from tests.realrepos import REALREPOS, needs_realrepos

SCORECARD = Path(sys.executable).parent / "scorecard"

TEAMS = "teams:\n  - name: payments\n    aliases: ['@acme/payments']\n  - name: search\n"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations:
        prometheus.io/scrape: "true"
    spec:
      containers:
        - name: {name}
          image: registry.example.com/{name}:1.4.2
          readinessProbe:
            httpGet: {{path: /ready, port: 8080}}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
"""


def bronze_files(name: str = "payments-api", owner: str = "payments", prefix: str = "") -> dict[str, str]:
    """A service that meets every Bronze check a checkout can show (README, owners, catalog, probes, ...)."""
    return {
        f"{prefix}catalog-info.yaml": catalog_info(name, owner),
        f"{prefix}README.md": f"# {name}\n",
        f"{prefix}k8s/deployment.yaml": DEPLOYMENT.format(name=name),
    }


REPO_WIDE = {
    "CODEOWNERS": "* @acme/payments\n",
    "renovate.json": '{"extends": ["config:recommended"]}\n',
    ".github/workflows/ci.yml": "on:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                                "    steps:\n      - uses: actions/checkout@v4\n      - run: make test\n",
}


def gate(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SCORECARD_"))}
    return subprocess.run([str(SCORECARD), "gate", *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "scorecard.yaml"
    path.write_text(TEAMS)
    return path


@pytest.fixture
def good_repo(tmp_path) -> Path:
    repo = init(tmp_path / "payments-api")
    commit(repo, {**REPO_WIDE, **bronze_files()})
    return repo


def test_a_bronze_service_passes_the_bronze_gate(good_repo, config):
    proc = gate(str(good_repo), "--fail-under", "bronze", "--config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.strip().startswith("payments-api"))
    assert "bronze" in line and line.rstrip().endswith("ok")
    assert "scorecard gate: passed (1 service)" in proc.stdout


def test_the_gate_reads_the_checked_out_commit_not_the_default_branch(good_repo, config):
    git(good_repo, "checkout", "-q", "-b", "remove-readme")
    commit(good_repo, {"README.md": None}, "drop the README")
    proc = gate("--fail-under", "bronze", "--config", str(config), cwd=good_repo / "k8s")  # default PATH: .
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL (below bronze)" in proc.stdout
    assert "has_readme (bronze)" in proc.stdout and "fix: " in proc.stdout
    assert "scorecard gate: FAILED (1 of 1 services)" in proc.stdout


def test_without_a_bar_the_gate_reports_and_passes(good_repo, config):
    commit(good_repo, {"README.md": None})
    proc = gate(str(good_repo), "--config", str(config))
    assert proc.returncode == 0 and "has_readme" in proc.stdout


def test_a_named_check_fails_the_gate_only_when_it_fails(good_repo, config):
    failing = gate(str(good_repo), "--check", "has_runbook", "--config", str(config))
    assert failing.returncode == 1
    assert "FAIL (--check has_runbook fail)" in failing.stdout
    both = gate(str(good_repo), "--check", "has_readme,has_codeowners", "--check", "has_lifecycle", "--config", str(config))
    assert both.returncode == 0, both.stdout
    # Deploy data is not in a checkout: the check is unknown, reported, and does not fail the gate.
    dora = gate(str(good_repo), "--check", "deploys_frequently", "--config", str(config))
    assert dora.returncode == 0, dora.stdout
    assert re.search(r"not judged here .*deploys_frequently", dora.stdout)


def test_cluster_and_deploy_checks_never_fail_the_gate(tmp_path, config):
    # No manifests at all: every workload check needs a cluster the gate does not read.
    repo = init(tmp_path / "lib-service")
    files = {**REPO_WIDE, **bronze_files("lib-service")}
    del files["k8s/deployment.yaml"]
    commit(repo, files)
    proc = gate(str(repo), "--fail-under", "bronze", "--format", "json", "--config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (service,) = json.loads(proc.stdout)["services"]
    statuses = {r["check_id"]: r["status"] for r in service["results"]}
    assert statuses["has_readiness_probes"] == "unknown" and statuses["lead_time_meets_target"] == "unknown"
    assert service["level"] == "bronze" and service["passed"]


def test_a_monorepo_gets_one_line_per_service(tmp_path, config):
    repo = init(tmp_path / "commerce")
    files = {**REPO_WIDE, **bronze_files("cart", prefix="services/cart/"),
             **bronze_files("search", owner="search", prefix="services/search/")}
    del files["services/search/README.md"]
    commit(repo, files)
    proc = gate(str(repo), "--fail-under", "bronze", "--config", str(config))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = {ln.split()[0]: ln for ln in proc.stdout.splitlines()[1:3]}
    assert set(lines) == {"cart", "search"}
    assert lines["cart"].rstrip().endswith("ok") and "FAIL (below bronze)" in lines["search"]
    report = json.loads(gate(str(repo), "--fail-under", "bronze", "--format", "json", "--config", str(config)).stdout)
    assert {s["service"]: (s["passed"], s["path"]) for s in report["services"]} == {
        "cart": (True, "services/cart"), "search": (False, "services/search")}
    assert report["exit_code"] == 1 and "has_readme" in report["services"][1]["failing"]


def test_github_format_annotates_the_files_of_failing_checks(good_repo, config):
    commit(good_repo, {"README.md": None})
    proc = gate(str(good_repo), "--fail-under", "silver", "--format", "github", "--config", str(config))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    below = next(ln for ln in lines if ln.startswith("::error file=catalog-info.yaml,title=scorecard%3A payments-api below"))
    assert "is at level none, below silver" in below
    readme = next(ln for ln in lines if "has_readme" in ln and ln.startswith("::error"))
    assert readme.startswith("::error title=payments-api%3A has_readme (bronze) fail::")
    assert "%0AFix: " in readme and "\n" not in readme
    # A finding about a manifest is placed on it (the check names it in its detail, not in a param).
    limits = [ln for ln in lines if ln.startswith("::error file=k8s/deployment.yaml,title=payments-api%3A has_liveness")]
    assert limits, "a finding about k8s/deployment.yaml is annotated on that file"
    # The plain report is fenced, so nothing in it can act as a workflow command.
    token = next(ln for ln in lines if ln.startswith("::stop-commands::")).split("::")[2]
    assert lines[-1] == f"::{token}::" and "scorecard gate: FAILED" in proc.stdout


def test_github_actions_default_to_annotations(good_repo, config):
    proc = gate(str(good_repo), "--config", str(config), "--check", "has_runbook", env={"GITHUB_ACTIONS": "true"})
    assert proc.returncode == 1
    assert any(ln.startswith("::error title=payments-api%3A has_runbook") for ln in proc.stdout.splitlines())


def test_the_job_summary_is_appended(good_repo, config, tmp_path):
    commit(good_repo, {"README.md": None})
    summary = tmp_path / "step-summary.md"
    summary.write_text("## Earlier step\n")
    proc = gate(str(good_repo), "--fail-under", "bronze", "--config", str(config),
                env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 1
    text = summary.read_text()
    assert text.startswith("## Earlier step\n")
    assert "### Scorecard gate: failed" in text and "| service | level | score | gate | failing checks (fix) |" in text
    row = next(ln for ln in text.splitlines() if ln.startswith("| payments-api |"))
    assert "❌ below bronze" in row and "`has_readme` (bronze): Add `README.md` to payments-api" in row


def test_a_broken_catalog_info_is_reported_not_a_crash(good_repo, config):
    commit(good_repo, {"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n"
                                            "  name: [payments-api\nspec: {owner: payments\n"})
    proc = gate(str(good_repo), "--fail-under", "bronze", "--format", "github", "--config", str(config))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    warning = next(ln for ln in proc.stdout.splitlines() if ln.startswith("::warning file=catalog-info.yaml,line=5,"))
    assert "did not find expected" in warning
    assert "Problems reading the checkout:\n  catalog-info.yaml: line 5" in proc.stdout
    assert re.search(r"has_catalog_entity \(bronze\): no catalog entity", proc.stdout)


@pytest.mark.parametrize("kind", ["plain directory", "missing", "bare repository"])
def test_a_path_that_is_not_a_checkout_exits_2(tmp_path, kind):
    path = tmp_path / "not-a-repo"
    if kind == "plain directory":
        path.mkdir()
    elif kind == "bare repository":
        subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    proc = gate(str(path), "--fail-under", "bronze")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    expected = "no such directory" if kind == "missing" else "not a git working tree"
    assert f"scorecard: {path}: {expected}" in proc.stderr and "Traceback" not in proc.stderr


def test_a_checkout_without_commits_exits_2(tmp_path):
    repo = init(tmp_path / "fresh")
    summary = tmp_path / "summary.md"
    proc = gate(str(repo), "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 2 and "nothing committed yet" in proc.stderr
    assert proc.stdout.startswith("::error title=scorecard gate could not run::")
    assert summary.read_text().startswith("### Scorecard gate could not run\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--fail-under", "platinum"], "--fail-under platinum: scorecard 'default' has the levels bronze, silver, gold"),
    (["--check", "has_readem"], "--check has_readem: no such check; did you mean 'has_readme'?"),
    (["--scorecard", "strict"], "--scorecard strict: no such scorecard in the config (it has: default)"),
])
def test_usage_errors_exit_2(good_repo, args, message):
    proc = gate(str(good_repo), *args)
    assert proc.returncode == 2 and message in proc.stderr


def test_a_bad_config_exits_2_naming_it(good_repo, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scorecards: [{name: x, levels: []}]\n")
    proc = gate(str(good_repo), "--config", str(bad))
    assert proc.returncode == 2 and str(bad) in proc.stderr and "scorecards[0].levels" in proc.stderr
    missing = gate(str(good_repo), env={"SCORECARD_CONFIG": str(tmp_path / "nope.yaml")})
    assert missing.returncode == 2 and "config file not found" in missing.stderr


def test_waivers_and_custom_levels_from_the_config_apply(good_repo, tmp_path):
    commit(good_repo, {"README.md": None})
    config = tmp_path / "scorecard.yaml"
    config.write_text(TEAMS + "waivers:\n  - {service: payments-api, check: has_readme, reason: docs move, "
                      "expires: 2999-01-01}\n")
    assert gate(str(good_repo), "--fail-under", "bronze", "--config", str(config)).returncode == 0
    config.write_text(TEAMS + "scorecards:\n  - name: minimal\n    levels:\n"
                      "      - {name: basic, checks: [has_codeowners, has_lifecycle]}\n")
    proc = gate(str(good_repo), "--scorecard", "minimal", "--fail-under", "basic", "--config", str(config))
    assert proc.returncode == 0 and "payments-api  basic" in proc.stdout


def test_the_gate_loads_neither_dagster_nor_pandas(good_repo, config):
    probe = ("import sys; from pipelines.cli import main; code = main(sys.argv[1:]); "
             "print(sorted(m for m in ('dagster', 'pandas', 'streamlit', 'github') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe, "gate", str(good_repo), "--format", "json",
                           "--config", str(config)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stderr
    help_probe = ("import sys; from pipelines.cli import build_parser; build_parser(); "
                  "print(sorted(m for m in ('dagster', 'pandas', 'pydantic', 'duckdb') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", help_probe], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "[]"


@needs_realrepos
@pytest.mark.parametrize("name", ["bank-of-anthos", "spring-petclinic-microservices", "argocd-example-apps",
                                  "flux2-kustomize-helm-example"])
def test_a_clone_of_a_real_repository(tmp_path, name):
    clone = tmp_path / name
    subprocess.run(["git", "clone", "-q", str(REALREPOS / f"{name}.git"), str(clone)], check=True)
    proc = gate(str(clone), "--format", "json", "--check", "has_codeowners,no_literal_secrets")
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    assert report["commit"] == git(clone, "rev-parse", "HEAD") and report["repo"] == name
    assert report["services"] and all(len(s["results"]) >= 40 for s in report["services"])
    failed = {c for s in report["services"] for c in s["failed_checks"]}
    assert (proc.returncode == 1) == bool(failed)
    if name == "bank-of-anthos":
        # The services it builds: one per src/ folder with a Dockerfile of its own (stated from the tree).
        dockerfiles = git(clone, "ls-files", "src/*/Dockerfile", "src/*/*/Dockerfile").split()
        assert {Path(f).parent.name for f in dockerfiles} <= {s["service"] for s in report["services"]}
