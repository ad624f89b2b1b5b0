"""The full check catalogue: importing this module registers every check."""

from __future__ import annotations

from checks import (  # noqa: F401 - imported to register their checks
    crossplane,
    delivery,
    gitops,
    golden_path,
    observability,
    ownership,
    reliability,
    security,
)
from checks.model import CATALOGUE, CATEGORIES, LEVELS, Check


def all_checks() -> list[Check]:
    """Every registered check, in a stable order (category, then id)."""
    return sorted(CATALOGUE.values(), key=lambda c: (c.category, c.id))


def _cell(text: object) -> str:
    # A pipe or newline inside a cell would break the table.
    return str(text).replace("|", "\\|").replace("\n", " ")


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table for the README, ordered like the scorecard
    reads: category, then level (bronze first), then id."""
    rows = sorted(
        CATALOGUE.values(),
        key=lambda c: (CATEGORIES.index(c.category), LEVELS.index(c.level), c.id),
    )
    lines = [
        "| id | category | level | weight | title | rationale |",
        "|---|---|---|---:|---|---|",
    ]
    lines += [
        f"| `{c.id}` | {c.category} | {c.level} | {c.weight} | {_cell(c.title)} | {_cell(c.rationale)} |"
        for c in rows
    ]
    return "\n".join(lines) + "\n"
