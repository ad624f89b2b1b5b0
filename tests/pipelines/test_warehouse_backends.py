"""`warehouse.backend`: DuckLake or MotherDuck instead of the embedded file, as far as it runs offline.

The DuckLake and MotherDuck extensions cannot be installed here (no network to
extensions.duckdb.org, no PyPI build for DuckDB 2.0.1), so these tests cover
what a user meets before the extension loads: the config is validated, a
missing extension is one actionable error that names it and how to provide it
offline, the MotherDuck token never shows, and the embedded default is as it
was. Every DuckLake/MotherDuck connection here points DuckDB at an empty local
extension repository, so nothing reaches the internet.
"""

from __future__ import annotations

import logging
import re
import time

import duckdb
import pytest

from pipelines import warehouse, warehouse_backends
from pipelines.config import ConfigError, load_config
from pipelines.config_warehouse import DuckLakeOptions

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzZXNzaW9uIjoic2NvcmVjYXJkLWJlbmNoIn0.bW90aGVyZHVja3NlY3JldA"  # a JWT, as MotherDuck issues


def config(tmp_path, warehouse_yaml: str):
    path = tmp_path / "scorecard.yaml"
    path.write_text(f"sources: {{repos: [{{root: ./repos}}]}}\nwarehouse:\n{warehouse_yaml}", encoding="utf-8")
    return path


def refused(tmp_path, warehouse_yaml: str) -> str:
    with pytest.raises(ConfigError) as exc:
        load_config(config(tmp_path, warehouse_yaml))
    return str(exc.value)


def ducklake(tmp_path, **extra: str) -> str:
    repo = tmp_path / "no-extensions"
    repo.mkdir(exist_ok=True)
    lines = ["  backend: ducklake", "  ducklake:", "    catalog: dbname=scorecard host=127.0.0.1 user=scorecard",
             f"    data_path: {tmp_path / 'lake'}/", f"    extension_directory: {tmp_path / 'ext'}",
             f"    extension_repository: {repo}"]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _forget_backends():
    yield
    warehouse_backends._registered.clear()


# ------------------------------------------------------------------ config


def test_the_embedded_duckdb_file_stays_the_default(tmp_path):
    cfg = load_config(config(tmp_path, "  path: wh/scorecard.duckdb\n"))
    assert cfg.warehouse.backend == "duckdb"
    with warehouse.connect(cfg.warehouse_path) as con:
        con.execute("SELECT 1")
    assert (tmp_path / "wh" / "scorecard.duckdb").is_file()  # the file, as before


def test_a_valid_ducklake_section_is_accepted(tmp_path):
    cfg = load_config(config(tmp_path, ducklake(tmp_path)))
    assert cfg.warehouse.backend == "ducklake"
    assert cfg.warehouse.ducklake.catalog == "dbname=scorecard host=127.0.0.1 user=scorecard"


@pytest.mark.parametrize(("yaml", "wanted"), [
    ("  backend: ducklake\n", r"warehouse\.ducklake: backend ducklake needs a `ducklake:` section"),
    ("  backend: motherduck\n", r"warehouse\.motherduck: backend motherduck needs a `motherduck:` section"),
    ("  ducklake: {catalog: dbname=x, data_path: /lake/}\n",
     r"warehouse\.ducklake: is set but warehouse\.backend is duckdb"),
    ("  backend: postgres\n", r"warehouse\.backend: .*'duckdb', 'ducklake' or 'motherduck'"),
    ("  backend: ducklake\n  ducklake: {catalog: scorecard, data_path: /lake/}\n",
     r"warehouse\.ducklake\.catalog: expected a libpq connection string"),
    ("  backend: ducklake\n  ducklake: {catalog: dbname=x, data_path: lake/}\n",
     r"warehouse\.ducklake\.data_path: expected an object-store URL .* or an absolute path"),
    ("  backend: ducklake\n  ducklake: {catalog: dbname=x}\n", r"warehouse\.ducklake\.data_path: Field required"),
    ("  backend: motherduck\n  motherduck: {database: 'my db'}\n",
     r"warehouse\.motherduck\.database: expected a MotherDuck database name"),
])
def test_a_bad_backend_section_is_refused_at_its_key(tmp_path, yaml, wanted):
    assert re.search(wanted, refused(tmp_path, yaml)), refused(tmp_path, yaml)


