"""Generate the demo organisation: git repositories, cluster snapshots, delivery events, config.

``generate_demo(out_dir, end=date)`` writes::

    out_dir/
      repos/<repo>/            real git repositories with `days` of history
      clusters/prod-eu.json    `kubectl get ... -A -o json` of production at `end`
      clusters/staging-eu.yaml multi-document manifests of the staging cluster
      events/deployments.jsonl deploy log lines referencing real commit shas
      events/incidents.jsonl   incidents, some with an explicit root-cause sha
      scorecard.yaml           a valid configuration for all of the above
      README.md, demo.json     the story, and the parameters it was made with

The same arguments produce byte-identical files and the same commit shas:
every random choice comes from a generator seeded by (seed, repo name), every
date from `end`, and every identity from the fast-import stream.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import random
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.demo import crossplane as demo_crossplane
from pipelines.demo import gitops as demo_gitops
from pipelines.demo import jira as demo_jira
from pipelines.demo import programme, yamlout
from pipelines.demo.gitfast import FastImportStream, init_repo, run_fast_import
from pipelines.demo.org import (
    CHART_RELEASES,
    CI_RELEASES,
    ORG,
    TEMPLATE_RELEASES,
    TF_RELEASES,
    Change,
    Component,
    OrgPlan,
    RepoPlan,
    Team,
    apply_change,
    plan_org,
)
from pipelines.demo.render import CI_TARGET, TEMPLATE_SRC, TF_SOURCE, k8s_objects, repo_files, source_path, source_text
from pipelines.demo import backstage as demo_backstage  # noqa: I001 - its own line: the imports above are a busy merge spot
from pipelines.demo import notify as demo_notify  # the notifications section (URLs unset)

MARKER = "demo.json"
_BOTS = {
    "renovate": ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com"),
    "dependabot": ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
}
_GITHUB = ("GitHub", "noreply@github.com")
_THINGS = (
    "retry",
    "pagination",
    "timeouts",
    "metrics",
    "validation",
    "caching",
    "rate-limit",
    "health",
    "batching",
    "idempotency",
    "audit",
    "feature-flags",
    "webhooks",
    "search",
)
_VERBS = (
    ("feat", "add {t} support"),
    ("fix", "handle {t} edge case"),
    ("fix", "correct {t} error mapping"),
    ("refactor", "extract {t} helpers"),
    ("perf", "speed up {t}"),
    ("test", "cover {t}"),
    ("chore", "tidy {t} logging"),
    ("feat", "expose {t} settings"),
)
_KEEP_FUNCS = 8  # a source module keeps its most recent handlers, so files stay small


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What `generate_demo` wrote, with counts a CLI or a test can show."""

    out_dir: Path
    config: Path
    repos_dir: Path
    clusters: tuple[Path, ...]
    deployments: Path
    incidents: Path
    start: dt.date
    end: dt.date
    repos: int
    teams: int
    services: int  # catalog components + repo-as-service fallbacks (the empty repo excluded) + portal-only ones
    monorepo_components: int
    commits: int
    tags: int
    deployment_events: int
    incident_events: int
    cluster_objects: int
    orphan_workloads: int
    special_repos: dict[str, str] = field(default_factory=dict)  # role -> repo name
    seconds: float = 0.0


@dataclass(slots=True)
class _Deploy:
    component: str
    environment: str
    mark: int
    when: dt.datetime
    status: str


@dataclass(slots=True)
class _Incident:
    component: str
    opened: dt.datetime
    resolved: dt.datetime | None
    root_cause_mark: int | None


@dataclass(slots=True)
class _RepoResult:
    plan: RepoPlan
    commits: int = 0
    tags: int = 0
    deploys: list[dict] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)
    prod_history: dict[str, list[tuple[str, dt.datetime]]] = field(default_factory=dict)  # comp -> [(sha, at)]
    staging_last: dict[str, str] = field(default_factory=dict)  # comp -> last staged sha
    initial_sha: dict[str, str] = field(default_factory=dict)  # comp -> first commit touching it
    head: str | None = None


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ history


