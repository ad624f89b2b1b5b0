"""GitOps objects for the demo's production cluster: Argo CD Applications with their
deploy history for most services, Flux HelmReleases for a few.

Deterministic per seed. The mix is what a platform team migrating to GitOps
sees: most services on the current Argo CD project, some on older ones, some
without self-heal, a few out of sync or behind Git, a handful still deployed
by Flux, and the rest not on the path at all.
"""

from __future__ import annotations

import datetime as dt
import random

from pipelines.demo.org import ORG

PROJECTS = ("legacy", "platform-v1", "platform-v2")  # oldest -> newest: the golden path's "releases"
GOLDEN_PATH = {"reference": "argocd,flux", "releases": list(PROJECTS)}
_ARGO_SHARE, _FLUX_SHARE = 0.62, 0.08
_IN_CLUSTER = "https://kubernetes.default.svc"


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def cluster_objects(results: list, items: list[dict], end: dt.datetime, seed: int,
                    archetypes: dict[str, str] | None = None) -> list[dict]:
    """Applications / HelmReleases for the components running in production (`items`: the cluster so far).

    Leading and platform-tooling teams (`archetypes`: team -> archetype) run a
    clean Argo CD setup on the current project, as the teams that adopt a path
    first do; everyone else gets the random mix.
    """
    archetypes = archetypes or {}
    running = {(o["metadata"]["namespace"], o["metadata"]["name"]): o["kind"] for o in items
               if o["kind"] in ("Deployment", "StatefulSet")}
    out: list[dict] = []
    for res in results:
        for comp in res.plan.components:
            kind = running.get((comp.team, comp.name))
            if kind is None:
                continue
            rng = random.Random(f"{seed}/gitops/{comp.name}")
            roll = rng.random()
            history = [(sha, at) for sha, at in res.prod_history.get(comp.name, []) if isinstance(sha, str)][-10:]
            exemplary = archetypes.get(comp.team) in ("leader", "tooling")
            if (exemplary or roll < _ARGO_SHARE) and history:
                out.append(_application(res, comp, kind, history, rng, end, exemplary=exemplary))
            elif roll < _ARGO_SHARE + _FLUX_SHARE:
                out.append(_helm_release(comp, rng, end))
    return out


def _application(res, comp, kind: str, history: list[tuple[str, dt.datetime]], rng: random.Random, end: dt.datetime,
                 *, exemplary: bool = False) -> dict:
    repo, path = res.plan.name, f"{comp.path}/k8s".lstrip("/")
    project = PROJECTS[-1] if exemplary else rng.choices(PROJECTS, weights=(1, 2, 5))[0]
    self_heal = exemplary or rng.random() > 0.25
    manual = not exemplary and rng.random() < 0.08
    deployed = history[-1][0]
    state = 0.5 if exemplary else rng.random()  # 0.5: synced, healthy, running what Git holds
    # Git ahead of what runs (a merge not synced yet, or a failed sync), or a hand edit in the cluster.
    behind = state < 0.10 and res.head and res.head != deployed
    hand_edited = 0.10 <= state < 0.18
    sync = "OutOfSync" if behind or hand_edited else "Synced"
    health = "Degraded" if state > 0.96 else ("Progressing" if state > 0.93 else "Healthy")
    policy: dict = {"syncOptions": ["CreateNamespace=true"]}
    if not manual:
        policy["automated"] = {"prune": True, "selfHeal": self_heal}
    url = f"https://github.com/{ORG}/{repo}.git"
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": comp.name, "namespace": "argocd", "labels": {"team": comp.team},
                     "creationTimestamp": _iso(history[0][1])},
        "spec": {
            "project": project,
            "source": {"repoURL": url, "path": path, "targetRevision": "HEAD"},
            "destination": {"server": _IN_CLUSTER, "namespace": comp.team},
            "syncPolicy": policy,
        },
        "status": {
            "sync": {"status": sync, "revision": res.head if behind else deployed,
                     "comparedTo": {"source": {"repoURL": url, "path": path, "targetRevision": "HEAD"},
                                    "destination": {"server": _IN_CLUSTER, "namespace": comp.team}}},
            "health": {"status": health},
            "history": [
                {"id": i, "revision": sha, "deployedAt": _iso(at),
                 "deployStartedAt": _iso(at - dt.timedelta(seconds=rng.randint(20, 240))),
                 "source": {"repoURL": url, "path": path, "targetRevision": "HEAD"}}
                for i, (sha, at) in enumerate(history)
            ],
            "resources": [
                {"group": "apps", "version": "v1", "kind": kind, "namespace": comp.team, "name": comp.name,
                 "status": sync, "health": {"status": health}},
                {"version": "v1", "kind": "Service", "namespace": comp.team, "name": comp.name, "status": "Synced"},
            ],
            "reconciledAt": _iso(end - dt.timedelta(minutes=rng.randint(1, 170))),
            "sourceType": "Directory",
        },
    }


def _helm_release(comp, rng: random.Random, end: dt.datetime) -> dict:
    minor = rng.randint(2, 9)
    versions = [f"1.{minor}.{patch}" for patch in range(rng.randint(1, 4))]
    snapshots = []
    for i, version in enumerate(versions):
        at = _iso(end - dt.timedelta(days=(len(versions) - i) * rng.randint(3, 12)))
        snapshots.append({"name": comp.name, "namespace": comp.team, "version": i + 1, "chartName": comp.name,
                          "chartVersion": version, "appVersion": version, "firstDeployed": at, "lastDeployed": at,
                          "status": "deployed" if i == len(versions) - 1 else "superseded",
                          "digest": f"sha256:{rng.getrandbits(256):064x}"})
    suspended = rng.random() < 0.2
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": comp.name, "namespace": comp.team, "labels": {"team": comp.team}},
        "spec": {
            "interval": "10m", "suspend": suspended,
            "chart": {"spec": {"chart": comp.name, "version": f"1.{minor}.x",
                               "sourceRef": {"kind": "HelmRepository", "name": "platform-charts", "namespace": "flux-system"}}},
        },
        "status": {
            "history": list(reversed(snapshots)),
            "lastAttemptedRevision": versions[-1],
            "conditions": [{"type": "Ready", "status": "True", "reason": "UpgradeSucceeded",
                            "message": f"Helm upgrade succeeded for release {comp.team}/{comp.name}.v{len(versions)}",
                            "lastTransitionTime": snapshots[-1]["lastDeployed"]}],
        },
    }
