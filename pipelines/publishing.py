"""Publishing: the one way a served file is (re)written, whoever asks.

The job's `serving_snapshot` asset, `scorecard snapshots delete` and
`scorecard preview --publish` all publish; each used to call
`warehouse.publish` with its own idea of what else goes with it, and a
republish from one of them silently dropped what another had added (the
adoption programme's tables, the exports next to the file). Everything a
publish derives is listed here once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import programme, warehouse

if TYPE_CHECKING:
    from pipelines.config import ScorecardConfig


@dataclass
class Published:
    served: Path
    snapshots: int = 0
    latest: object = None  # dt.date of the newest complete snapshot
    warnings: list[str] = field(default_factory=list)  # what beside the file could not be refreshed
    metadata: dict = field(default_factory=dict)  # for the Dagster materialisation
    compacted: warehouse.Compacted | None = None  # the warehouse was rewritten first (retention freed enough)


def derive(config: ScorecardConfig, path: Path):
    """The tables a publish computes from the history it copies (run inside `warehouse.publish`):
    the adoption programme's, then the generated fixes (which read the stored evidence beside ``path``)."""
    from pipelines.fixes.publish import with_fixes

    return with_fixes(config, programme.derive(config), path)


def publish(config: ScorecardConfig, path: Path | None = None, served: Path | None = None) -> Published:
    """Publish the warehouse at ``path`` (default: the config's) to ``served``, then refresh
    what sits next to the served file. A failure there never unpublishes a good snapshot:
    it is returned in ``warnings`` for the caller to log."""
    import duckdb

    from pipelines import portal_export
    from pipelines.exports.refresh import refresh_exports

    path = path or config.warehouse_path
    # Every caller holds the run lock; retention's deletes only free blocks
    # inside the file, so it is rewritten when enough of it is free.
    compacted = warehouse.compact_if_due(path, config.warehouse.compaction)
    target = warehouse.publish(path, served or config.serving_path, derive=derive(config, path),
                               kept=programme.inputs(config))
    with warehouse.read_only(target, doing="reading the published snapshot") as con:
        snapshots, latest = con.execute("SELECT count(DISTINCT snapshot), max(snapshot) FROM runs").fetchone()
    out = Published(target, snapshots, latest, compacted=compacted)
    exported = refresh_exports(target)  # the metrics file and badges (pipelines/exports)
    out.warnings += [f"exports not refreshed: {reason}" for reason in exported.failures]
    started = time.perf_counter()
    try:  # per-entity documents for developer portals (docs/backstage.md)
        entities = str(portal_export.publish_static(target))
    except (OSError, duckdb.Error) as exc:
        out.warnings.append(f"per-entity export beside {target} failed: {exc}")
        entities = None
    entities_seconds = time.perf_counter() - started
    out.metadata = {
        "path": str(target), "bytes": target.stat().st_size, "snapshots": snapshots,
        "latest_snapshot": latest.isoformat() if latest else None,
        "exports": str(exported.folder), "exports_ok": exported.ok, "badges": exported.badges,
        "exports_seconds": round(exported.seconds, 3), "entity_documents": entities,
        "entity_documents_seconds": round(entities_seconds, 3),
        "compacted": str(compacted) if compacted else None,
    }
    return out