def _build_repo(
    plan: RepoPlan, teams: dict[str, Team], start: dt.datetime, days: int, end: dt.datetime, seed: int, root: Path
) -> _RepoResult:
    result = _RepoResult(plan)
    path = root / plan.name
    init_repo(path, plan.branch)
    if not plan.has_history:
        return result
    rng = random.Random(f"{seed}/history/{plan.name}")
    repo_team = teams[plan.team]
    last_day = plan.last_day if plan.last_day is not None else days

    def at(day: int, lo_h: float, hi_h: float) -> dt.datetime:
        return start + dt.timedelta(days=day, seconds=int(rng.uniform(lo_h, hi_h) * 3600))

    # 1. Everything that becomes a commit, in time order.
    timeline: list[tuple[dt.datetime, int, str, object]] = []
    seq = 0
    timeline.append((at(plan.created_day, 9, 10.5), seq, "init", None))
    for change in plan.changes:
        seq += 1
        day = min(max(change.day, plan.created_day + 1), last_day - 1)
        timeline.append((at(day, 10, 16.5), seq, "change", change))
    for comp in plan.components:
        profile = teams[comp.team].profile
        for day in range(plan.created_day + 1, last_day):
            weekday = (start + dt.timedelta(days=day)).weekday() < 5
            rate = profile.commits_per_weekday if weekday else 0.05
            n = int(rate) + (rng.random() < rate - int(rate))
            for _ in range(n):
                seq += 1
                timeline.append((at(day, 8.5, 18.5), seq, "work", comp))
    timeline.sort(key=lambda item: (item[0], item[1]))

    # 2. Replay it into one fast-import stream.
    stream = FastImportStream(plan.branch)
    generated: dict[str, str] = {}
    sources: dict[str, dict[str, list[int]]] = {c.name: {} for c in plan.components}
    touched: dict[str, list[tuple[dt.datetime, int]]] = {c.name: [] for c in plan.components}
    pr = rng.randint(40, 900)
    counter = 0
    squash = repo_team.archetype in ("leader", "steady", "tooling")

    for when, _, kind, payload in timeline:
        author = rng.choice(teams[plan.team].people)
        committer = _GITHUB if squash else None
        comps_touched: list[str]
        if kind == "init":
            new = repo_files(plan)
            changes: dict[str, str | None] = dict(new)
            for comp in plan.components:
                for thing in rng.sample(_THINGS, 2):
                    counter += 1
                    sources[comp.name][thing] = [counter]
                    changes[source_path(comp, thing)] = source_text(comp, thing, [counter])
            generated = new
            if plan.created_day > 0 and plan.settings.template:
                message = f"Initial commit from {ORG}/service-template {plan.settings.template[1]}"
            else:
                message = "Initial commit"
            comps_touched = [c.name for c in plan.components]
            committer = None
        elif kind == "change":
            change: Change = payload  # type: ignore[assignment]
            apply_change(plan, change)
            new = repo_files(plan)
            changes = {p: t for p, t in new.items() if generated.get(p) != t}
            changes.update({p: None for p in generated if p not in new})
            generated = new
            if not changes:
                continue
            message = change.message
            if change.bot:
                author = _BOTS[change.bot]
                committer = _GITHUB
            elif change.component:
                author = rng.choice(teams[_comp(plan, change.component).team].people)
            if change.component is not None or len(plan.components) == 1:
                comps_touched = [change.component or plan.components[0].name]
            else:
                comps_touched = []
        else:
            comp: Component = payload  # type: ignore[assignment]
            author = rng.choice(teams[comp.team].people)
            thing = rng.choice(_THINGS)
            counter += 1
            funcs = (sources[comp.name].get(thing, []) + [counter])[-_KEEP_FUNCS:]
            sources[comp.name][thing] = funcs
            changes = {source_path(comp, thing): source_text(comp, thing, funcs)}
            prefix, text = rng.choice(_VERBS)
            scope = f"({comp.name})" if plan.role == "monorepo" else ""
            message = f"{prefix}{scope}: {text.format(t=thing)}"
            comps_touched = [comp.name]
        if committer is _GITHUB and not message.startswith("Initial"):
            pr += 1
            message = f"{message} (#{pr})"
        mark = stream.commit(author=author, committer=committer, when=when, message=message + "\n", changes=changes)
        result.commits += 1
        for name in comps_touched:
            touched[name].append((when, mark))

    # 3. Deploys, tags and incidents, planned against marks.
    deploys: list[_Deploy] = []
    incidents: list[_Incident] = []
    tags: list[tuple[str, int, dt.datetime, bool]] = []  # (name, mark, when, annotated)
    for comp in plan.components:
        if comp.deploys == "none" or plan.role in ("library", "archived"):
            continue
        profile = teams[comp.team].profile
        crng = random.Random(f"{seed}/deploys/{plan.name}/{comp.name}")
        commits = touched[comp.name]
        prod = _plan_deploys(
            crng,
            commits,
            start,
            days,
            plan.created_day,
            profile.deploy_p,
            0.0 if comp.deploys == "tags" else profile.deploy_fail_p,
            comp.name,
            "production",
        )
        deploys += prod
        if comp.staging and comp.deploys == "events":
            deploys += _plan_staging(crng, commits, comp.name)
        for d in prod:
            if d.status != "success" or crng.random() >= profile.cfr:
                continue
            opened = d.when + dt.timedelta(minutes=crng.uniform(10, 360))
            hours = min(240.0, max(0.1, crng.lognormvariate(math.log(profile.restore_hours), 0.7)))
            resolved: dt.datetime | None = opened + dt.timedelta(hours=hours)
            if opened >= end:
                continue
            if resolved >= end:
                resolved = None  # still open when the snapshot was taken
            cause = d.mark if crng.random() < 0.5 else None
            incidents.append(_Incident(comp.name, opened, resolved, cause))
        if plan.tag_style:
            major, minor, patch = 1, crng.randint(2, 9), 0
            annotated = plan.tag_style == "annotated"
            tags.append((f"v{major}.{minor}.{patch}", commits[0][1], commits[0][0], annotated))
            released = [d for d in prod if d.status == "success"]
            for i, d in enumerate(released):
                if crng.random() < 0.3:
                    patch += 1
                else:
                    minor, patch = minor + 1, 0
                if i == len(released) // 2:
                    # A release candidate: does not match the release tag pattern.
                    tags.append((f"v{major}.{minor}.{patch}-rc.1", d.mark, d.when - dt.timedelta(hours=2), True))
                tags.append((f"v{major}.{minor}.{patch}", d.mark, d.when, annotated))
        if comp.deploys == "tags":
            deploys = [d for d in deploys if d.component != comp.name]  # the tags are the only record
            result.prod_history[comp.name] = [(d.mark, d.when) for d in prod]  # type: ignore[misc]

    releaser = rng.choice(repo_team.people)
    for name, mark, when, annotated in tags:
        if annotated:
            stream.annotated_tag(name, mark, releaser, when, f"Release {name}\n")
        else:
            stream.lightweight_tag(name, mark)
    result.tags = len(tags)

    shas = run_fast_import(path, stream)
    result.head = shas[max(shas)] if shas else None

    # 4. Resolve marks to shas.
    for d in sorted(deploys, key=lambda d: (d.when, d.component, d.environment)):
        sha = shas[d.mark]
        result.deploys.append(
            {
                "service": d.component,
                "environment": d.environment,
                "sha": sha,
                "deployed_at": _iso(d.when),
                "status": d.status,
            }
        )
        if d.status == "success" and d.environment == "production":
            result.prod_history.setdefault(d.component, []).append((sha, d.when))
        if d.status == "success" and d.environment == "staging":
            result.staging_last[d.component] = sha
    for name, hist in result.prod_history.items():
        result.prod_history[name] = [(shas[m] if isinstance(m, int) else m, w) for m, w in hist]
    for comp in plan.components:
        if comp.deploys != "none" and plan.role not in ("library", "archived") and touched[comp.name]:
            result.initial_sha[comp.name] = shas[touched[comp.name][0][1]]
    for inc in incidents:
        row = {
            "service": inc.component,
            "opened_at": _iso(inc.opened),
            "resolved_at": _iso(inc.resolved) if inc.resolved else None,
        }
        if inc.root_cause_mark is not None:
            row["root_cause_sha"] = shas[inc.root_cause_mark]
        result.incidents.append(row)
    return result


