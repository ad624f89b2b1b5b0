"""Crawl records: what sources hand to the pipeline, before it is scoped to services.

A crawl of a repository, a cluster or a repository's history produces these.
`pipelines.evidence` turns them into `checks.evidence.ServiceEvidence`, which
is all a check reads; nothing in `checks/` sees a crawl record. The element
types a crawl record holds (Workload, CatalogEntity, ...) are the ones the
checks read, so they live in `checks.evidence`.

Same convention for missing data: ``None`` is unknown, an empty list means
"we looked and there is none".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from checks.evidence import (
    CatalogEntity,
    CodeOwners,
    DependencyManifest,
    HelmChart,
    K8sObject,
    Problem,
    TemplateInfo,
    TerraformModule,
    UnreadableFile,
    Workflow,
    Workload,
)
from checks.evidence_gitops import GitOpsApp


@dataclass(slots=True)
class ImageBuild:
    """An image a build file says it builds, and from which directory."""

    image: str | None  # "acme/payments-api", "frontend"; None when only a build context is given
    context: str | None  # build context, repo-relative ("" for the root); None: pulled, not built here
    name: str | None = None  # compose service name, when it came from a compose file


@dataclass(slots=True)
class BuildFile:
    """What a build file says it builds (facts only: pipelines.identity decides what is a service)."""

    file: str
    tool: str  # "maven" | "gradle" | "gradle-settings" | "compose" | "skaffold"
    modules: list[str] = field(default_factory=list)  # aggregated sub-module directories, repo-relative
    packaging: str | None = None  # Maven <packaging> ("jar" when unset); None for other tools
    plugins: list[str] = field(default_factory=list)  # build plugins: Maven artifactIds, Gradle plugin ids
    images: list[ImageBuild] = field(default_factory=list)  # compose services / skaffold artifacts


@dataclass(slots=True)
class K8sInventory:
    """What one cluster snapshot, live cluster or repo's manifests contain."""

    workloads: list[Workload] = field(default_factory=list)
    objects: list[K8sObject] = field(default_factory=list)
    # ReplicaSets, for rollout history: (namespace, owner deployment, revision, created_at, images, annotations)
    replica_sets: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Objects of other API groups no rule recognised (pipelines.parsers.crossplane): kept small, so a
    # Crossplane XRD seen elsewhere in the run can still make them claims (pipelines.crossplane).
    custom_objects: list[K8sObject] = field(default_factory=list)
    # Argo CD Applications, Flux Kustomizations/HelmReleases (also kept in `objects`), typed.
    gitops: list[GitOpsApp] = field(default_factory=list)
    # Kinds that could not be listed (kind -> reason, e.g. "forbidden (403)"):
    # checks that need them say `unknown` instead of failing on their absence.
    unreadable: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Commit:
    sha: str
    author_time: dt.datetime
    committer_time: dt.datetime
    paths: list[str]
    parents: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Tag:
    name: str
    sha: str  # the commit it points at
    time: dt.datetime  # tagger date if annotated, else the commit's committer date


@dataclass(slots=True)
class RepoFacts:
    """Everything the crawl learned about one repository at one point in time."""

    repo: str  # short name, unique within the organisation
    location: str  # clone path or URL (never with credentials)
    default_branch: str | None = None
    head_sha: str | None = None
    head_time: dt.datetime | None = None
    files: list[str] = field(default_factory=list)  # every path in the committed tree
    catalog: list[CatalogEntity] = field(default_factory=list)
    codeowners: CodeOwners | None = None
    templates: list[TemplateInfo] = field(default_factory=list)
    workflows: list[Workflow] = field(default_factory=list)
    helm_charts: list[HelmChart] = field(default_factory=list)
    terraform_modules: list[TerraformModule] = field(default_factory=list)
    dependencies: list[DependencyManifest] = field(default_factory=list)
    builds: list[BuildFile] = field(default_factory=list)  # Maven/Gradle modules, compose, skaffold
    manifests: K8sInventory = field(default_factory=K8sInventory)
    # Manifest files a kustomization names as patches: overlays of a workload, not workloads.
    kustomize_patches: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # per-file parse failures
    # Set when the repo could not be crawled at all (empty, no default branch,
    # git failure, API error). Every repo-based check is then `unknown`.
    error: str | None = None
    # Which kind of source read the repo: "local-git" can never see host
    # settings (branch protection, CI runs); an API source can but may be denied.
    source: str = "local-git"
    # Facts only an API knows (GitHub source); None = not known for this source.
    archived: bool | None = None
    branch_protected: bool | None = None
    ci_runs: list[dict] | None = None  # {"status","conclusion","created_at","duration_s","name"}
    # Files whose content the clone does not hold: checks reading that kind of
    # file are `unknown` (checks.file_kinds), the rest of the repo is scored.
    unreadable: list[UnreadableFile] = field(default_factory=list)
