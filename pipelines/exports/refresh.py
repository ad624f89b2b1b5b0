"""After a publish: refresh the metrics file and the badges next to the published snapshot.

Called by the serving step once the new snapshot is in place. The snapshot is
published whatever happens here: a failure is returned as a reason for the
step to log, never raised, so a full disk or a bad folder cannot unpublish a
good snapshot.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import secrets
from pipelines.exports import BADGES_DIR, METRICS_FILE, static_dir
from pipelines.exports.badges import export_badges
from pipelines.exports.openmetrics import export_metrics

log = logging.getLogger(__name__)


@dataclass
class RefreshResult:
    folder: Path
    badges: int = 0
    badges_written: int = 0  # new or changed since the previous refresh
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)  # one readable reason per export that was not written

    @property
    def ok(self) -> bool:
        return not self.failures


def refresh_exports(serving: Path) -> RefreshResult:
    """Rewrite ``static/metrics.txt`` and ``static/badges/`` from the published ``serving`` file."""
    folder = static_dir(serving)
    result = RefreshResult(folder)
    started = time.perf_counter()
    # Each export on its own: badges still refresh when the metrics file cannot be written.
    try:
        export_metrics(serving, folder / METRICS_FILE)
    except Exception as exc:  # noqa: BLE001 - reported to the serving step, which logs it
        result.failures.append(_reason("the metrics file", folder / METRICS_FILE, exc))
    try:
        written = export_badges(serving, folder / BADGES_DIR)
        result.badges, result.badges_written = written.total, written.written
    except Exception as exc:  # noqa: BLE001 - as above
        result.failures.append(_reason("the badges", folder / BADGES_DIR, exc))
    result.seconds = time.perf_counter() - started
    for reason in result.failures:
        # Also outside Dagster: `scorecard run` shows this on stderr; the step logs it in the run too.
        log.warning("exports not refreshed: %s", reason)
    return result


def _reason(what: str, where: Path, exc: Exception) -> str:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return secrets.redact(f"could not write {what} at {where}: {type(exc).__name__}: {detail}; "
                          "the snapshot itself is published")
