"""Delivery checks: CI on the default branch and the four DORA metrics.

Metric definitions and tiers: DESIGN.md "Metric definitions"; tier functions
in checks/dora.py. A DORA check passes when the service's tier is at or above
the `dora_target_tier` threshold (checks/thresholds.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps

from wcmatch.glob import GLOBSTAR, globmatch

from checks import dora
from checks._helpers import file_index, plural, repo_unknown, summarise_names
from checks.evidence import DeliveryMetrics, ServiceEvidence, Workflow
from checks.model import CheckContext, Outcome, check, failed, not_applicable, passed, unknown

# When the source could not tell the default branch, these are the names it almost always has.
_DEFAULT_BRANCHES = ("main", "master")


def _branches(ev: ServiceEvidence) -> tuple[str, ...]:
    return (ev.default_branch,) if ev.default_branch else _DEFAULT_BRANCHES


@lru_cache(maxsize=4096)
def _ref_matches(ref: str, pattern: str) -> bool:
    # GitHub's filter globs: `*` stops at `/`, `**` does not (docs: "Filter pattern cheat sheet").
    return globmatch(ref, pattern, flags=GLOBSTAR)


def _branch_selected(branch: str, patterns: list[str]) -> bool:
    """`branches:` with `!` negations: the last pattern that matches decides."""
    selected = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _ref_matches(branch, pattern[1:] if negated else pattern):
            selected = not negated
    return selected


def _runs_on_default_branch(w: Workflow, branches: tuple[str, ...]) -> bool:
    """Whether a push to the default branch starts the workflow, by GitHub's rules:
    no ref filter runs on every push; a tag filter alone runs on tags only;
    `branches` selects (negations last-match-wins), `branches-ignore` excludes."""
    if "push" not in w.triggers:
        return False
    if w.branches is None and w.branches_ignore is None:
        return w.push_tags is None
    if w.branches is not None:
        return any(_branch_selected(b, w.branches) for b in branches)
    return any(not any(_ref_matches(b, p) for p in w.branches_ignore or ()) for b in branches)


def _ci_runs_note(runs: list[dict] | None) -> str:
    if runs is None:
        return ""
    if not runs:
        # Not a failure: the CI API keeps a window, and a quiet repo has no recent runs.
        return "; no recent runs recorded"
    finished = [r for r in runs if r.get("conclusion")]
    if not finished:
        return ""
    ok = sum(1 for r in finished if r.get("conclusion") == "success")
    return f"; {ok} of {len(finished)} recent runs succeeded"


_CI_SNIPPET = """# .github/workflows/ci.yml
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
"""


@check(
    id="has_ci_on_default_branch",
    title="CI runs on the default branch",
    category="delivery",
    level="bronze",
    weight=3,
    rationale=(
        "CI on every push to the default branch catches what slipped past pull-request checks (merge "
        "skew, flaky tests) before it is deployed, and is the source of every delivery metric."
    ),
    remediation=(
        "Add a `push` trigger for the default branch to a workflow in {repo} (snippet), or remove the "
        "branch filter that excludes it from `{workflow_file}`."
    ),
)
def has_ci_on_default_branch(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    first_file = ev.workflows[0].file if ev.workflows else ".github/workflows/ci.yml"
    if (missing := repo_unknown(ev, workflow_file=first_file)) is not None:
        return missing
    for w in ev.workflows:
        if _runs_on_default_branch(w, _branches(ev)):
            return passed(f"{w.file} runs on push to the default branch{_ci_runs_note(ev.ci_runs)}")
    other = file_index(ev).other_ci
    if other:
        return passed(f"CI configured in {summarise_names(other)}")
    if not ev.workflows:
        return failed("no CI workflows found", snippet=_CI_SNIPPET, workflow_file=first_file)
    files = summarise_names(w.file for w in ev.workflows)
    return failed(
        f"no workflow runs on push to {' or '.join(_branches(ev))} ({files})",
        snippet=_CI_SNIPPET,
        workflow_file=first_file,
    )


# ---------------------------------------------------------------------- DORA

_CONNECT = (
    "record its production deployments (deploy log, GitHub deployments, a deploy workflow or release "
    "tags) so the scorecard can measure them"
)


@dataclass(frozen=True, slots=True)
class _Measure:
    """One service's delivery metrics, with the target and hint every DORA outcome carries
    (the remediation names the target, the tier reached and what to do)."""

    metrics: DeliveryMetrics
    target: str
    hint: str

    def unknown(self, detail: str) -> Outcome:
        return unknown(detail, tier="unknown", target=self.target, hint=self.hint)

    def judge(self, tier: str, detail: str) -> Outcome:
        params = {"tier": tier, "target": self.target, "hint": self.hint}
        if dora.tier_at_least(tier, self.target):
            return passed(f"{detail} ({tier} tier)", **params)
        return failed(f"{detail} ({tier} tier, target {self.target})", **params)


def _dora_check(*, id: str, title: str, metric: str, rationale: str, hint: str):  # noqa: A002 - the catalogue's word
    """Register a DORA check: same category, level, weight and remediation for all four.

    The decorated function judges a :class:`_Measure`; a service with no
    deployment data at all is `unknown` before it is called.
    """

    def register(judge: Callable[[_Measure], Outcome]) -> Callable[[ServiceEvidence, CheckContext], Outcome]:
        @check(
            id=id,
            title=title,
            category="delivery",
            level="gold",
            weight=2,
            rationale=rationale,
            remediation=f"Bring {{service}}'s {metric} to the {{target}} tier or better (now: {{tier}}): {{hint}}.",
        )
        @wraps(judge)
        def run(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
            target = ctx.thresholds.dora_target_tier
            if ev.delivery is None:
                return unknown("no deployment data for this service", target=target, tier="unknown", hint=_CONNECT)
            return judge(_Measure(ev.delivery, target, hint))

        return run

    return register


@_dora_check(
    id="lead_time_meets_target",
    title="Lead time for changes meets the target",
    metric="lead time",
    rationale=(
        "Lead time (commit to production) measures how quickly a fix or feature reaches users; long "
        "lead times mean big risky batches. Tiers per DORA 2023: "
        f"{dora.LEAD_TIME.describe()}."
    ),
    hint="ship smaller pull requests, merge daily and deploy every merge automatically",
)
def lead_time_meets_target(d: _Measure) -> Outcome:
    m = d.metrics
    if m.deployments_30d == 0 or m.lead_time_p50_hours is None:
        return d.unknown("no production deployments with linked commits in the last 30 days")
    p90 = f", p90 {dora.format_hours(m.lead_time_p90_hours)}" if m.lead_time_p90_hours is not None else ""
    return d.judge(dora.lead_time_tier(m.lead_time_p50_hours), f"p50 lead time {dora.format_hours(m.lead_time_p50_hours)}{p90}")


@_dora_check(
    id="deploys_frequently",
    title="Deploys to production frequently",
    metric="deployment frequency",
    rationale=(
        "Frequent small deployments are less risky than rare big ones and get fixes to users sooner. "
        "Measured as the median number of deploy-days per week over 12 weeks; tiers per DORA 2023: "
        f"{dora.DEPLOY_FREQUENCY.describe()}."
    ),
    hint="automate the production deploy on merge to the default branch and remove manual approval gates",
)
def deploys_frequently(d: _Measure) -> Outcome:
    m = d.metrics
    if m.deploy_days_per_week is None:
        if m.deployments_30d == 0:
            # Not deploying is the lowest tier whatever the target: nothing reaches users.
            return failed("no production deployments in the last 30 days", tier="low", target=d.target, hint=d.hint)
        return d.unknown(f"{m.deployments_30d} deployments in 30 days, but no weekly frequency was computed")
    detail = (
        f"median {m.deploy_days_per_week:g} deploy-days per week over 12 weeks, "
        f"{plural(m.deployments_30d, 'deploy')} in 30 days"
    )
    return d.judge(dora.deploy_frequency_tier(m.deploy_days_per_week), detail)


@_dora_check(
    id="change_failure_rate_within_target",
    title="Change failure rate within target",
    metric="change failure rate",
    rationale=(
        "The share of deployments that cause an incident shows whether speed is bought with "
        "stability. Tiers per DORA 2023: "
        f"{dora.CHANGE_FAILURE.describe()}."
    ),
    hint="add tests for the failures in recent incidents, roll out progressively (canary) and gate on error rate",
)
def change_failure_rate_within_target(d: _Measure) -> Outcome:
    m = d.metrics
    if m.change_failure_rate is None:
        return d.unknown("no production deployments to compute a failure rate from")
    detail = f"change failure rate {m.change_failure_rate * 100:.1f} %, {plural(m.incidents_90d, 'incident')} in 90 days"
    return d.judge(dora.change_failure_tier(m.change_failure_rate), detail)


@_dora_check(
    id="restores_quickly",
    title="Restores service quickly after incidents",
    metric="time to restore",
    rationale=(
        "How fast service is restored after an incident bounds the harm any failure can do. Median "
        "incident duration; tiers per DORA 2023: "
        f"{dora.RESTORE.describe()}."
    ),
    hint="keep one-command rollback, alert on user impact, and keep the runbook current",
)
def restores_quickly(d: _Measure) -> Outcome:
    m = d.metrics
    if m.time_to_restore_hours is None:
        if m.incidents_90d == 0:
            return not_applicable("no incidents in the last 90 days")
        return d.unknown(f"{plural(m.incidents_90d, 'incident')} in 90 days, none resolved yet")
    return d.judge(dora.restore_tier(m.time_to_restore_hours), f"median time to restore {dora.format_hours(m.time_to_restore_hours)}")
