"""Which service template generated a repository: copier answers, cookiecutter/cruft state."""

from __future__ import annotations

import posixpath

from checks.evidence import TemplateInfo
from pipelines.parsers._text import load_json, scalar_str
from pipelines.parsers.errors import ParseError
from pipelines.parsers.yamlsafe import load_yaml


def parse_copier_answers(text: str, file: str) -> TemplateInfo:
    """``.copier-answers.yml``: ``_src_path`` is the template, ``_commit`` the version it was rendered from."""
    # Strings schema: `_commit: 0123456` is an abbreviated SHA, not an octal number.
    answers = load_yaml(text, file, schema="strings")
    if not isinstance(answers, dict):
        raise ParseError(file, "copier answers must be a mapping of answer names to values")
    source = scalar_str(answers.get("_src_path"))
    version = scalar_str(answers.get("_commit"))
    if source is None and version is None:
        raise ParseError(file, "not a copier answers file: neither _src_path nor _commit is set")
    return TemplateInfo(tool="copier", file=file, source=source, version=version)


def parse_cookiecutter_replay(text: str, file: str) -> TemplateInfo:
    """Cookiecutter state in any of its three shapes.

    * cruft's ``.cruft.json``: ``template``, ``commit``, ``checkout`` at the top;
    * a replay file (``.cookiecutter_replay/*.json``): ``{"cookiecutter": {...}}``
      whose context holds ``_template`` and, in recent versions, ``_checkout``/``_commit``;
    * a flat context dump (``.cookiecutter.json`` written by some templates).

    The version is the pinned commit when one is recorded, else the checkout
    (branch or tag) the template was rendered from.
    """
    data = load_json(text, file)
    if not isinstance(data, dict):
        raise ParseError(file, "cookiecutter state must be a JSON object")
    context = data.get("cookiecutter")
    if not isinstance(context, dict):
        nested = data.get("context")
        context = nested.get("cookiecutter") if isinstance(nested, dict) else None
    if not isinstance(context, dict):
        context = data
    source = _first(data.get("template"), context.get("_template"))
    version = _first(data.get("commit"), context.get("_commit"), data.get("checkout"), context.get("_checkout"))
    if source is None and version is None:
        raise ParseError(file, "not cookiecutter state: no template or _template recorded")
    return TemplateInfo(tool="cookiecutter", file=file, source=source, version=version)


def is_template_file(path: str) -> bool:
    """Whether ``path`` is a file :func:`parse_template_file` reads."""
    return _tool_for(path) is not None


def parse_template_file(text: str, file: str) -> TemplateInfo:
    """Dispatch on the file name to the copier or cookiecutter parser."""
    tool = _tool_for(file)
    if tool == "copier":
        return parse_copier_answers(text, file)
    if tool == "cookiecutter":
        return parse_cookiecutter_replay(text, file)
    raise ParseError(file, "not a copier answers or cookiecutter state file name")


def _tool_for(path: str) -> str | None:
    name = posixpath.basename(path)
    if name.startswith(".copier-answers") and name.endswith((".yml", ".yaml")):
        return "copier"
    if name in (".cruft.json", ".cookiecutter.json"):
        return "cookiecutter"
    if name.endswith(".json") and "cookiecutter_replay" in path:
        return "cookiecutter"
    return None


def _first(*values: object) -> str | None:
    for value in values:
        text = scalar_str(value) if isinstance(value, str) else None
        if text:
            return text
    return None
