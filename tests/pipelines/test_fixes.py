"""Every generated fix is verified: the patch applies with `git apply` to a real repository, and the
check, re-run through the CI gate's crawl and evaluation, passes on the patched commit."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from checks.catalogue import CATALOGUE
from checks.model import Status, evaluate
from pipelines.config import parse_config
from pipelines.fix_cli import apply_patch, find_service
from pipelines.fixes.engine import generate_for_service
from pipelines.fixes.model import UnsafePath, safe_path, unified_patch
from pipelines.gate import checkout_evidence
from tests.gitrepo import catalog_info, commit, git, init

TODAY = dt.datetime.now(dt.UTC).date()

DEPLOYMENT = """\
# The API's deployment: reviewed by payments.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
spec:
  replicas: 3  # three zones
  selector:
    matchLabels:
      app.kubernetes.io/name: payments-api
  template:
    metadata:
      labels:
        app.kubernetes.io/name: payments-api
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/payments-api:1.4.2
          ports:
            - name: http
              containerPort: 8080
"""

CHART = """\
apiVersion: v2
name: payments-api
version: 0.3.0
dependencies:
  # the platform's base chart
  - name: base-service
    version: 1.0.0
    repository: oci://ghcr.io/acme/charts
"""

WORKFLOW = """\
name: ci
on:
  push:
    branches: [main]
jobs:
  build:
    uses: acme/platform-workflows/.github/workflows/build.yml@v1  # shared build
