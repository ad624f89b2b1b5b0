"""Generated fixes published with the snapshot: the Service page's downloads, and they still apply and pass."""

from __future__ import annotations

import subprocess

import duckdb

from checks.catalogue import CATALOGUE
from checks.model import Status, evaluate
from pipelines import readmodel
from pipelines.config import load_config
from pipelines.gate import checkout_evidence
from tests.gitrepo import git


def _published(served) -> list[tuple]:
    con = duckdb.connect(str(served), read_only=True)
    try:
        return con.execute("SELECT snapshot, service, check_id, files, patch FROM generated_fixes "
                           "ORDER BY service, check_id").fetchall()
    finally:
        con.close()


def test_a_published_patch_applies_to_the_repo_and_the_check_then_passes(scored_org, tmp_path):
    rows = _published(scored_org.serving)
    assert rows, "the small demo org has failing mechanical checks: the publish should carry their patches"
    config = load_config(scored_org.config)
    snapshot, service, check_id, _files, patch = next(r for r in rows if r[2] == "has_dependency_update_bot") \
        if any(r[2] == "has_dependency_update_bot" for r in rows) else rows[0]
    got = readmodel.service_fixes(str(scored_org.serving), snapshot, service)
    assert check_id in set(got["check_id"])
    # Apply it to a clone of the service's repository, as an owner would.
    root = config.resolve(config.sources.repos[0].root)
    repo = next(p for p in root.iterdir() if (p / ".git").exists() and
                any(e.service == service for e in checkout_evidence(p, config, snapshot)[3]))
    clone = tmp_path / repo.name
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    applied = subprocess.run(["git", "-C", str(clone), "apply", "-"], input=patch, text=True, capture_output=True,
                             check=False)
    assert applied.returncode == 0, applied.stderr
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", f"fix {check_id}")
    ev = next(e for e in checkout_evidence(clone, config, snapshot)[3] if e.service == service)
    assert evaluate(CATALOGUE[check_id], ev, config.check_context(snapshot)).status is Status.PASS


def test_every_published_patch_stays_inside_its_repository(scored_org):
    for _, _, _, files, patch in _published(scored_org.serving):
        for line in patch.splitlines():
            if line.startswith(("+++ b/", "--- a/")):
                path = line[6:]
                assert not path.startswith(("/", "../")) and "/../" not in path


def test_the_service_page_offers_the_patch_for_download(scored_org, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    rows = _published(scored_org.serving)
    service = rows[0][1]
    monkeypatch.setenv("SCORECARD_SNAPSHOT", str(scored_org.serving))
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(service=service)
    at.switch_page("views/service.py").run()
    assert not at.exception, [e.value for e in at.exception]
    offered = {b.key.removeprefix("fix-") for b in at.get("download_button") if b.key.startswith("fix-")}
    wanted = {r[2] for r in rows if r[1] == service}
    # One button per failing check shown in "What to fix next" that has a published patch.
    assert offered and offered <= wanted


def test_a_snapshot_published_before_fixes_reads_as_no_fixes(tmp_path):
    served = tmp_path / "old.duckdb"
    con = duckdb.connect(str(served))
    con.execute("CREATE TABLE runs (snapshot DATE)")
    con.close()
    assert readmodel.service_fixes(str(served), "2026-01-01", "x").empty


def test_a_broken_fix_step_never_fails_the_publish(tmp_path):
    from pipelines.fixes.publish import with_fixes

    derived = []
    con = duckdb.connect()  # no `runs` table: the fix step itself breaks
    with_fixes(load_config_defaults(tmp_path), derived.append, tmp_path / "warehouse.duckdb")(con)
    assert derived == [con]  # the programme's tables were still derived
    assert con.execute("SELECT count(*) FROM generated_fixes").fetchall() == [(0,)]


def load_config_defaults(base):
    from pipelines.gate import default_config

    return default_config(base)
