"""Read a warehouse or served file as a user's query would: read-only, closed after each question."""

from __future__ import annotations

import duckdb


def q(path, sql, *params):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


# Columns that differ between two runs of the same input: when and by which run it happened.
VOLATILE_COLUMNS = {"run_id", "started_at", "finished_at", "crawled_at", "last_success_at", "published_at",
                    "generated_at", "config_file"}


VOLATILE_META = {"published_at"}


def published_tables(path, root=None) -> dict[str, list[tuple]]:
    """Every table of a served file, rows sorted, without the columns that say when or which run.

    Two runs over the same repositories and clusters (in one process or on
    Celery workers, in one shard or several) must publish equal results.
    ``root``: the run's directory, written as ``<root>`` where a value names a file under it.
    """
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for (table,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        ).fetchall():
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
                "ORDER BY ordinal_position", [table]).fetchall() if c not in VOLATILE_COLUMNS]
            if not cols:
                continue
            select = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f'SELECT {select} FROM "{table}"').fetchall()
            if table == "meta":
                rows = [r for r in rows if r[0] not in VOLATILE_META]
            if root is not None:
                rows = [tuple(v.replace(str(root), "<root>") if isinstance(v, str) else v for v in r) for r in rows]
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()
