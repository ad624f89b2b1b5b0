"""Helm ``Chart.yaml`` and the legacy ``requirements.yaml``.

Charts with ``apiVersion: v2`` list their dependencies in Chart.yaml. Charts
with ``apiVersion: v1`` (Helm 2) usually keep them in a ``requirements.yaml``
next to it: parse that with :func:`parse_requirements` and add the result to
the chart's dependencies.

Read with the "strings" YAML schema because Helm decodes these fields into Go
strings: ``version: 1.10`` is the version "1.10", not the number 1.1.
"""

from __future__ import annotations

from checks.evidence import HelmChart, HelmDependency, HelmValues
from pipelines.parsers._text import scalar_str
from pipelines.parsers.errors import ParseError
from pipelines.parsers.yamlsafe import load_yaml, load_yaml_documents


def parse_chart(text: str, file: str) -> HelmChart:
    document = load_yaml(text, file, schema="strings")
    if not isinstance(document, dict):
        raise ParseError(file, "Chart.yaml must be a mapping")
    if "apiVersion" not in document and "name" not in document:
        raise ParseError(file, "not a Helm chart: neither apiVersion nor name is set")
    return HelmChart(
        file=file,
        name=scalar_str(document.get("name")),
        version=scalar_str(document.get("version")),
        dependencies=_dependencies(document.get("dependencies"), file),
    )


def parse_requirements(text: str, file: str) -> list[HelmDependency]:
    documents = load_yaml_documents(text, file, schema="strings")
    if not documents:
        return []
    if len(documents) > 1:
        raise ParseError(file, f"expected one YAML document, found {len(documents)}")
    document = documents[0]
    if not isinstance(document, dict):
        raise ParseError(file, "requirements.yaml must be a mapping with a 'dependencies' list")
    return _dependencies(document.get("dependencies"), file)


def _dependencies(raw: object, file: str) -> list[HelmDependency]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ParseError(file, "'dependencies' must be a list")
    dependencies: list[HelmDependency] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ParseError(file, f"dependencies[{index}] must be a mapping with name, version, repository")
        name = scalar_str(entry.get("name"))
        if name is None:
            raise ParseError(file, f"dependencies[{index}] has no name")
        dependencies.append(
            HelmDependency(
                name=name,
                version=scalar_str(entry.get("version")),
                repository=scalar_str(entry.get("repository")),
            )
        )
    return dependencies


def parse_values(text: str, file: str) -> HelmValues:
    """The facts of a chart's values.yaml that name what it runs: image and replica count.

    Charts spell these differently; the two conventions `helm create` writes
    (``image.repository`` + ``image.tag``, ``replicaCount``) and a plain
    ``image: repo:tag`` string are read; anything else stays unknown (None).
    """
    document = load_yaml(text, file, schema="strings")
    values = HelmValues(file=file)
    if not isinstance(document, dict):
        return values
    image = document.get("image")
    if isinstance(image, dict):
        repository = scalar_str(image.get("repository"))
        registry = scalar_str(image.get("registry"))
        tag = scalar_str(image.get("tag"))
        if repository:
            full = f"{registry}/{repository}" if registry else repository
            values.image = f"{full}:{tag}" if tag else full
    else:
        values.image = scalar_str(image)
    replicas = scalar_str(document.get("replicaCount"))
    if replicas is not None and replicas.isdigit():
        values.replica_count = int(replicas)
    return values