def _comp(plan: RepoPlan, name: str) -> Component:
    return next(c for c in plan.components if c.name == name)


def _plan_deploys(
    rng: random.Random,
    commits: list[tuple[dt.datetime, int]],
    start: dt.datetime,
    days: int,
    first_day: int,
    deploy_p: float,
    fail_p: float,
    component: str,
    env: str,
) -> list[_Deploy]:
    out: list[_Deploy] = []
    last_mark: int | None = commits[0][1] if commits else None  # the initial commit went out before the window
    i = 0
    for day in range(first_day + 1, days):
        date = start + dt.timedelta(days=day)
        if date.weekday() >= 5 or rng.random() >= deploy_p:
            continue
        when = date + dt.timedelta(seconds=int(rng.uniform(13.5, 19) * 3600))
        while i < len(commits) and commits[i][0] <= when - dt.timedelta(minutes=5):
            i += 1
        if i == 0 or commits[i - 1][1] == last_mark:
            continue
        mark = commits[i - 1][1]
        if rng.random() < fail_p:
            out.append(_Deploy(component, env, mark, when, "failure"))
            if rng.random() < 0.5:
                continue  # abandoned: the change goes out with the next deploy
            when += dt.timedelta(minutes=rng.uniform(20, 70))
        out.append(_Deploy(component, env, mark, when, "success"))
        last_mark = mark
    return out


