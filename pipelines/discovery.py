"""Find the deployables of a repository that has no catalog entities.

Identity rule 3 of DESIGN.md ("Identity"): one service per directory that
builds something deployable, confirmed where possible by a workload or image of
that name; conservative, so docs, tests, examples and libraries are not
services. The rules, each recorded on the deployable it found:

* ``marker``: a directory below one of the configured roots (``src/``,
  ``services/``, ``apps/``, the top level, ...; at most ``max_depth`` levels
  down) with a marker file of its own (a Dockerfile);
* ``image build``: the build context of an image that a compose file or a
  skaffold config builds;
* ``build module``: a Maven module or Gradle sub-project (listed by its
  aggregator POM or settings.gradle) that is not ``pom`` packaging and applies
  a plugin that makes it runnable (Spring Boot, Jib, Quarkus, ...), itself or
  through the aggregator; or any module confirmed by a workload or image of
  its name;
* ``cmd``: a Go ``cmd/<bin>/`` directory that a workload or image of that name
  confirms.

Nothing below a folder named in ``exclude`` is a deployable, and a deployable
inside another (non-root) deployable is part of it. A Dockerfile at the root
makes the repository itself a deployable.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from pipelines.config import Discovery
from pipelines.facts import RepoFacts


@dataclass(slots=True)
class Deployable:
    path: str  # repo-relative directory; "" for the repository root
    name: str  # directory name (the repository's name for the root)
    rules: list[str] = field(default_factory=list)  # "marker: src/x/Dockerfile", "build module: ..."
    aliases: list[str] = field(default_factory=list)  # other names its workloads go by (image names)

    def explain(self) -> str:
        return "; ".join(self.rules)


def image_name(image: str | None) -> str | None:
    """``registry:5000/team/app:1.2@sha256:...`` -> ``app``: the part workloads are named after."""
    if not image:
        return None
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0] or None


def _excluded(path: str, cfg: Discovery) -> bool:
    names = {n.lower() for n in cfg.exclude}
    return any(part.lower() in names or part.startswith(".") for part in path.split("/") if part)


def _under_root(path: str, cfg: Discovery) -> bool:
    depth = path.count("/") + 1
    for root in cfg.roots:
        if root == ".":
            if depth == 1:
                return True
        elif path.startswith(root + "/") and 1 <= depth - (root.count("/") + 1) <= cfg.max_depth:
            return True
    return False


def _confirming_names(facts: RepoFacts) -> set[str]:
    """Names that say "this runs": workloads in the repo's manifests, images its builds and charts name."""
    names: set[str] = set()
    for w in facts.manifests.workloads:
        names.add(w.name)
        names.update(n for c in w.containers if (n := image_name(c.image)))
    for build in facts.builds:
        for image in build.images:
            if n := image_name(image.image):
                names.add(n)
            if image.name:
                names.add(image.name)
    for chart in facts.helm_charts:
        if chart.values is not None and (n := image_name(chart.values.image)):
            names.add(n)
    return names


def discover(facts: RepoFacts, cfg: Discovery) -> list[Deployable]:
    """The deployables of one repository, outermost first, with the rules that found each."""
    if not cfg.enabled:
        return []
    found: dict[str, Deployable] = {}

    def add(path: str, rule: str) -> None:
        name = posixpath.basename(path) if path else facts.repo
        found.setdefault(path, Deployable(path, name)).rules.append(rule)

    markers = set(cfg.markers)
    for file in facts.files:
        directory, base = posixpath.split(file)
        if base not in markers or _excluded(directory, cfg):
            continue
        if directory in cfg.roots:
            add("", f"marker: {file}")  # `src/Dockerfile`: the repository builds from its source folder
        elif directory == "" or _under_root(directory, cfg):
            add(directory, f"marker: {file}")

    confirmed = _confirming_names(facts)
    for build in facts.builds:
        for image in build.images:
            if image.context is None or _excluded(image.context, cfg):
                continue
            what = f"image {image.image}" if image.image else f"compose service {image.name}"
            add(image.context, f"image build: {build.file} builds {what}")

    modules = _runnable_modules(facts, cfg, confirmed)
    for path, why in modules.items():
        if not _excluded(path, cfg):
            add(path, f"build module: {why}")

    go_dirs = {posixpath.dirname(f) for f in facts.files if f.endswith(".go")}
    for directory in sorted(go_dirs):
        parent, name = posixpath.split(directory)
        if posixpath.basename(parent) == "cmd" and name in confirmed and not _excluded(parent, cfg):
            add(directory, f"cmd: {directory} builds `{name}`, which a workload or image of that name runs")

    return _outermost(list(found.values()), facts)


def _runnable_modules(facts: RepoFacts, cfg: Discovery, confirmed: set[str]) -> dict[str, str]:
    """Maven modules / Gradle sub-projects that build something runnable, with the reason."""
    runnable = set(cfg.runnable_plugins)
    by_dir = {posixpath.dirname(b.file): b for b in facts.builds if b.tool in ("maven", "gradle")}
    out: dict[str, str] = {}
    for aggregator in facts.builds:
        if aggregator.tool not in ("maven", "gradle-settings"):
            continue
        inherited = runnable.intersection(aggregator.plugins)
        for module in aggregator.modules:
            build = by_dir.get(module)
            if build is None or build.packaging == "pom":
                continue  # not crawled, or an aggregator itself
            own = runnable.intersection(build.plugins)
            name = posixpath.basename(module)
            if own:
                out[module] = f"{build.file} applies {sorted(own)[0]}"
            elif inherited:
                out[module] = f"{build.file} inherits {sorted(inherited)[0]} from {aggregator.file}"
            elif name in confirmed:
                out[module] = f"{build.file} builds `{name}`, which a workload or image of that name runs"
    return out


def _outermost(found: list[Deployable], facts: RepoFacts) -> list[Deployable]:
    """Drop deployables inside another non-root deployable (a sidecar image of a service is the service's)."""
    found.sort(key=lambda d: (d.path.count("/") if d.path else -1, d.path))
    kept: list[Deployable] = []
    for d in found:
        outer = next((k for k in kept if k.path and d.path.startswith(k.path + "/")), None)
        if outer is not None:
            outer.rules.append(f"also builds {d.path}")
            continue
        kept.append(d)
    for d in kept:
        d.aliases = sorted(_aliases(d, facts) - {d.name})
    return kept


def _aliases(d: Deployable, facts: RepoFacts) -> set[str]:
    """Image names built from the deployable's directory: its workloads often carry those."""
    names: set[str] = set()
    for build in facts.builds:
        for image in build.images:
            if image.context == d.path and (n := image_name(image.image)):
                names.add(n)
            if image.context is None and image_name(image.image) == d.name and image.name:
                names.add(image.name)  # compose service `vets-service` runs image spring-petclinic-vets-service
    return names
