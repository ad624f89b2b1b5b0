"""Golden-path checks: is the service on the platform's paved road, and how current is it?

Shared policy for the four "up to date" checks (documented in the catalogue):
0 releases behind passes; 1..N behind (N = the `*_max_releases_behind`
threshold, default 1) warns, a nudge that keeps a fresh platform release from
dropping every service a level overnight; more than N behind fails. A
version we cannot place among the releases (a commit sha, a branch) is never
a guessed number: it warns as unpinned or is `unknown`.
"""

from __future__ import annotations

from checks._helpers import (
    every,
    is_non_deployable,
    plural,
    repo_unknown,
    some_of,
    source_matches,
    summarise_names,
    under,
)
from checks.evidence import ServiceEvidence, TemplateInfo, WorkflowRef
from checks.model import (
    CheckContext,
    GoldenPath,
    Outcome,
    Status,
    check,
    failed,
    not_applicable,
    passed,
    unknown,
    warned,
)
from checks.versions import is_branch, is_sha, latest_release, normalise_version, releases_behind, version_key

_SEVERITY = {Status.PASS: 0, Status.NOT_APPLICABLE: 0, Status.UNKNOWN: 1, Status.WARN: 2, Status.FAIL: 3}


def _freshness(what: str, version: str, path: GoldenPath, max_behind: float, **params: object) -> Outcome:
    """One pinned version against a golden path's releases, under the shared policy."""
    latest = latest_release(path.releases, path.latest)
    params = {"latest": latest or "the latest release", "current": version, **params}
    if latest is None:
        return unknown(f"{what} is at {version}, but no releases are configured to compare with", **params)
    behind = releases_behind(version, path.releases, path.latest)
    if behind is None:
        return unknown(f"{what} version {version} is not one of the known releases (latest {latest})", **params)
    if behind == 0:
        params["releases_behind"] = 0
        if normalise_version(version) == normalise_version(latest):
            return passed(f"{what} is at {version}, the latest release", **params)
        # A floating tag (`v4`) or a release newer than the configured list.
        return passed(f"{what} is at {version}, not behind the latest release {latest}", **params)
    params["releases_behind"] = behind
    detail = f"{what} is at {version}, {plural(behind, 'release')} behind {latest}"
    if behind <= max_behind:
        return warned(f"{detail} (up to {max_behind:g} allowed before this fails)", **params)
    return failed(f"{detail} (more than {max_behind:g} allowed)", **params)


def _worst(outcomes: list[Outcome]) -> Outcome:
    return max(outcomes, key=lambda o: _SEVERITY[o.status])


# ------------------------------------------------------------------ template


def _template_match(ev: ServiceEvidence, ref: str) -> TemplateInfo | None:
    for t in ev.templates:
        if t.source and source_matches(t.source, ref):
            return t
    return None


def _workdir(ev: ServiceEvidence) -> str:
    return f"`{ev.path.strip('/')}`" if ev.path.strip("/") else "the root"


def _update_command(t: TemplateInfo, version: str) -> str:
    if t.tool == "cookiecutter":
        return f"cruft update --checkout {version}"
    return f"copier update --vcs-ref {version}"