def _plan_staging(rng: random.Random, commits: list[tuple[dt.datetime, int]], component: str) -> list[_Deploy]:
    """Staging gets the last commit of each working day, shortly after it lands."""
    out: list[_Deploy] = []
    by_day: dict[dt.date, tuple[dt.datetime, int]] = {}
    for when, mark in commits[1:]:
        by_day[when.date()] = (when, mark)
    for when, mark in by_day.values():
        out.append(_Deploy(component, "staging", mark, when + dt.timedelta(minutes=rng.uniform(6, 30)), "success"))
    return out


# ----------------------------------------------------------------- clusters


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _pod_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(_HASH_ALPHABET[b % len(_HASH_ALPHABET)] for b in digest[:10])


_META_ORDER = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "labels",
    "annotations",
    "ownerReferences",
)


def _ordered_meta(meta: dict) -> dict:
    """Metadata keys in the order kubectl prints them."""
    return {k: meta[k] for k in _META_ORDER if k in meta}


def _meta(doc: dict, namespace: str, rng: random.Random, created: dt.datetime) -> dict:
    meta = dict(doc["metadata"])
    meta.update(
        {
            "namespace": namespace,
            "uid": _uid(rng),
            "resourceVersion": str(rng.randint(10**6, 10**9)),
            "creationTimestamp": _iso(created),
        }
    )
    return {**doc, "metadata": meta}


