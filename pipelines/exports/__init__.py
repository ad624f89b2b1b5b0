"""Exports of the published snapshot for other tools: Parquet, OpenMetrics, SVG badges.

Every export reads only the published serving snapshot, through
`pipelines.readmodel.exports` (never the warehouse or a crawl), and writes
atomically: a reader sees the previous export or the new one, never half of
one. The serving step (`pipelines/assets.py` `serving_snapshot`) refreshes the
metrics file and the badges in :func:`static_dir` after each publish.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = "static"
METRICS_FILE = "metrics.txt"
BADGES_DIR = "badges"
DEFAULT_PORT = 9470  # `scorecard serve-metrics`


def static_dir(serving: Path) -> Path:
    """The folder next to the published snapshot the serving step writes exports into."""
    return serving.parent / STATIC_DIR


def require_published(serving: Path) -> Path:
    """The published snapshot, or a clear error saying how one gets published."""
    from pipelines.exports.atomic import ExportError

    if not serving.is_file():
        raise ExportError(f"no published snapshot at {serving}: run `scorecard run` first")
    return serving
