"""Generated fixes as a table of the served file (`generated_fixes`), for the Service page's downloads.

Why at publish time and not from published data: a fix edits the service's
files (a manifest's containers, Chart.yaml's dependency, a workflow's `uses:`
line), and the published snapshot holds findings, not those files. The
publish has what a patch needs: the latest snapshot's stored evidence
(`pipelines.evidence_store`) and the checkouts under `sources.repos`. The
dashboard then only reads the table, as it reads everything else.

One row per (service, check): each patch is made against the checkout alone, so
any one of them applies by itself. A service whose manifests hold literal
secrets (`no_literal_secrets` failing) gets no rows: a patch carries context
lines of the files it edits, and the dashboard must never show such a value;
`scorecard fix` still generates its fixes locally. Registered tokens are
redacted from every patch as from every other published text.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from checks.catalogue import CATALOGUE
from checks.model import Status, evaluate
from pipelines import secrets
from pipelines.fixes.engine import GENERATORS
from pipelines.fixes.model import Fix, NoFix, unified_patch

DDL = ("snapshot DATE, service VARCHAR, check_id VARCHAR, summary VARCHAR, notes VARCHAR, "
       "files VARCHAR, patch VARCHAR")
_FIXABLE = frozenset({Status.FAIL, Status.WARN})
_SECRETS_CHECK = "no_literal_secrets"
_log = logging.getLogger(__name__)


def fix_rows(evidence: Iterable, ctx, reader_for: Callable[[str | None], Callable[[str], str | None]],
             snapshot: dt.date) -> list[tuple]:
    """The table's rows for ``evidence``; ``reader_for(repo)`` reads that repository's checkout."""
    rows: list[tuple] = []
    for ev in evidence:
        if evaluate(CATALOGUE[_SECRETS_CHECK], ev, ctx).status in _FIXABLE:
            continue
        read = reader_for(ev.repo)
        for check_id, gen in GENERATORS.items():
            finding = evaluate(CATALOGUE[check_id], ev, ctx)
            if finding.status not in _FIXABLE:
                continue
            try:
                fix = gen(finding, ev, ctx, read)
            except Exception as exc:  # noqa: BLE001 - one odd file must not fail the publish
                # The type only: a message could quote the file being edited.
                _log.warning("no published fix for %s %s: the generator raised %s", ev.service, check_id,
                             type(exc).__name__)
                continue
            if isinstance(fix, NoFix):
                continue
            rows.append(_row(snapshot, ev.service, fix, read))
    return rows


def _row(snapshot: dt.date, service: str, fix: Fix, read) -> tuple:
    patch = unified_patch({p: (read(p), t) for p, t in fix.changes.items()})
    return (snapshot, service, fix.check_id, secrets.redact(fix.summary), secrets.redact("\n".join(fix.notes)),
            ", ".join(sorted(fix.changes)), secrets.redact(patch))


def checkout_reader(roots: list[Path]) -> Callable[[str | None], Callable[[str], str | None]]:
    """Readers of the checkouts under the configured `sources.repos` roots (None for an unknown repo)."""

    def reader_for(repo: str | None) -> Callable[[str], str | None]:
        base = next((Path(r) / repo for r in roots if repo and (Path(r) / repo / ".git").exists()), None)

        def read(path: str) -> str | None:
            if base is None:
                return None
            file = base / path
            try:
                return file.read_text(encoding="utf-8") if file.is_file() and not file.is_symlink() else None
            except (OSError, UnicodeDecodeError):
                return None

        return read

    return reader_for


def with_fixes(config, derive: Callable | None, warehouse_path: Path) -> Callable:
    """``derive`` (the programme's tables), then the `generated_fixes` table, for `warehouse.publish(derive=...)`."""

    def add_tables(con) -> None:
        if derive is not None:
            derive(con)
        con.execute(f"CREATE TABLE generated_fixes ({DDL})")  # fixed name and DDL from this module
        try:
            add_rows(con, config, warehouse_path)
        except Exception as exc:  # noqa: BLE001 - downloads are a convenience: never fail the publish for them
            _log.warning("generated fixes not published (%s); the Service page offers none", type(exc).__name__)

    return add_tables


def add_rows(con, config, warehouse_path: Path) -> int:
    """Fill `generated_fixes` in the file being published; nothing when there is no stored evidence."""
    from pipelines import evidence_store, stages

    # fetchall: DuckDB 2 refuses more work on a connection with a result left unfetched (fetchone).
    found = con.execute(
        "SELECT snapshot, run_id FROM runs ORDER BY snapshot DESC, finished_at DESC LIMIT 1").fetchall()
    if not found:
        return 0
    latest = found[0]
    try:
        stored = evidence_store.load(warehouse_path, *latest)
    except evidence_store.EvidenceUnavailable:
        return 0  # a backfill stores no evidence: the table stays empty, the page says fixes are not generated
    crawled = stages.RepoCrawlResult(crawls=[], source_status=[], problems=[], known_teams=list(stored.known_teams))
    ctx = stages.check_context(config, stored.snapshot, crawled)
    roots = [config.resolve(r.root) for r in config.sources.repos]
    rows = fix_rows(stored.evidence, ctx, checkout_reader(roots), stored.snapshot)
    return insert_rows(con, rows)


def insert_rows(con, rows: list[tuple]) -> int:
    """Into `generated_fixes` as one frame: row-by-row `executemany` took 2.5 s for 4,400 patches."""
    import pandas as pd

    if rows:
        columns = [c.split()[0] for c in DDL.split(", ")]
        con.register("_generated_fixes", pd.DataFrame(rows, columns=columns))
        try:
            con.execute("INSERT INTO generated_fixes SELECT * FROM _generated_fixes")
        finally:
            con.unregister("_generated_fixes")
    return len(rows)
