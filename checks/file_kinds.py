"""Which kinds of repository file each check's verdict rests on.

A file whose content is not in the clone (a partial or shallow clone left the
blob out, a Git LFS pointer) is recorded on the evidence with its kind
(`pipelines.sources.repo_files.kind_of`). The checks reading that kind cannot
tell "absent" from "not seen", so their verdict becomes `unknown`, naming the
file; every other check keeps its value. One table here and one rule in
`checks.model.evaluate`, instead of a branch in every check.

The rule, in the spirit of `checks._helpers.unreadable_kinds` (objects a
cluster would not list): a `fail`, `warn` or `unknown` that the missing file
could have changed becomes `unknown`; a `pass` rests on what was read and
stands. Where a failure names what was found in a file that *was* read (a
container without a probe, a `:latest` image, a literal secret), it is true
whatever the missing file holds, and stands too.
"""

from __future__ import annotations

from checks.evidence import ServiceEvidence, UnreadableFile

K8S = "k8s"
# A Kustomization says which manifests are patches rather than workloads.
_MANIFESTS = (K8S, "kustomization")

# check id -> the kinds of file whose content it reads.
READS: dict[str, frozenset[str]] = {
    check_id: frozenset(kinds)
    for check_id, kinds in {
        # delivery
        "has_ci_on_default_branch": ("workflow",),
        # golden paths
        "uses_service_template": ("template",),
        "template_up_to_date": ("template",),
        "uses_shared_ci_workflow": ("workflow",),
        "shared_ci_workflow_up_to_date": ("workflow",),
        "uses_base_helm_chart": ("chart", "helm_requirements"),
        "base_helm_chart_up_to_date": ("chart", "helm_requirements"),
        "uses_standard_terraform_modules": ("terraform",),
        "terraform_modules_pinned": ("terraform",),
        "uses_platform_compositions": _MANIFESTS,  # claims are manifests wherever they live
        "composition_revision_up_to_date": _MANIFESTS,
        # observability
        "metrics_scraped": _MANIFESTS,
        "uses_opentelemetry_sdk": ("dependencies",),
        "uses_structured_logging": ("dependencies",),
        "has_dashboards_as_code": _MANIFESTS,
        "has_alerts_as_code": _MANIFESTS,
        "has_slo_defined": (*_MANIFESTS, "catalog"),
        # ownership
        "has_codeowners": ("codeowners",),
        "owner_is_known_team": ("catalog", "codeowners"),
        "has_catalog_entity": ("catalog",),
        "has_oncall_reference": ("catalog",),
        "has_runbook": ("catalog",),
        "has_lifecycle": ("catalog",),
        # reliability
        "has_readiness_probes": _MANIFESTS,
        "has_liveness_probes": _MANIFESTS,
        "has_resource_requests": _MANIFESTS,
        "has_resource_limits": _MANIFESTS,
        "runs_multiple_replicas": _MANIFESTS,
        "has_pod_disruption_budget": _MANIFESTS,
        "has_autoscaler": _MANIFESTS,
        "no_latest_image_tags": _MANIFESTS,
        # security
        "no_literal_secrets": _MANIFESTS,
        "uses_external_secrets": _MANIFESTS,
        "runs_as_non_root": _MANIFESTS,
        # GitOps: an Application / Kustomization manifest in a repository may be the only trace
        "deployed_through_gitops": (K8S,),
        "gitops_automated_sync_with_self_heal": (K8S,),
    }.items()
}

# Checks that judge from file names, host settings or metrics only: an
# unreadable file never changes them. Every check is in READS or here (a test
# holds the catalogue to it), so a new check has to say which it is.
READS_NO_CONTENT = frozenset({
    "has_readme",
    "gitops_in_sync_and_healthy",  # status is only read from a controller, never a file
    "gitops_no_revision_drift",
    "has_security_policy",
    "has_dependency_update_bot",  # by the config file's name
    "default_branch_protected",
    "lead_time_meets_target",
    "deploys_frequently",
    "change_failure_rate_within_target",
    "restores_quickly",
})

# Kinds that feed identity and the workload listing (which services exist,
# the kinds a Helm chart templates), never a check's verdict. Unreadable, they
# are reported as problems of the repository.
NOT_JUDGED = frozenset({"build", "helm_template", "helm_values"})

# A failure of these names something found in a file that was read, so it
# stands whatever the unreadable file holds; only their `unknown` changes.
FAILS_ON_WHAT_WAS_READ = frozenset({
    "template_up_to_date",
    "shared_ci_workflow_up_to_date",
    "base_helm_chart_up_to_date",
    "terraform_modules_pinned",
    "has_readiness_probes",
    "has_liveness_probes",
    "has_resource_requests",
    "has_resource_limits",
    "no_latest_image_tags",
    "no_literal_secrets",
    "runs_as_non_root",
})

# These judge the workloads a cluster reports when there are any
# (`checks._helpers.workload_scope`); the repo's manifests are only read in
# their absence, so an unreadable manifest matters only then.
RUNNING_STATE_FIRST = frozenset({
    "metrics_scraped",
    "has_readiness_probes",
    "has_liveness_probes",
    "has_resource_requests",
    "has_resource_limits",
    "runs_multiple_replicas",
    "has_pod_disruption_budget",
    "has_autoscaler",
    "no_latest_image_tags",
    "uses_external_secrets",
    "runs_as_non_root",
})

REMEDIATION = (
    "Crawl a full clone of {repo}: {files} {verb} not in the crawled one (a partial clone made with "
    "`--filter`, a shallow clone, or Git LFS files never fetched with `git lfs fetch`)."
)


def unread(check_id: str, ev: ServiceEvidence) -> list[UnreadableFile]:
    """The service's unreadable files that this check would have read."""
    kinds = READS.get(check_id)
    if not kinds or not ev.unreadable_files:
        return []
    if check_id in RUNNING_STATE_FIRST and ev.cluster_workloads:
        kinds = kinds - set(_MANIFESTS)
    return [f for f in ev.unreadable_files if f.kind in kinds]


def names(files: list[UnreadableFile], limit: int = 3) -> str:
    paths = list(dict.fromkeys(f.path for f in files))
    if len(paths) <= limit:
        return ", ".join(paths)
    return f"{', '.join(paths[:limit])} and {len(paths) - limit} more"


def detail(files: list[UnreadableFile]) -> str:
    """`k8s/app.yaml: not available in this clone (...)`: the files and why."""
    reasons = list(dict.fromkeys(f.reason for f in files))
    return f"{names(files)}: {reasons[0] if len(reasons) == 1 else 'not available in this clone'}"
