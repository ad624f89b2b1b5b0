"""Build files as facts about what a repository builds: Maven and Gradle
modules and plugins, docker compose services and skaffold artifacts.

Service discovery (``pipelines.identity``) reads these facts to find the
deployables of a monorepo; nothing here decides what a service is.

* pom.xml: ``<modules>`` (directories relative to the POM), ``<packaging>``
  (Maven's default is ``jar``), and the artifactIds of ``<build><plugins>``
  of the project and its profiles (not ``<pluginManagement>``, which only
  configures a plugin a child may or may not use).
* build.gradle(.kts): plugin ids from ``plugins { id '...' }`` /
  ``id("...")`` and ``apply plugin: '...'``.
* settings.gradle(.kts): ``include`` of sub-projects (``:a:b`` is ``a/b``),
  relative to the settings file.
* compose files: each service's ``image`` and ``build`` context.
* skaffold.yaml: ``build.artifacts[].image`` and ``context`` (default ``.``);
  a Jib artifact's ``jib.project`` module inside that context.

Paths are normalised repo-relative; one that climbs out of the repository is
dropped.
"""

from __future__ import annotations

import posixpath
import re

from pipelines.facts import BuildFile, ImageBuild
from pipelines.parsers._text import check_text, scalar_str
from pipelines.parsers.dependencies import pom_children, pom_root, pom_text, strip_c_comments
from pipelines.parsers.errors import ParseError
from pipelines.parsers.yamlsafe import load_yaml_documents

_COMPOSE = re.compile(r"^(docker-)?compose(\.[\w.-]+)?\.ya?ml$")
_SKAFFOLD = re.compile(r"^skaffold(\.[\w.-]+)?\.ya?ml$")
_BUILD_NAMES = {"pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"}


def is_build_file(path: str) -> bool:
    base = posixpath.basename(path)
    return base in _BUILD_NAMES or bool(_COMPOSE.match(base) or _SKAFFOLD.match(base))


def parse_build_file(text: str, file: str) -> BuildFile:
    base = posixpath.basename(file)
    check_text(text, file)
    if base == "pom.xml":
        return _pom(text, file)
    if base.startswith("settings.gradle"):
        return BuildFile(file, "gradle-settings", modules=_gradle_includes(text, file))
    if base.startswith("build.gradle"):
        return BuildFile(file, "gradle", plugins=_gradle_plugins(text))
    if _COMPOSE.match(base):
        return BuildFile(file, "compose", images=_compose_images(text, file))
    if _SKAFFOLD.match(base):
        return BuildFile(file, "skaffold", images=_skaffold_images(text, file))
    raise ParseError(file, "not a build file this crawler reads")


def _relative(file: str, target: str) -> str | None:
    """``target`` (relative to ``file``'s directory) as a repo-relative path, None if it leaves the repo."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(file), target.strip()))
    if joined == ".":
        return ""
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        return None
    return joined


# --------------------------------------------------------------------- maven


def _pom(text: str, file: str) -> BuildFile:
    root = pom_root(text, file)
    profiles = [profile for group in pom_children(root, "profiles") for profile in pom_children(group, "profile")]
    modules: list[str] = []
    plugins: list[str] = []
    for container in (root, *profiles):
        for group in pom_children(container, "modules"):
            for module in pom_children(group, "module"):
                path = _relative(file, (module.text or "").strip()) if (module.text or "").strip() else None
                if path:
                    modules.append(path)
        for build in pom_children(container, "build"):
            for group in pom_children(build, "plugins"):
                for plugin in pom_children(group, "plugin"):
                    artifact = pom_text(plugin, "artifactId")
                    if artifact:
                        plugins.append(artifact)
    packaging = pom_text(root, "packaging") or "jar"
    return BuildFile(file, "maven", modules=_unique(modules), packaging=packaging, plugins=_unique(plugins))


# -------------------------------------------------------------------- gradle

_PLUGIN_ID = re.compile(r"""\bid\s*\(?\s*["']([\w.\-]+)["']""")
_APPLY_PLUGIN = re.compile(r"""\bapply\s*\(?\s*plugin\s*[:=]\s*["']([\w.\-]+)["']""")
_BARE_PLUGIN = re.compile(r"^\s*(application|java-library|java|war)\s*$", re.M)
_INCLUDE = re.compile(r"^\s*include\b\s*\(?(.*)$", re.M)
_QUOTED = re.compile(r"""["']([^"'\n]+)["']""")


def _gradle_plugins(text: str) -> list[str]:
    source = strip_c_comments(text)
    found = _PLUGIN_ID.findall(source) + _APPLY_PLUGIN.findall(source)
    # `plugins { application }` (Kotlin DSL accessor for a core plugin)
    for block in re.finditer(r"\bplugins\s*\{([^}]*)\}", source):
        found += _BARE_PLUGIN.findall(block.group(1))
    return _unique(found)


def _gradle_includes(text: str, file: str) -> list[str]:
    modules = []
    for line in _INCLUDE.findall(strip_c_comments(text)):
        for name in _QUOTED.findall(line):
            path = _relative(file, name.strip(":").replace(":", "/"))
            if path:
                modules.append(path)
    return _unique(modules)


# -------------------------------------------------------- compose / skaffold


def _yaml_mapping(text: str, file: str) -> list[dict]:
    return [d for d in load_yaml_documents(text, file, schema="strings") if isinstance(d, dict)]


def _compose_images(text: str, file: str) -> list[ImageBuild]:
    out: list[ImageBuild] = []
    for document in _yaml_mapping(text, file):
        services = document.get("services")
        if not isinstance(services, dict):
            continue
        for name, spec in services.items():
            if not isinstance(spec, dict):
                continue
            build = spec.get("build")
            context = scalar_str(build.get("context")) if isinstance(build, dict) else scalar_str(build)
            image = scalar_str(spec.get("image"))
            if context is None:
                if image:  # run from a registry: only the name is known here
                    out.append(ImageBuild(image=image, context=None, name=str(name)))
                continue
            path = _relative(file, context)
            if path is not None:  # a context outside the repository builds someone else's code
                out.append(ImageBuild(image=image, context=path, name=str(name)))
    return out


def _skaffold_images(text: str, file: str) -> list[ImageBuild]:
    out: list[ImageBuild] = []
    for document in _yaml_mapping(text, file):
        builds = [document.get("build")]
        for profile in document.get("profiles") or []:
            if isinstance(profile, dict):
                builds.append(profile.get("build"))
        for build in builds:
            artifacts = build.get("artifacts") if isinstance(build, dict) else None
            for artifact in artifacts if isinstance(artifacts, list) else []:
                if not isinstance(artifact, dict) or not scalar_str(artifact.get("image")):
                    continue
                path = _relative(file, scalar_str(artifact.get("context")) or ".")
                jib = artifact.get("jib")
                project = scalar_str(jib.get("project")) if isinstance(jib, dict) else None
                if path is not None and project:
                    # A Jib artifact builds the Maven/Gradle module `project` inside a shared context.
                    path = _relative(posixpath.join(path, "skaffold.yaml") if path else "skaffold.yaml", project)
                if path is not None:
                    out.append(ImageBuild(image=scalar_str(artifact.get("image")), context=path))
    unique: dict[tuple, ImageBuild] = {}
    for build in out:
        unique.setdefault((build.image, build.context), build)
    return list(unique.values())


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))

