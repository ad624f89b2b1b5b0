"""No secret the run holds reaches a table, a log line, the Dagster event log or the dashboard,
even when a server echoes the request's Authorization header back in its error body.

The attack as a user meets it: a proxy or a GitHub Enterprise error page that
prints the request headers. Each test runs the real job in-process against
the loopback fake and then reads every place a person could see text.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import threading
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest

from pipelines import secrets
from pipelines.cli import main, run_job
from tests.sources.github_support import TOKEN
from tests.sources.test_github_outages import build_org, write_config

BASIC = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()


@pytest.fixture(autouse=True)
def _ephemeral_dagster(monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def every_text_in(path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        texts = []
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            texts += [repr(row) for row in con.execute(f'SELECT * FROM "{table}"').fetchall()]
        return texts
    finally:
        con.close()


def assert_no_secret(texts: list[str]) -> None:
    assert texts
    for text in texts:
        assert TOKEN not in text and BASIC not in text, text[:300]


@pytest.mark.parametrize("fault,where,stored", [
    # the organisation cannot be listed: the server's message is its stored reason
    ("echo-401", r"#OrgRepositories", "Authorization: token ***"),
    # a REST error page (HTML) during the crawl of one repository
    ("echo-500", r"/branches/", "HTTP 500"),
])
def test_an_echoing_server_never_puts_the_token_anywhere(github, tmp_path, fault, where, stored, caplog, capfd):
    build_org(github, tmp_path)
    config = write_config(github, tmp_path, local=True)
    assert main(["run", "--config", config]) == 0  # a good run first: the outage run keeps its services
    github.inject(fault, where, times=-1)
    caplog.set_level(logging.DEBUG)  # PyGithub and urllib3 log every request at DEBUG
    result = run_job(tmp_path / "scorecard.yaml")
    assert result.success
    # The echo really happened and really reached the pipeline ...
    assert any(h.status in (401, 500) for h in github.hits)
    texts = every_text_in(tmp_path / "serving" / "scorecard.duckdb") + every_text_in(tmp_path / "warehouse" / "scorecard.duckdb")
    assert any(stored in t for t in texts), f"expected {stored!r} in the published reasons"
    # ... and the token is nowhere: tables, logs, terminal, Dagster's event log.
    out, err = capfd.readouterr()
    events = [str(e.message) for e in result.all_events] + [repr(e.event_specific_data) for e in result.all_events]
    assert_no_secret(texts + [caplog.text, out, err] + events)
    # ... nor the evidence kept for `scorecard preview` (pickled next to the warehouse).
    kept = [p.read_bytes() for p in (tmp_path / "warehouse" / "evidence").glob("*.pickle")]
    assert kept and not any(TOKEN.encode() in b or BASIC.encode() in b for b in kept)


def test_the_dashboards_freshness_panel_shows_the_reason_masked(github, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    build_org(github, tmp_path)
    config = write_config(github, tmp_path)
    assert main(["run", "--config", config]) == 0
    github.inject("echo-401", r"#OrgRepositories", times=-1)
    assert main(["run", "--config", config]) == 0
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(tmp_path / "serving" / "scorecard.duckdb"))
    import streamlit as st

    st.cache_data.clear()
    app = AppTest.from_file(str(APP), default_timeout=60).switch_page("views/adoption.py").run()
    assert not app.exception
    shown = [w.value for w in app.warning] + [m.value for m in app.markdown] + [c.value for c in app.caption]
    # Repository and source text reaches Markdown escaped (dashboard/ui.py `plain`): read it as a viewer sees it.
    shown = [re.sub(r"\\(.)", r"\1", s).replace("\u2060", "") for s in shown]
    assert any("Authorization: token ***" in s for s in shown)  # the reason is there, readable ...
    assert_no_secret(shown)  # ... without the token


@pytest.mark.parametrize("form", ["token", "x-access-token", "url"])
def test_redaction_covers_every_form_a_token_travels_in(form):
    secret = "glpat-Redaction+Test/Value=42"
    secrets.register(secret)
    sent = {
        "token": f"Authorization: token {secret}",
        "x-access-token": "Authorization: Basic " + base64.b64encode(f"x-access-token:{secret}".encode()).decode(),
        "url": "https://example.com/?access_token=" + quote(secret, safe=""),
    }[form]
    cleaned = secrets.redact(sent)
    assert secret not in cleaned and "***" in cleaned
    assert base64.b64encode(f"x-access-token:{secret}".encode()).decode() not in cleaned


def test_a_log_line_is_redacted_before_any_handler_sees_it(caplog):
    secret = "s3cr3t-kubeconfig-token-value"
    secrets.register(secret)
    secrets.install_log_redaction()
    caplog.set_level(logging.INFO)
    logging.getLogger("some.library").info("request failed: %s", f"Bearer {secret}")
    try:
        raise RuntimeError(f"token {secret} rejected")
    except RuntimeError:
        logging.getLogger("some.library").exception("crawl failed")
    assert secret not in caplog.text and "Bearer ***" in caplog.text
    assert "token *** rejected" in caplog.text


def test_the_token_reaches_the_crawl_through_the_dagster_resource_and_only_its_name_is_shown(
    github, tmp_path, monkeypatch, caplog
):
    """GITHUB_TOKEN is bound with dg.EnvVar (source_credentials): the crawl gets its value, while the
    code location the UI shows, the run's config and its event log hold only the variable's name."""
    import dagster as dg
    import yaml
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster_shared.serdes import serialize_value

    from pipelines.definitions import CRAWL_AND_SCORE_JOB, build_definitions
    from tests.sources.github_support import TOKEN_ENV

    build_org(github, tmp_path)
    config = tmp_path / "scorecard.yaml"
    settings = yaml.safe_load(Path(write_config(github, tmp_path)).read_text())
    del settings["sources"]["github"][0]["token_env"]  # the default: GITHUB_TOKEN
    config.write_text(yaml.safe_dump(settings))
    monkeypatch.delenv(TOKEN_ENV)  # the resource is the only way in
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)

    defs = build_definitions()
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def(CRAWL_AND_SCORE_JOB).execute_in_process(
        run_config={"resources": {"settings": {"config": {"config_path": str(config)}}}},
        instance=instance, partition_key=dt.datetime.now(dt.UTC).date().isoformat(),
    )
    assert result.success
    assert any(h.authorization == "token" for h in github.api_hits()), "the crawl sent no token"
    services = {s for (s,) in duckdb.connect(str(tmp_path / "serving" / "scorecard.duckdb"), read_only=True)
                .execute("SELECT service FROM services").fetchall()}
    assert services == {"checkout-api", "ledger", "notifier", "payments"}

    shown = serialize_value(RepositorySnap.from_def(defs.get_repository_def()))
    assert '"GITHUB_TOKEN"' in shown  # the UI names the variable ...
    run = instance.get_run_by_id(result.run_id)
    logs = [serialize_value(record) for record in instance.all_logs(result.run_id)]
    assert_no_secret([shown, serialize_value(run.run_config), serialize_value(run.tags), caplog.text] + logs)  # ... never its value


def test_a_local_only_run_needs_no_github_token(small_org_files, tmp_path, monkeypatch):
    import shutil

    root, _ = small_org_files
    shutil.copytree(root / "demo", tmp_path / "demo", symlinks=True)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert run_job(tmp_path / "demo" / "scorecard.yaml").success


def test_a_log_record_made_while_the_pattern_compiles_does_not_hang(monkeypatch):
    # What a garbage-collection finaliser that logs does in the middle of re.compile:
    # the record factory asks the registry for its pattern again, on the same thread.
    registry = secrets.SecretRegistry()
    registry.add("s3cr3t-reentrant-value")
    compile_, reentered = re.compile, []

    def compile_and_reenter(*args, **kwargs):
        if not reentered:
            reentered.append(True)
            registry.pattern()
        return compile_(*args, **kwargs)

    monkeypatch.setattr(re, "compile", compile_and_reenter)
    worker = threading.Thread(target=registry.pattern, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "SecretRegistry.pattern() deadlocked on its own lock"
    assert reentered and registry.redact("x s3cr3t-reentrant-value") == "x ***"
