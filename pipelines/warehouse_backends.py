"""The warehouse on a DuckLake or on MotherDuck instead of the embedded DuckDB file.

`warehouse.backend` in `scorecard.yaml` (pipelines/config_warehouse.py)
chooses. Every reader and writer of the warehouse calls
`pipelines.warehouse.connect(path)` / `read_only(path)` with the warehouse
*path* only (a few dozen call sites), so loading a config records its backend
against that path here (:func:`register`) and `warehouse._open` asks
:func:`connect` first; an unregistered path is the embedded file, as before.

DuckLake (https://ducklake.select/docs/stable/duckdb/usage/choosing_a_catalog_database):
``INSTALL ducklake; INSTALL postgres;`` then
``ATTACH 'ducklake:postgres:dbname=... host=...' AS <name> (DATA_PATH '...')``
and ``USE <name>``: the catalog lives in PostgreSQL, the rows in Parquet files
under DATA_PATH, and many DuckDB processes may write at once.

MotherDuck (https://motherduck.com/docs/key-tasks/authenticating-and-connecting-to-motherduck/connecting-to-motherduck):
``duckdb.connect("md:<database>", config={"motherduck_token": ...})``; the
token is read from the environment variable the config names and only ever
handed to DuckDB in that config mapping, never in a string, a log or an error.

Either needs a DuckDB extension DuckDB normally downloads from
extensions.duckdb.org. Where that is out of reach the connection fails with
a `WarehouseError` (exit 2, one line, no traceback) naming the extension, this DuckDB's version and
platform and the two ways to provide it offline.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config models only for annotations: importing this module stays cheap
    import duckdb

    from pipelines.config import Warehouse
    from pipelines.config_warehouse import DuckLakeOptions, ExtensionSource, MotherDuckOptions

LAKE = "scorecard_lake"  # the catalog name the warehouse's tables live in on a DuckLake

_registered: dict[Path, Warehouse] = {}


def _key(path: Path) -> Path:
    return Path(path).resolve()


def register(path: Path, warehouse: Warehouse) -> None:
    """Connections to `path` go to `warehouse.backend` from now on (the embedded file for `duckdb`)."""
    if warehouse.backend == "duckdb":
        _registered.pop(_key(path), None)
    else:
        _registered[_key(path)] = warehouse


def backend_for(path: Path) -> Warehouse | None:
    return _registered.get(_key(path)) if _registered else None


# ------------------------------------------------------------------ errors


def _warehouse_error():
    from pipelines.warehouse import WarehouseError  # late: warehouse imports this module

    return WarehouseError


def _secret_free(text: str, secret: str | None) -> str:
    from pipelines import secrets

    if secret:
        text = text.replace(secret, secrets.MASK)
    return secrets.redact(text)


def unavailable(extensions: tuple[str, ...], backend: str, cause: BaseException, platform: str,
                secret: str | None = None) -> Exception:
    """The operator's error for an extension DuckDB could not load: what, which DuckDB, how to provide it."""
    import duckdb

    version = f"v{duckdb.__version__}"
    names = " and ".join(f"`{e}`" for e in extensions)
    files = ", ".join(f"{e}.duckdb_extension" for e in extensions)
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    message = (
        f"warehouse.backend {backend} needs DuckDB's {names} extension{'s' if len(extensions) > 1 else ''}, "
        f"which DuckDB {version} ({platform}) could not load: {first}. Offline, either copy {files} for "
        f"{version}/{platform} into <dir>/{version}/{platform}/ and set `warehouse.{backend}.extension_directory: "
        f"<dir>` (DuckDB's SET extension_directory), or mirror extensions.duckdb.org's layout and set "
        f"`warehouse.{backend}.extension_repository: <URL or folder>` (DuckDB's custom_extension_repository); "
        f"or set warehouse.backend: duckdb for the embedded file"
    )
    return _warehouse_error()(_secret_free(message, secret))


def _load(con: duckdb.DuckDBPyConnection, extensions: tuple[str, ...], backend: str,
          secret: str | None = None) -> None:
    """LOAD each extension, INSTALLing it first (from the configured directory or repository) if needed."""
    import duckdb

    platform = con.execute("PRAGMA platform").fetchone()[0]
    for name in extensions:
        try:
            con.execute(f"LOAD {name}")  # names come from this module's fixed tuples, never from input
        except duckdb.Error:
            try:
                con.execute(f"INSTALL {name}")
                con.execute(f"LOAD {name}")
            except duckdb.Error as exc:
                raise unavailable(extensions, backend, exc, platform, secret) from None


