"""Outcome cases for the delivery checks: CI and the four DORA metrics (checks/delivery.py).

Run, with every other table, by test_check_outcomes.py.
"""

from __future__ import annotations

from outcome_cases import F, NA, P, REPO_DOWN, U, Case, chain, delivery, ev_, files, same, thresholds, workflow

CASES = [
    Case("has_ci_on_default_branch", P, "main-filter", same, detail=("ci.yml", "1 of 1 recent runs succeeded")),
    Case("has_ci_on_default_branch", P, "unfiltered", workflow(branches=None)),
    Case("has_ci_on_default_branch", P, "glob", workflow(branches=["ma*"])),
    Case("has_ci_on_default_branch", P, "jenkins", chain(ev_(workflows=[]), files(add=["Jenkinsfile"])), detail=("Jenkinsfile",)),
    Case(
        "has_ci_on_default_branch", F, "develop-only", workflow(branches=["develop"]),
        detail=("no workflow runs on push to main or master",), remedy=(".github/workflows/ci.yml",), snippet=("branches: [main]",),
    ),
    Case("has_ci_on_default_branch", F, "pr-only", workflow(triggers=["pull_request"])),
    Case("has_ci_on_default_branch", P, "develop-is-default", chain(workflow(branches=["develop"]), ev_(default_branch="develop"))),
    Case("has_ci_on_default_branch", F, "main-filter-trunk-default", chain(workflow(branches=["main"]), ev_(default_branch="trunk")), detail=("trunk",)),
    # GitHub's push filters (issue 10): tags only, branches-ignore, `!` negations, `*` not crossing `/`.
    Case("has_ci_on_default_branch", F, "tags-only", workflow(branches=None, push_tags=["v*"])),
    Case("has_ci_on_default_branch", P, "tags-and-branches", workflow(branches=["main"], push_tags=["v*"])),
    Case("has_ci_on_default_branch", F, "branches-ignore-main",
         chain(workflow(branches=None, branches_ignore=["main"]), ev_(default_branch="main"))),
    Case("has_ci_on_default_branch", P, "branches-ignore-others", workflow(branches=None, branches_ignore=["release/**"])),
    Case("has_ci_on_default_branch", F, "negated", chain(workflow(branches=["*", "!main"]), ev_(default_branch="main"))),
    Case("has_ci_on_default_branch", P, "negation-undone", workflow(branches=["*", "!ma*", "main"])),
    Case("has_ci_on_default_branch", F, "star-stops-at-slash", chain(workflow(branches=["team/*"]), ev_(default_branch="team/a/main"))),
    Case("has_ci_on_default_branch", P, "double-star-crosses", chain(workflow(branches=["team/**"]), ev_(default_branch="team/a/main"))),
    Case("has_ci_on_default_branch", F, "no-workflows", ev_(workflows=[]), detail=("no CI workflows",)),
    Case("has_ci_on_default_branch", P, "quiet-repo", ev_(ci_runs=[]), detail=("no recent runs recorded",)),
    Case("has_ci_on_default_branch", P, "not-github", ev_(ci_runs=None)),
    Case("has_ci_on_default_branch", U, "repo-down", REPO_DOWN),
    Case("lead_time_meets_target", P, "elite", same, detail=("p50 lead time 5.0 hours, p90 1.2 days (elite tier)",)),
    Case(
        "lead_time_meets_target", F, "medium", delivery(lead_time_p50_hours=55.2 * 4, lead_time_p90_hours=24 * 20),
        detail=("p50 lead time 9.2 days, p90 20.0 days (medium tier, target high)",), remedy=("high tier", "now: medium"),
    ),
    Case("lead_time_meets_target", F, "elite-target", chain(delivery(lead_time_p50_hours=30.0), thresholds(dora_target_tier="elite")), detail=("high tier, target elite",)),
    Case("lead_time_meets_target", U, "no-data", ev_(delivery=None), detail=("no deployment data",), remedy=("record its production deployments",)),
    Case("lead_time_meets_target", U, "no-deploys", delivery(deployments_30d=0, lead_time_p50_hours=None, lead_time_p90_hours=None)),
    Case("deploys_frequently", P, "high", same, detail=("median 4 deploy-days per week", "(high tier)")),
    Case("deploys_frequently", F, "medium", delivery(deploy_days_per_week=0.5), detail=("medium tier, target high",)),
    Case(
        "deploys_frequently", F, "zero-deploys", delivery(deployments_30d=0, deploy_days_per_week=None),
        detail=("no production deployments in the last 30 days",), remedy=("now: low",),
    ),
    Case("deploys_frequently", U, "no-data", ev_(delivery=None)),
    Case("change_failure_rate_within_target", P, "elite", same, detail=("4.0 %",)),
    Case("change_failure_rate_within_target", P, "high-boundary", delivery(change_failure_rate=3 / 30), detail=("10.0 %,", "(high tier)")),
    Case("change_failure_rate_within_target", F, "low", delivery(change_failure_rate=0.2), detail=("20.0 %", "low tier")),
    Case("change_failure_rate_within_target", U, "no-deploys", delivery(change_failure_rate=None)),
    Case("change_failure_rate_within_target", U, "no-data", ev_(delivery=None)),
    Case("restores_quickly", P, "elite", same, detail=("30 minutes",)),
    Case("restores_quickly", F, "medium", delivery(time_to_restore_hours=48.0), detail=("2.0 days", "medium tier")),
    Case("restores_quickly", NA, "no-incidents", delivery(time_to_restore_hours=None, incidents_90d=0)),
    Case("restores_quickly", U, "unresolved", delivery(time_to_restore_hours=None, incidents_90d=1), detail=("none resolved",)),
]
