"""GitOps checks: is the service deployed by Argo CD or Flux, and is what runs what Git says?

Shared rules (docs/gitops.md):

* a service with no GitOps object fails the golden-path check only when the
  organisation configured a GitOps path (`golden_paths.gitops`); the other
  checks are then `not_applicable`, and `unknown` when a source that could
  have shown one failed (a cluster down, `applications` forbidden, the Argo
  CD API unreachable);
* status (sync, health, revisions) is only read from objects a controller
  reported (a cluster, the Argo CD API): a manifest in a repository says how
  it is meant to sync, not how it is doing;
* "in production" means the object was read from a source whose environment
  is one of `production_environments`.
"""

from __future__ import annotations

from checks._helpers import is_non_deployable, plural, summarise_names
from checks.evidence import ServiceEvidence
from checks.evidence_gitops import ARGOCD, FLUX, GitOpsApp
from checks.model import (
    CheckContext,
    GoldenPath,
    Outcome,
    check,
    failed,
    not_applicable,
    passed,
    unknown,
    warned,
)

_TOOL_NAMES = {ARGOCD: "Argo CD", FLUX: "Flux"}


def accepted_tools(path: GoldenPath) -> frozenset[str]:
    """`golden_paths.gitops.reference`: "argocd", "flux", or both ("argocd,flux", "gitops", "any")."""
    words = {w.strip().lower() for w in path.reference.replace(" ", ",").split(",") if w.strip()}
    if words & {"gitops", "any", "*"}:
        return frozenset({ARGOCD, FLUX})
    return frozenset(words & {ARGOCD, FLUX}) or frozenset({ARGOCD, FLUX})


def path_version(app: GitOpsApp) -> str | None:
    """The golden path's "version" a service is on: its Argo CD project, or its Flux source's name."""
    if app.tool == ARGOCD:
        return app.project
    return app.sources[0].ref_name if app.sources else None


def _production(ev: ServiceEvidence, ctx: CheckContext) -> list[GitOpsApp]:
    return [a for a in ev.gitops or [] if a.observed and (a.environment or "").lower() in ctx.production_environments]


def _failed_sources(ev: ServiceEvidence, **params: object) -> Outcome | None:
    if ev.gitops_errors:
        return unknown(f"GitOps objects could not be read: {summarise_names(ev.gitops_errors, 2)}", **params)
    return None


def _namespace(ev: ServiceEvidence) -> str:
    return next((w.namespace for w in ev.cluster_workloads or ev.repo_workloads if w.namespace), ev.service)


def _application_snippet(ev: ServiceEvidence, ctx: CheckContext, project: str) -> str:
    org = ctx.organisation or "<org>"
    return (
        "apiVersion: argoproj.io/v1alpha1\n"
        "kind: Application\n"
        "metadata:\n"
        f"  name: {ev.service}\n"
        "  namespace: argocd\n"
        "spec:\n"
        f"  project: {project}\n"
        "  source:\n"
        f"    repoURL: https://github.com/{org}/{ev.repo or ev.service}.git\n"
        f"    path: {(ev.path.strip('/') + '/deploy') if ev.path.strip('/') else 'deploy'}\n"
        "    targetRevision: HEAD\n"
        "  destination:\n"
        "    server: https://kubernetes.default.svc\n"
        f"    namespace: {_namespace(ev)}\n"
        "  syncPolicy:\n"
        "    automated:\n"
        "      prune: true\n"
        "      selfHeal: true\n"
    )


def _behind(version: str | None, path: GoldenPath) -> tuple[str | None, int | None]:
    latest = path.latest or (path.releases[-1] if path.releases else None)
    if version is None or not path.releases or version not in path.releases:
        return latest, (0 if version is not None and version == latest else None)
    return latest, len(path.releases) - 1 - path.releases.index(version)


# ------------------------------------------------------------------ golden path


