"""The read model: plain query functions over the published snapshot.

Every reader (the dashboard's pages through `dashboard/data.py`, which only
adds caching; `scorecard explain`; the run summary) asks these functions, and
they only read what the pipeline published: the meaning of a result
(`scorecard_results.counts_as_pass`, `blocks_next_level`), levels, pass rates,
adoption shares and team DORA tiers are decided once, by the pipeline, from
checks/policy.py and checks/dora.py. Nothing here decides them again.

Each function takes the path of the published file first and opens its own
short-lived read-only connection (a long-lived one would pin the old file
after a publish). All SQL is parameterised (named ``$params``); optional
filters read ``($team::VARCHAR IS NULL OR team = $team)`` so one statement
serves "all" and "one".
"""

from pipelines.readmodel.adoption import (
    golden_path_trend,
    level_distribution,
    orphan_manifests,
    orphan_workloads,
    problems,
    services_behind,
    source_freshness,
    team_lag,
    version_distribution,
)
from pipelines.readmodel.base import frame, row
from pipelines.readmodel.checks_page import check_catalogue, check_pass_rates, failing_services
from pipelines.readmodel.fixes import service_fixes
from pipelines.readmodel.compare import check_changes, compare_summary, level_moves, previews
from pipelines.readmodel.initiatives import (
    expiring_waivers,
    initiative_burndown,
    initiative_summary,
    initiative_teams,
    initiative_work,
    initiatives_report,
)
from pipelines.readmodel.requests import request_trend, requests_by_team
from pipelines.readmodel.roi import roi_cohorts, roi_report, roi_subjects, roi_trend
from pipelines.readmodel.overview import latest_snapshot, overview, scorecard_levels, summary_counts
from pipelines.readmodel.rule_changes import rule_changes
from pipelines.readmodel.service import (
    service_checks,
    service_dora,
    service_names,
    service_profile,
    service_report,
    service_trend,
)
from pipelines.readmodel.teams import (
    close_to_next_level,
    dora_services,
    dora_summary,
    next_level_blockers,
    rank_blockers,
    score_trend,
    scorecard_check_list,
    team_overview,
    team_results,
    team_services,
)

__all__ = [
    "check_catalogue", "check_changes", "check_pass_rates", "close_to_next_level", "compare_summary", "dora_services",
    "dora_summary", "expiring_waivers", "failing_services", "frame", "golden_path_trend", "initiative_burndown",
    "initiative_summary", "initiative_teams", "initiative_work", "initiatives_report", "latest_snapshot",
    "level_distribution", "level_moves", "next_level_blockers", "orphan_manifests", "orphan_workloads", "overview",
    "previews", "problems", "rank_blockers", "request_trend", "requests_by_team", "roi_cohorts",
    "roi_report", "roi_subjects", "roi_trend", "row", "rule_changes",
    "score_trend", "scorecard_check_list", "scorecard_levels", "service_checks",
    "service_dora", "service_fixes", "service_names", "service_profile", "service_report", "service_trend", "services_behind",
    "source_freshness", "summary_counts", "team_lag", "team_overview", "team_results", "team_services",
    "version_distribution",
]  # fmt: skip
