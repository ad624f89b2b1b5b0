"""Where the warehouse lives when one DuckDB file is not enough: the `warehouse.backend` options.

`duckdb` (the default) is the embedded file at `warehouse.path`: one writer at
a time. `ducklake` keeps the catalog in PostgreSQL and the data as Parquet
files under `data_path`, so several processes can write; `motherduck` is a
MotherDuck database. Both need a DuckDB extension (`ducklake` + `postgres`,
or `motherduck`), which DuckDB downloads from extensions.duckdb.org unless
`extension_directory` / `extension_repository` point at a copy you provide
(docs/scaling.md, "Warehouse backends").

No secret is ever written here: the PostgreSQL password comes from libpq's
own `PGPASSWORD` variable or a passfile, the MotherDuck token from the
variable `token_env` names.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import field_validator

from pipelines.config_base import Model, problem

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATABASE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,62}$")
# libpq connection-string keys that carry a secret; the file must not hold them.
_SECRET_KEYS = re.compile(r"(?:^|\s)(password|sslpassword)\s*=", re.IGNORECASE)


class ExtensionSource(Model):
    """Where DuckDB finds its extensions when extensions.duckdb.org is out of reach."""

    # DuckDB's `extension_directory`: <dir>/v<duckdb version>/<platform>/<name>.duckdb_extension
    extension_directory: Path | None = None
    # DuckDB's `custom_extension_repository`: a mirror (URL or local folder) laid out like extensions.duckdb.org
    extension_repository: str | None = None


class DuckLakeOptions(ExtensionSource):
    """A DuckLake: the catalog in PostgreSQL, the data as Parquet files under `data_path`."""

    # A libpq connection string, as DuckDB's postgres extension takes it: "dbname=scorecard host=pg.internal user=sc"
    catalog: str
    data_path: str  # every writer and reader must see it: s3://bucket/scorecard/ or a shared absolute path

    @field_validator("catalog")
    @classmethod
    def _libpq_without_password(cls, value: str) -> str:
        value = value.strip()
        if value.startswith(("postgres://", "postgresql://")):
            if re.match(r"^postgres(?:ql)?://[^/@]*:[^/@]*@", value):
                raise problem("must not contain a password; set PGPASSWORD in the environment or use a "
                              "passfile (libpq reads both)")
        elif _SECRET_KEYS.search(value):
            # Not echoed: the value holds a password.
            raise problem("must not contain a password; set PGPASSWORD in the environment or use a "
                          "passfile (libpq reads both)")
        elif "=" not in value:
            raise problem(f"expected a libpq connection string such as 'dbname=scorecard host=pg.internal "
                          f"user=scorecard', got {value!r}")
        return value

    @field_validator("data_path")
    @classmethod
    def _shared_location(cls, value: str) -> str:
        if not value.strip():
            raise problem("expected where the Parquet files go, e.g. s3://bucket/scorecard/ or /shared/lake/")
        if "://" not in value and not value.startswith("/"):
            # Relative paths would resolve differently on every worker.
            raise problem(f"expected an object-store URL (s3://, gs://, az://) or an absolute path every writer "
                          f"sees, got {value!r}")
        return value


class MotherDuckOptions(ExtensionSource):
    """A MotherDuck database; the token comes from the environment, never from this file."""

    database: str
    token_env: str = "MOTHERDUCK_TOKEN"

    @field_validator("database")
    @classmethod
    def _database_name(cls, value: str) -> str:
        if not _DATABASE.match(value):
            raise problem(f"expected a MotherDuck database name such as 'scorecard', got {value!r}")
        return value

    @field_validator("token_env")
    @classmethod
    def _names_a_variable(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            # Not echoed: a value that is not a variable name may well be a pasted token.
            raise problem("expected the name of an environment variable, like MOTHERDUCK_TOKEN")
        return value


def backend_problems(warehouse: object) -> list[tuple[tuple, str]]:
    """A backend without its section, or a section for a backend not chosen (a half-edited file)."""
    backend = getattr(warehouse, "backend", "duckdb")
    found = []
    for name in ("ducklake", "motherduck"):
        options = getattr(warehouse, name, None)
        if backend == name and options is None:
            found.append(((name,), f"backend {name} needs a `{name}:` section ("
                                   + ("catalog and data_path" if name == "ducklake" else "database") + ")"))
        if backend != name and options is not None:
            found.append(((name,), f"is set but warehouse.backend is {backend}; set backend: {name} or remove it"))
    return found