def _duckdb_config(options: ExtensionSource) -> dict[str, str]:
    config: dict[str, str] = {}
    if options.extension_directory is not None:
        config["extension_directory"] = str(options.extension_directory)
    if options.extension_repository is not None:
        config["custom_extension_repository"] = options.extension_repository
        # Known extensions would otherwise be auto-installed from extensions.duckdb.org.
        config["autoinstall_extension_repository"] = options.extension_repository
    return config


def _literal(text: str) -> str:
    """A SQL string literal: ATTACH's target and options are not bindable parameters everywhere."""
    return "'" + text.replace("'", "''") + "'"


def attach_statement(options: DuckLakeOptions, alias: str, *, read_only: bool) -> str:
    """DuckLake's documented ATTACH for a PostgreSQL catalog and a Parquet data path."""
    opts = [f"DATA_PATH {_literal(options.data_path)}"] + (["READ_ONLY"] if read_only else [])
    return f"ATTACH {_literal('ducklake:postgres:' + options.catalog)} AS {alias} ({', '.join(opts)})"


def _motherduck_token(options: MotherDuckOptions) -> str:
    token = os.environ.get(options.token_env, "").strip()
    if not token:
        raise _warehouse_error()(
            f"warehouse.backend motherduck: the environment variable {options.token_env} (warehouse.motherduck."
            f"token_env) is not set; set it to a MotherDuck access token (MotherDuck would otherwise wait for a "
            f"browser sign-in)")
    from pipelines import secrets

    secrets.register(token)
    return token


# ------------------------------------------------------------- connecting


def connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection | None:
    """A connection whose unqualified tables are the configured backend's; None for the embedded file."""
    warehouse = backend_for(path)
    if warehouse is None:
        return None
    import duckdb

    if warehouse.backend == "ducklake":
        options = warehouse.ducklake
        con = duckdb.connect(":memory:", config=_duckdb_config(options))
        try:
            _load(con, ("ducklake", "postgres"), "ducklake")
            try:
                con.execute(attach_statement(options, LAKE, read_only=read_only))
                con.execute(f"USE {LAKE}")
            except duckdb.Error as exc:
                raise _warehouse_error()(
                    f"warehouse.backend ducklake: could not attach the DuckLake (catalog "
                    f"{_secret_free(options.catalog, None)!r}, data {options.data_path!r}): "
                    f"{_secret_free(str(exc).strip().splitlines()[0], None)}") from None
        except BaseException:
            con.close()
            raise
        return con
    options = warehouse.motherduck
    token = _motherduck_token(options)
    try:
        # The md: connection loads the motherduck extension itself; the token travels in the config only.
        # Not opened read-only: MotherDuck serves many readers and writers itself.
        return duckdb.connect(f"md:{options.database}", config={**_duckdb_config(options), "motherduck_token": token})
    except duckdb.Error as exc:
        probe = duckdb.connect(":memory:")
        try:
            platform = probe.execute("PRAGMA platform").fetchone()[0]
        finally:
            probe.close()
        if "extension" in str(exc).lower():
            raise unavailable(("motherduck",), "motherduck", exc, platform, token) from None
        raise _warehouse_error()(
            f"warehouse.backend motherduck: could not open md:{options.database}: "
            f"{_secret_free(str(exc).strip().splitlines()[0], token)}") from None


def attach_read_only(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> bool:
    """Attach the configured backend's warehouse to `con` as `alias`, read-only (publishing reads it so);
    False for the embedded file, which the caller attaches itself."""
    warehouse = backend_for(path)
    if warehouse is None:
        return False
    if warehouse.backend == "motherduck":
        # MotherDuck refuses aliases for one's own databases, and publishing reads the warehouse as `wh`.
        raise _warehouse_error()(
            "warehouse.backend motherduck: publishing reads the warehouse under an alias, which MotherDuck does not "
            "allow for your own databases; publish from a DuckLake or the embedded file")
    options = warehouse.ducklake
    for key, value in _duckdb_config(options).items():
        con.execute(f"SET {key} = ?", [value])  # keys from _duckdb_config's fixed set
    _load(con, ("ducklake", "postgres"), "ducklake")
    con.execute(attach_statement(options, alias, read_only=True))
    return True
