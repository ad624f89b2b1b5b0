"""Typed evidence: the normalised facts that checks read.

These types are plain data so that `checks/` stays pure: the crawlers in
`pipelines/` build them, the checks only read them. `ServiceEvidence` is what a
check is given; the other types are its parts. The crawl's own records
(`RepoFacts`, `K8sInventory`, commits and tags, build files) are
`pipelines.facts`: no check reads them.

Convention for missing data (DESIGN.md, "Evidence"): a field that could not be
observed is ``None`` (unknown), never ``False`` or an empty list. An empty list
means "we looked and there is none".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from checks.evidence_crossplane import Claim, CompositionCatalogue
from checks.evidence_gitops import GitOpsApp


@dataclass(slots=True)
class Problem:
    """A file or object that could not be read, with a reason a person can act on."""

    path: str
    reason: str


@dataclass(slots=True)
class UnreadableFile:
    """A file the crawl needed whose content is not in the clone (a blob left out by
    a partial or shallow clone, a Git LFS pointer): the facts it holds are unknown."""

    path: str
    kind: str  # which parser it was for: `pipelines.sources.repo_files.kind_of`
    reason: str  # "not available in this clone (...)"


# ------------------------------------------------------- parts of the evidence


@dataclass(slots=True)
class CatalogEntity:
    """One document of a Backstage ``catalog-info.yaml``."""

    kind: str
    name: str
    file: str  # path of the catalog file inside the repo
    namespace: str = "default"
    owner: str | None = None
    lifecycle: str | None = None
    system: str | None = None
    type: str | None = None
    description: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    # A component's path in a monorepo: the directory of its catalog file, or
    # the `backstage.io/source-location` sub-path when it points inside the repo.
    path: str = ""
    errors: list[str] = field(default_factory=list)  # schema problems ("spec.owner missing")
    # "repo": read from a file in the repository; "portal": served by a running
    # developer portal's catalog (no repository needed to know it).
    origin: str = "repo"


@dataclass(slots=True)
class CodeOwnersRule:
    pattern: str
    owners: list[str]
    line: int


@dataclass(slots=True)
class CodeOwners:
    file: str  # "CODEOWNERS", ".github/CODEOWNERS" or "docs/CODEOWNERS"
    rules: list[CodeOwnersRule]
    errors: list[str] = field(default_factory=list)  # unparseable lines, with line numbers


@dataclass(slots=True)
class TemplateInfo:
    """Which service template generated the repo (copier answers or cookiecutter replay)."""

    tool: str  # "copier" | "cookiecutter"
    file: str
    source: str | None  # _src_path / template URL
    version: str | None  # _commit (copier) or the recorded checkout/version


@dataclass(slots=True)
class WorkflowRef:
    """A `uses:` reference found in a GitHub Actions workflow."""

    file: str
    job: str
    uses: str  # raw value, e.g. "acme/platform-workflows/.github/workflows/deploy.yml@v4"
    target: str  # the part before "@" ("acme/platform-workflows/.github/workflows/deploy.yml")
    ref: str | None  # the part after "@" ("v4"), None when unpinned
    reusable: bool  # job-level `uses:` (reusable workflow) vs step-level action


@dataclass(slots=True)
class Workflow:
    file: str
    name: str | None
    triggers: list[str]  # on: push / pull_request / workflow_dispatch ...
    branches: list[str] | None  # push `branches` filter (may hold `!negations`), None when not given
    refs: list[WorkflowRef] = field(default_factory=list)
    branches_ignore: list[str] | None = None  # push `branches-ignore`, None when not given
    push_tags: list[str] | None = None  # push `tags` / `tags-ignore` patterns, None when neither is given


@dataclass(slots=True)
class HelmDependency:
    name: str
    version: str | None
    repository: str | None


@dataclass(slots=True)
class HelmChart:
    file: str
    name: str | None
    version: str | None
    dependencies: list[HelmDependency] = field(default_factory=list)
    values: HelmValues | None = None  # values.yaml beside Chart.yaml, when there is one
    # Kinds its templates declare (`kind: Rollout` in templates/rollout.yaml): templates are Go
    # templates, never parsed as YAML, but the kind line says what the chart deploys.
    template_kinds: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TerraformModule:
    file: str
    name: str
    source: str
    version: str | None  # `version =` for registry modules, `?ref=` for git sources
    kind: str  # "registry" | "git" | "local" | "http" | "other"


@dataclass(slots=True)
class DependencyManifest:
    file: str
    ecosystem: str  # "python" | "node" | "go" | "maven" | "gradle"
    packages: list[str]  # normalised package names the service ships with (checks.observability classifies them)


@dataclass(slots=True)
class HelmValues:
    """Facts from a chart's values.yaml that say what the chart runs."""

    file: str
    image: str | None = None  # image.repository[:image.tag], or a plain `image:` string
    replica_count: int | None = None
    variants: list[str] = field(default_factory=list)  # values-<env>.yaml files beside it


# What a literal env value looks like, kept instead of the value (checks.security
# judges which are secrets): a flag as programs read one (true/false, yes/no,
# on/off, y/n, 0/1), only a substitution (`$(VAR)` expanded by Kubernetes, a
# `${VAR}` or `{{ ... }}` template placeholder), or any other text.
ENV_SWITCH = "switch"
ENV_PLACEHOLDER = "placeholder"
ENV_TEXT = "text"


