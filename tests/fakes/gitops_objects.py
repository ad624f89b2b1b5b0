"""Argo CD and Flux objects as their controllers write them (`kubectl get -o yaml`,
`GET /api/v1/applications`), for the parser, source, linking and benchmark tests.

Shapes from the CRDs: argoproj.io/v1alpha1 Application (status.sync,
status.health, status.history[], status.resources[]),
kustomize.toolkit.fluxcd.io/v1 Kustomization, helm.toolkit.fluxcd.io/v2
HelmRelease (status.history snapshots, newest first),
source.toolkit.fluxcd.io/v1 GitRepository.
"""

from __future__ import annotations

import copy

SHA_OLD = "9b1d0aa3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5"
SHA_NEW = "4f2c9e1d7a3b5c8e0f2a4c6e8b0d2f4a6c8e0b2d"


def application(name: str = "payments-api", *, project: str = "platform", repo: str = "payments",
                path: str = "deploy/prod", namespace: str = "payments", sync: str = "Synced", health: str = "Healthy",
                self_heal: bool | None = True, revision: str = SHA_NEW, history: list[tuple[str, str]] | None = None,
                resources: list[tuple[str, str, str]] | None = None) -> dict:
    if history is None:
        history = [(SHA_OLD, "2025-11-20T10:00:00Z"), (revision, "2025-11-23T10:00:00Z")]
    if resources is None:
        resources = [("Service", namespace, name), ("Deployment", namespace, name)]
    sync_policy: dict = {}
    if self_heal is not None:
        sync_policy = {"automated": {"prune": True, "selfHeal": self_heal}, "syncOptions": ["CreateNamespace=true"]}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd", "resourceVersion": "1",
                     "labels": {"team": namespace}},
        "spec": {
            "project": project,
            "source": {"repoURL": f"https://github.com/acme/{repo}.git", "path": path, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": sync_policy,
        },
        "status": {
            "sync": {"status": sync, "revision": revision,
                     "comparedTo": {"source": {"repoURL": f"https://github.com/acme/{repo}.git"}}},
            "health": {"status": health},
            "history": [
                {"id": i, "revision": sha, "deployedAt": at, "deployStartedAt": at,
                 "source": {"repoURL": f"https://github.com/acme/{repo}.git", "path": path}}
                for i, (sha, at) in enumerate(history)
            ],
            "resources": [
                {"group": "apps" if kind == "Deployment" else "", "version": "v1", "kind": kind, "namespace": ns,
                 "name": n, "status": "Synced", "health": {"status": "Healthy"}}
                for kind, ns, n in resources
            ],
            "reconciledAt": "2025-11-23T10:05:00Z",
            "sourceType": "Kustomize",
        },
    }


def kustomization(name: str = "payments-api", *, namespace: str = "payments", source: str = "payments",
                  path: str = "./deploy/prod", applied: str = SHA_NEW, attempted: str | None = None,
                  ready: str = "True", suspend: bool = False) -> dict:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "10m", "path": path, "prune": True, "suspend": suspend,
                 "sourceRef": {"kind": "GitRepository", "name": source}},
        "status": {
            "lastAppliedRevision": f"main@sha1:{applied}",
            "lastAttemptedRevision": f"main@sha1:{attempted or applied}",
            "conditions": [{"type": "Ready", "status": ready, "reason": "ReconciliationSucceeded",
                            "message": f"Applied revision: main@sha1:{applied}",
                            "lastTransitionTime": "2025-11-22T09:00:00Z"}],
        },
    }


def git_repository(name: str = "payments", *, namespace: str = "payments", repo: str = "payments") -> dict:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "1m", "url": f"https://github.com/acme/{repo}", "ref": {"branch": "main"}},
    }


def helm_release(name: str = "search-api", *, namespace: str = "search", versions: tuple[str, ...] = ("1.4.1", "1.4.2"),
                 attempted: str | None = None, ready: str = "True") -> dict:
    snapshots = [
        {"name": name, "namespace": namespace, "version": i + 1, "chartName": name, "chartVersion": v,
         "appVersion": f"{v}-app", "configDigest": "sha256:abc", "digest": f"sha256:{i:064d}",
         "firstDeployed": f"2025-11-{10 + i:02d}T08:00:00Z", "lastDeployed": f"2025-11-{10 + i:02d}T08:00:00Z",
         "status": "deployed" if i == len(versions) - 1 else "superseded"}
        for i, v in enumerate(versions)
    ]
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "5m", "chart": {"spec": {"chart": name, "version": "1.4.x",
                                                       "sourceRef": {"kind": "HelmRepository", "name": "acme-charts"}}}},
        "status": {
            "history": list(reversed(snapshots)),  # newest first, as helm-controller writes it
            "lastAttemptedRevision": attempted or versions[-1],
            "conditions": [{"type": "Ready", "status": ready, "reason": "UpgradeSucceeded",
                            "lastTransitionTime": "2025-11-12T08:00:00Z"}],
        },
    }


def deep(obj: dict) -> dict:
    return copy.deepcopy(obj)