def _cluster_items(
    results: list[_RepoResult], start: dt.datetime, end: dt.datetime, seed: int
) -> tuple[list[dict], int]:
    kinds_order = (
        "Deployment",
        "StatefulSet",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "ServiceMonitor",
        "ExternalSecret",
        "ReplicaSet",
    )
    items: list[dict] = []
    for res in results:
        for comp in res.plan.components:
            if comp.name not in res.initial_sha or not comp.manifests:
                continue
            rng = random.Random(f"{seed}/cluster/{comp.name}")
            history = list(res.prod_history.get(comp.name, []))
            ns = comp.team
            if res.plan.created_day == 0:
                # Running since before the window: its last deploy then was the first commit we have.
                created = start - dt.timedelta(days=rng.randint(60, 700), seconds=rng.randint(0, 86_000))
                history.insert(0, (res.initial_sha[comp.name], start - dt.timedelta(days=rng.randint(1, 20))))
            elif history:
                created = history[0][1]
            else:
                continue  # a new service that has not reached production yet
            sha_style = rng.random() < 0.3
            tag_of = (
                (lambda sha: "latest")
                if comp.latest_image
                else ((lambda sha: f"sha-{sha[:7]}") if sha_style else (lambda sha: sha[:7]))
            )
            image = f"ghcr.io/{ORG}/{comp.name}:{tag_of(history[-1][0])}"
            objs = k8s_objects(comp, image)
            rs_history = history[-1:] if comp.latest_image else history[-10:]
            revision = rng.randint(5, 150) + len(history)
            for doc in objs.values():
                obj = _meta(doc, ns, rng, created)
                if obj["kind"] in ("Deployment", "StatefulSet"):
                    obj["metadata"]["generation"] = revision
                    if obj["kind"] == "Deployment":
                        obj["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": str(revision)}
                    replicas = obj["spec"]["replicas"]
                    obj["status"] = {
                        "observedGeneration": revision,
                        "replicas": replicas,
                        "readyReplicas": replicas,
                        "availableReplicas": replicas,
                        "updatedReplicas": replicas,
                    }
                    deploy_uid = obj["metadata"]["uid"]
                items.append(obj)
            if comp.workload_kind != "Deployment":
                continue
            workload = objs["deployment"]
            for i, (sha, when) in enumerate(rs_history):
                rev = revision - (len(rs_history) - 1 - i)
                current = i == len(rs_history) - 1
                template = json.loads(json.dumps(workload["spec"]["template"]))
                template["spec"]["containers"][0]["image"] = f"ghcr.io/{ORG}/{comp.name}:{tag_of(sha)}"
                pod_hash = _pod_hash(f"{comp.name}/{sha}")
                template["metadata"]["labels"]["pod-template-hash"] = pod_hash
                replicas = workload["spec"]["replicas"] if current else 0
                items.append(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "metadata": {
                            "name": f"{comp.name}-{pod_hash}",
                            "namespace": ns,
                            "labels": {**template["metadata"]["labels"]},
                            "annotations": {
                                "deployment.kubernetes.io/revision": str(rev),
                                "deployment.kubernetes.io/desired-replicas": str(workload["spec"]["replicas"]),
                                "deployment.kubernetes.io/max-replicas": str(workload["spec"]["replicas"] + 1),
                            },
                            "ownerReferences": [
                                {
                                    "apiVersion": "apps/v1",
                                    "kind": "Deployment",
                                    "name": comp.name,
                                    "uid": deploy_uid,
                                    "controller": True,
                                    "blockOwnerDeletion": True,
                                }
                            ],
                            "uid": _uid(rng),
                            "creationTimestamp": _iso(when),
                            "generation": 1,
                        },
                        "spec": {
                            "replicas": replicas,
                            "selector": {
                                "matchLabels": {
                                    **workload["spec"]["selector"]["matchLabels"],
                                    "pod-template-hash": pod_hash,
                                }
                            },
                            "template": template,
                        },
                        "status": {
                            "replicas": replicas,
                            "readyReplicas": replicas,
                            "availableReplicas": replicas,
                            "observedGeneration": 1,
                        },
                    }
                )
    orphans = _orphans(random.Random(f"{seed}/orphans"), start, end, results)
    items += orphans
    for item in items:
        item["metadata"] = _ordered_meta(item["metadata"])
    order = {k: i for i, k in enumerate(kinds_order)}
    items.sort(key=lambda o: (order.get(o["kind"], len(order)), o["metadata"]["namespace"], o["metadata"]["name"]))
    n_orphans = sum(1 for o in orphans if o["kind"] in ("Deployment", "StatefulSet"))
    return items, n_orphans


