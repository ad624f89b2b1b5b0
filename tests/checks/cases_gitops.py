"""Outcome cases for the GitOps checks (checks/gitops.py).

Run, with every other table, by test_check_outcomes.py. The base service has
no GitOps object; each case gives it the objects it is about.
"""

from __future__ import annotations

from dataclasses import replace

from conftest import GITOPS_APP, GITOPS_OLD, GITOPS_SHA
from outcome_cases import NA, Case, F, P, U, W, chain, ctx_, ev_

from checks.evidence_gitops import GitOpsApp, GitOpsSource
from checks.model import GoldenPath

ARGO = GITOPS_APP
SHA, OLD = GITOPS_SHA, GITOPS_OLD
FLUX_HR = GitOpsApp(
    tool="flux", kind="HelmRelease", name="payments-api", namespace="payments",
    sources=(GitOpsSource(None, chart="payments-api", target_revision="1.4.x", ref_kind="HelmRepository", ref_name="acme-charts"),),
    automated=True, self_heal=True, sync_status="Synced", health="Healthy",
    desired_revision="1.4.2", applied_revision="1.4.2", cluster="prod-eu", environment="production",
    linked_by="object name",
)
DECLARED = replace(ARGO, file="apps/payments.yaml", cluster=None, environment=None, sync_status=None, health=None,
                   desired_revision=None, applied_revision=None, history=())
PATH = GoldenPath("argocd", "platform-v2", ("legacy", "platform-v1", "platform-v2"))  # as in conftest


def apps(*items: GitOpsApp):
    return ev_(gitops=list(items))


def argo(**changes):
    return apps(replace(ARGO, **changes))


ON = ctx_(gitops=PATH)
NONE = ev_(gitops=[])
DOWN = ev_(gitops=[], gitops_errors=["prod-eu: applications.argoproj.io forbidden (403)"])

CASES = [
    Case("deployed_through_gitops", P, "argo", chain(ON, apps(ARGO)),
         detail=("Application argocd/payments-api", "project platform-v2", "status.resources")),
    Case("deployed_through_gitops", P, "declared-in-repo", chain(ON, apps(DECLARED))),
    Case("deployed_through_gitops", P, "flux-accepted", chain(ctx_(gitops=GoldenPath("argocd,flux")), apps(FLUX_HR)),
         detail=("Flux HelmRelease", "source acme-charts")),
    Case("deployed_through_gitops", P, "older-project", chain(ON, argo(project="legacy")), detail=("project legacy",)),
    Case("deployed_through_gitops", F, "none", chain(ON, NONE),
         detail=("no Argo CD Application or Flux Kustomization/HelmRelease deploys payments-api",),
         remedy=("Deploy payments-api with Argo CD", "project platform-v2"),
         snippet=("kind: Application", "repoURL: https://github.com/<org>/payments.git", "namespace: payments",
                  "selfHeal: true")),
    Case("deployed_through_gitops", F, "other-tool", chain(ON, apps(FLUX_HR)), detail=("not the platform's Argo CD",)),
    Case("deployed_through_gitops", NA, "not-configured", ctx_(gitops=None), detail=("no GitOps golden path",)),
    Case("deployed_through_gitops", NA, "library", chain(ON, NONE, ev_(type="library"))),
    Case("deployed_through_gitops", U, "cluster-read-failed", chain(ON, DOWN), detail=("forbidden (403)",)),
    Case("deployed_through_gitops", U, "not-looked", ev_(gitops=None)),
    Case("gitops_in_sync_and_healthy", P, "synced-healthy", apps(ARGO), detail=("Synced and Healthy",)),
    Case("gitops_in_sync_and_healthy", F, "out-of-sync", argo(sync_status="OutOfSync"),
         detail=("Application argocd/payments-api is OutOfSync and Healthy",),
         remedy=("argocd app sync payments-api",), snippet=("argocd app sync payments-api",)),
    Case("gitops_in_sync_and_healthy", F, "degraded-flux",
         apps(replace(FLUX_HR, health="Degraded", health_message="upgrade retries exhausted")),
         detail=("Degraded (upgrade retries exhausted)",), snippet=("flux reconcile helmrelease payments-api -n payments",)),
    Case("gitops_in_sync_and_healthy", W, "progressing", argo(health="Progressing"), detail=("Synced but Progressing",)),
    Case("gitops_in_sync_and_healthy", U, "no-status", argo(health=None), detail=("reports no sync or health status",)),
    Case("gitops_in_sync_and_healthy", U, "cluster-read-failed", DOWN),
    Case("gitops_in_sync_and_healthy", NA, "no-object", NONE, detail=("no GitOps object",)),
    Case("gitops_in_sync_and_healthy", NA, "staging-only", argo(environment="staging")),
    Case("gitops_in_sync_and_healthy", NA, "declared-only", apps(DECLARED), detail=("has no status",)),
    Case("gitops_automated_sync_with_self_heal", P, "argo", apps(ARGO), detail=("automated sync with self-heal",)),
    Case("gitops_automated_sync_with_self_heal", P, "declared", apps(DECLARED)),
    Case("gitops_automated_sync_with_self_heal", F, "no-self-heal", argo(self_heal=False),
         detail=("syncs automatically without selfHeal",), snippet=("selfHeal: true",)),
    Case("gitops_automated_sync_with_self_heal", F, "manual", argo(automated=False, self_heal=False),
         detail=("syncs only by hand",), remedy=("syncPolicy.automated",)),
    Case("gitops_automated_sync_with_self_heal", F, "flux-suspended",
         apps(replace(FLUX_HR, automated=False, self_heal=False, suspended=True)),
         detail=("is suspended",), snippet=("flux resume helmrelease payments-api -n payments",)),
    Case("gitops_automated_sync_with_self_heal", NA, "no-object", NONE),
    Case("gitops_automated_sync_with_self_heal", U, "cluster-read-failed", DOWN),
    Case("gitops_no_revision_drift", P, "same-sha", apps(ARGO), detail=("running the revision Git holds (4f2c9e1)",)),
    Case("gitops_no_revision_drift", P, "short-sha", argo(applied_revision=SHA[:7])),
    Case("gitops_no_revision_drift", F, "behind", argo(applied_revision=OLD),
         detail=("Git is at 4f2c9e1, 9b1d0aa is running",), remedy=("Git is at 4f2c9e1, 9b1d0aa is running",)),
    Case("gitops_no_revision_drift", F, "chart-behind", apps(replace(FLUX_HR, desired_revision="1.5.0")),
         detail=("Git is at 1.5.0, 1.4.2 is running",)),
    Case("gitops_no_revision_drift", U, "never-deployed", argo(applied_revision=None)),
    Case("gitops_no_revision_drift", NA, "no-object", NONE),
    Case("gitops_no_revision_drift", U, "cluster-read-failed", DOWN),
]
