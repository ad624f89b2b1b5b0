"""Write-back for developer portals: one JSON document per service, plus an index (docs/backstage.md).

Layout, mirroring Backstage's ``<namespace>/<kind>/<name>`` entity paths so
a card or a Tech Insights fact retriever can build the URL from the entity
it is showing::

    DIR/index.json                          snapshot, generatedAt, entities[{entityRef, file, levels}]
    DIR/default/component/<name>.json       the service's document (readmodel.portal.entity_documents)

Reads only the published snapshot. The folder is replaced as a whole (written
beside it, then renamed into place), so a reader never sees half an export.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

from pipelines.readmodel.portal import SCHEMA, entity_documents

STATIC_DIR = "entities"  # beside the published snapshot: <serving dir>/entities/


def export_entities(served: Path, out: Path, snapshot: dt.date | None = None) -> int:
    """Export every service of the (latest) published snapshot to ``out``; returns how many."""
    day, documents = entity_documents(str(served), snapshot)
    out = out.resolve()
    staging = out.with_name(f".{out.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "default" / "component").mkdir(parents=True)
    index = []
    for doc in documents:
        name = re.sub(r"[^a-z0-9._-]", "_", doc["entityRef"].split("/", 1)[1]).lstrip(".") or "_"
        rel = f"default/component/{name}.json"
        (staging / rel).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        index.append({"entityRef": doc["entityRef"], "file": rel,
                      "levels": {card: s["level"] for card, s in doc["scorecards"].items()}})
    (staging / "index.json").write_text(json.dumps({
        "schema": SCHEMA, "snapshot": day.isoformat() if day else None,
        "generatedAt": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "entities": index,
    }, indent=1) + "\n", encoding="utf-8")
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return len(documents)


def publish_static(served: Path) -> Path:
    """The serving step's export: ``<serving dir>/entities/`` next to the published snapshot."""
    out = served.parent / STATIC_DIR
    export_entities(served, out)
    return out