def _orphans(rng: random.Random, start: dt.datetime, end: dt.datetime, results: list[_RepoResult]) -> list[dict]:
    """Workloads that match no service: nobody owns them, which is itself a finding."""
    ns_growth = next((c.team for r in results for c in r.plan.components if c.team == "growth"), "marketing")
    specs = [
        (
            "Deployment",
            "default",
            "legacy-cron-exporter",
            {"app": "legacy-cron-exporter"},
            "ghcr.io/acme/legacy-cron-exporter:2021-11-03",
            1,
        ),
        (
            "Deployment",
            "tools",
            "debug-toolbox",
            {"app.kubernetes.io/name": "debug-toolbox"},
            "nicolaka/netshoot:latest",
            1,
        ),
        ("StatefulSet", "data", "redis-sessions", {"app": "redis-sessions"}, "redis:6.2.14", 3),
        (
            "Deployment",
            ns_growth,
            "ab-test-proxy-old",
            {"app.kubernetes.io/name": "ab-test-proxy", "backstage.io/kubernetes-id": "ab-test-proxy"},
            "ghcr.io/acme/ab-test-proxy:4f2a9c1",
            2,
        ),
    ]
    out: list[dict] = []
    for kind, ns, name, labels, image, replicas in specs:
        created = start - dt.timedelta(days=rng.randint(200, 900))
        spec = {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": image}]}},
        }
        if kind == "StatefulSet":
            spec = {"serviceName": name, **spec}
        uid = _uid(rng)
        meta = {
            "name": name,
            "namespace": ns,
            "labels": labels,
            "uid": uid,
            "creationTimestamp": _iso(created),
            "generation": 1,
        }
        if kind == "Deployment":
            meta["annotations"] = {"deployment.kubernetes.io/revision": "1"}
        out.append(
            {
                "apiVersion": "apps/v1",
                "kind": kind,
                "metadata": meta,
                "spec": spec,
                "status": {"replicas": replicas, "readyReplicas": replicas},
            }
        )
        if kind == "Deployment":
            pod_hash = _pod_hash(name)
            out.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": f"{name}-{pod_hash}",
                        "namespace": ns,
                        "labels": {**labels, "pod-template-hash": pod_hash},
                        "annotations": {"deployment.kubernetes.io/revision": "1"},
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "Deployment",
                                "name": name,
                                "uid": uid,
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                        "uid": _uid(rng),
                        "creationTimestamp": _iso(created),
                        "generation": 1,
                    },
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {**labels, "pod-template-hash": pod_hash}},
                        "template": spec["template"],
                    },
                    "status": {"replicas": replicas},
                }
            )
    return out


def _staging_docs(results: list[_RepoResult]) -> list[dict]:
    docs: list[dict] = []
    for res in results:
        for comp in res.plan.components:
            sha = res.staging_last.get(comp.name)
            if not sha or not comp.manifests:
                continue
            objs = k8s_objects(comp, f"ghcr.io/{ORG}/{comp.name}:{sha[:7]}")
            for key in (comp.workload_kind.lower(), "service", "pdb", "servicemonitor", "externalsecret"):
                if key not in objs:
                    continue
                doc = json.loads(json.dumps(objs[key]))
                doc["metadata"]["namespace"] = f"{comp.team}-staging"
                if "replicas" in doc.get("spec", {}):
                    doc["spec"]["replicas"] = 1
                docs.append(doc)
    return docs


# ------------------------------------------------------------------- config


