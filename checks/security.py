"""Security and secrets checks.

Findings name workloads, containers, env vars and Secret names, never a
value: these details end up in dashboards, CI logs and exports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from checks import secret_managers
from checks._helpers import (
    WorkloadScope,
    all_workloads,
    container_gaps,
    counts_init,
    every,
    file_index,
    judges_workloads,
    no_workloads,
    plural,
    repo_unknown,
    some_of,
    summarise_names,
    unreadable_kinds,
)
from checks.evidence import ENV_TEXT, Container, ServiceEvidence
from checks.model import (
    CheckContext,
    Outcome,
    check,
    failed,
    not_applicable,
    passed,
    unknown,
)

# ------------------------------------------------- which env vars are secrets

# A name holds a credential when one of its words says so (DB_PASSWORD,
# GITHUB_TOKEN, API_KEY) ...
_SECRET_WORDS = frozenset({
    "PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "SECRETS", "TOKEN", "CREDENTIAL", "CREDENTIALS", "APIKEY",
})  # fmt: skip
_SECRET_PAIRS = frozenset({
    ("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY"), ("SECRET", "KEY"), ("SIGNING", "KEY"), ("ENCRYPTION", "KEY"),
})  # fmt: skip
# ... unless it ends like these: a pointer to a secret or a setting about it, not the secret.
_NOT_SECRET_SUFFIXES = frozenset({
    "FILE", "PATH", "DIR", "NAME", "HEADER", "TTL", "EXPIRY", "EXPIRES", "LENGTH", "TYPE", "ENABLED",
    "URL", "URI", "ENDPOINT", "REF", "KEYS",
    # durations, sizes and algorithms of a secret (TOKEN_EXPIRY_SECONDS, JWT_SECRET_ALGORITHM)
    "SECONDS", "SECS", "MS", "MILLIS", "MINUTES", "HOURS", "DAYS", "TIMEOUT", "INTERVAL", "LIFETIME",
    "COUNT", "SIZE", "BITS", "ALGORITHM", "ALG", "ISSUER", "AUDIENCE", "VERSION", "ROTATION",
})  # fmt: skip


@lru_cache(maxsize=8192)
def looks_like_secret_name(name: str) -> bool:
    """Whether an env var *name* suggests its value is a credential."""
    tokens = [token for token in re.split(r"[^A-Z0-9]+", name.upper()) if token]
    if not tokens or tokens[-1] in _NOT_SECRET_SUFFIXES:
        return False
    if any(token in _SECRET_WORDS for token in tokens):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(tokens, tokens[1:]))


def literal_secrets(container: Container) -> list[str]:
    """Env vars set to a literal secret. A switch (MYSQL_ALLOW_EMPTY_PASSWORD=yes) or a
    placeholder (`$(DB_PASSWORD)`) is not one, whatever the name says."""
    return [name for name, form in container.literal_env.items() if form == ENV_TEXT and looks_like_secret_name(name)]


@check(
    id="no_literal_secrets",
    title="No literal secrets in manifests",
    category="security",
    level="bronze",
    weight=5,
    rationale=(
        "A secret written as a plain env value is readable by anyone who can read the repo or the "
        "Deployment, lives forever in git history and cannot be rotated without a deploy."
    ),
    remediation=(
        "Rotate these credentials now (treat them as leaked), then move {env_vars} in {repo} to a "
        "Secret created by an ExternalSecret and reference it with `valueFrom.secretKeyRef`."
    ),
)
def no_literal_secrets(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    # Both sources: a secret committed to git has leaked whether or not it is deployed.
    workloads = all_workloads(ev)
    if not workloads:
        return no_workloads(ev)
    found: dict[str, None] = {}
    names: dict[str, None] = {}
    for w in workloads:
        where = f" in {w.cluster}" if w.cluster else (f" in {w.file}" if w.file else "")
        for c in w.containers:
            for env in literal_secrets(c):
                found[f"{w.name}/{c.name} {env}{where}"] = None
                names[env] = None
    if not found:
        return passed(f"no literal secret values in {plural(len(workloads), 'workload')}")
    return failed(
        f"{plural(len(names), 'env var')} with literal secret values: {summarise_names(found)}",
        snippet=(
            "env:\n"
            f"  - name: {next(iter(names))}\n"
            "    valueFrom:\n"
            "      secretKeyRef:\n"
            f"        name: {ev.service}\n"
            f"        key: {next(iter(names)).lower().replace('_', '-')}\n"
        ),
        env_vars=list(names),
    )


def _external_secret_snippet(secret: str, namespace: str) -> str:
    return (
        "apiVersion: external-secrets.io/v1\n"
        "kind: ExternalSecret\n"
        "metadata:\n"
        f"  name: {secret}\n"
        f"  namespace: {namespace}\n"
        "spec:\n"
        "  secretStoreRef:\n"
        "    kind: ClusterSecretStore\n"
        "    name: <platform secret store>\n"
        "  target:\n"
        f"    name: {secret}\n"
        "  dataFrom:\n"
        "    - extract:\n"
        f"        key: <path of {secret} in the secret manager>\n"
    )


@check(
    id="uses_external_secrets",
    title="Secrets come from a secrets manager",
    category="security",
    level="silver",
    weight=3,
    rationale=(
        "Secrets synced by External Secrets, injected by Vault Agent, mounted by the Secrets Store CSI "
        "driver, sealed with Sealed Secrets or encrypted with SOPS are stored once, audited, and rotated "
        "without pasting values into the repo. Hand-made Kubernetes Secrets drift, get copied between "
        "clusters and end up in backups and git. Which managers count: checks/secret_managers.py."
    ),
    remediation=(
        "Have the secrets manager produce {secrets} in {repo}: an ExternalSecret (snippet), or the "
        "platform's Vault Agent / CSI / Sealed Secrets / SOPS setup, then delete the hand-made Secret."
    ),
)
@judges_workloads()
def uses_external_secrets(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    objects = [*scope.objects, *(o for o in ev.repo_objects if o.kind in secret_managers.REPO_ONLY_KINDS)]
    objects = list({id(o): o for o in objects}.values())  # repo-scoped judging already holds them
    managed_by: dict[str, str] = {}  # secret (or "pod <workload>") -> manager
    files: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    used = 0
    for w in scope.workloads:
        for manager, detail in secret_managers.pod_managers(w).items():
            managed_by.setdefault(f"{w.name} ({detail})", manager)
        for c in w.containers:
            for secret in c.secret_refs:
                used += 1
                found = secret_managers.manager_of(secret, w, objects)
                if found is None:
                    unresolved.setdefault(secret, w.namespace)
                    continue
                managed_by[secret] = found[0]
                if found[1]:
                    files[secret] = found[1]
    managers = sorted(set(managed_by.values()))
    params = {"managers": managers, "managed": dict(managed_by), "files": files}
    if not used and not managed_by:
        return not_applicable(f"{scope.where}: no Kubernetes Secrets referenced")
    if not unresolved:
        return passed(
            f"{scope.where}: secrets from {', '.join(managers)}: {summarise_names(managed_by)}", **params
        )
    if (blind := unreadable_kinds(scope, *secret_managers.MANAGER_KINDS)) is not None:
        return blind
    names = list(unresolved)
    secret, namespace = next(iter(unresolved.items()))
    hint = secret_managers.sops_hint(objects)
    resolved = [k for k in managed_by if k in {s for w in scope.workloads for c in w.containers for s in c.secret_refs}]
    detail = (
        f"{scope.where}: {some_of(len(names), len(names) + len(resolved), 'Secret', 'is', 'are')} not produced by "
        f"a secrets manager: {summarise_names(names)}"
    )
    if hint:
        return unknown(f"{detail}; {hint}", secrets=names, **params)
    return failed(detail, snippet=_external_secret_snippet(secret, namespace), secrets=names, **params)


# Where each bot reads its configuration: the file being in the repository is the bot being on.
_BOT_CONFIG_FILES = (
    ("dependabot", frozenset({".github/dependabot.yml", ".github/dependabot.yaml"})),
    ("renovate", frozenset({
        "renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json",
        ".github/renovate.json", ".github/renovate.json5", ".gitlab/renovate.json",
    })),
)  # fmt: skip


def dependency_bot(files: Iterable[str]) -> str | None:
    """The bot the repository configures ("dependabot" or "renovate"), None when neither."""
    return next((bot for bot, names in _BOT_CONFIG_FILES if not names.isdisjoint(files)), None)


_BOT_ECOSYSTEMS = {"python": "pip", "node": "npm", "go": "gomod", "maven": "maven", "gradle": "gradle"}


def _dependabot_snippet(ev: ServiceEvidence) -> str:
    directory = "/" + ev.path.strip("/")
    entries: dict[str, str] = {}
    for m in ev.dependencies:
        if m.ecosystem in _BOT_ECOSYSTEMS:
            entries.setdefault(_BOT_ECOSYSTEMS[m.ecosystem], directory)
    if ev.workflows:
        entries.setdefault("github-actions", "/")
    if any(f.rsplit("/", 1)[-1] == "Dockerfile" for f in ev.files):
        entries.setdefault("docker", directory)
    if ev.terraform_modules:
        entries.setdefault("terraform", directory)
    if not entries:
        entries["github-actions"] = "/"
    lines = ["version: 2", "updates:"]
    for ecosystem, d in entries.items():
        lines += [
            f'  - package-ecosystem: "{ecosystem}"',
            f'    directory: "{d}"',
            "    schedule:",
            '      interval: "weekly"',
        ]
    return "\n".join(lines) + "\n"


@check(
    id="has_dependency_update_bot",
    title="Dependencies are updated by a bot",
    category="security",
    level="bronze",
    weight=2,
    rationale=(
        "Most vulnerabilities are fixed upstream long before they are exploited; Dependabot or "
        "Renovate turns those fixes into small reviewed pull requests instead of a yearly upgrade "
        "project."
    ),
    remediation="Add `.github/dependabot.yml` to {repo} (snippet) or enable Renovate for it.",
)
def has_dependency_update_bot(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if (missing := repo_unknown(ev)) is not None:
        return missing
    if bot := dependency_bot(ev.files):
        return passed(f"{bot} configured")
    return failed("no Dependabot or Renovate configuration", snippet=_dependabot_snippet(ev))


@check(
    id="has_security_policy",
    title="Has a security policy",
    category="security",
    level="silver",
    weight=1,
    rationale=(
        "SECURITY.md tells a researcher or a colleague who finds a vulnerability how to report it "
        "privately, instead of in a public issue."
    ),
    remediation=(
        "Add `SECURITY.md` to {repo} (root, `.github/` or `docs/`) with the private reporting channel "
        "(snippet). An organisation-wide default in the org's `.github` repository is not visible to "
        "this check."
    ),
)
def has_security_policy(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if (missing := repo_unknown(ev)) is not None:
        return missing
    files = file_index(ev).security_policies
    if files:
        return passed(files[0])
    return failed(
        "no SECURITY.md in the repo root, .github/ or docs/",
        snippet=(
            "# Security policy\n\n"
            "## Reporting a vulnerability\n\n"
            "Please do not open a public issue. Report it privately via GitHub's "
            "\"Report a vulnerability\" button or to security@<your-domain>.\n"
            f"{ev.team or 'The owning team'} will acknowledge within 2 working days.\n"
        ),
    )


@check(
    id="default_branch_protected",
    title="Default branch is protected",
    category="security",
    level="bronze",
    weight=3,
    rationale=(
        "Branch protection makes review and passing CI mandatory for what gets deployed; without it a "
        "single compromised token can push straight to production."
    ),
    remediation=(
        "Protect the default branch of {repo} (Settings -> Branches or a ruleset): require a pull "
        "request with one approving review and the CI status checks, and block force pushes."
    ),
)
def default_branch_protected(ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    if ev.branch_protected is None:
        if ev.repo_error:
            return unknown(f"repository not crawled: {ev.repo_error}")
        if ev.repo_source == "local-git":
            # Protection lives in the Git host, which a clone cannot show; a
            # check nobody can ever pass must not hold every service below Bronze.
            return not_applicable("branch protection is a Git host setting; local clones cannot show it (crawl with the GitHub source)")
        return unknown("the Git host did not say whether the default branch is protected (the token may lack permission)")
    if ev.branch_protected:
        return passed("default branch protected")
    return failed("default branch is not protected")


def _runs_as_root_reason(c, w) -> str | None:
    # The container's securityContext overrides the pod's, field by field.
    user = c.run_as_user if c.run_as_user is not None else w.pod_run_as_user
    non_root = c.run_as_non_root if c.run_as_non_root is not None else w.pod_run_as_non_root
    if user == 0:
        return "runAsUser: 0"
    if user is not None and user > 0:
        return None
    if non_root:
        return None
    return "runAsNonRoot: false" if non_root is False else "no runAsNonRoot / runAsUser"


@check(
    id="runs_as_non_root",
    title="Containers run as non-root",
    category="security",
    level="silver",
    weight=3,
    rationale=(
        "A process running as root turns a code-execution bug into a much easier container escape; "
        "`runAsNonRoot: true` also makes Kubernetes refuse an image that would start as root."
    ),
    remediation=(
        "Set `securityContext.runAsNonRoot: true` (and a non-zero `runAsUser`) for {containers} in "
        "{repo}, and build the image with a `USER` line (snippet)."
    ),
)
@judges_workloads()
def runs_as_non_root(scope: WorkloadScope, ev: ServiceEvidence, ctx: CheckContext) -> Outcome:
    lacking, total = container_gaps(scope, _runs_as_root_reason, include_init=True)
    if not lacking:
        return passed(f"{scope.where}: {every(total, 'container', 'runs', 'run')} as non-root{counts_init(scope)}")
    reasons: dict[str, str] = {}
    for w in scope.workloads:
        for c in w.containers:
            label = scope.label(w, c)
            why = _runs_as_root_reason(c, w)
            if why is not None:
                reasons.setdefault(label, why)
    details = [f"{label} ({reasons[label]})" for label in lacking]
    return failed(
        f"{scope.where}: {some_of(len(lacking), total, 'container')}{counts_init(scope)}, may run as root: "
        f"{summarise_names(details)}",
        snippet=(
            "securityContext:\n"
            "  runAsNonRoot: true\n"
            "  runAsUser: 10001\n"
            "  allowPrivilegeEscalation: false\n"
        ),
        containers=lacking,
    )