"""


def _config(**extra):
    return parse_config({
        "organisation": "acme",
        "golden_paths": {
            "helm_chart": {"reference": "oci://ghcr.io/acme/charts/base-service", "releases": ["1.0.0", "1.1.0", "2.0.0"]},
            "ci_workflow": {"reference": "acme/platform-workflows", "releases": ["v1", "v2", "v3"]},
        },
        **extra,
    }, "test", Path("."))


def _repo(tmp_path: Path, files: dict[str, str], name: str = "payments-api") -> Path:
    repo = init(tmp_path / "repos" / name)
    commit(repo, files, "initial")
    return repo


def _status(repo: Path, service: str, check_id: str, config=None) -> Status:
    """The check as the CI gate judges the committed checkout."""
    _, _, _, evidence = checkout_evidence(repo, config or _config(), TODAY)
    ev = next(e for e in evidence if e.service == service)
    return evaluate(CATALOGUE[check_id], ev, (config or _config()).check_context(TODAY)).status


def _fix_and_recheck(repo: Path, service: str, check_id: str, config=None) -> str:
    """Generate the fix for one check, `git apply` it, commit, and assert the check now passes."""
    config = config or _config()
    assert _status(repo, service, check_id, config) in (Status.FAIL, Status.WARN)
    ev, ctx, root = find_service(config, service, repo)
    result = generate_for_service(ev, ctx, lambda p: (root / p).read_text() if (root / p).is_file() else None,
                                  [check_id])
    assert [f.check_id for f in result.fixes] == [check_id], result.skipped
    patch = result.patch()
    apply_patch(root, patch)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"fix {check_id}")
    assert _status(repo, service, check_id, config) is Status.PASS
    return patch


def test_catalog_entity_is_written_with_the_owner_codeowners_names(tmp_path):
    repo = _repo(tmp_path, {"README.md": "# api\n", ".github/CODEOWNERS": "* @acme/payments\n", "Dockerfile": "FROM x\n"})
    patch = _fix_and_recheck(repo, "payments-api", "has_catalog_entity")
    assert "+++ b/catalog-info.yaml" in patch
    assert "  owner: payments\n" in (repo / "catalog-info.yaml").read_text()


def test_lifecycle_is_set_in_place_and_the_owners_comments_stay(tmp_path):
    entity = "# owned by payments\n" + catalog_info("payments-api").replace("  lifecycle: production\n", "")
    repo = _repo(tmp_path, {"catalog-info.yaml": entity, "README.md": "x\n"})
    _fix_and_recheck(repo, "payments-api", "has_lifecycle")
    text = (repo / "catalog-info.yaml").read_text()
    assert text.startswith("# owned by payments\n") and "  lifecycle: production" in text


def test_codeowners_gets_a_rule_for_the_service(tmp_path):
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), "README.md": "x\n"})
    patch = _fix_and_recheck(repo, "payments-api", "has_codeowners")
    assert "new file mode 100644" in patch
    assert (repo / ".github/CODEOWNERS").read_text() == "* @payments\n"


def test_dependabot_covers_the_ecosystems_of_the_manifests(tmp_path):
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), "requirements.txt": "flask==3.0\n",
                            ".github/workflows/ci.yml": WORKFLOW})
    _fix_and_recheck(repo, "payments-api", "has_dependency_update_bot")
    text = (repo / ".github/dependabot.yml").read_text()
    assert '"pip"' in text and '"github-actions"' in text


@pytest.mark.parametrize("check_id", ["has_readiness_probes", "has_liveness_probes", "has_resource_requests",
                                      "has_resource_limits"])
def test_container_stanzas_are_added_and_the_manifest_keeps_its_comments(tmp_path, check_id):
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), "k8s/deployment.yaml": DEPLOYMENT})
    _fix_and_recheck(repo, "payments-api", check_id)
    text = (repo / "k8s/deployment.yaml").read_text()
    assert text.startswith("# The API's deployment: reviewed by payments.\n")
    assert "replicas: 3  # three zones" in text


def test_pod_disruption_budget_is_added_next_to_the_workload(tmp_path):
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), "k8s/deployment.yaml": DEPLOYMENT})
    _fix_and_recheck(repo, "payments-api", "has_pod_disruption_budget")
    text = (repo / "k8s/deployment.yaml").read_text()
    assert text.startswith(DEPLOYMENT) and "kind: PodDisruptionBudget" in text


def test_base_chart_is_bumped_to_the_latest_release(tmp_path):
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), "chart/Chart.yaml": CHART})
    patch = _fix_and_recheck(repo, "payments-api", "base_helm_chart_up_to_date")
    assert "-    version: 1.0.0\n+    version: 2.0.0\n" in patch
    assert "# the platform's base chart" in (repo / "chart/Chart.yaml").read_text()


def test_shared_workflow_ref_is_bumped_and_the_comment_stays(tmp_path):
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), ".github/workflows/ci.yml": WORKFLOW})
    _fix_and_recheck(repo, "payments-api", "shared_ci_workflow_up_to_date")
    assert "build.yml@v3  # shared build" in (repo / ".github/workflows/ci.yml").read_text()


def test_slo_file_is_written(tmp_path):
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api")})
    _fix_and_recheck(repo, "payments-api", "has_slo_defined")
    assert (repo / "slo.yaml").exists()


def test_a_monorepo_service_fix_lands_in_its_sub_path(tmp_path):
    repo = _repo(tmp_path, {
        "services/ledger/catalog-info.yaml": catalog_info("ledger").replace("  lifecycle: production\n", ""),
        "services/billing/catalog-info.yaml": catalog_info("billing"),
    }, name="mono")
    patch = _fix_and_recheck(repo, "ledger", "has_slo_defined")
    assert "+++ b/services/ledger/slo.yaml" in patch
    patch = _fix_and_recheck(repo, "ledger", "has_lifecycle")
    assert "services/ledger/catalog-info.yaml" in patch and "billing" not in patch


def test_an_already_passing_check_yields_no_patch(tmp_path):
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), ".github/CODEOWNERS": "* @payments\n"})
    ev, ctx, _ = find_service(_config(), "payments-api", repo)
    result = generate_for_service(ev, ctx, lambda p: None, ["has_codeowners", "has_catalog_entity"])
    assert result.fixes == [] and result.skipped == [] and result.patch() == ""


def test_a_patch_never_touches_files_outside_the_repo(tmp_path):
    for bad in ("../outside.txt", "/etc/passwd", "a/../../b", ".git/config", ""):
        with pytest.raises(UnsafePath):
            unified_patch({bad: (None, "x\n")})
    assert safe_path("./a//b.yaml") == "a/b.yaml"
    # Every file a real run generates is inside the checkout: git apply --check agrees.
    repo = _repo(tmp_path, {"k8s/deployment.yaml": DEPLOYMENT, "chart/Chart.yaml": CHART, "requirements.txt": "x\n"})
    ev, ctx, root = find_service(_config(), "payments-api", repo)
    result = generate_for_service(ev, ctx, lambda p: (root / p).read_text() if (root / p).is_file() else None)
    assert len(result.fixes) >= 6
    for path in result.changed:
        assert (root / path).resolve().is_relative_to(root.resolve())
    check = subprocess.run(["git", "-C", str(root), "apply", "--check", "-"], input=result.patch(), text=True,
                           capture_output=True, check=False)
    assert check.returncode == 0, check.stderr


def test_non_mechanical_checks_say_why_and_give_the_remediation(tmp_path):
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api", owner="ghosts")})
    ev, ctx, _ = find_service(_config(teams=[{"name": "payments"}]), "payments-api", repo)
    result = generate_for_service(ev, ctx, lambda p: None, ["owner_is_known_team", "has_readme"])
    reasons = {s.check_id: s for s in result.skipped}
    assert "team directory" in reasons["owner_is_known_team"].reason
    assert "ghosts" in reasons["owner_is_known_team"].remediation
    assert reasons["has_readme"].remediation


def test_a_registered_token_in_a_file_never_reaches_a_published_patch(tmp_path):
    from pipelines import secrets
    from pipelines.fixes.publish import fix_rows

    token = "ghp_" + "T0kenInAComment" * 2
    leaky = WORKFLOW.replace("# shared build", f"# shared build, token {token}")
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), ".github/workflows/ci.yml": leaky})
    secrets.register(token)
    try:
        config = _config()
        _, _, _, evidence = checkout_evidence(repo, config, TODAY)
        rows = fix_rows(evidence, config.check_context(TODAY),
                        lambda _repo: lambda p: (repo / p).read_text() if (repo / p).is_file() else None, TODAY)
        bump = next(r for r in rows if r[2] == "shared_ci_workflow_up_to_date")
        assert "@v3" in bump[-1] and token not in "".join(map(str, rows))
    finally:
        secrets.SECRETS.clear()


def test_a_multi_document_manifest_keeps_its_other_documents(tmp_path):
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: payments-api  # the front door\n" \
              "spec:\n  selector:\n    app.kubernetes.io/name: payments-api\n"
    manifest = f"---\n{service}---\n{DEPLOYMENT}"
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), "k8s/app.yaml": manifest})
    _fix_and_recheck(repo, "payments-api", "has_resource_requests")
    text = (repo / "k8s/app.yaml").read_text()
    assert text.startswith("---\napiVersion: v1\nkind: Service\n") and "name: payments-api  # the front door" in text
    assert text.count("\n---\n") == 1 and "cpu: 100m" in text


def test_a_helm_template_is_not_edited_and_says_why(tmp_path):
    template = DEPLOYMENT.replace("replicas: 3  # three zones", "replicas: {{ .Values.replicas }}")
    repo = _repo(tmp_path, {"catalog-info.yaml": catalog_info("payments-api"), "k8s/deployment.yaml": template})
    ev, ctx, root = find_service(_config(), "payments-api", repo)
    result = generate_for_service(ev, ctx, lambda p: (root / p).read_text() if (root / p).is_file() else None,
                                  ["has_readiness_probes"])
    if result.skipped:  # the crawl may not read a template as a workload at all; if it does, no edit
        assert "template" in result.skipped[0].reason or "no container" in result.skipped[0].reason
    assert result.fixes == [] and result.patch() == ""
