"""Round-trip YAML edits for the generators: comments, key order and layout stay as the owner wrote them."""

from __future__ import annotations

import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from pipelines.programme_cli import guess_indent


class NotEditable(ValueError):
    """The file is not plain YAML we can edit (a Helm template, a syntax error); the message says which."""


def _yaml(text: str) -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the owner's long lines
    mapping, sequence, offset = guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.explicit_start = text.lstrip().startswith("---")
    return yaml


def load_documents(text: str, path: str) -> tuple[YAML, list]:
    if "{{" in text:
        raise NotEditable(f"{path} is a template (Go template syntax), not YAML to edit")
    yaml = _yaml(text)
    try:
        return yaml, list(yaml.load_all(text))
    except Exception as exc:  # noqa: BLE001 - any parse error means "do not touch this file"
        raise NotEditable(f"{path} does not parse as YAML ({type(exc).__name__})") from None


def dump_documents(yaml: YAML, docs: list) -> str:
    out = io.StringIO()
    yaml.dump_all(docs, out)
    return out.getvalue()


def load_snippet(snippet: str) -> CommentedMap:
    """A check's snippet as a mapping (its leading `# ...` comments dropped)."""
    body = "\n".join(line for line in snippet.splitlines() if not line.startswith("#"))
    return YAML().load(body)


def merge_missing(target: dict, addition: dict) -> list[str]:
    """Add to ``target`` each key of ``addition`` it lacks, recursing into mappings both have.
    Never overwrites a value the owner set. Returns the dotted keys added."""
    added: list[str] = []
    for key, value in addition.items():
        if key not in target or target[key] is None:
            target[key] = value
            added.append(str(key))
        elif isinstance(target[key], dict) and isinstance(value, dict):
            added += [f"{key}.{k}" for k in merge_missing(target[key], value)]
    return added
