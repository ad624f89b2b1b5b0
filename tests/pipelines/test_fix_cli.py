"""`scorecard fix` as an owner runs it: the patch on stdout, --out, --apply, and what it refuses."""

from __future__ import annotations

import subprocess

from pipelines.cli import main
from pipelines.config import load_config
from tests.gitrepo import catalog_info, commit, git, init

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
spec:
  replicas: 2
  selector:
    matchLabels:
      app: payments-api
  template:
    metadata:
      labels:
        app: payments-api
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/payments-api:1.4.2
"""


def _repo(tmp_path):
    repo = init(tmp_path / "payments-api")
    commit(repo, {"catalog-info.yaml": catalog_info("payments-api"), "k8s/deployment.yaml": DEPLOYMENT,
                  "requirements.txt": "flask==3.0\n"})
    return repo


def test_the_patch_goes_to_stdout_and_applies(tmp_path, capsys):
    repo = _repo(tmp_path)
    assert main(["fix", "payments-api", "--repo-path", str(repo), "--config", str(tmp_path / "none.yaml"),
                 "--check", "has_readiness_probes,has_dependency_update_bot"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("diff --git a/.github/dependabot.yml")
    assert "fix has_readiness_probes: Add a readiness probe to payments-api/api" in err
    assert "declares no port" in err  # the owner is told what the generator guessed
    done = subprocess.run(["git", "-C", str(repo), "apply", "--check", "-"], input=out, text=True,
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_out_writes_the_patch_and_a_tree_mirroring_the_repo(tmp_path, capsys):
    repo = _repo(tmp_path)
    out = tmp_path / "fix"
    assert main(["fix", "payments-api", "--repo-path", str(repo), "--out", str(out), "--check", "has_slo_defined",
                 "--config", str(tmp_path / "none.yaml")]) == 0
    assert (out / "fix.patch").read_text().startswith("diff --git a/slo.yaml b/slo.yaml")
    assert (out / "slo.yaml").read_text().startswith("# sloth: slo.yaml")
    assert not (repo / "slo.yaml").exists()


def test_apply_changes_the_checkout_and_refuses_a_dirty_one(tmp_path, capsys):
    repo = _repo(tmp_path)
    args = ["fix", "payments-api", "--repo-path", str(repo), "--apply", "--check", "has_pod_disruption_budget",
            "--config", str(tmp_path / "none.yaml")]
    (repo / "requirements.txt").write_text("flask==3.1\n")
    assert main(args) == 2
    assert "uncommitted changes" in capsys.readouterr().err
    assert "PodDisruptionBudget" not in (repo / "k8s/deployment.yaml").read_text()
    git(repo, "checkout", "--", "requirements.txt")
    assert main(args) == 0
    assert "kind: PodDisruptionBudget" in (repo / "k8s/deployment.yaml").read_text()


def test_an_unknown_service_or_check_is_a_clear_error(tmp_path, capsys):
    repo = _repo(tmp_path)
    assert main(["fix", "payments-apy", "--repo-path", str(repo), "--config", str(tmp_path / "none.yaml")]) == 2
    assert "did you mean payments-api?" in capsys.readouterr().err
    assert main(["fix", "payments-api", "--repo-path", str(repo), "--check", "has_codeowner",
                 "--config", str(tmp_path / "none.yaml")]) == 2
    assert "did you mean 'has_codeowners'" in capsys.readouterr().err


def test_without_repo_path_the_stored_evidence_and_the_configured_checkout_are_used(scored_org, capsys):
    import duckdb

    con = duckdb.connect(str(scored_org.serving), read_only=True)
    service, check_id = con.execute("SELECT service, check_id FROM generated_fixes ORDER BY service, check_id LIMIT 1"
                                    ).fetchone()
    con.close()
    assert main(["fix", service, "--check", check_id, "--config", str(scored_org.config)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("diff --git"), err
    assert load_config(scored_org.config).warehouse_path.exists()
