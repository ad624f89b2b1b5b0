"""Read a warehouse or served file as a user's query would: read-only, closed after each question."""

from __future__ import annotations

import duckdb


def q(path, sql, *params):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()
