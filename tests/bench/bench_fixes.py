"""Benchmark of the `generated_fixes` table built at publish time, for 1,000 services.

Each service is one of four repository shapes (a manifest lacking probes,
resources and a PDB; a Helm chart and a workflow behind the golden path; a
monorepo of two services; a bare repo), crawled once with the gate's crawl, its
evidence copied under 1,000 service names, so the figure is the generators'
cost (evaluation, YAML round trips, reading the files, diffing) and the table
insert, not the crawl the run pays for anyway.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.fixes.publish import DDL, checkout_reader, fix_rows, insert_rows
from pipelines.gate import checkout_evidence
from tests.bench.targets import Targets
from tests.gitrepo import catalog_info, commit, init
from tests.pipelines.test_fixes import CHART, DEPLOYMENT, WORKFLOW, _config

SHAPES = {
    "manifests": {"catalog-info.yaml": catalog_info("manifests"), "k8s/deployment.yaml": DEPLOYMENT,
                  "requirements.txt": "flask==3.0\n"},
    "drift": {"catalog-info.yaml": catalog_info("drift"), "chart/Chart.yaml": CHART, ".github/workflows/ci.yml": WORKFLOW},
    "mono": {"services/a/catalog-info.yaml": catalog_info("a"), "services/b/catalog-info.yaml": catalog_info("b"),
             "services/a/Dockerfile": "FROM x\n"},
    "bare": {"README.md": "# bare\n", "CODEOWNERS": "* @acme/payments\n"},
}


def run(services: int = 1000) -> dict:
    today = dt.datetime.now(dt.UTC).date()
    config = _config()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shapes = []
        for name, files in SHAPES.items():
            repo = init(root / name)
            commit(repo, files)
            shapes += checkout_evidence(repo, config, today)[3]
        evidence = [dataclasses.replace(shapes[i % len(shapes)], service=f"svc-{i:04d}") for i in range(services)]
        ctx = config.check_context(today)
        started = time.monotonic()
        rows = fix_rows(evidence, ctx, checkout_reader([root]), today)
        generate_s = time.monotonic() - started
        con = duckdb.connect()
        started = time.monotonic()
        con.execute(f"CREATE TABLE generated_fixes ({DDL})")
        insert_rows(con, rows)
        insert_s = time.monotonic() - started
        size = con.execute("SELECT sum(length(patch)) FROM generated_fixes").fetchone()[0]
        con.close()
    return {"services": services, "rows": len(rows), "generate_s": generate_s, "insert_s": insert_s,
            "patch_kib": size / 1024}


def main() -> None:
    f = run()
    t = Targets()
    print(f"## generated fixes at publish: {f['services']:,} services, {f['rows']:,} patches, {f['patch_kib']:,.0f} KiB")
    print(f"  generate (evaluate + edit + diff)     : {f['generate_s']:7.1f} s   {t.below('fix generation', f['generate_s'], 30)}")
    print(f"  insert into the served file           : {f['insert_s']:7.2f} s   {t.below('fix table insert', f['insert_s'], 5)}")
    t.check()


if __name__ == "__main__":
    main()
