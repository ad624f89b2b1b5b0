"""A small, fast block-style YAML writer for the demo's generated manifests.

PyYAML's dumper is pure Python on the representer side and costs about a
millisecond a document; the benchmark org writes hundreds of thousands of
documents, so the generator emits YAML itself. Only the shapes the generator
builds are supported: dicts, lists, str, int, float, bool and None. Strings
that could be read back as anything but the same string are double-quoted (a
JSON string is a valid YAML double-quoted scalar).
"""

from __future__ import annotations

import json
import re

# Starts with a letter, `_` or `/`; then only characters that never change meaning
# in a block-context plain scalar (":" and " " are checked separately).
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./@:+ ,()'-]*$")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if (
        _PLAIN.match(text)
        and text.lower() not in _RESERVED
        and ": " not in text
        and " #" not in text
        and not text.endswith((" ", ":"))
    ):
        return text
    return json.dumps(text)


def dump(obj: object) -> str:
    """One YAML document (no leading ``---``), ending with a newline."""
    lines: list[str] = []
    _emit(obj, 0, lines)
    return "\n".join(lines) + "\n"


def dump_all(docs: list[object]) -> str:
    return "".join("---\n" + dump(d) for d in docs)


def _emit(obj: object, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            lines.append(pad + "{}")
            return
        for key, value in obj.items():
            _emit_entry(f"{pad}{scalar(key)}:", value, indent, lines)
    elif isinstance(obj, list):
        if not obj:
            lines.append(pad + "[]")
            return
        for item in obj:
            _emit_item(item, indent, lines)
    else:
        lines.append(pad + scalar(obj))


def _emit_entry(head: str, value: object, indent: int, lines: list[str]) -> None:
    if isinstance(value, dict) and value:
        lines.append(head)
        _emit(value, indent + 2, lines)
    elif isinstance(value, list) and value:
        lines.append(head)
        # Kubernetes style: sequences under a key are indented by two.
        _emit(value, indent + 2, lines)
    elif isinstance(value, dict):
        lines.append(head + " {}")
    elif isinstance(value, list):
        lines.append(head + " []")
    else:
        lines.append(f"{head} {scalar(value)}")


def _emit_item(item: object, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if isinstance(item, dict) and item:
        first = True
        for key, value in item.items():
            prefix = f"{pad}- " if first else f"{pad}  "
            _emit_entry(f"{prefix}{scalar(key)}:", value, indent + 2, lines)
            first = False
    elif isinstance(item, list) and item:
        lines.append(pad + "-")
        _emit(item, indent + 2, lines)
    elif isinstance(item, dict):
        lines.append(pad + "- {}")
    elif isinstance(item, list):
        lines.append(pad + "- []")
    else:
        lines.append(f"{pad}- {scalar(item)}")
