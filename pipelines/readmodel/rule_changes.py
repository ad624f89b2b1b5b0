"""The published rule-change log (`rule_changes`, written by pipelines/rules.py at publish)."""

from __future__ import annotations

import pandas as pd

from pipelines.readmodel.base import frame

COLUMNS = ["snapshot", "digest", "previous_digest", "previous_snapshot", "changes", "summary"]


def rule_changes(path: str) -> pd.DataFrame:
    """Each snapshot scored under different rules than the one before it, oldest first.

    A file published before rule changes were recorded has no such table: no changes, not an error.
    """
    have = frame(path, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'rule_changes'")
    if not int(have["n"].iloc[0]):
        return pd.DataFrame(columns=COLUMNS)
    return frame(path, f"SELECT {', '.join(COLUMNS)} FROM rule_changes ORDER BY snapshot")
