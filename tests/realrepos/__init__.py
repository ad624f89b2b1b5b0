"""Tests over ../shared/realrepos: real repositories, read-only, never copied into the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REALREPOS = Path(__file__).resolve().parents[2].parent / "shared" / "realrepos"

# Skipped on a user's clone, where ../shared does not exist; CI sets CI=true and
# has the folder, so there a missing folder is a failure, never a silent skip.
needs_realrepos = pytest.mark.skipif(
    not REALREPOS.is_dir() and os.environ.get("CI") != "true",
    reason=f"needs the real repositories at {REALREPOS}",
)
