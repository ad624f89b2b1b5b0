"""What a fix generator returns, and the unified patch `git apply` takes.

Generators (one module per kind of fix in this package) are pure: they get a
failing :class:`~checks.model.Finding`, the service's evidence, the check
context and a ``read`` function for the repository's current text, and return
either a :class:`Fix` (the new text of each file it changes) or a
:class:`NoFix` (why nothing can be generated, plus the check's remediation).
Reading the checkout and writing patches or files is the caller's business
(`pipelines.fixes.engine`, `pipelines.fix_cli`).
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Reader = Callable[[str], "str | None"]  # repo-relative path -> current text, None when the file is absent


class UnsafePath(ValueError):
    """A generated path that would land outside the repository (absolute, `..`, `.git/`)."""


@dataclass(frozen=True, slots=True)
class Fix:
    check_id: str
    changes: Mapping[str, str]  # repo-relative path -> the file's whole new text
    summary: str  # one line for the commit message / the CLI: what the change does
    notes: tuple[str, ...] = ()  # what the owner should still review (guessed values, ports)


@dataclass(frozen=True, slots=True)
class NoFix:
    check_id: str
    reason: str  # "no generated fix: <reason>"
    remediation: str | None = None


@dataclass(slots=True)
class Overlay:
    """The checkout's text with the fixes generated so far applied, so two fixes of one file compose."""

    read_original: Reader
    changed: dict[str, str] = field(default_factory=dict)

    def read(self, path: str) -> str | None:
        return self.changed[path] if path in self.changed else self.read_original(path)

    def apply(self, fix: Fix) -> None:
        self.changed.update(fix.changes)


def safe_path(path: str) -> str:
    """``path`` normalised, or UnsafePath: a patch must never touch files outside the repository."""
    norm = posixpath.normpath(path.replace("\\", "/"))
    if not path or path.startswith("/") or norm == "." or norm == ".." or norm.startswith("../") \
            or norm.split("/", 1)[0] == ".git" or "\0" in norm:
        raise UnsafePath(f"refusing to write {path!r}: not a path inside the repository")
    return norm


def unified_patch(changes: Mapping[str, tuple[str | None, str]]) -> str:
    """A git-style unified diff of ``path -> (old text or None for a new file, new text)``.

    The `diff --git` header and `new file mode` line are what `git apply` needs to
    create files; a last line without a newline gets git's "\\ No newline" marker.
    """
    out: list[str] = []
    for path in sorted(changes):
        old, new = changes[path]
        path = safe_path(path)
        if old == new:
            continue
        out.append(f"diff --git a/{path} b/{path}\n")
        if old is None:
            out.append("new file mode 100644\n")
        body = difflib.unified_diff(
            _lines(old or ""), _lines(new), "/dev/null" if old is None else f"a/{path}", f"b/{path}", n=3,
        )
        for line in body:
            if line.startswith(("---", "+++")):
                out.append(line.rstrip("\n") + "\n")
            elif line.endswith("\n"):
                out.append(line)
            else:
                out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)
