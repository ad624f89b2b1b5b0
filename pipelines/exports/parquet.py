"""`scorecard export parquet`: every published table as a Parquet file, with a manifest.

Written by DuckDB's own ``COPY ... TO ... (FORMAT parquet)`` from one
read-only connection (one published version), into a temp folder that
replaces ``--out`` only when every file is written.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from pipelines.exports import require_published
from pipelines.exports.atomic import replace_dir
from pipelines.readmodel import exports as rm

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def export_parquet(serving: Path, out: Path) -> dict:
    """Write one ``<table>.parquet`` per published table and ``manifest.json`` into ``out``; returns the manifest."""
    require_published(serving)
    with replace_dir(out, MANIFEST) as tmp, rm.published(serving) as con:
        tables = [rm.copy_table_to_parquet(con, table, tmp / f"{table}.parquet") for table in rm.published_tables(con)]
        meta = rm.meta(con)
        latest = rm.latest(con)
        manifest = {
            "format_version": FORMAT_VERSION,
            "source": str(serving),
            "published_at": meta.get("published_at"),
            "schema_version": meta.get("schema_version"),
            "latest_snapshot": latest.isoformat() if latest else None,
            "tables": [asdict(t) for t in tables],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
