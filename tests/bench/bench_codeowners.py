"""Benchmark: a monorepo with 1,000 catalog components and a 40,000-rule CODEOWNERS (issue 9, item 7).

Each component's CODEOWNERS rule sits near the top of the file, under 39,000
rules for other paths: the worst case for GitHub's last-match-wins lookup,
which scans from the end. Paths are short so the file stays under the
crawler's 1 MB limit for config files (`pipelines/sources/repo_files.py`). The whole `scorecard run` is timed in a fresh
process (crawl, identity, evidence, checks, scoring, publish).

    .venv/bin/python -m tests.bench.bench_codeowners
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from tests.bench.targets import ROOT, Targets, scorecard

WORK = ROOT / "bench-out" / "codeowners"
COMPONENTS = 1000
RULES = 40_000
RUN_TARGET_S = 60.0


def codeowners_text() -> str:
    lines = ["* @acme/platform"]
    lines += [f"/c/{i:04d}/ @acme/team-{i % 40:02d}" for i in range(COMPONENTS)]
    lines += [f"/d/{i}/**/*.md @a/d{i % 7}" for i in range(RULES - COMPONENTS - 1)]
    return "\n".join(lines) + "\n"


def _monorepo(path: Path) -> None:
    from pipelines.demo.gitfast import FastImportStream, init_repo, run_fast_import

    files: dict[str, str | None] = {"CODEOWNERS": codeowners_text(), "README.md": "# monorepo\n"}
    for i in range(COMPONENTS):
        name = f"svc-{i:04d}"
        files[f"c/{i:04d}/catalog-info.yaml"] = (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
            f"metadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-{i % 40:02d}\n")
        files[f"c/{i:04d}/app.py"] = f"NAME = {name!r}\n"
    stream = FastImportStream("main")
    stream.commit(author=("Dev", "dev@example.com"), when=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
                  message="monorepo", changes=files)
    init_repo(path, "main")
    run_fast_import(path, stream, checkout=False)


def run() -> dict:
    shutil.rmtree(WORK, ignore_errors=True)
    _monorepo(WORK / "repos" / "monorepo")
    teams = "".join(f"  - name: team-{t:02d}\n" for t in range(40))
    config = WORK / "scorecard.yaml"
    config.write_text(f"organisation: acme\nsources:\n  repos: [{{root: repos}}]\nteams:\n{teams}")
    result = scorecard("run", "--config", str(config))
    import duckdb

    con = duckdb.connect(str(WORK / "serving" / "scorecard.duckdb"), read_only=True)
    try:
        services, owned = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE codeowners IS NOT NULL AND codeowners <> '@acme/platform') "
            "FROM services").fetchone()
    finally:
        con.close()
    return {**result, "services": services, "owned_by_own_rule": owned, "codeowners_kib": len(codeowners_text()) / 1024}


def main() -> None:
    f = run()
    t = Targets()
    print(f"## {RULES:,}-rule CODEOWNERS ({f['codeowners_kib']:,.0f} KiB), {COMPONENTS:,} components in one monorepo "
          f"({f['services']:,} services, {f['owned_by_own_rule']:,} owned by their own rule)")
    print(f"  whole run: {f['seconds']:.1f} s {t.below('whole run', f['seconds'], RUN_TARGET_S)}; "
          f"peak RSS {f['peak_rss_mib']:,.0f} MiB")
    if f["owned_by_own_rule"] != COMPONENTS:
        t.missed.append(f"only {f['owned_by_own_rule']} of {COMPONENTS} components matched their CODEOWNERS rule")
    t.check()


if __name__ == "__main__":
    main()
