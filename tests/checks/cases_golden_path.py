"""Outcome cases for the golden-path checks (checks/golden_path.py).

Run, with every other table, by test_check_outcomes.py.
"""

from __future__ import annotations

from checks.evidence import (
    HelmChart,
    HelmDependency,
    TerraformModule,
    WorkflowRef,
)

from outcome_cases import (
    F, MODULE, MONOREPO, NA, NO_WORKLOADS, P, REPO_DOWN, U, W, Case, base_chart_version, chain, ci_ref, ctx_,
    ev_, modules, same, template, thresholds, workflow,
)  # fmt: skip

CASES = [
    Case("uses_service_template", P, "default", same, detail=("gh:acme/service-template",)),
    Case("uses_service_template", P, "ssh-spelling", template(source="git@github.com:acme/service-template.git")),
    Case("uses_service_template", P, "trailing-slash", template(source="https://github.com/acme/service-template/")),
    Case(
        "uses_service_template", F, "no-answers", ev_(templates=[]),
        detail=(".copier-answers.yml",), remedy=("copier copy --trust https://github.com/acme/service-template.git",),
    ),
    Case(
        "uses_service_template", F, "other-template", template(source="gh:acme/service-template-legacy"),
        detail=("service-template-legacy", "not the platform template"),
    ),
    Case("uses_service_template", U, "no-source", template(source=None), detail=("does not record",)),
    Case("uses_service_template", U, "repo-down", REPO_DOWN, detail=("repository is empty",)),
    Case("uses_service_template", NA, "not-configured", ctx_(template=None)),
    Case("template_up_to_date", P, "latest", same, detail=("v2.3.0", "latest")),
    Case("template_up_to_date", P, "git-describe", template(version="v2.3.0-4-g1a2b3c4")),
    Case(
        "template_up_to_date", W, "one-behind", template(version="v2.2.0"),
        detail=("1 release behind v2.3.0",), remedy=("in the root of payments run `copier update --vcs-ref v2.3.0`",),
    ),
    Case(
        "template_up_to_date", W, "monorepo", chain(MONOREPO, template(version="v2.2.0")),
        remedy=("in `services/payments` of payments run",),
    ),
    Case("template_up_to_date", F, "two-behind", template(version="v2.1.0"), detail=("2 releases behind",)),
    Case("template_up_to_date", F, "strict-threshold", chain(template(version="v2.2.0"), thresholds(template_max_releases_behind=0))),
    Case(
        "template_up_to_date", W, "cookiecutter", template(tool="cookiecutter", version="v2.2.0"),
        remedy=("cruft update --checkout v2.3.0",),
    ),
    Case("template_up_to_date", U, "no-version", template(version=None), detail=("does not record the template version",)),
    Case("template_up_to_date", U, "sha-version", template(version="deadbeefcafe"), detail=("not one of the known releases",)),
    Case("template_up_to_date", NA, "not-on-template", ev_(templates=[])),
    Case("uses_shared_ci_workflow", P, "default", same, detail=("python.yml@v4.2.0",)),
    Case(
        "uses_shared_ci_workflow", F, "hand-written", workflow(refs=[WorkflowRef(".github/workflows/ci.yml", "t", "actions/checkout@v4", "actions/checkout", "v4", False)]),
        detail=("none calls acme/platform-workflows",),
        snippet=("uses: acme/platform-workflows/.github/workflows/<workflow>.yml@v4.2.0",),
    ),
    Case(
        "uses_shared_ci_workflow", F, "lookalike-repo",
        workflow(refs=[WorkflowRef("ci.yml", "t", "acme/platform-workflows-legacy/x.yml@v1", "acme/platform-workflows-legacy/x.yml", "v1", True)]),
    ),
    Case("uses_shared_ci_workflow", F, "no-workflows", ev_(workflows=[]), detail=("no GitHub Actions workflows",)),
    Case("uses_shared_ci_workflow", U, "repo-down", REPO_DOWN),
    Case("shared_ci_workflow_up_to_date", P, "latest", same, detail=("v4.2.0",)),
    Case("shared_ci_workflow_up_to_date", P, "floating-major", ci_ref("v4"), detail=("at v4, not behind the latest release v4.2.0",)),
    Case("shared_ci_workflow_up_to_date", W, "one-behind", ci_ref("v4.1.0"), remedy=("@v4.2.0", ".github/workflows/ci.yml")),
    Case("shared_ci_workflow_up_to_date", F, "old-major", ci_ref("v3.9.0"), detail=("3 releases behind",)),
    Case("shared_ci_workflow_up_to_date", W, "branch", ci_ref("main"), detail=("tracks branch main", "unpinned")),
    Case("shared_ci_workflow_up_to_date", W, "no-ref", ci_ref(None), detail=("unpinned",)),
    Case("shared_ci_workflow_up_to_date", W, "sha", ci_ref("8f4b7f84864484a7bf31766abe9204da3cbe65b3"), detail=("commit 8f4b7f848644",)),
    Case("shared_ci_workflow_up_to_date", U, "unknown-tag", ci_ref("release-candidate"), detail=("not one of the known releases",)),
    Case("shared_ci_workflow_up_to_date", NA, "not-used", ev_(workflows=[])),
    Case("uses_base_helm_chart", P, "default", same, detail=("base-service 3.2.0",)),
    Case(
        "uses_base_helm_chart", F, "own-chart", ev_(helm_charts=[HelmChart("deploy/Chart.yaml", "payments-api", "1.0.0", [HelmDependency("redis", "18.0.0", None)])]),
        detail=("deploy/Chart.yaml does not depend on base-service",), remedy=("deploy/Chart.yaml",),
        snippet=("name: base-service", "version: 3.2.0", "repository: oci://ghcr.io/acme/charts"),
    ),
    Case("uses_base_helm_chart", F, "plain-manifests", ev_(helm_charts=[]), detail=("deployed from plain manifests",)),
    Case("uses_base_helm_chart", F, "no-chart-monorepo", chain(ev_(helm_charts=[]), MONOREPO), remedy=("services/payments/chart/Chart.yaml",)),
    Case("uses_base_helm_chart", NA, "library", chain(ev_(helm_charts=[], type="library"), NO_WORKLOADS)),
    Case("uses_base_helm_chart", NA, "experimental-undeployed", chain(ev_(helm_charts=[], lifecycle="experimental"), NO_WORKLOADS)),
    Case("uses_base_helm_chart", U, "repo-down", REPO_DOWN),
    Case("base_helm_chart_up_to_date", P, "latest", same),
    Case("base_helm_chart_up_to_date", P, "tilde-range", base_chart_version("~3.2.0")),
    Case("base_helm_chart_up_to_date", W, "one-behind", base_chart_version("3.1.0"), detail=("1 release behind 3.2.0",), remedy=("from 3.1.0 to 3.2.0",)),
    Case("base_helm_chart_up_to_date", F, "old", base_chart_version("2.9.0"), detail=("3 releases behind",), remedy=("chart/Chart.yaml",)),
    Case("base_helm_chart_up_to_date", U, "no-version", base_chart_version(None), detail=("does not state a base-service version",)),
    Case("base_helm_chart_up_to_date", NA, "not-used", ev_(helm_charts=[])),
    Case("uses_standard_terraform_modules", P, "default", same, detail=("github.com/acme/terraform-modules",)),
    Case(
        "uses_standard_terraform_modules", F, "third-party",
        modules(TerraformModule("rds.tf", "rds", "terraform-aws-modules/rds/aws", "6.1.0", "registry")),
        detail=("1 of 3 modules is not from", "rds (terraform-aws-modules/rds/aws)"), remedy=("rds (terraform-aws-modules/rds/aws)",),
    ),
    Case(
        "uses_standard_terraform_modules", F, "lookalike-org",
        modules(TerraformModule("x.tf", "x", "github.com/acme/terraform-modules-fork//x?ref=v1", "v1", "git")),
    ),
    Case("uses_standard_terraform_modules", NA, "local-only", modules(TerraformModule("m.tf", "l", "./l", None, "local"), keep=False)),
    Case("uses_standard_terraform_modules", NA, "not-configured", ctx_(terraform=None)),
    Case("uses_standard_terraform_modules", U, "repo-down", REPO_DOWN),
    Case("terraform_modules_pinned", P, "default", same),
    Case("terraform_modules_pinned", P, "registry-pessimistic", modules(TerraformModule("r.tf", "r", "acme/r/aws", "~> 3.0", "registry"))),
    Case("terraform_modules_pinned", P, "sha-ref", modules(TerraformModule("s.tf", "s", MODULE, "8f4b7f84", "git"))),
    Case(
        "terraform_modules_pinned", F, "branch-ref", modules(TerraformModule("net.tf", "vpc", MODULE, "main", "git")),
        detail=("vpc in net.tf (tracks branch main)",), remedy=("vpc in net.tf",),
    ),
    Case("terraform_modules_pinned", F, "registry-no-version", modules(TerraformModule("r.tf", "r", "acme/r/aws", None, "registry")), detail=("no version",)),
    Case("terraform_modules_pinned", F, "open-ended", modules(TerraformModule("r.tf", "r", "acme/r/aws", ">= 3.0", "registry")), detail=("open-ended constraint >= 3.0",)),
    Case("terraform_modules_pinned", F, "git-no-ref", modules(TerraformModule("g.tf", "g", "github.com/acme/terraform-modules//g", None, "git")), detail=("no ?ref=",)),
    Case("terraform_modules_pinned", NA, "none", modules(keep=False)),
]