@pytest.mark.parametrize("catalog", [
    "dbname=scorecard host=pg user=sc password=hunter2-Secret",
    "postgresql://sc:hunter2-Secret@pg/scorecard",
])
def test_a_password_in_the_catalog_is_refused_without_echoing_it(tmp_path, catalog):
    message = refused(tmp_path, f"  backend: ducklake\n  ducklake: {{catalog: '{catalog}', data_path: /lake/}}\n")
    assert "must not contain a password; set PGPASSWORD" in message
    assert "hunter2-Secret" not in message


def test_a_pasted_token_in_token_env_is_refused_without_echoing_it(tmp_path):
    message = refused(tmp_path, f"  backend: motherduck\n  motherduck: {{database: scorecard, token_env: '{TOKEN}'}}\n")
    assert "expected the name of an environment variable" in message
    assert TOKEN not in message


# --------------------------------------------------------- connecting


def test_a_missing_ducklake_extension_is_one_actionable_error(tmp_path):
    cfg = load_config(config(tmp_path, ducklake(tmp_path)))
    started = time.monotonic()
    with pytest.raises(warehouse.WarehouseError) as exc, warehouse.connect(cfg.warehouse_path):
        pass
    message = str(exc.value)
    assert time.monotonic() - started < 10  # the local (empty) repository answers at once: no network wait
    platform = duckdb.connect().execute("PRAGMA platform").fetchone()[0]
    for wanted in ("warehouse.backend ducklake", "`ducklake` and `postgres` extensions", f"v{duckdb.__version__}",
                   platform, "ducklake.duckdb_extension", "extension_directory", "custom_extension_repository",
                   "warehouse.ducklake.extension_repository", "warehouse.backend: duckdb"):
        assert wanted in message, wanted
    assert "\n" not in message
    assert not (tmp_path / "warehouse" / "scorecard.duckdb").exists()  # it did not fall back to the file


def test_publishing_from_a_ducklake_without_the_extension_says_the_same(tmp_path):
    cfg = load_config(config(tmp_path, ducklake(tmp_path)))
    with pytest.raises(warehouse.WarehouseError, match="needs DuckDB's `ducklake` and `postgres` extensions"):
        warehouse.publish(cfg.warehouse_path, cfg.serving_path)
    assert not cfg.serving_path.exists()  # nothing half-published


def test_the_motherduck_token_never_appears_in_the_error_or_the_logs(tmp_path, monkeypatch, caplog):
    repo = tmp_path / "no-extensions"
    repo.mkdir()
    monkeypatch.setenv("SCORECARD_MD_TOKEN", TOKEN)
    cfg = load_config(config(tmp_path, f"  backend: motherduck\n  motherduck:\n    database: scorecard\n"
                                       f"    token_env: SCORECARD_MD_TOKEN\n    extension_repository: {repo}\n"
                                       f"    extension_directory: {tmp_path / 'ext'}\n"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(warehouse.WarehouseError) as exc, warehouse.connect(cfg.warehouse_path):
        pass
    assert "`motherduck` extension" in str(exc.value)
    assert TOKEN not in str(exc.value) and TOKEN not in repr(exc.value)
    assert exc.value.__suppress_context__ and TOKEN not in str(exc.value.__context__)  # no chained DuckDB text
    assert TOKEN not in caplog.text


def test_motherduck_without_its_token_says_which_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("MOTHERDUCK_TOKEN", raising=False)
    cfg = load_config(config(tmp_path, "  backend: motherduck\n  motherduck: {database: scorecard}\n"))
    with pytest.raises(warehouse.WarehouseError, match="environment variable MOTHERDUCK_TOKEN .* is not set"), \
            warehouse.read_only(cfg.warehouse_path):
        pass


def test_loading_a_duckdb_config_again_returns_the_path_to_the_file(tmp_path):
    lake = load_config(config(tmp_path, ducklake(tmp_path)))
    assert warehouse_backends.backend_for(lake.warehouse_path) is not None
    (tmp_path / "scorecard.yaml").unlink()
    plain = load_config(config(tmp_path, "  backend: duckdb\n"))
    assert plain.warehouse_path == lake.warehouse_path
    with warehouse.connect(plain.warehouse_path) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_the_attach_statement_is_duckLakes_documented_form_with_quotes_escaped():
    options = DuckLakeOptions(catalog="dbname=score'card host=pg", data_path="s3://bucket/it's/")
    assert warehouse_backends.attach_statement(options, "wh", read_only=True) == (
        "ATTACH 'ducklake:postgres:dbname=score''card host=pg' AS wh (DATA_PATH 's3://bucket/it''s/', READ_ONLY)")
    assert warehouse_backends.attach_statement(options, "scorecard_lake", read_only=False).endswith(
        "AS scorecard_lake (DATA_PATH 's3://bucket/it''s/')")
