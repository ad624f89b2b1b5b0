"""Benchmark: a 10,000-entity Backstage catalog read over loopback (tests/fakes/backstage_server.py).

Three reads of the same portal through the real source (httpx, cursor paging
of 500, `fields` pruning server-side): the first, full one; a re-crawl where
nothing changed (one etag listing, nothing fetched); and a re-crawl after 1 %
of the entities changed (listing plus one by-refs batch per 500 changed).
The loopback server is Python too and shares the two cores, so the figures
are an upper bound for a real portal's client side.

    .venv/bin/python -m tests.bench.bench_backstage
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from pipelines.config_sources import BackstageSourceConfig
from pipelines.sources.backstage import BackstageSource
from tests.bench.targets import Targets
from tests.fakes.backstage_server import FakeBackstage, entity

ENTITIES = 10_000
GROUPS = 100
SYSTEMS = 400
READ_TARGET_S = 10.0


def catalog() -> list[dict]:
    out = [entity("Group", f"team-{i:03d}", spec={"type": "team", "parent": "engineering"}) for i in range(GROUPS)]
    out += [entity("System", f"system-{i:03d}", spec={"owner": f"team-{i % GROUPS:03d}"}) for i in range(SYSTEMS)]
    for i in range(ENTITIES - GROUPS - SYSTEMS):
        name = f"svc-{i:05d}"
        out.append(entity("Component", name, spec={
            "type": "service", "lifecycle": "production", "owner": f"group:default/team-{i % GROUPS:03d}",
            "system": f"system-{i % SYSTEMS:03d}",
        }, annotations={"github.com/project-slug": f"acme/{name}", "backstage.io/kubernetes-id": name,
                        "pagerduty.com/service-id": f"P{i:06d}", "backstage.io/techdocs-ref": "dir:."}))
    return out


def run() -> dict:
    figures: dict = {}
    with FakeBackstage(entities=catalog()) as fake, tempfile.TemporaryDirectory() as tmp:
        config = BackstageSourceConfig(base_url=fake.url, page_size=500)
        src = BackstageSource(config, base_dir=Path(tmp), state_dir=Path(tmp) / "state", environ={})
        for label in ("first read", "re-crawl, nothing changed", "re-crawl, 1 % changed"):
            if label.endswith("changed") and "1 %" in label:
                for e in fake.entities[GROUPS + SYSTEMS::100]:
                    fake.update(e["metadata"]["name"], lifecycle="deprecated")
            started = time.monotonic()
            result = src.crawl()
            seconds = time.monotonic() - started
            assert result.error is None, result.error
            figures[label] = {"seconds": seconds, "entities": result.items, **result.stats}
    return figures


def main() -> None:
    figures = run()
    t = Targets()
    print(f"## Backstage catalog of {ENTITIES:,} entities over loopback (page size 500)")
    for label, f in figures.items():
        target = t.below(label, f["seconds"], READ_TARGET_S) if label == "first read" else ""
        print(f"  {label}: {f['seconds']:.2f} s {target}; {f['entities']:,} entities, {f['requests']} requests, "
              f"{f['bytes'] / 2**20:,.1f} MiB received, {f.get('fetched', 0):,} fetched, {f.get('reused', 0):,} reused")
    if figures["first read"]["entities"] != ENTITIES:
        t.missed.append(f"read {figures['first read']['entities']} entities, expected {ENTITIES}")
    t.check()


if __name__ == "__main__":
    main()
