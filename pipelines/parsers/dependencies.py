"""Dependency manifests: the packages a service ships with.

Which of them are OpenTelemetry or structured logging is the checks' call
(`checks.observability`). Only dependencies the service *ships with* are
listed, because the checks ask "does the service emit traces / structured
logs", not "does its test suite":

* package.json: ``dependencies``, ``peerDependencies`` and
  ``optionalDependencies``; never ``devDependencies`` (an OTel package used
  only by tests does not mean the service is instrumented).
* pyproject.toml: PEP 621 ``[project].dependencies`` and extras (except extras
  named like dev/test/docs/lint), Poetry ``[tool.poetry.dependencies]``
  (including optional ones, Poetry's extras); not Poetry groups,
  ``dev-dependencies`` or PEP 735 ``[dependency-groups]``.
* requirements*.txt: every requirement line (the file name is the caller's
  choice of scope).
* go.mod: direct requirements only; ``// indirect`` ones belong to other
  modules. Go's standard ``log/slog`` never appears in go.mod, so it cannot be
  seen here.
* pom.xml: ``<dependencies>`` of the project and its profiles, except
  ``<scope>test</scope>``; not ``<dependencyManagement>`` (BOM imports are
  version pins, not usage) nor plugin dependencies.
* build.gradle(.kts): declarations inside ``dependencies { }`` blocks in any
  configuration except test ones and build tooling (``classpath``,
  annotation processors), and not ``platform(...)`` BOMs. Dependencies given
  through variables or version catalogs (``libs.x``) cannot be resolved from
  the file and are not listed.

Package names are normalised per ecosystem: PEP 503 for Python, ``group:artifact``
for Maven and Gradle, module paths for Go, package names for npm.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
import xml.etree.ElementTree as ElementTree

from checks.evidence import DependencyManifest
from pipelines.parsers._text import check_text, load_json
from pipelines.parsers.errors import ParseError

_MAX_BYTES = 5_000_000

# ------------------------------------------------------------------ dispatch


def is_dependency_manifest(path: str) -> bool:
    return _ecosystem_of(path) is not None


def parse_dependency_manifest(text: str, file: str) -> DependencyManifest:
    kind = _ecosystem_of(file)
    if kind is None:
        raise ParseError(file, "not a dependency manifest this parser knows")
    check_text(text, file, _MAX_BYTES)
    reader, ecosystem = _READERS[kind]
    packages = _unique(reader(text, file))
    return DependencyManifest(file=file, ecosystem=ecosystem, packages=packages)


def _ecosystem_of(path: str) -> str | None:
    normalised = path.replace("\\", "/")
    if "node_modules/" in normalised or normalised.startswith("vendor/") or "/vendor/" in normalised:
        return None  # third-party code checked in, not the service's own manifest
    name = posixpath.basename(normalised)
    if name.startswith("requirements") and name.endswith(".txt"):
        return "requirements"
    return {
        "pyproject.toml": "pyproject",
        "package.json": "package.json",
        "go.mod": "go.mod",
        "pom.xml": "pom",
        "build.gradle": "gradle",
        "build.gradle.kts": "gradle",
    }.get(name)


# -------------------------------------------------------------------- Python

_REQUIREMENT_NAME = re.compile(
    r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"  # the distribution name
    r"\s*(?:\[[^\]]*\])?"  # extras
    r"\s*(?:[<>=!~;@(]|--|$)"  # then a specifier, marker, URL, option or nothing
)
_EGG = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_DEV_EXTRAS = {
    "dev", "develop", "development", "test", "tests", "testing", "lint", "linting", "docs", "doc", "typing", "mypy",
}  # fmt: skip


def normalise_python(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(line: str) -> str | None:
    match = _REQUIREMENT_NAME.match(line)
    return normalise_python(match.group(1)) if match else None


def _read_requirements(text: str, file: str) -> list[str]:
    packages: list[str] = []
    logical = re.sub(r"\\\r?\n", " ", text)
    for raw in logical.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        if line.startswith("-"):
            egg = _EGG.search(raw) if line.startswith(("-e", "--editable")) else None
            if egg:
                packages.append(normalise_python(egg.group(1)))
            continue  # options (-r, -c, --index-url, --hash ...), not packages
        name = _requirement_name(line)
        if name:
            packages.append(name)
    return packages


def _read_pyproject(text: str, file: str) -> list[str]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(file, f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ParseError(file, "invalid TOML: nested too deeply") from None
    packages: list[str] = []
    project = document.get("project")
    if isinstance(project, dict):
        packages += _pep508_names(project.get("dependencies"))
        extras = project.get("optional-dependencies")
        if isinstance(extras, dict):
            for extra, requirements in extras.items():
                if str(extra).lower() not in _DEV_EXTRAS:
                    packages += _pep508_names(requirements)
    tool = document.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        dependencies = poetry.get("dependencies")
        if isinstance(dependencies, dict):
            packages += [normalise_python(str(name)) for name in dependencies if str(name).lower() != "python"]
    return packages


def _pep508_names(requirements: object) -> list[str]:
    if not isinstance(requirements, list):
        return []
    return [name for name in (_requirement_name(item) for item in requirements if isinstance(item, str)) if name]


# ---------------------------------------------------------------------- node


def _read_package_json(text: str, file: str) -> list[str]:
    document = load_json(text, file, max_bytes=_MAX_BYTES)
    if not isinstance(document, dict):
        raise ParseError(file, "package.json must be a JSON object")
    packages: list[str] = []
    for section in ("dependencies", "peerDependencies", "optionalDependencies"):
        entries = document.get(section)
        if not isinstance(entries, dict):
            continue
        for name, spec in entries.items():
            packages.append(_npm_alias_target(spec) or str(name))
    return packages


def _npm_alias_target(spec: object) -> str | None:
    """``npm:winston@2.4.7`` installs winston under another name; the real package is what counts."""
    if not isinstance(spec, str) or not spec.startswith("npm:"):
        return None
    target = spec[len("npm:") :]
    at = target.find("@", 1)  # skip a scope's leading "@"
    name = target if at == -1 else target[:at]
    return name or None


# ------------------------------------------------------------------------ go

_GO_REQUIRE = re.compile(r"^([^\s\"`]+|\"[^\"]+\")\s+(\S+)")


def _read_go_mod(text: str, file: str) -> list[str]:
    packages: list[str] = []
    in_require = False
    saw_module = False
    for raw in text.splitlines():
        indirect = re.search(r"//\s*indirect\b", raw) is not None
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if in_require:
            if line.startswith(")"):
                in_require = False
                continue
            entry = line
        else:
            verb, _, rest = line.partition(" ")
            rest = rest.strip()
            if verb == "module":
                saw_module = True
                continue
            if verb != "require":
                continue  # go, toolchain, replace, exclude, retract ...
            if rest.startswith("("):
                in_require = True
                continue
            entry = rest
        match = _GO_REQUIRE.match(entry)
        if match and not indirect:
            packages.append(match.group(1).strip('"'))
    if not saw_module:
        raise ParseError(file, "not a go.mod: no 'module' directive")
    return packages


# --------------------------------------------------------------------- maven


def _read_pom(text: str, file: str) -> list[str]:
    root = pom_root(text, file)
    profiles = [profile for group in pom_children(root, "profiles") for profile in pom_children(group, "profile")]
    containers = [root, *profiles]
    packages: list[str] = []
    for container in containers:
        for dependencies in pom_children(container, "dependencies"):
            for dependency in pom_children(dependencies, "dependency"):
                if (pom_text(dependency, "scope") or "").lower() == "test":
                    continue
                group = pom_text(dependency, "groupId")
                artifact = pom_text(dependency, "artifactId")
                if group and artifact:
                    packages.append(f"{group}:{artifact}")
    return packages


def pom_root(text: str, file: str) -> ElementTree.Element:
    """The <project> element of a POM, refusing entity declarations (billion laughs)."""
    if "<!ENTITY" in text:
        raise ParseError(file, "pom.xml declares XML entities; refusing to expand them")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        line, column = exc.position
        raise ParseError(file, f"line {line}, column {column + 1}: invalid XML: {_expat_message(exc)}") from None
    except RecursionError:
        raise ParseError(file, "invalid XML: nested too deeply") from None
    if _local(root.tag) != "project":
        raise ParseError(file, f"not a Maven POM: the root element is <{_local(root.tag)}>, not <project>")
    return root


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def pom_children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def pom_text(element: ElementTree.Element, name: str) -> str | None:
    for child in pom_children(element, name):
        return (child.text or "").strip() or None
    return None


def _expat_message(exc: ElementTree.ParseError) -> str:
    return str(exc).split(":", 1)[0]


# -------------------------------------------------------------------- gradle

_GRADLE_SKIPPED_CONFIGURATIONS = {"classpath", "annotationprocessor", "kapt", "ksp", "lintchecks", "detektplugins"}
_COORDINATE = re.compile(r"^([\w.\-${}]+):([\w.\-${}]+)(?::[^\s:\"']*)?(?::[^\s:\"']*)?(?:@\w+)?$")
_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'((?:[^'\\\n]|\\.)*)'")
_STATEMENT_START = re.compile(r"^\s*([A-Za-z_]\w*)\b")
_ADD_CALL = re.compile(r"^\s*add\s*\(\s*[\"'](\w+)[\"']")
_MAP_NOTATION = re.compile(
    r"""\bgroup\s*[:=]\s*["']([^"']+)["']\s*,\s*name\s*[:=]\s*["']([^"']+)["']"""
)


def _read_gradle(text: str, file: str) -> list[str]:
    source = strip_c_comments(text)
    packages: list[str] = []
    for block in _dependencies_blocks(source):
        configuration: str | None = None
        for line in block.splitlines():
            add = _ADD_CALL.match(line)
            start = _STATEMENT_START.match(line)
            if add:
                configuration = add.group(1)
            elif start:
                configuration = start.group(1)
            if configuration is None or _skipped_configuration(configuration):
                continue
            for group, name in _MAP_NOTATION.findall(line):
                packages.append(f"{group}:{name}")
            for match in _STRING.finditer(line):
                value = match.group(1) if match.group(1) is not None else match.group(2)
                coordinate = _COORDINATE.match(value)
                if not coordinate or _inside_platform(line, match.start()):
                    continue
                packages.append(f"{coordinate.group(1)}:{coordinate.group(2)}")
    return packages


def _skipped_configuration(name: str) -> bool:
    # testImplementation, androidTestApi, integrationTestRuntimeOnly, testFixturesApi ...
    return re.search(r"^test|Test", name) is not None or name.lower() in _GRADLE_SKIPPED_CONFIGURATIONS


def _inside_platform(line: str, position: int) -> bool:
    return re.search(r"\b(?:enforcedPlatform|platform)\s*\(\s*$", line[:position]) is not None


def _dependencies_blocks(source: str) -> list[str]:
    """Bodies of every ``dependencies { ... }`` block, found with string-aware brace matching."""
    blocks: list[str] = []
    for match in re.finditer(r"\bdependencies\s*\{", source):
        start = match.end()
        depth = 1
        index = start
        quote: str | None = None
        while index < len(source) and depth:
            char = source[index]
            if quote:
                if char == "\\":
                    index += 1
                elif char == quote:
                    quote = None
            elif char in "\"'":
                quote = char
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            index += 1
        blocks.append(source[start : index - 1] if depth == 0 else source[start:])
    return blocks


def strip_c_comments(text: str) -> str:
    """Remove ``//`` and ``/* */`` comments outside string literals, keeping line breaks."""
    out: list[str] = []
    index = 0
    length = len(text)
    quote: str | None = None
    while index < length:
        char = text[index]
        if quote:
            out.append(char)
            if char == "\\" and index + 1 < length:
                out.append(text[index + 1])
                index += 2
                continue
            if char == quote or char == "\n":
                quote = None
            index += 1
            continue
        if char in "\"'":
            quote = char
            out.append(char)
            index += 1
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = length if end == -1 else end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            comment = text[index : length if end == -1 else end + 2]
            out.append("\n" * comment.count("\n"))
            index = length if end == -1 else end + 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


# ---------------------------------------------------------------------------


def _unique(packages: list[str]) -> list[str]:
    return list(dict.fromkeys(packages))


_READERS = {
    "requirements": (_read_requirements, "python"),
    "pyproject": (_read_pyproject, "python"),
    "package.json": (_read_package_json, "node"),
    "go.mod": (_read_go_mod, "go"),
    "pom": (_read_pom, "maven"),
    "gradle": (_read_gradle, "gradle"),
}
