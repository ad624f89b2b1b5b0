"""Typed GitOps evidence: what an Argo CD Application or a Flux Kustomization /
HelmRelease says about where a service is deployed from and what runs.

Kept apart from `checks.evidence` so the GitOps facts read as one piece; the
same conventions hold: ``None`` is "not known" (a manifest in a repository has
no status), never ``False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ARGOCD, FLUX = "argocd", "flux"
# Kinds that deploy something: their sources (GitRepository, ...) and ApplicationSets
# (generators of Applications) are read as plain objects.
DEPLOYER_KINDS = frozenset({"Application", "Kustomization", "HelmRelease"})


@dataclass(frozen=True, slots=True)
class GitOpsSource:
    """One place an object deploys from: a Git path, a Helm chart or an OCI artifact."""

    repo_url: str | None  # Argo `repoURL`; Flux: the referenced source's `spec.url` when known
    path: str | None = None  # directory in the repository ("" / None: the root)
    target_revision: str | None = None  # branch, tag, sha, or chart version
    chart: str | None = None  # Helm chart name, when it is a chart
    ref_kind: str | None = None  # Flux `sourceRef.kind` (GitRepository, OCIRepository, HelmRepository, ...)
    ref_name: str | None = None  # Flux `sourceRef.name`


@dataclass(frozen=True, slots=True)
class GitOpsRevision:
    """One entry of a deploy history: Argo `status.history[]`, a Flux HelmRelease snapshot,
    or a Kustomization's last applied revision at its Ready condition's time."""

    revision: str  # git sha (Argo, Kustomization "main@sha1:<sha>" is normalised), or chart version
    deployed_at: str | None  # RFC 3339 as the controller wrote it
    id: int | None = None  # Argo history id / Helm release version
    status: str | None = None  # Helm snapshot status: deployed, superseded, failed
    chart_version: str | None = None
    app_version: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class GitOpsApp:
    """An Argo CD Application, Flux Kustomization or Flux HelmRelease."""

    tool: str  # ARGOCD | FLUX
    kind: str
    name: str
    namespace: str
    sources: tuple[GitOpsSource, ...] = ()
    project: str | None = None  # Argo CD project ("default" when unset)
    destination_server: str | None = None  # Argo `destination.server` or `.name`
    destination_namespace: str | None = None  # Argo destination / Flux targetNamespace
    automated: bool | None = None  # Argo `syncPolicy.automated` set; Flux reconciles unless suspended
    prune: bool | None = None
    self_heal: bool | None = None  # Argo `automated.selfHeal`; Flux corrects drift on every interval
    suspended: bool = False  # Flux `spec.suspend`
    # Status, None when not observed (a manifest in a repository):
    sync_status: str | None = None  # Synced / OutOfSync / Unknown (Flux: applied == attempted revision)
    health: str | None = None  # Healthy / Progressing / Degraded / Suspended / Missing / Unknown
    health_message: str | None = None
    desired_revision: str | None = None  # what Git's target resolves to now (Argo sync.revision, Flux lastAttempted)
    applied_revision: str | None = None  # what was last deployed (Argo history[-1], Flux lastApplied)
    history: tuple[GitOpsRevision, ...] = ()  # oldest first
    # Workloads it manages (Argo `status.resources`): (kind, namespace, name)
    resources: tuple[tuple[str, str, str], ...] = ()
    file: str | None = None  # manifest path when it came from a repository
    cluster: str | None = None  # cluster (or Argo CD API source) it was read from
    environment: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    linked_by: str | None = None  # how pipelines.evidence_gitops tied it to the service

    @property
    def observed(self) -> bool:
        """Read from a live controller (a cluster, an Argo CD API), so its status means something."""
        return self.file is None

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"
