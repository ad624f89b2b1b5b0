"""Turn a repository tree into `RepoFacts`, whichever source produced the tree.

A source lists the tree (paths, modes, sizes) and knows how to read blobs; this
module decides which files matter, reads only those in one batch, guards
against hostile content (huge, binary, invalid UTF-8, symlinks leaving the
repo) and routes each file to its parser. The local-clone and GitHub sources
share it, so they produce the same evidence for the same tree.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from checks.evidence import HelmValues, Problem, UnreadableFile, Workload
from pipelines import parsers
from pipelines.facts import RepoFacts
from pipelines.parsers import ParseError

MAX_FILE_BYTES = 1_000_000  # config files beyond this are not config files

CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's precedence
_WORKFLOW = re.compile(r"^\.github/workflows/[^/]+\.ya?ml$")
_CATALOG = re.compile(r"(^|/)catalog-info\.ya?ml$")
# Kubernetes YAML is recognised by content (apiVersion + kind) wherever it is;
# JSON only in folders named for manifests, because most JSON in a repository
# (package.json, dashboards, fixtures) is not Kubernetes and costs a read.
_K8S_DIRS = re.compile(r"(^|/)(k8s|kube|kubernetes|manifests?|deploy(ment)?s?|alerts?|monitoring|slos?)(/|$)")
_HELM_VALUES = re.compile(r"^values([.-][\w.-]+)?\.ya?ml$")
# Folders whose manifests describe no deployed workload: test fixtures,
# documentation and examples. Their YAML is not read as Kubernetes objects.
NOT_DEPLOYED_DIRS = frozenset({
    "test", "tests", "testdata", "test-data", "__tests__", "fixtures", "e2e",
    "docs", "doc", "examples", "example", "samples", "sample",
})  # fmt: skip
# A repository with more candidate manifests than this is read up to the limit
# (shallowest first) and the rest is reported, so one generated-YAML monorepo
# cannot stall the crawl.
MAX_MANIFEST_FILES = 3_000


@dataclass(frozen=True, slots=True)
class TreeEntry:
    path: str
    mode: str  # git file mode: 100644, 100755, 120000 (symlink), 160000 (submodule)
    oid: str  # blob id
    size: int
    # Why the blob cannot be read (it is not in this clone), None when it can:
    # a partial clone lists every file but holds only some contents.
    absent: str | None = None


NOT_IN_CLONE = "not available in this clone (a partial or shallow clone left its content out)"
LFS_POINTER = "not available in this clone: stored in Git LFS, the clone holds only the pointer"
_LFS_SPEC = b"version https://git-lfs.github.com/spec/v1"


Reader = Callable[[list[TreeEntry]], dict[str, bytes]]


def _not_deployed(path: str) -> bool:
    return any(part.lower() in NOT_DEPLOYED_DIRS for part in path.split("/")[:-1])


def kind_of(path: str) -> str | None:
    """Which parser a path goes to, or None when the crawl does not read it."""
    base = posixpath.basename(path)
    if _CATALOG.search(path):
        return "catalog"
    if path in CODEOWNERS_LOCATIONS:
        return "codeowners"
    if parsers.is_template_file(path):
        return "template"
    if _WORKFLOW.match(path):
        return "workflow"
    if base == "Chart.yaml":
        return "chart"
    if path.endswith(".tf") or path.endswith(".tf.json"):
        return "terraform"
    if parsers.is_dependency_manifest(path):
        return "dependencies"  # pom.xml and build.gradle also go to the build parser
    if parsers.is_build_file(path):
        return "build"
    helm_template = "/templates/" in f"/{path}"  # Go templates, not YAML
    if base == "requirements.yaml" and not helm_template:
        return "helm_requirements"
    if base in parsers.KUSTOMIZATION_NAMES:
        return "kustomization"
    is_yaml = path.endswith((".yaml", ".yml"))
    if helm_template and is_yaml and not path.startswith(".github/"):
        return "helm_template"
    if not (is_yaml or path.endswith(".json")) or path.startswith(".github/") or helm_template or _not_deployed(path):
        return None
    if is_yaml and _HELM_VALUES.match(base):
        return "helm_values"
    if is_yaml or _K8S_DIRS.search(posixpath.dirname(path)):
        return "k8s"
    return None


def _decode(entry: TreeEntry, raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise ParseError(entry.path, "binary file (contains NUL bytes); expected text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            entry.path, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _symlink_target(entry: TreeEntry, raw: bytes) -> str | None:
    """Resolve a symlink inside the tree; None when it leaves the repository."""
    target = raw.decode("utf-8", "replace")
    if target.startswith("/"):
        return None
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), target))
    if resolved.startswith("../") or resolved == "..":
        return None
    return resolved


def extract_facts(facts: RepoFacts, entries: Iterable[TreeEntry], read: Reader) -> RepoFacts:
    """Fill `facts` from a tree listing; `read` fetches blob contents by entry."""
    entries = [e for e in entries if e.mode != "160000"]  # submodules are other repos
    by_path = {e.path: e for e in entries}
    facts.files = sorted(by_path)
    wanted: dict[str, tuple[str, TreeEntry]] = {}
    kinds = {e.path: kind_of(e.path) for e in entries}
    manifests = sorted((p for p, k in kinds.items() if k == "k8s"), key=lambda p: (p.count("/"), p))
    if len(manifests) > MAX_MANIFEST_FILES:
        for path in manifests[MAX_MANIFEST_FILES:]:
            kinds[path] = None
        facts.problems.append(Problem(
            manifests[MAX_MANIFEST_FILES],
            f"{len(manifests) - MAX_MANIFEST_FILES} more YAML files not read as manifests: over the limit of "
            f"{MAX_MANIFEST_FILES:,} per repository (the shallowest were read)",
        ))

    def unreadable(path: str, kind: str, reason: str) -> None:
        # Only this file's facts are unknown; the rest of the repository is scored.
        facts.unreadable.append(UnreadableFile(path, kind, reason))
        facts.problems.append(Problem(path, reason))

    for entry in entries:
        kind = kinds[entry.path]
        if kind is None:
            continue
        if entry.absent:
            unreadable(entry.path, kind, entry.absent)
            continue
        if entry.size > MAX_FILE_BYTES and entry.mode != "120000":
            facts.problems.append(
                Problem(entry.path, f"file is {entry.size / 1e6:.1f} MB, over the {MAX_FILE_BYTES // 1_000_000} MB limit for config files; skipped")
            )
            continue
        wanted[entry.path] = (kind, entry)

    # Symlinks are read as their target path (git stores it as the blob), never
    # followed on disk: a link to /etc/passwd or ../other-repo must not leak.
    links = [e for _, e in wanted.values() if e.mode == "120000"]
    if links:
        raw_links = read(links)
        for link in links:
            if link.path not in raw_links:
                unreadable(link.path, wanted.pop(link.path)[0], NOT_IN_CLONE)
                continue
            target = _symlink_target(link, raw_links[link.path])
            real = by_path.get(target) if target else None
            if real is not None and real.absent:
                unreadable(link.path, wanted.pop(link.path)[0], f"symlink to {target}, which is {real.absent}")
            elif real is None or real.mode == "120000":
                why = "points outside the repository" if target is None else f"points to {target}, which is not a file in the repository"
                facts.problems.append(Problem(link.path, f"symlink {why}; not followed"))
                del wanted[link.path]
            elif real.size > MAX_FILE_BYTES:
                facts.problems.append(Problem(link.path, f"symlink target {target} is over the size limit; skipped"))
                del wanted[link.path]
            else:
                wanted[link.path] = (wanted[link.path][0], TreeEntry(link.path, real.mode, real.oid, real.size))

    contents = read([e for _, e in wanted.values()]) if wanted else {}
    texts: dict[str, str] = {}
    for path, (kind, entry) in wanted.items():
        raw = contents.get(path)
        if raw is None:
            unreadable(path, kind, NOT_IN_CLONE)
            continue
        if raw.startswith(_LFS_SPEC):
            unreadable(path, kind, LFS_POINTER)
            continue
        try:
            texts[path] = _decode(entry, raw)
        except ParseError as exc:
            facts.problems.append(Problem(path, exc.reason))

    _route(facts, {p: (wanted[p][0], t) for p, t in texts.items()})
    return facts


def _route(facts: RepoFacts, files: dict[str, tuple[str, str]]) -> None:
    inventories = []
    codeowners_done = False
    values: list[HelmValues] = []
    templates: list[tuple[str, str]] = []
    # Patches first: a manifest a kustomization patches with is not a workload of its own.
    patches: set[str] = set()
    for path, (kind, text) in files.items():
        if kind == "kustomization":
            try:
                patches.update(parsers.parse_kustomization(text, path))
            except ParseError as exc:
                facts.problems.append(Problem(path, exc.reason))
            except RecursionError:
                facts.problems.append(Problem(path, "nesting too deep to parse"))
    facts.kustomize_patches = sorted(patches)
    # Deterministic order so evidence is identical across sources and runs.
    for path in sorted(files, key=lambda p: (CODEOWNERS_LOCATIONS.index(p) if p in CODEOWNERS_LOCATIONS else 9, p)):
        kind, text = files[path]
        try:
            if kind == "catalog":
                facts.catalog.extend(parsers.parse_catalog(text, path))
            elif kind == "codeowners":
                if not codeowners_done:  # GitHub uses the first file found, in this order
                    facts.codeowners = parsers.parse_codeowners(text, path)
                    codeowners_done = True
            elif kind == "template":
                facts.templates.append(parsers.parse_template_file(text, path))
            elif kind == "workflow":
                facts.workflows.append(parsers.parse_workflow(text, path))
            elif kind == "chart":
                facts.helm_charts.append(parsers.parse_chart(text, path))
            elif kind == "helm_requirements":
                chart_dir = posixpath.dirname(path)
                for chart in facts.helm_charts:
                    if posixpath.dirname(chart.file) == chart_dir:
                        chart.dependencies.extend(parsers.parse_requirements(text, path))
            elif kind == "helm_values":
                values.append(parsers.parse_values(text, path))
            elif kind == "helm_template":
                templates.append((path, text))
            elif kind == "terraform":
                facts.terraform_modules.extend(parsers.parse_terraform(text, path))
            elif kind == "dependencies":
                facts.dependencies.append(parsers.parse_dependency_manifest(text, path))
                if parsers.is_build_file(path):
                    facts.builds.append(parsers.parse_build_file(text, path))
            elif kind == "build":
                facts.builds.append(parsers.parse_build_file(text, path))
            elif kind == "k8s":
                if path in patches or "apiVersion" not in text or "kind" not in text:
                    continue  # a patch, or some other YAML that is not a Kubernetes object
                inventories.append(parsers.parse_k8s_text(text, path))
        except ParseError as exc:
            facts.problems.append(Problem(path, exc.reason))
        except RecursionError:
            facts.problems.append(Problem(path, "nesting too deep to parse"))
    _attach_values(facts, values)
    _attach_template_kinds(facts, templates)
    if inventories:
        facts.manifests = parsers.merge_inventories(inventories)
        facts.manifests.workloads = _one_per_workload(facts.manifests.workloads)
        facts.problems.extend(facts.manifests.problems)


def _attach_values(facts: RepoFacts, values: list[HelmValues]) -> None:
    """values.yaml belongs to the chart in its folder; values-<env>.yaml files are its variants."""
    charts = {posixpath.dirname(c.file): c for c in facts.helm_charts}
    for v in sorted(values, key=lambda v: (posixpath.basename(v.file) not in ("values.yaml", "values.yml"), v.file)):
        chart = charts.get(posixpath.dirname(v.file))
        if chart is None:
            continue
        if chart.values is None:
            chart.values = v if posixpath.basename(v.file) in ("values.yaml", "values.yml") else HelmValues(file="")
        if chart.values is not v:
            chart.values.variants.append(v.file)


_KIND_LINE = re.compile(r"^kind:\s*([A-Za-z][A-Za-z0-9]*)\s*$", re.M)


def _attach_template_kinds(facts: RepoFacts, templates: list[tuple[str, str]]) -> None:
    """The literal `kind:` lines of a chart's templates (a templated kind stays unknown)."""
    charts = {posixpath.dirname(c.file): c for c in facts.helm_charts}
    for path, text in templates:
        chart = charts.get(path.split("/templates/", 1)[0] if "/templates/" in path else "")
        if chart is not None:
            for kind in _KIND_LINE.findall(text):
                if kind not in chart.template_kinds:
                    chart.template_kinds.append(kind)


def _one_per_workload(workloads: list[Workload]) -> list[Workload]:
    """One workload per (kind, namespace, name): copies in other files (variants, a
    rendered release next to its Kustomize base) are the same workload, judged once.

    The shallowest file is the one judged (a top-level `kubernetes-manifests/`
    release over `src/x/k8s/base/`); the others are listed in `also_in`.
    """
    groups: dict[tuple[str, str, str], list[Workload]] = {}
    for w in workloads:
        groups.setdefault((w.kind, w.namespace, w.name), []).append(w)
    out = []
    for copies in groups.values():
        copies.sort(key=lambda w: ((w.file or "").count("/"), w.file or ""))
        first = copies[0]
        first.also_in = list(dict.fromkeys(w.file for w in copies[1:] if w.file and w.file != first.file))
        out.append(first)
    return out
