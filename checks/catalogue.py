"""The full check catalogue: importing this module registers every check."""

from __future__ import annotations

from checks import ownership  # noqa: F401 - imported to register its checks
from checks.model import CATALOGUE, Check


def all_checks() -> list[Check]:
    """Every registered check, in a stable order (category, then id)."""
    return sorted(CATALOGUE.values(), key=lambda c: (c.category, c.id))
