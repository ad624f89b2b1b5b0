"""Backstage catalog files (``catalog-info.yaml`` and friends).

What is an error of an entity and what is an error of the file:

* The file is not YAML, or none of its documents can be an entity (not a
  mapping, no ``kind``; e.g. a GitLab CI/CD catalog file that happens to be
  called ``catalog-info.yml``): ``ParseError``. There is nothing to attach the
  problem to, and the crawler records it against the file.
* A document is an entity but breaks the schema (``metadata.name`` or
  ``spec.owner`` missing, invalid name, duplicate entity): the entity is
  returned with the problems in ``errors``, so the service still gets its
  owner and the "valid catalog entity" check can say exactly what to fix.
* Some documents are entities and others cannot be: the entities are
  returned, and each carries a note about the broken document in ``errors``,
  because the file they live in is what Backstage will refuse to ingest in part.

All entities are returned (Components, Systems, Locations, ...); callers keep
the kinds they need.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urlsplit

from checks.evidence import CatalogEntity
from pipelines.parsers._text import scalar_str
from pipelines.parsers.errors import ParseError
from pipelines.parsers.yamlsafe import load_yaml_documents

SOURCE_LOCATION = "backstage.io/source-location"
PROJECT_SLUG = "github.com/project-slug"

# Backstage's name rule: 1-63 characters, [a-zA-Z0-9] separated by single -_.
_VALID_NAME = re.compile(r"^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$")

# Required spec fields of the built-in kinds (Backstage's JSON schemas).
_REQUIRED_SPEC: dict[str, tuple[str, ...]] = {
    "Component": ("type", "lifecycle", "owner"),
    "API": ("type", "lifecycle", "owner", "definition"),
    "Resource": ("type", "owner"),
    "System": ("owner",),
    "Domain": ("owner",),
}


def parse_catalog(text: str, file: str) -> list[CatalogEntity]:
    """Every entity in a catalog file, in document order."""
    documents = load_yaml_documents(text, file, schema="strings")
    if not documents:
        raise ParseError(file, "file is empty: no Backstage entity")
    entities: list[CatalogEntity] = []
    file_errors: list[str] = []
    multi = len(documents) > 1
    for index, document in enumerate(documents, start=1):
        where = f"document {index}: " if multi else ""
        reason = _not_an_entity(document)
        if reason:
            file_errors.append(f"{where}not a Backstage entity: {reason}")
            continue
        entities.append(_entity(document, file, where))
    if not entities:
        raise ParseError(file, file_errors[0])
    for error in file_errors:
        for entity in entities:
            entity.errors.append(f"{file} {error}")
    _flag_duplicates(entities)
    return entities


def entity_from_mapping(document: object, where: str) -> CatalogEntity | None:
    """One entity as a portal's catalog API serves it (a JSON object); None when it is no entity."""
    if _not_an_entity(document):
        return None
    return _entity(document, where, "")  # type: ignore[arg-type]


def source_location_subpath(annotations: dict[str, str]) -> str | None:
    return _source_location_subpath(annotations)


def normalise_owner(owner: str | None) -> str | None:
    """``group:default/payments`` -> ``payments``; users and foreign namespaces keep their ref.

    Backstage owner refs default to kind Group and namespace default, so those
    two are dropped to leave the team name the scorecard joins on. Any other
    kind (``user:guest``) or namespace (``devex/platform``) is kept, so a user
    owner is never mistaken for a team of the same name.
    """
    if owner is None:
        return None
    ref = owner.strip()
    if ":" in ref and "@" not in ref:
        kind, rest = ref.split(":", 1)
        if kind.lower() == "group":
            ref = rest
    if ref.startswith("default/"):
        ref = ref[len("default/") :]
    return ref or None


def _not_an_entity(document: object) -> str | None:
    if not isinstance(document, dict):
        return f"document is a {_type_name(document)}, not a mapping"
    kind = document.get("kind")
    if kind is None:
        return "missing 'kind'"
    if not isinstance(kind, str) or not kind.strip():
        return "'kind' must be a non-empty string"
    return None