@dataclass(slots=True)
class Container:
    name: str
    image: str | None
    readiness_probe: bool
    liveness_probe: bool
    cpu_request: str | None = None
    memory_request: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None
    run_as_non_root: bool | None = None  # container securityContext, None when unset
    run_as_user: int | None = None
    # Env vars with a literal `value`: name -> the value's form (ENV_TEXT, ENV_SWITCH,
    # ENV_PLACEHOLDER), never the value itself, which may be a secret.
    literal_env: dict[str, str] = field(default_factory=dict)
    secret_refs: list[str] = field(default_factory=list)  # Secret names referenced (secretKeyRef/envFrom)
    init: bool = False


@dataclass(slots=True)
class Workload:
    """Any object with a pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob, bare Pod,
    Argo Rollout, ...), from a cluster or a manifest in a repo."""

    kind: str
    name: str
    namespace: str
    labels: dict[str, str]  # the workload's metadata.labels
    pod_labels: dict[str, str]  # spec.template.metadata.labels
    annotations: dict[str, str]  # metadata + pod template annotations merged (pod wins)
    replicas: int | None  # Kubernetes' default of 1 when unset; None for kinds without a count (DaemonSet, Job)
    containers: list[Container]
    pod_run_as_non_root: bool | None = None
    pod_run_as_user: int | None = None
    file: str | None = None  # manifest path when it came from a repo
    cluster: str | None = None  # cluster name when it came from a cluster
    environment: str | None = None  # "production", "staging", ... from source config
    created_at: str | None = None
    uid: str | None = None
    replicas_defaulted: bool = False  # `spec.replicas` unset: the 1 is the API server's default
    # Other manifest files in the same repository describing this same workload
    # (kind, namespace, name): copies and variants, judged once through this one.
    also_in: list[str] = field(default_factory=list)
    # CSI volumes of the pod: (driver, `volumeAttributes.secretProviderClass` or None).
    csi_volumes: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass(slots=True)
class K8sObject:
    """Any other Kubernetes object a check needs: Service, PDB, HPA, monitors, ExternalSecret."""

    kind: str
    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    # kind-specific, already normalised:
    #   Service: {"selector": {...}}
    #   PodDisruptionBudget / ServiceMonitor / PodMonitor: {"match_labels": {...}}
    #   HorizontalPodAutoscaler: {"target_kind": ..., "target_name": ..., "min": n, "max": n}
    #   ExternalSecret: {"target": secret name}
    spec: dict
    file: str | None = None
    cluster: str | None = None
    environment: str | None = None


# ------------------------------------------------------------- service level


@dataclass(slots=True)
class DeliveryMetrics:
    """DORA metrics for one service over the trailing windows (see DESIGN.md)."""

    deployments_30d: int
    lead_time_p50_hours: float | None
    lead_time_p90_hours: float | None
    deploy_days_per_week: float | None  # median over the trailing 12 weeks
    change_failure_rate: float | None  # 0..1, None when there were no deployments
    time_to_restore_hours: float | None  # median, None when there were no resolved incidents
    incidents_90d: int = 0


@dataclass(slots=True)
class ServiceEvidence:
    """All facts about one service, scoped to its path in its repo."""

    service: str
    identity_rule: str  # "catalog" | "config" | "discovered" | "repo"
    repo: str | None
    path: str  # "" for the repo root
    team: str | None
    owner_source: str | None  # where `team` came from: "catalog spec.owner", "config", "CODEOWNERS"
    as_of: dt.date
    lifecycle: str | None = None
    system: str | None = None
    type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    catalog: CatalogEntity | None = None  # None: no catalog entity describes this service
    repo_error: str | None = None  # repo-level crawl failure: repo-based checks are unknown
    repo_source: str | None = None  # RepoFacts.source: "local-git", "github"
    default_branch: str | None = None
    repo_problems: list[Problem] = field(default_factory=list)
    files: frozenset[str] = frozenset()  # paths relative to the repo root
    codeowners: CodeOwners | None = None
    codeowners_owners: list[str] | None = None  # owners of the service path; None = no CODEOWNERS
    templates: list[TemplateInfo] = field(default_factory=list)
    workflows: list[Workflow] = field(default_factory=list)
    helm_charts: list[HelmChart] = field(default_factory=list)
    terraform_modules: list[TerraformModule] = field(default_factory=list)
    dependencies: list[DependencyManifest] = field(default_factory=list)
    # Workloads in crawled clusters joined to this service by label; None when
    # cluster state is unknown (no cluster source, or a backfilled snapshot).
    cluster_workloads: list[Workload] | None = None
    cluster_objects: list[K8sObject] = field(default_factory=list)  # in the workloads' namespaces
    cluster_errors: list[str] = field(default_factory=list)  # clusters that failed this run
    # Kinds unreadable on the clusters its workloads run on: kind -> "prod-eu: forbidden (403)"
    cluster_unreadable: dict[str, str] = field(default_factory=dict)
    repo_workloads: list[Workload] = field(default_factory=list)  # manifests kept in the repo
    repo_objects: list[K8sObject] = field(default_factory=list)
    delivery: DeliveryMetrics | None = None  # None: no deploy data source for this service
    archived: bool | None = None
    branch_protected: bool | None = None
    ci_runs: list[dict] | None = None
    identity_detail: str | None = None  # which files made it a service ("marker: src/x/Dockerfile")
    unreadable_files: list[UnreadableFile] = field(default_factory=list)  # RepoFacts.unreadable the service sees
    # Crossplane (checks.evidence_crossplane): the service's claims, and what the whole run knows
    # of XRDs, compositions and revisions; None when no repo or cluster of the run was read.
    claims: list[Claim] = field(default_factory=list)
    compositions: CompositionCatalogue | None = None
    # Argo CD / Flux objects that deploy it (pipelines.evidence_gitops); None: not looked for.
    gitops: list[GitOpsApp] | None = None
    gitops_errors: list[str] = field(default_factory=list)  # sources that could have shown one and failed
