"""`scorecard ingest` updates events with new facts, and runs read only the window the metrics need."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import duckdb

from pipelines import delivery as dlv
from pipelines import stages
from pipelines.cli import main, run_job
from pipelines.config import load_config
from pipelines.facts import Commit
from pipelines.sources.events import DeploymentEvent, IncidentEvent

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def iso(t: dt.datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def write_lines(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def rows(cfg: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(load_config(cfg).warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_an_incident_sent_again_once_resolved_is_updated_and_the_same_again_is_a_no_op(tmp_path, capsys):
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources: {repos: []}\n")
    opened = NOW - dt.timedelta(hours=5)
    open_ = write_lines(tmp_path / "open.jsonl", [{"service": "api", "opened_at": iso(opened)}])
    resolved = write_lines(tmp_path / "resolved.jsonl", [
        {"service": "api", "opened_at": iso(opened), "resolved_at": iso(opened + dt.timedelta(hours=2)),
         "root_cause_sha": "abc1234"}])

    code, out, _ = run_cli(capsys, "ingest", "incidents", str(open_), "--config", str(cfg))
    assert code == 0 and "Ingested 1 incidents, updated 0" in out
    code, out, _ = run_cli(capsys, "ingest", "incidents", str(resolved), "--config", str(cfg))
    assert code == 0 and "Ingested 0 incidents, updated 1 (0 already known" in out
    code, out, _ = run_cli(capsys, "ingest", "incidents", str(resolved), "--config", str(cfg))
    assert code == 0 and "Ingested 0 incidents, updated 0 (1 already known" in out

    stored = rows(cfg, "SELECT resolved_at, root_cause_sha FROM incident_events")
    assert len(stored) == 1 and stored[0][0] == opened + dt.timedelta(hours=2) and stored[0][1] == "abc1234"
    # What the next run reads: the resolved incident (time to restore 2 h), not the open one.
    events = stages.load_events(load_config(cfg), warehouse_path=load_config(cfg).warehouse_path, as_of=NOW.date())
    assert [(i.service, i.resolved_at - i.opened_at) for i in events.incidents] == [("api", dt.timedelta(hours=2))]


def test_a_deploy_sent_again_with_a_new_status_is_updated_and_the_last_line_of_a_file_wins(tmp_path, capsys):
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources: {repos: []}\n")
    deploy = {"service": "api", "environment": "production", "sha": "abc1234", "deployed_at": iso(NOW)}
    first = write_lines(tmp_path / "a.jsonl", [{**deploy, "status": "in_progress"}, {**deploy, "status": "success"}])
    code, out, _ = run_cli(capsys, "ingest", "deployments", str(first), "--config", str(cfg))
    assert code == 0 and "Ingested 1 deployments" in out
    assert rows(cfg, "SELECT status FROM deployment_events") == [("success",)]
    failed = write_lines(tmp_path / "b.jsonl", [{**deploy, "status": "failure"}])
    code, out, _ = run_cli(capsys, "ingest", "deployments", str(failed), "--config", str(cfg))
    assert "updated 1" in out
    assert rows(cfg, "SELECT status FROM deployment_events") == [("failure",)]


def _history(days: int, rng: random.Random) -> list[Commit]:
    start = NOW - dt.timedelta(days=days)
    commits, parent = [], []
    for i in range(days * 3):
        t = start + dt.timedelta(hours=8 * i + rng.randint(0, 4))
        sha = f"{i:040x}"
        commits.append(Commit(sha, t, t, ["app.py"], parent))
        parent = [sha]
    return list(reversed(commits))


def test_metrics_from_the_window_equal_metrics_from_every_event(tmp_path):
    """Reading only the window (plus each service's last deploy before it) changes no metric."""
    rng = random.Random(7)
    history = _history(400, rng)
    by_time = sorted(history, key=lambda c: c.committer_time)
    deploys, incidents = [], []
    for service in ("api", "web", "quiet"):
        # "quiet" last deployed 200 days ago: its metrics must stay exactly as they were.
        horizon = 200 if service == "quiet" else 0
        for c in by_time:
            if rng.random() < 0.3 and c.committer_time < NOW - dt.timedelta(days=horizon):
                env = rng.choice(["production", "production", "staging"])
                status = rng.choice(["success"] * 5 + ["failure"])
                deploys.append(DeploymentEvent(service=service, environment=env, sha=c.sha, status=status,
                                               deployed_at=c.committer_time + dt.timedelta(hours=rng.randint(1, 60))))
        for _ in range(40):
            opened = NOW - dt.timedelta(days=rng.uniform(0, 400))
            incidents.append(IncidentEvent(service=service, opened_at=opened,
                                           resolved_at=opened + dt.timedelta(hours=rng.uniform(0.5, 50))))
    production = frozenset({"production"})
    as_of = NOW.date()

    def metrics(deploy_events, incident_events):
        ds = dlv.production_deploys({"api": "r", "web": "r", "quiet": "r"}, deploy_events, {}, None, production,
                                    dlv.window_end(as_of))
        changes = [(s, sha, c, d.deployed_at) for s in ("api", "web", "quiet")
                   for sha, c, d in dlv.attribute_changes(history, [d for d in ds if d.service == s], "")]
        df = dlv.compute_metrics(ds, changes, incident_events, as_of)
        return df.astype(object).where(df.notna(), None).to_dict("records")  # NaN != NaN; None == None

    everything = metrics(deploys, incidents)

    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources: {repos: [], delivery: {production_environments: [production]}}\n")
    config = load_config(cfg)
    from pipelines.ingest import ingest

    write_lines(tmp_path / "d.jsonl", [json.loads(d.model_dump_json()) for d in deploys])
    write_lines(tmp_path / "i.jsonl", [json.loads(i.model_dump_json()) for i in incidents])
    ingest(config, "deployments", tmp_path / "d.jsonl")
    ingest(config, "incidents", tmp_path / "i.jsonl")
    window = stages.load_events(config, warehouse_path=config.warehouse_path, as_of=as_of)
    assert len(window.deployments) < len(deploys) / 3  # most of 400 days is outside the metrics' 90
    assert metrics(window.deployments, window.incidents) == everything
    assert any(r["service"] == "quiet" for r in everything)
    assert all(r["lead_time_p50_hours"] is not None and r["change_failure_rate"] is not None
               for r in everything if r["service"] != "quiet")

    # The same from a configured file instead of the warehouse.
    cfg.write_text("sources: {repos: [], delivery: {production_environments: [production], "
                   "deployments: [d.jsonl], incidents: [i.jsonl]}}\nwarehouse: {path: other/wh.duckdb}\n")
    from_files = stages.load_events(load_config(cfg), as_of=as_of)
    assert metrics(from_files.deployments, from_files.incidents) == everything


def test_raw_events_past_the_retention_are_pruned_after_a_run_but_each_last_deploy_stays(private_org, capsys):
    org = private_org
    old = NOW - dt.timedelta(days=500)
    lines = [{"service": "payments-api", "environment": "production", "sha": f"{i:07x}a",
              "deployed_at": iso(old + dt.timedelta(hours=i))} for i in range(5)]
    lines.append({"service": "ghost-service", "environment": "production", "sha": "abcdef1", "deployed_at": iso(old)})
    lines.append({"service": "payments-api", "environment": "production", "sha": "abcdef2",
                  "deployed_at": iso(NOW - dt.timedelta(days=1))})
    path = write_lines(org.root / "old.jsonl", lines)
    assert run_cli(capsys, "ingest", "deployments", str(path), "--config", str(org.config))[0] == 0
    incidents = write_lines(org.root / "inc.jsonl", [{"service": "payments-api", "opened_at": iso(old)}])
    assert run_cli(capsys, "ingest", "incidents", str(incidents), "--config", str(org.config))[0] == 0
    assert run_job(org.config).success
    kept = rows(org.config, "SELECT service, sha FROM deployment_events ORDER BY deployed_at")
    # payments-api keeps only its recent deploy; ghost-service keeps its last (and only) one.
    assert kept == [("ghost-service", "abcdef1"), ("payments-api", "abcdef2")]
    assert rows(org.config, "SELECT count(*) FROM incident_events") == [(0,)]