def _entity(document: dict, file: str, where: str) -> CatalogEntity:
    errors: list[str] = []
    kind = document["kind"].strip()
    if document.get("apiVersion") is None:
        errors.append("apiVersion missing")
    metadata = document.get("metadata")
    if metadata is None:
        errors.append("metadata missing")
        metadata = {}
    elif not isinstance(metadata, dict):
        errors.append("metadata must be a mapping")
        metadata = {}
    spec = document.get("spec")
    if spec is None:
        spec = {}
        if kind in _REQUIRED_SPEC or kind == "Location":
            errors.append("spec missing")
    elif not isinstance(spec, dict):
        errors.append("spec must be a mapping")
        spec = {}

    name = scalar_str(metadata.get("name"))
    if name is None:
        errors.append("metadata.name missing")
    elif len(name) > 63 or not _VALID_NAME.match(name):
        errors.append(
            f"metadata.name {name!r} is not a valid entity name "
            "(letters and digits, single - _ . between them, at most 63 characters)"
        )
    for field in _REQUIRED_SPEC.get(kind, ()):
        if spec.get(field) in (None, ""):
            errors.append(f"spec.{field} missing")
    if kind == "Location" and spec and spec.get("target") is None and spec.get("targets") is None:
        errors.append("spec.target or spec.targets missing")
    owner = scalar_str(spec.get("owner"))
    if owner is not None and "@" in owner:
        errors.append(f"spec.owner {owner!r} is an email address, not an entity reference such as group:<team>")
    for key, value in spec.items():
        if isinstance(key, str) and key.lower() == "subcomponentof" and scalar_str(value) == name:
            errors.append(f"spec.{key} refers to the entity itself")

    annotations = _annotations(metadata.get("annotations"), errors)
    entity = CatalogEntity(
        kind=kind,
        name=name or "",
        file=file,
        namespace=scalar_str(metadata.get("namespace")) or "default",
        owner=normalise_owner(owner),
        lifecycle=scalar_str(spec.get("lifecycle")),
        system=scalar_str(spec.get("system")),
        type=scalar_str(spec.get("type")),
        description=scalar_str(metadata.get("description")),
        annotations=annotations,
        path=_component_path(file, annotations),
        errors=[f"{where}{error}" for error in errors],
    )
    return entity


def _annotations(raw: object, errors: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors.append("metadata.annotations must be a mapping")
        return {}
    annotations: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, (dict, list)):
            errors.append(f"annotation {key!s} must be a string, not a {_type_name(value)}")
            continue
        annotations[str(key)] = "" if value is None else str(value)
    return annotations


def _component_path(file: str, annotations: dict[str, str]) -> str:
    sub_path = _source_location_subpath(annotations)
    if sub_path is not None:
        return sub_path
    directory = posixpath.dirname(file.strip("/"))
    # `.backstage/catalog-info.yaml` is a common home for the root component's
    # descriptor; the code it describes is the directory above.
    if posixpath.basename(directory) == ".backstage":
        directory = posixpath.dirname(directory)
    return directory


def _source_location_subpath(annotations: dict[str, str]) -> str | None:
    """The repo sub-path of a ``url:.../tree/<branch>/<path>`` source location, if it is this repo."""
    location = annotations.get(SOURCE_LOCATION, "").strip()
    if not location.startswith("url:"):
        return None
    try:
        parts = urlsplit(location[len("url:") :])
    except ValueError:
        return None
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    # owner/repo/tree/<branch>/<sub path>; GitLab puts a "-" before "tree".
    try:
        tree = segments.index("tree", 2)
    except ValueError:
        return None
    if len(segments) < tree + 2:
        return None
    slug = annotations.get(PROJECT_SLUG, "").strip().strip("/").lower()
    repo_of_url = "/".join(segment for segment in segments[:tree] if segment != "-").lower()
    if slug and repo_of_url != slug:
        return None  # the code lives in another repository
    return "/".join(segments[tree + 2 :])


def _flag_duplicates(entities: list[CatalogEntity]) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    for position, entity in enumerate(entities, start=1):
        if not entity.name:
            continue
        key = (entity.kind.lower(), entity.namespace.lower(), entity.name.lower())
        if key in seen:
            entity.errors.append(
                f"duplicate entity {entity.kind.lower()}:{entity.namespace}/{entity.name} "
                f"(entity {seen[key]} in this file has the same kind, namespace and name)"
            )
        else:
            seen[key] = position


def _type_name(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, str):
        return "string"
    return type(value).__name__