@check(
    id="uses_service_template",
    title="Generated from the service template",
    category="golden_path",
    level="silver",
    weight=3,
    rationale=(
        "Services generated from the platform's template start with CI, observability and security "
        "defaults and a layout every engineer recognises, and they can pull in template improvements "
        "later instead of re-inventing them."
    ),
    remediation=(
        "Adopt the service template: in {workdir} of {repo} run `copier copy --trust {template} .`, keep "
        "your code where the diff conflicts, and commit the generated `.copier-answers.yml` so future "
        "template releases arrive with `copier update`."
    ),
)
def uses_service_template(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ctx.template is None:
        return not_applicable("no service template is configured for this organisation")
    ref = ctx.template.reference
    params = {"template": ref, "workdir": _workdir(ev)}
    if (missing := repo_unknown(ev, **params)) is not None:
        return missing
    match = _template_match(ev, ref)
    if match is not None:
        return passed(f"generated from {match.source} ({match.tool}, {match.file})",
                      **on_path(ev, "template", ctx.template))
    if not ev.templates:
        return failed("no template answers file (.copier-answers.yml or cookiecutter replay) found", **params)
    known = [t for t in ev.templates if t.source]
    if not known:
        files = summarise_names(t.file for t in ev.templates)
        return unknown(f"{files} does not record which template it came from", **params)
    sources = summarise_names(t.source for t in known if t.source)
    return failed(f"generated from {sources}, not the platform template {ref}", **params)


@check(
    id="template_up_to_date",
    title="Service template is current",
    category="golden_path",
    level="gold",
    weight=2,
    rationale=(
        "Template releases carry the platform's fixes (base images, CI, security defaults). A service "
        "many releases behind misses them and every later update gets harder to merge. Up to "
        "`template_max_releases_behind` (default 1) releases behind warns; more fails."
    ),
    remediation=(
        "Update {service} from template {current} to {latest}: in {workdir} of {repo} run "
        "`{update_command}`, resolve the conflicts and merge."
    ),
)
def template_up_to_date(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ctx.template is None:
        return not_applicable("no service template is configured for this organisation")
    workdir = _workdir(ev)
    if (missing := repo_unknown(ev, current="?", latest="?", update_command="copier update", workdir=workdir)) is not None:
        return missing
    match = _template_match(ev, ctx.template.reference)
    if match is None:
        return not_applicable("not generated from the service template (see uses_service_template)")
    latest = latest_release(ctx.template.releases, ctx.template.latest) or "the latest release"
    command = _update_command(match, latest)
    if not match.version:
        return unknown(
            f"{match.file} does not record the template version",
            current="?",
            latest=latest,
            update_command=command,
            workdir=workdir,
        )
    return _freshness(
        "template",
        match.version,
        ctx.template,
        ctx.thresholds.template_max_releases_behind,
        update_command=command,
        workdir=workdir,
    )


# ----------------------------------------------------------------- shared CI


def _ci_refs(ev: ServiceEvidence, ref: str) -> list[WorkflowRef]:
    return [r for w in ev.workflows for r in w.refs if source_matches(r.target, ref)]


def _ci_snippet(path: GoldenPath) -> str:
    target = path.reference if path.reference.endswith((".yml", ".yaml")) else (
        f"{path.reference.rstrip('/')}/.github/workflows/<workflow>.yml"
    )
    version = latest_release(path.releases, path.latest) or "<version>"
    return (
        "# .github/workflows/ci.yml\n"
        "on:\n  push:\n    branches: [main]\n  pull_request:\n"
        "jobs:\n"
        "  ci:\n"
        f"    uses: {target}@{version}\n"
        "    secrets: inherit\n"
    )


@check(
    id="uses_shared_ci_workflow",
    title="Builds with the shared CI workflow",
    category="golden_path",
    level="bronze",
    weight=3,
    rationale=(
        "The shared workflow gives every service the same build, test, scan and deploy steps, so a fix "
        "or a new security gate lands everywhere with one release instead of one PR per repo."
    ),
    remediation=(
        "Replace the hand-written jobs in {repo}'s `.github/workflows/` with a job that calls "
        "`{workflow}` (see the snippet), then delete the steps it now covers."
    ),
)
def uses_shared_ci_workflow(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ctx.ci_workflow is None:
        return not_applicable("no shared CI workflow is configured for this organisation")
    ref = ctx.ci_workflow.reference
    if (missing := repo_unknown(ev, workflow=ref)) is not None:
        return missing
    refs = _ci_refs(ev, ref)
    if refs:
        first = refs[0]
        return passed(f"{first.file} job {first.job} calls {first.uses}", **on_path(ev, "ci_workflow", ctx.ci_workflow))
    if not ev.workflows:
        return failed("no GitHub Actions workflows found", snippet=_ci_snippet(ctx.ci_workflow), workflow=ref)
    files = summarise_names(w.file for w in ev.workflows)
    return failed(
        f"{plural(len(ev.workflows), 'workflow')} ({files}), none calls {ref}",
        snippet=_ci_snippet(ctx.ci_workflow),
        workflow=ref,
    )


def _workflow_ref_outcome(r: WorkflowRef, path: GoldenPath, max_behind: float) -> Outcome:
    latest = latest_release(path.releases, path.latest) or "the latest release"
    params = {"latest": latest, "current": r.ref or "unpinned", "file": r.file}
    if not r.ref or is_branch(r.ref):
        what = f"tracks branch {r.ref}" if r.ref else "has no @ref"
        return warned(f"{r.file} job {r.job} {what}: unpinned, so any push changes your build", **params)
    if is_sha(r.ref):
        return warned(
            f"{r.file} job {r.job} is pinned to commit {r.ref[:12]}, not a release: "
            "cannot tell how far behind it is",
            **params,
        )
    return _freshness(f"{r.file} job {r.job}", r.ref, path, max_behind, **{"file": r.file})


@check(
    id="shared_ci_workflow_up_to_date",
    title="Shared CI workflow is pinned to a current release",
    category="golden_path",
    level="silver",
    weight=2,
    rationale=(
        "Pinning to a release tag makes builds reproducible; staying near the latest release means the "
        "platform's new gates and fixes actually run. Branch pins change under you without review. Up "
        "to `ci_workflow_max_releases_behind` (default 1) releases behind warns; more fails; a branch "
        "or commit pin warns."
    ),
    remediation=(
        "In {repo}'s `{file}`, pin the shared workflow to `@{latest}` (now `{current}`) and read its "
        "release notes for required inputs."
    ),
)
def shared_ci_workflow_up_to_date(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ctx.ci_workflow is None:
        return not_applicable("no shared CI workflow is configured for this organisation")
    if (missing := repo_unknown(ev, file=".github/workflows", current="?", latest="?")) is not None:
        return missing
    refs = _ci_refs(ev, ctx.ci_workflow.reference)
    if not refs:
        return not_applicable("does not call the shared CI workflow (see uses_shared_ci_workflow)")
    max_behind = ctx.thresholds.ci_workflow_max_releases_behind
    return _worst([_workflow_ref_outcome(r, ctx.ci_workflow, max_behind) for r in refs])


# ---------------------------------------------------------------- Helm chart


def _chart_name(path: GoldenPath) -> str:
    return path.reference.rstrip("/").rsplit("/", 1)[-1]


def _chart_repository(path: GoldenPath) -> str:
    ref = path.reference.rstrip("/")
    return ref.rsplit("/", 1)[0] if "/" in ref else "<chart repository>"


def _chart_snippet(path: GoldenPath, chart_file: str) -> str:
    version = latest_release(path.releases, path.latest) or "<version>"
    return (
        f"# {chart_file}\n"
        "dependencies:\n"
        f"  - name: {_chart_name(path)}\n"
        f"    version: {version}\n"
        f"    repository: {_chart_repository(path)}\n"
    )


@check(
    id="uses_base_helm_chart",
    title="Deploys with the shared base Helm chart",
    category="golden_path",
    level="silver",
    weight=3,
    rationale=(
        "The base chart encodes the platform's deployment defaults (probes, resources, PDB, security "
        "context, monitors). Services on it inherit improvements by bumping one version. Libraries and "
        "documentation are never deployed, and experimental services with no chart yet are left alone "
        "until they choose how to ship."
    ),
    remediation=(
        "Make `{chart_file}` in {repo} depend on the base chart (snippet), move {service}'s values under "
        "its key and delete the templates it replaces."
    ),
)
def uses_base_helm_chart(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ctx.helm_chart is None:
        return not_applicable("no base Helm chart is configured for this organisation")
    chart_file = ev.helm_charts[0].file if ev.helm_charts else under(ev.path, "chart/Chart.yaml")
    if (missing := repo_unknown(ev, chart_file=chart_file)) is not None:
        return missing
    name = _chart_name(ctx.helm_chart)
    for chart in ev.helm_charts:
        for dep in chart.dependencies:
            if dep.name == name:
                return passed(f"{chart.file} depends on {name} {dep.version or '(no version)'}",
                              **on_path(ev, "helm_chart", ctx.helm_chart))
    snippet = _chart_snippet(ctx.helm_chart, chart_file)
    if ev.helm_charts:
        charts = summarise_names(c.file for c in ev.helm_charts)
        return failed(f"{charts} does not depend on {name}", snippet=snippet, chart_file=chart_file)
    if is_non_deployable(ev):
        return not_applicable(f"a {ev.type} is not deployed")
    deployed = bool(ev.cluster_workloads or ev.repo_workloads)
    if (ev.lifecycle or "").lower() == "experimental" and not deployed:
        return not_applicable("experimental service with no Helm chart yet")
    how = " (deployed from plain manifests)" if deployed else ""
    return failed(f"no Helm chart found{how}", snippet=snippet, chart_file=chart_file)


@check(
    id="base_helm_chart_up_to_date",
    title="Base Helm chart is current",
    category="golden_path",
    level="gold",
    weight=2,
    rationale=(
        "Base chart releases ship the platform's deployment fixes; a service that lags keeps running "
        "with the defaults that were already replaced. Up to `helm_chart_max_releases_behind` "
        "(default 1) releases behind warns; more fails."
    ),
    remediation=(
        "In {repo}'s `{file}`, set the {chart} dependency version from {current} to {latest}, run "
        "`helm dependency update` and deploy to staging first."
    ),
)
def base_helm_chart_up_to_date(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ctx.helm_chart is None:
        return not_applicable("no base Helm chart is configured for this organisation")
    name = _chart_name(ctx.helm_chart)
    if (missing := repo_unknown(ev, file="Chart.yaml", chart=name, current="?", latest="?")) is not None:
        return missing
    max_behind = ctx.thresholds.helm_chart_max_releases_behind
    outcomes = []
    for chart in ev.helm_charts:
        for dep in chart.dependencies:
            if dep.name != name:
                continue
            params = {"file": chart.file, "chart": name}
            if not dep.version:
                latest = latest_release(ctx.helm_chart.releases, ctx.helm_chart.latest) or "?"
                outcomes.append(
                    unknown(f"{chart.file} does not state a {name} version", current="?", latest=latest, **params)
                )
            else:
                outcomes.append(_freshness(f"{name} in {chart.file}", dep.version, ctx.helm_chart, max_behind, **params))
    if not outcomes:
        return not_applicable(f"does not use {name} (see uses_base_helm_chart)")
    return _worst(outcomes)


# ----------------------------------------------------------------- Terraform


def _remote_modules(ev: ServiceEvidence):
    return [m for m in ev.terraform_modules if m.kind != "local"]


@check(
    id="uses_standard_terraform_modules",
    title="Uses the standard Terraform modules",
    category="golden_path",
    level="silver",
    weight=2,
    rationale=(
        "The platform's modules bake in tagging, encryption, backups and network policy; hand-rolled or "
        "third-party modules drift from them and are invisible to platform-wide fixes."
    ),
    remediation=(
        "Replace these modules in {repo} with their equivalents from `{reference}`: {modules}. Ask the "
        "platform team when no standard module covers your need."
    ),
)
def uses_standard_terraform_modules(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ctx.terraform is None:
        return not_applicable("no standard Terraform modules are configured for this organisation")
    ref = ctx.terraform.reference
    if (missing := repo_unknown(ev, reference=ref, modules="(unknown)")) is not None:
        return missing
    modules = _remote_modules(ev)
    if not modules:
        return not_applicable("no remote Terraform modules")
    off_path = [m for m in modules if not source_matches(m.source, ref)]
    if not off_path:
        return passed(f"{every(len(modules), 'module', 'comes', 'come')} from {ref}",
                      **on_path(ev, "terraform", ctx.terraform))
    names = [f"{m.name} ({m.source})" for m in off_path]
    return failed(
        f"{some_of(len(off_path), len(modules), 'module', 'is', 'are')} not from {ref}: {summarise_names(names)}",
        reference=ref,
        modules=names,
    )


def _unpinned_reason(kind: str, version: str | None) -> str | None:
    if not version:
        return "no version" if kind == "registry" else "no ?ref="
    v = version.strip()
    if kind == "registry":
        # `>= 1.0` with no upper bound takes every future major release.
        if v.startswith(">") and "<" not in v and "," not in v:
            return f"open-ended constraint {v}"
        return None
    if is_branch(v):
        return f"tracks branch {v}"
    return None


@check(
    id="terraform_modules_pinned",
    title="Terraform modules are pinned",
    category="golden_path",
    level="bronze",
    weight=2,
    rationale=(
        "An unpinned module changes the next `terraform apply` without a code change or a review, which "
        "is how infrastructure breaks on a quiet Friday."
    ),
    remediation=(
        "Pin each module in {repo} to a release: `?ref=<tag>` on git sources, `version = \"<x.y.z>\"` on "
        "registry modules. Unpinned now: {modules}."
    ),
)
def terraform_modules_pinned(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if (missing := repo_unknown(ev, modules="(unknown)")) is not None:
        return missing
    modules = [m for m in ev.terraform_modules if m.kind in ("registry", "git")]
    if not modules:
        return not_applicable("no registry or git Terraform modules")
    unpinned = []
    for m in modules:
        reason = _unpinned_reason(m.kind, m.version)
        if reason is not None:
            unpinned.append(f"{m.name} in {m.file} ({reason})")
    if not unpinned:
        return passed(f"{every(len(modules), 'module', 'is', 'are')} pinned")
    return failed(
        f"{some_of(len(unpinned), len(modules), 'module', 'is', 'are')} unpinned: {summarise_names(unpinned)}",
        modules=unpinned,
    )


# ------------------------------------------------------ adoption reporting


def _most_behind(versions: list[str], path: GoldenPath) -> str | None:
    """The version furthest behind (the one a platform team chases); an uncomparable one ranks last."""
    if not versions:
        return None

    def rank(v: str) -> tuple:
        behind = releases_behind(v, path.releases, path.latest)
        key = version_key(v)
        # Without configured releases, the lowest version is the furthest behind.
        return (-1 if behind is None else behind, tuple(-x for x in key) if key else ())

    return max(versions, key=rank)


def on_path(ev: ServiceEvidence, golden_path: str, path: GoldenPath) -> dict[str, object]:
    """The params a passing `uses_*` finding carries, from which adoption is published:
    the version the service is on (the one furthest behind), the latest, and how far behind."""
    version = current_version(ev, golden_path, path)
    behind = releases_behind(version, path.releases, path.latest) if version else None
    return {"version": version, "latest": path.latest, "releases_behind": behind}


def current_version(ev: ServiceEvidence, golden_path: str, path: GoldenPath) -> str | None:
    """Which version of a golden path the service is on, for adoption reporting.

    ``golden_path`` is "template", "ci_workflow", "helm_chart" or "terraform".
    With several pins (two workflows, several modules) the one furthest behind
    is reported, the same one the up-to-date checks judge. None when the
    service is not on the path or the version is not recorded.
    """
    if golden_path == "template":
        match = _template_match(ev, path.reference)
        return match.version if match else None
    if golden_path == "ci_workflow":
        return _most_behind([r.ref for r in _ci_refs(ev, path.reference) if r.ref], path)
    if golden_path == "helm_chart":
        name = _chart_name(path)
        return _most_behind([d.version for c in ev.helm_charts for d in c.dependencies if d.name == name and d.version], path)
    if golden_path == "terraform":
        versions = [m.version for m in _remote_modules(ev) if m.version and source_matches(m.source, path.reference)]
        return _most_behind(versions, path)
    raise ValueError(f"unknown golden path {golden_path!r}")
