"""History stored as spans: a row is kept once for the run of snapshots it stayed the same in.

Most of a service's rows are the same from one day to the next (on the
10,000-service year 98.5 % of the results repeat the previous retained
snapshot), so storing every row of every snapshot made a year take 6.5 GB.
Each snapshot table ``t`` of the warehouse and of the served file is stored
as ``t_spans``: its columns without ``snapshot``, plus ``first_seen`` and
``last_seen``. The view ``t`` has the table's old columns and rows (one per
row and complete snapshot date in its span), so every reader, the dashboard
and exports included, reads ``t`` exactly as before.

A span's dates are a range, but it stands only for the *complete* snapshot
dates in it (the view joins ``runs``): deleting a date (retention, an
operator) needs no rewrite of the spans over it, and a span is dropped when
no complete date is left in it. Writing a date inside an existing span
(replacing a snapshot, a backfill) first splits the spans over it, so a span
never claims a date it was not written for.

Rows are matched as multisets (a row equal in every column, counted), so a
table needs no key: two identical rows in one snapshot stay two rows.

Identifiers here come from the warehouse's fixed table and column lists,
never from input; dates are bound.
"""

from __future__ import annotations

import datetime as dt

import duckdb

SUFFIX = "_spans"
COMPLETE_DATES = "(SELECT DISTINCT snapshot FROM runs WHERE status = 'complete')"


def table(name: str) -> str:
    return f"{name}{SUFFIX}"


def ddl(spec: list[tuple[str, str]]) -> str:
    """The spans table's columns: the snapshot table's (``spec``) without ``snapshot``, then the span."""
    cols = [f"{column} {kind}" for column, kind in spec if column != "snapshot"]
    return ", ".join([*cols, "first_seen DATE", "last_seen DATE"])


def create_view(con: duckdb.DuckDBPyConnection, name: str, cols: list[str], schema: str = "main") -> None:
    """The snapshot table ``name`` (columns ``cols``, ``snapshot`` first) as a view over its spans.

    Unqualified names in a view resolve in the view's own database, so the
    same view works in the warehouse, the served file and either attached."""
    # DuckDB turns `snapshot = <constant>` on this view into range filters on the spans' scan.
    select = ", ".join("d.snapshot" if c == "snapshot" else f"s.{c}" for c in cols)
    con.execute(f"""CREATE OR REPLACE VIEW {schema}.{name} AS
                    SELECT {select} FROM {table(name)} s JOIN {COMPLETE_DATES} d
                    ON d.snapshot BETWEEN s.first_seen AND s.last_seen""")


def _equal(left: str, right: str, cols: list[str]) -> str:
    return " AND ".join(f"{left}.{c} IS NOT DISTINCT FROM {right}.{c}" for c in cols)


def write_date(con: duckdb.DuckDBPyConnection, name: str, cols: list[str], source: str, date: dt.date,
               dates: list[dt.date], order: str = "") -> None:
    """Make ``source``'s rows the rows of ``name`` on ``date`` (inside the caller's transaction).

    ``source`` is a relation of the rows that may use the parameter ``$d`` (the date);
    its ``snapshot`` column is ignored. ``dates``
    are the other complete dates of history, the ones the spans stand for.
    A row equal to one of a span that covers the previous date extends that
    span; any other row starts a span of its own.
    """
    spans = table(name)
    data = [c for c in cols if c != "snapshot"]
    listed = ", ".join(data)
    before = max((d for d in dates if d < date), default=None)
    # 1. No span may cover `date` any more: cut it out of the spans over it (the rows it had are replaced).
    cut = con.execute(f"SELECT count(*) FROM {spans} WHERE first_seen <= $d AND last_seen >= $d", {"d": date}
                      ).fetchone()[0]
    if cut:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _cut AS
                        SELECT * FROM {spans} WHERE first_seen <= $d AND last_seen >= $d""", {"d": date})
        con.execute(f"DELETE FROM {spans} WHERE first_seen <= $d AND last_seen >= $d", {"d": date})
        con.execute(f"""INSERT INTO {spans} BY NAME
                        SELECT * REPLACE ($d - 1 AS last_seen) FROM _cut WHERE first_seen < $d
                        UNION ALL
                        SELECT * REPLACE ($d + 1 AS first_seen) FROM _cut WHERE last_seen > $d""", {"d": date})
        con.execute("DROP TABLE _cut")
    # 2. Pair each new row with an equal span over the previous date (the n-th equal row with the n-th
    #    equal span); paired spans grow to `date`, the other rows start spans of their own.
    numbered = f"row_number() OVER (PARTITION BY {listed})"
    if before is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _new AS SELECT NULL::BIGINT AS span, {listed} FROM {source}",
                    {"d": date})
    else:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _new AS
                WITH old AS (SELECT rowid AS span, {listed}, {numbered} AS n FROM {spans}
                             WHERE first_seen <= $before AND last_seen >= $before AND last_seen < $d),
                     new AS (SELECT {listed}, {numbered} AS n FROM {source})
                SELECT old.span, new.* EXCLUDE (n) FROM new LEFT JOIN old
                  ON old.n = new.n AND {_equal("old", "new", data)}""",
            {"before": before, "d": date})
        con.execute(f"UPDATE {spans} SET last_seen = $d WHERE rowid IN (SELECT span FROM _new WHERE span IS NOT NULL)",
                    {"d": date})
    con.execute(f"""INSERT INTO {spans} ({listed}, first_seen, last_seen)
                    SELECT {listed}, $d, $d FROM _new WHERE span IS NULL{order}""", {"d": date})
    con.execute("DROP TABLE _new")


def drop_unused(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """Delete the spans of ``name`` with no complete date left in them (after dates left history)."""
    return con.execute(
        f"""DELETE FROM {table(name)} s WHERE NOT EXISTS (
                SELECT 1 FROM {COMPLETE_DATES} d WHERE d.snapshot BETWEEN s.first_seen AND s.last_seen)"""
    ).fetchone()[0]


def from_rows(con: duckdb.DuckDBPyConnection, target: str, source: str, cols: list[str], order: str = "") -> None:
    """Fill spans table ``target`` from per-snapshot rows in ``source`` (a table of an older release).

    Gaps and islands: a row's consecutive snapshot dates (among every date
    that has rows in ``source`` or is complete) become one span; the ``dup``
    ordinal keeps equal rows of one snapshot apart."""
    data = [c for c in cols if c != "snapshot"]
    listed = ", ".join(data)
    runs = "runs" if "." not in source else f"{source.rsplit('.', 1)[0]}.runs"
    con.execute(
        f"""INSERT INTO {target} ({listed}, first_seen, last_seen)
            WITH dates AS (SELECT snapshot, row_number() OVER (ORDER BY snapshot) AS i FROM (
                               SELECT snapshot FROM {source} UNION
                               SELECT snapshot FROM {runs} WHERE status = 'complete')),
                 rows AS (SELECT t.*, row_number() OVER (PARTITION BY t.snapshot, {listed}) AS dup
                          FROM {source} t),
                 marked AS (SELECT r.*, d.i - row_number() OVER (PARTITION BY {listed}, r.dup ORDER BY r.snapshot)
                                        AS island
                            FROM rows r JOIN dates d USING (snapshot))
            SELECT {listed}, min(snapshot), max(snapshot) FROM marked GROUP BY {listed}, dup, island{order}""")