def _config_text(plan: OrgPlan, end: dt.date) -> str:
    doc = {
        "organisation": ORG,
        "sources": {
            "repos": [{"root": "repos"}],
            "backstage": [demo_backstage.config_entry()],
            "clusters": [
                {"path": "clusters/prod-eu.json", "cluster": "prod-eu", "environment": "production"},
                {"path": "clusters/staging-eu.yaml", "cluster": "staging-eu", "environment": "staging"},
            ],
            "delivery": {
                "deployments": ["events/deployments.jsonl"],
                "incidents": ["events/incidents.jsonl"],
                "release_tag_pattern": r"^v\d+\.\d+\.\d+$",
            },
            "jira": [demo_jira.CONFIG],  # requests to the platform team (pipelines/demo/jira.py)
        },
        "golden_paths": {
            "template": {"reference": TEMPLATE_SRC, "releases": list(TEMPLATE_RELEASES)},
            "ci_workflow": {"reference": CI_TARGET, "releases": list(CI_RELEASES)},
            "helm_chart": {"reference": "acme-base-chart", "releases": list(CHART_RELEASES)},
            "terraform": {"reference": TF_SOURCE, "releases": list(TF_RELEASES)},
            "crossplane": demo_crossplane.GOLDEN_PATH,
            "gitops": demo_gitops.GOLDEN_PATH,
        },
        "teams": [{"name": t.name, "display_name": t.display_name, "aliases": list(t.aliases)} for t in plan.teams],
        "services": plan.config_services,
        "scorecards": [
            {"name": "default", "description": "Bronze, Silver and Gold from the check catalogue"},
            {
                "name": "production-readiness",
                "description": "What a service needs before it takes production traffic",
                "levels": [
                    {
                        "name": "bronze",
                        "checks": ["has_codeowners", "owner_is_known_team", "has_catalog_entity", "has_readme"],
                    },
                    {
                        "name": "silver",
                        "checks": [
                            "has_readiness_probes",
                            "has_liveness_probes",
                            "has_resource_requests",
                            "has_resource_limits",
                            "no_literal_secrets",
                            "runs_as_non_root",
                        ],
                    },
                    {
                        "name": "gold",
                        "checks": [
                            "runs_multiple_replicas",
                            "has_pod_disruption_budget",
                            "metrics_scraped",
                            "has_runbook",
                            "has_oncall_reference",
                        ],
                    },
                ],
            },
        ],
        "waivers": [programme.waiver(w, end) for w in plan.waivers],
        "initiatives": programme.initiatives(end),
        "warehouse": {"path": "../warehouse/scorecard.duckdb", "serving_path": "../serving/scorecard.duckdb"},
        "notifications": demo_notify.config([t.name for t in plan.teams]),  # nothing sent: URLs unset
    }
    header = (
        f"# Platform Scorecard configuration of the demo organisation `{ORG}`.\n"
        "# Generated by `pipelines.demo`; relative paths resolve against this file's directory.\n"
    )
    return header + yamlout.dump(doc)


def _readme_text(plan: OrgPlan, summary_counts: dict, start: dt.date, end: dt.date) -> str:
    from pipelines.demo import STORY

    lines = [
        f"# The `{ORG}` demo organisation\n",
        STORY.strip() + "\n",
        f"Window: {start.isoformat()} to {end.isoformat()}.\n",
        "| team | archetype | services | story |",
        "|---|---|---|---|",
    ]
    per_team: dict[str, int] = {}
    for repo in plan.repos:
        for comp in repo.components:
            per_team[comp.team] = per_team.get(comp.team, 0) + 1
    for t in plan.teams:
        lines.append(f"| {t.display_name} (`{t.name}`) | {t.archetype} | {per_team.get(t.name, 0)} | {t.story} |")
    lines.append("")
    lines.append("Counts: " + ", ".join(f"{k} {v}" for k, v in summary_counts.items()) + ".")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- main


