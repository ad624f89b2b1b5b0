"""Every row a published serving file holds, minus what differs between two runs of the same data.

Two runs of one organisation (in-process, or distributed over Celery workers) must
publish the same rows; they differ only in their run ids, their clocks and where
their files live. Used by tests/pipelines/test_cluster.py and
tests/bench/bench_distributed.py to assert that.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# Columns holding a run's identity, its clock or the config file it was launched with, not what it found.
VOLATILE_COLUMNS = {"run_id", "started_at", "finished_at", "crawled_at", "last_success_at", "created_at",
                    "config_file"}
VOLATILE_META_KEYS = {"published_at"}


def served_rows(path: Path, roots: tuple[Path, ...] = ()) -> dict[str, list[tuple]]:
    """table -> its rows (sorted, as text), without VOLATILE_COLUMNS; each of ``roots`` reads as <root>."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        out = {}
        for table in tables:
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
                "ORDER BY ordinal_position", [table]).fetchall() if c not in VOLATILE_COLUMNS]
            select = ", ".join(f'"{c}"' for c in columns)  # names read from the catalogue, quoted
            rows = con.execute(f'SELECT {select} FROM "{table}"').fetchall()
            if table == "meta":
                rows = [r for r in rows if r[0] not in VOLATILE_META_KEYS]
            out[table] = sorted(tuple(_text(v, roots) for v in row) for row in rows)
        return out
    finally:
        con.close()


def _text(value: object, roots: tuple[Path, ...]) -> str:
    text = repr(value)
    for root in roots:
        text = text.replace(str(root), "<root>")
    return text


def differences(a: dict[str, list[tuple]], b: dict[str, list[tuple]], limit: int = 5) -> list[str]:
    """What differs between two served_rows() results, readable in an assertion message ([] when equal)."""
    out = []
    for table in sorted(set(a) | set(b)):
        if table not in a or table not in b:
            out.append(f"{table}: only in {'the first' if table in a else 'the second'}")
            continue
        if a[table] != b[table]:
            in_a, in_b = set(a[table]), set(b[table])
            only_a = [r for r in a[table] if r not in in_b][:limit]
            only_b = [r for r in b[table] if r not in in_a][:limit]
            out.append(f"{table}: {len(a[table])} vs {len(b[table])} rows; first only in one: {only_a}; "
                       f"only in the other: {only_b}")
    return out
