"""Tests over ../shared/realrepos: real repositories, read-only, never copied into the project."""

from __future__ import annotations

from pathlib import Path

import pytest

REALREPOS = Path(__file__).resolve().parents[2].parent / "shared" / "realrepos"

# Skipped on a user's clone, where ../shared does not exist; in CI such a skip
# is a failure (tests/ci_required.py).
needs_realrepos = pytest.mark.skipif(
    not REALREPOS.is_dir(),
    reason=f"needs the real repositories at {REALREPOS}",
)