def _prepare(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            raise FileExistsError(f"{out_dir} is not empty and holds no earlier demo ({MARKER}); refusing to overwrite")
        for name in ("repos", "clusters", "events", "backstage"):
            shutil.rmtree(out_dir / name, ignore_errors=True)
        for name in ("scorecard.yaml", "README.md", MARKER):
            (out_dir / name).unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def generate_demo(
    out_dir: Path,
    *,
    repos: int = 60,
    teams: int = 8,
    days: int = 90,
    end: dt.date,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> DemoSummary:
    """Write the demo organisation under `out_dir` (see the module docstring) and say what was written.

    `out_dir` must be empty, missing, or hold an earlier demo (which is replaced).
    """
    started = time.monotonic()
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir).absolute()  # git -C changes directory: relative paths would break
    plan = plan_org(repos=repos, teams=teams, days=days, seed=seed)
    template_days = demo_jira.template_timeline(plan)  # before building: building applies the changes
    _prepare(out_dir)
    say(f"planned {len(plan.repos)} repos for {len(plan.teams)} teams")

    start_date = end - dt.timedelta(days=days)
    start = dt.datetime.combine(start_date, dt.time(), tzinfo=dt.timezone.utc)
    end_dt = dt.datetime.combine(end, dt.time(), tzinfo=dt.timezone.utc)
    team_map = {t.name: t for t in plan.teams}
    repos_dir = out_dir / "repos"
    repos_dir.mkdir()

    results: dict[str, _RepoResult] = {}
    n_workers = workers or min(8, (os.cpu_count() or 1) + 2)
    step = max(1, len(plan.repos) // 20)
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        futures = [pool.submit(_build_repo, p, team_map, start, days, end_dt, seed, repos_dir) for p in plan.repos]
        for done, fut in enumerate(as_completed(futures), 1):
            res = fut.result()
            results[res.plan.name] = res
            if done % step == 0 or done == len(futures):
                say(f"repos {done}/{len(futures)}")
    ordered = [results[p.name] for p in plan.repos]

    demo_backstage.write_catalog(out_dir, plan, [r.plan for r in ordered])  # the portal, as the repos end up
    say("writing clusters")
    clusters_dir = out_dir / "clusters"
    clusters_dir.mkdir()
    items, n_orphans = _cluster_items(ordered, start, end_dt, seed)
    running = {(o["metadata"]["name"], o["metadata"]["namespace"]) for o in items if o["kind"] in ("Deployment", "StatefulSet")}
    items += demo_crossplane.cluster_items(
        [(c, c.team) for r in ordered for c in r.plan.components if (c.name, c.team) in running]
    )
    archetypes = {t.name: t.archetype for t in plan.teams}
    items += demo_gitops.cluster_objects(ordered, items, end_dt, seed, archetypes)  # Argo CD / Flux (demo/gitops.py)
    prod = clusters_dir / "prod-eu.json"
    prod.write_text(
        json.dumps({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}, indent=4)
        + "\n",
        encoding="utf-8",
    )
    staging = clusters_dir / "staging-eu.yaml"
    staging.write_text(yamlout.dump_all(_staging_docs(ordered)), encoding="utf-8")

    say("writing events")
    events_dir = out_dir / "events"
    events_dir.mkdir()
    deploys = sorted(
        (d for r in ordered for d in r.deploys),
        key=lambda d: (d["deployed_at"], d["service"], d["environment"], d["status"]),
    )
    incidents = sorted((i for r in ordered for i in r.incidents), key=lambda i: (i["opened_at"], i["service"]))
    deployments = events_dir / "deployments.jsonl"
    deployments.write_text("".join(json.dumps(d) + "\n" for d in deploys), encoding="utf-8")
    incidents_path = events_dir / "incidents.jsonl"
    incidents_path.write_text("".join(json.dumps(i) + "\n" for i in incidents), encoding="utf-8")
    demo_jira.write(out_dir, template_days, start, days, seed)

    config = out_dir / "scorecard.yaml"
    config.write_text(_config_text(plan, end), encoding="utf-8")

    monorepo = next(p for p in plan.repos if p.role == "monorepo")
    services = sum(len(p.components) for p in plan.repos) + len(demo_backstage.portal_only(plan))
    counts = {
        "repos": len(plan.repos),
        "teams": len(plan.teams),
        "services": services,
        "monorepo_components": len(monorepo.components),
        "commits": sum(r.commits for r in ordered),
        "tags": sum(r.tags for r in ordered),
        "deployment_events": len(deploys),
        "incident_events": len(incidents),
        "cluster_objects": len(items),
        "orphan_workloads": n_orphans,
    }
    special = {p.role: p.name for p in plan.repos if p.role != "service"}
    (out_dir / "README.md").write_text(_readme_text(plan, counts, start_date, end), encoding="utf-8")
    (out_dir / MARKER).write_text(
        json.dumps(
            {
                "generator": "pipelines.demo",
                "seed": seed,
                "end": end.isoformat(),
                "days": days,
                "repos": repos,
                "teams": teams,
                "counts": counts,
                "special_repos": special,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    say(f"wrote {config}")
    return DemoSummary(
        out_dir=out_dir,
        config=config,
        repos_dir=repos_dir,
        clusters=(prod, staging),
        deployments=deployments,
        incidents=incidents_path,
        start=start_date,
        end=end,
        special_repos=special,
        seconds=round(time.monotonic() - started, 3),
        **counts,
    )
