"""File parsers: pure functions from a file's text to evidence dataclasses.

Every parser takes ``(text, file)``, does no I/O, and raises only
:class:`ParseError` (with a reason a person can act on) for input it cannot
use, so a crawler can record one problem per bad file and keep going.
"""

from pipelines.parsers._text import load_json
from pipelines.parsers.builds import is_build_file, parse_build_file
from pipelines.parsers.catalog import normalise_owner, parse_catalog
from pipelines.parsers.codeowners import owners_for, parse_codeowners, team_from_owner
from pipelines.parsers.dependencies import is_dependency_manifest, parse_dependency_manifest
from pipelines.parsers.errors import ParseError
from pipelines.parsers.helm import parse_chart, parse_requirements, parse_values
from pipelines.parsers.kubernetes import merge_inventories, parse_k8s_documents, parse_k8s_text
from pipelines.parsers.kustomize import KUSTOMIZATION_NAMES, parse_kustomization
from pipelines.parsers.templates import (
    is_template_file,
    parse_cookiecutter_replay,
    parse_copier_answers,
    parse_template_file,
)
from pipelines.parsers.terraform import parse_terraform
from pipelines.parsers.workflows import parse_workflow, split_uses
from pipelines.parsers.yamlsafe import load_yaml, load_yaml_documents

__all__ = [
    "KUSTOMIZATION_NAMES",
    "ParseError",
    "is_build_file",
    "is_dependency_manifest",
    "is_template_file",
    "load_json",
    "load_yaml",
    "load_yaml_documents",
    "merge_inventories",
    "normalise_owner",
    "owners_for",
    "parse_build_file",
    "parse_catalog",
    "parse_chart",
    "parse_codeowners",
    "parse_cookiecutter_replay",
    "parse_copier_answers",
    "parse_dependency_manifest",
    "parse_k8s_documents",
    "parse_k8s_text",
    "parse_kustomization",
    "parse_requirements",
    "parse_template_file",
    "parse_terraform",
    "parse_values",
    "parse_workflow",
    "split_uses",
    "team_from_owner",
]