@check(
    id="deployed_through_gitops",
    title="Deployed through GitOps (Argo CD or Flux)",
    category="golden_path",
    level="silver",
    weight=3,
    rationale=(
        "When a GitOps controller deploys a service, what runs is what is in Git: every change is reviewed, "
        "recorded and can be rolled back with a revert, and nobody needs cluster credentials to ship. The "
        "Argo CD project (or Flux source) a service uses is the path's version."
    ),
    remediation=(
        "Deploy {service} with {tools}: commit an Application for it (project {project}) next to the other "
        "Applications of your cluster, pointing at the manifests of {repo} (path {path}), and remove the "
        "pipeline step that applies them with kubectl or helm."
    ),
)
def deployed_through_gitops(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ctx.gitops is None:
        return not_applicable("no GitOps golden path is configured for this organisation")
    if is_non_deployable(ev):
        return not_applicable(f"{ev.service} is a {ev.type}: nothing is deployed")
    tools = accepted_tools(ctx.gitops)
    latest, _ = _behind(None, ctx.gitops)
    project = latest or "default"
    params = {"tools": " or ".join(_TOOL_NAMES[t] for t in sorted(tools)), "project": project}
    if ev.gitops is None:
        return unknown("GitOps objects were not looked for in this run", **params)
    apps = [a for a in ev.gitops if a.tool in tools]
    if apps:
        # The production object says which version of the path the service is on, when there is one.
        app = next((a for a in _production(ev, ctx) if a.tool in tools), apps[0])
        version = path_version(app)
        latest, behind = _behind(version, ctx.gitops)
        found = params | {"version": version, "latest": latest, "releases_behind": behind, "object": app.label}
        where = f"project {app.project}" if app.tool == ARGOCD else f"source {version or 'unknown'}"
        return passed(f"deployed by {_TOOL_NAMES[app.tool]} {app.label} ({where}; linked by {app.linked_by})", **found)
    if ev.gitops:
        other = summarise_names(sorted({f"{_TOOL_NAMES[a.tool]} {a.label}" for a in ev.gitops}))
        return failed(f"deployed by {other}, not the platform's {params['tools']}",
                      _application_snippet(ev, ctx, project), **params)
    if (blind := _failed_sources(ev, **params)) is not None:
        return blind
    return failed(f"no Argo CD Application or Flux Kustomization/HelmRelease deploys {ev.service}",
                  _application_snippet(ev, ctx, project), **params)


# -------------------------------------------------------------- production state


def _no_production(ev: ServiceEvidence, **params: object) -> Outcome:
    if (blind := _failed_sources(ev, **params)) is not None:
        return blind
    if ev.gitops:
        return not_applicable(
            f"{summarise_names(a.label for a in ev.gitops)} not observed in a production cluster or Argo CD "
            "(a manifest in a repository has no status)", **params)
    return not_applicable("no GitOps object deploys this service", **params)


def _sync_command(app: GitOpsApp) -> str:
    if app.tool == ARGOCD:
        return f"argocd app sync {app.name}"
    return f"flux reconcile {app.kind.lower()} {app.name} -n {app.namespace} --with-source"


@check(
    id="gitops_in_sync_and_healthy",
    title="In sync and healthy in production",
    category="delivery",
    level="silver",
    weight=2,
    rationale=(
        "An object out of sync runs something other than what Git says; a degraded one failed to roll out. "
        "Either way the next change is deployed on top of an unknown state."
    ),
    remediation=(
        "Bring {objects} back in line with Git: look at the diff (`argocd app diff` or `flux diff`), revert "
        "any change made by hand in the cluster or commit it to {repo}, then sync (`{command}`) and fix what "
        "keeps it from becoming healthy."
    ),
)
def gitops_in_sync_and_healthy(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    apps = _production(ev, ctx)
    if not apps:
        return _no_production(ev, objects=f"the objects deploying {ev.service}", command=f"argocd app sync {ev.service}")
    bad, progressing, blind = [], [], []
    for app in apps:
        if app.sync_status in (None, "Unknown") or app.health in (None, "Unknown"):
            blind.append(app)
        elif app.sync_status != "Synced" or app.health in ("Degraded", "Missing", "Suspended"):
            bad.append(app)
        elif app.health != "Healthy":
            progressing.append(app)
    if bad:
        app = bad[0]
        states = "; ".join(f"{a.label} is {a.sync_status} and {a.health}" + (f" ({a.health_message})" if a.health_message else "")
                           for a in bad[:3])
        return failed(states, _sync_command(app), objects=summarise_names(a.label for a in bad),
                      command=_sync_command(app))
    if blind:
        return unknown(f"{summarise_names(a.label for a in blind)} reports no sync or health status",
                       objects=summarise_names(a.label for a in blind), command=_sync_command(blind[0]))
    if progressing:
        app = progressing[0]
        return warned(f"{app.label} is Synced but {app.health}", objects=app.label, command=_sync_command(app))
    return passed(f"{_every_label(apps)} Synced and Healthy")


def _every_label(apps: list[GitOpsApp]) -> str:
    return apps[0].label + " is" if len(apps) == 1 else f"all {len(apps)} objects ({summarise_names(a.label for a in apps)}) are"


@check(
    id="gitops_automated_sync_with_self_heal",
    title="Automated sync with self-heal",
    category="reliability",
    level="gold",
    weight=2,
    rationale=(
        "With automated sync and self-heal the controller deploys every merge and undoes changes made by "
        "hand in the cluster, so production cannot quietly drift from Git; a suspended Flux object does neither."
    ),
    remediation=(
        "Turn on automated sync with self-heal for {objects}: add the `syncPolicy.automated` block below to "
        "the Application (Flux: `flux resume {kind_lower} <name>` and remove `suspend: true`)."
    ),
)
def gitops_automated_sync_with_self_heal(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    apps = _production(ev, ctx) or list(ev.gitops or [])
    if not apps:
        return _no_production(ev, objects=f"the objects deploying {ev.service}", kind_lower="kustomization")
    manual = [a for a in apps if not a.automated]
    no_heal = [a for a in apps if a.automated and not a.self_heal]
    if manual or no_heal:
        parts = []
        if manual:
            parts.append(f"{summarise_names(a.label for a in manual)} " + ("syncs only by hand" if any(a.tool == ARGOCD for a in manual) else "is suspended"))
        if no_heal:
            parts.append(f"{summarise_names(a.label for a in no_heal)} syncs automatically without selfHeal")
        first = (manual or no_heal)[0]
        snippet = ("spec:\n  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: true\n"
                   if first.tool == ARGOCD else f"flux resume {first.kind.lower()} {first.name} -n {first.namespace}\n")
        return failed("; ".join(parts), snippet, objects=summarise_names(a.label for a in manual + no_heal),
                      kind_lower=first.kind.lower())
    return passed(f"{summarise_names(a.label for a in apps)}: automated sync with self-heal")


@check(
    id="gitops_no_revision_drift",
    title="No drift between the revision in Git and the one running",
    category="delivery",
    level="gold",
    weight=2,
    rationale=(
        "When the revision the controller last deployed is not the one its target (branch, tag, chart "
        "version) resolves to in Git now, merged changes are waiting, or failing, to reach production."
    ),
    remediation=(
        "Deploy the revision Git holds for {objects}: Git is at {desired}, {applied} is running. Sync it "
        "(`{command}`) or find out why the last sync did not finish (`argocd app get` / `flux get`)."
    ),
)
def gitops_no_revision_drift(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    apps = _production(ev, ctx)
    if not apps:
        return _no_production(ev, objects=f"the objects deploying {ev.service}", desired="unknown", applied="unknown",
                              command=f"argocd app sync {ev.service}")
    drifted = [a for a in apps if a.desired_revision and a.applied_revision and not _same(a.desired_revision, a.applied_revision)]
    if drifted:
        app = drifted[0]
        detail = "; ".join(f"{a.label}: Git is at {_short(a.desired_revision)}, {_short(a.applied_revision)} is running"
                           for a in drifted[:3])
        return failed(detail, _sync_command(app), objects=summarise_names(a.label for a in drifted),
                      desired=_short(app.desired_revision), applied=_short(app.applied_revision),
                      command=_sync_command(app))
    blind = [a for a in apps if not (a.desired_revision and a.applied_revision)]
    if blind:
        return unknown(f"{summarise_names(a.label for a in blind)} reports no deployed or target revision",
                       objects=summarise_names(a.label for a in blind), desired=_short(blind[0].desired_revision),
                       applied=_short(blind[0].applied_revision), command=_sync_command(blind[0]))
    revisions = sorted({_short(a.applied_revision) for a in apps})
    return passed(f"{plural(len(apps), 'object')} running the revision Git holds ({', '.join(revisions)})")


def _same(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a == b or (min(len(a), len(b)) >= 7 and (a.startswith(b) or b.startswith(a)))


def _short(revision: str | None) -> str:
    if revision and len(revision) == 40 and all(c in "0123456789abcdef" for c in revision.lower()):
        return revision[:7]
    return revision or "unknown"
