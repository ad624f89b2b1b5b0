"""Short-lived read-only connections to the published snapshot."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd


def frame(path: str, sql: str, **params: Any) -> pd.DataFrame:
    # DuckDB shares one open instance per path within a process, so a query
    # that starts while another still holds the pre-publish file reads that
    # file; callers that cache bound how long such a result is served.
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params).df()
    finally:
        con.close()


def row(path: str, sql: str, **params: Any) -> dict[str, Any] | None:
    """The first row as plain Python values (a one-row frame would coerce ints to floats)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(sql, params)
        found = cur.fetchone()
        return None if found is None else dict(zip([d[0] for d in cur.description], found, strict=True))
    finally:
        con.close()


def rows(path: str, sql: str, **params: Any) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
