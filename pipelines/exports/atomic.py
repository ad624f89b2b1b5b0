"""Write a file or a whole folder so that readers see the old one or the new one, never half.

A file is written next to its target and swapped in with ``os.replace``. A
folder cannot be swapped over a non-empty folder in one rename, so the old
one is renamed aside first and the new one renamed in: a reader may find the
folder missing for the instant between the two renames, never half written.
The folder is only ever replaced when it holds ``marker`` (an earlier export
of the same kind): ``--out ~`` must never delete someone's home.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


class ExportError(Exception):
    """An export that cannot be written, with a one-line reason naming the path."""


def write_text(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_replaceable(target: Path, marker: str) -> None:
    """Refuse a target that exists and is not an earlier export (holds no ``marker``)."""
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target} exists and is not a folder: choose another --out")
    if target.is_dir() and any(target.iterdir()) and not (target / marker).is_file():
        raise ExportError(f"{target} is not empty and holds no {marker} (not an earlier export): "
                          "refusing to replace it; choose a new or empty folder")


@contextlib.contextmanager
def replace_dir(target: Path, marker: str) -> Iterator[Path]:
    """A fresh temp folder next to ``target``; when the block succeeds it becomes ``target``."""
    check_replaceable(target, marker)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        check_replaceable(target, marker)  # again: something may have appeared meanwhile
        old = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
        if target.exists():
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            if old.exists():
                os.replace(old, target)  # put the previous export back rather than leave none
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
