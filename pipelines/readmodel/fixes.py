"""Generated fixes of a service, as published (`pipelines/fixes/publish.py`)."""

from __future__ import annotations

import pandas as pd

from pipelines.readmodel.base import frame, row

_COLUMNS = ["check_id", "summary", "notes", "files", "patch"]


def service_fixes(path: str, snapshot, service: str) -> pd.DataFrame:
    """One row per check with a generated patch; empty when the file predates the table or the snapshot is
    not the one the fixes were generated for (only the latest snapshot's evidence is kept)."""
    has = row(path, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'generated_fixes'")
    if not has or not has["n"]:
        return pd.DataFrame(columns=_COLUMNS)
    return frame(path, "SELECT check_id, summary, notes, files, patch FROM generated_fixes "
                       "WHERE snapshot = $snapshot AND service = $service ORDER BY check_id",
                 snapshot=snapshot, service=service)
