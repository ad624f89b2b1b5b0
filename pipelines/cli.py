"""`scorecard`: the command line. Each command is wiring around the library.

Each command imports its own machinery inside its function: Dagster, pandas
and the config models cost seconds of start-up, which `scorecard --help`,
`scorecard checks` and the CI gate (`scorecard gate`) must not pay for the
commands they do not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import gate_cli, secrets
from pipelines.runs import (  # noqa: F401  (tests and the demo call them as pipelines.cli.*)
    MAX_DAYS_PER_RUN,
    TerminalProgress,
    _failure_summary,
    _instance,
    _settle_failed_run,
    _waiting,
    backfill,
    backfill_dates,
    publish_snapshot,
    run_job,
    run_snapshots,
)

if TYPE_CHECKING:
    from pipelines.config import ScorecardConfig

DEFAULT_CONFIG = "scorecard.yaml"
DEMO_DIR = Path("data/demo")


def _err(msg: str) -> int:
    print(f"scorecard: {msg}", file=sys.stderr)
    return 2


def _config(args) -> ScorecardConfig:
    from pipelines.config import load_config

    return load_config(Path(args.config))


def cmd_run(args) -> int:
    from pipelines import history, runlock
    from pipelines.resources import parse_as_of

    config = _config(args)
    as_of = history.check_in_history(parse_as_of(args.as_of), "--as-of") if args.as_of else None
    started = time.monotonic()
    with runlock.run_lock(config.warehouse_path, f"scorecard run --config {args.config}", args.wait, _waiting):
        result = run_job(Path(args.config), as_of, progress=TerminalProgress())
        if not result.success:
            summary = _failure_summary(result)
            _settle_failed_run(config, result.run_id, summary)
            return _err(f"{summary}\nThe published snapshot ({config.serving_path}) is unchanged; "
                        "`scorecard snapshots list` shows every run and why it was not published.")
    print(f"Published snapshot {(as_of or dt.datetime.now(dt.UTC).date()).isoformat()} to {config.serving_path} "
          f"in {time.monotonic() - started:.1f} s")
    print(summary_table(config))
    for warning in run_warnings(config):
        print(f"warning: {warning}", file=sys.stderr)
    if (why := no_services_reason(config)) is not None:
        print(why, file=sys.stderr)
    return 0


def run_warnings(config: ScorecardConfig) -> list[str]:
    """Configuration that had no effect in the latest snapshot (waivers naming no service)."""
    from pipelines import warehouse
    from pipelines.explain import terminal_safe

    if not config.serving_path.exists():
        return []
    with warehouse.read_only(config.serving_path) as con:
        rows = con.execute(
            """SELECT reason FROM problems WHERE source = 'config'
               AND snapshot = (SELECT max(snapshot) FROM runs WHERE status = 'complete') ORDER BY target"""
        ).fetchall()
    return [terminal_safe(r[0]) for r in rows]


def no_services_reason(config: ScorecardConfig) -> str | None:
    """Why the latest snapshot scored no service at all, or None when it scored some."""
    from pipelines import warehouse

    if not config.serving_path.exists():
        return None
    with warehouse.read_only(config.serving_path) as con:
        snap = con.execute("SELECT max(snapshot) FROM runs WHERE status = 'complete'").fetchone()[0]
        if con.execute("SELECT count(*) FROM services WHERE snapshot = ?", [snap]).fetchone()[0]:
            return None
        failed = con.execute(
            "SELECT source, target, reason FROM source_status WHERE snapshot = ? AND status <> 'ok' ORDER BY ALL",
            [snap]).fetchall()
        repos = con.execute(
            "SELECT count(*) FROM source_status WHERE snapshot = ? AND source NOT IN ('cluster', 'deployments', 'incidents')",
            [snap]).fetchone()[0]
    from pipelines.explain import terminal_safe

    lines = ["No services were found, so nothing was scored."]
    lines += [terminal_safe(f"  {source} {target}: {reason}") for source, target, reason in failed[:10]]
    if not failed:
        roots = [str(config.resolve(r.root)) for r in config.sources.repos]
        where = ", ".join(roots) or "no `sources.repos` or `sources.github` configured"
        lines.append(f"  {repos} repositories were crawled ({where}); each sub-directory of a root must be a git "
                     "repository (a clone or a bare mirror) with at least one commit.")
    return "\n".join(lines)


_DURATION = re.compile(r"^(\d+)([dw])$")


def _days(text: str) -> int:
    m = _DURATION.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"expected a duration like 90d or 12w, got {text!r}")
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


def _step_days(text: str) -> int:
    days = _days(text)
    if days < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1d (one snapshot a day at most), got {text!r}")
    return days


def cmd_backfill(args) -> int:
    _config(args)  # fail fast on a bad config, before the first snapshot
    results = backfill(Path(args.config), args.since, args.every, wait_seconds=args.wait)
    ok = sum(1 for _, success in results if success)
    print(f"Backfilled {ok}/{len(results)} snapshots")
    return 0 if ok == len(results) else 1


def summary_table(config: ScorecardConfig, scorecard: str = "default") -> str:
    """Services per level per team, for the latest published snapshot."""
    from pipelines import warehouse

    if not config.serving_path.exists():
        return "(no snapshot published)"
    from pipelines.explain import terminal_safe

    from pipelines import readmodel

    with warehouse.read_only(config.serving_path):  # waits out a publish's brief lock
        pass
    path = str(config.serving_path)
    snap = readmodel.latest_snapshot(path)
    levels, count_frame, mean_frame = readmodel.summary_counts(path, snap, scorecard)
    counts = list(count_frame.itertuples(index=False, name=None))
    means = dict(mean_frame.itertuples(index=False, name=None))
    # Team and level names may come from repositories (CODEOWNERS, catalog owners): no escapes reach the terminal.
    levels = [terminal_safe(lv, one_line=True) for lv in levels]
    means = {terminal_safe(t, one_line=True): m for t, m in means.items()}
    teams: dict[str, dict[str, int]] = {}
    for team, level, n in counts:
        teams.setdefault(terminal_safe(team, one_line=True), {})[terminal_safe(level, one_line=True)] = n
    header = ["team", *levels, "services", "mean score"]
    body = [
        [team, *[str(teams[team].get(lv, 0)) for lv in levels], str(sum(teams[team].values())),
         f"{means.get(team) or 0:.1f} %"]
        for team in sorted(teams)
    ]
    totals = ["all teams", *[str(sum(t.get(lv, 0) for t in teams.values())) for lv in levels],
              str(sum(sum(t.values()) for t in teams.values())), ""]
    widths = [max(len(r[i]) for r in [header, *body, totals]) for i in range(len(header))]

    def fmt(r):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([f"Snapshot {snap} · scorecard {scorecard}", fmt(header), rule, *map(fmt, body), rule, fmt(totals)])


def cmd_explain(args) -> int:
    from pipelines.explain import ExplainError, explain, render_text

    config = _config(args)
    try:
        report = explain(config.serving_path, args.service, args.scorecard, args.snapshot)
    except ExplainError as exc:
        return _err(str(exc))
    if args.format == "json":
        print(json.dumps(report, indent=2, default=str))
    else:
        print(render_text(report))
    return 0


def cmd_export(args) -> int:
    from pipelines.portal_export import export_entities

    config = _config(args)
    served = config.serving_path
    if not served.exists():
        return _err(f"no published snapshot at {served}: run `scorecard run` first")
    try:
        day = dt.date.fromisoformat(args.snapshot) if args.snapshot else None
    except ValueError:
        return _err(f"--snapshot: expected YYYY-MM-DD, got {args.snapshot!r}")
    count = export_entities(served, Path(args.out), day)
    print(f"wrote {count} entity documents and index.json to {args.out}")
    return 0


def cmd_checks(args) -> int:
    from checks.catalogue import all_checks, catalogue_markdown

    if args.format == "markdown":
        print(catalogue_markdown())
    elif args.format == "json":
        print(json.dumps(
            [{"id": c.id, "title": c.title, "category": c.category, "level": c.level, "weight": c.weight,
              "rationale": c.rationale, "remediation": c.remediation, "doc": c.doc} for c in all_checks()],
            indent=2))
    else:
        current = None
        for c in all_checks():
            if c.category != current:
                current = c.category
                print(f"\n{current}")
            print(f"  {c.id:<36} {c.level:<7} w{c.weight}  {c.title}")
    return 0


def cmd_ingest(args) -> int:
    from pipelines.explain import terminal_safe
    from pipelines.ingest import ingest

    config = _config(args)
    report = ingest(config, args.kind, Path(args.file))
    if report.refused:
        return _err(terminal_safe(report.refused))
    for problem in report.problems[:20]:
        print(f"  rejected: {terminal_safe(problem)}", file=sys.stderr)
    if len(report.problems) > 20:
        print(f"  ... and {len(report.problems) - 20} more", file=sys.stderr)
    print(f"Ingested {report.added} {args.kind}, updated {report.updated} ({report.duplicates} already known, "
          f"{len(report.problems)} rejected) into {config.warehouse_path}")
    return 0 if report.added or report.updated or not report.problems else 1


def cmd_snapshots(args) -> int:
    from pipelines import publishing, runlock, warehouse
    from pipelines.explain import terminal_safe
    from pipelines.resources import parse_as_of

    config = _config(args)
    path = config.warehouse_path
    if not path.exists():
        return _err(f"no warehouse at {path} yet: run `scorecard run` first")
    if args.action == "list":
        with warehouse.read_only(path, doing="listing snapshots") as con:
            runs = warehouse.list_runs(con)
        if args.format == "json":
            print(json.dumps(runs, indent=2, default=str))
            return 0
        if not runs:
            print(f"No runs recorded in {path}.")
            return 0
        print(f"{'snapshot':<10}  {'status':<10}  {'kind':<8}  {'finished (UTC)':<16}  {'services':>8}  reason")
        for r in runs:
            finished = f"{r['finished_at']:%Y-%m-%d %H:%M}" if r["finished_at"] else "-"
            print(f"{r['snapshot']!s:<10}  {r['status']:<10}  {r['kind'] or '':<8}  {finished:<16}  "
                  f"{r['services'] if r['services'] is not None else '-':>8}  {terminal_safe(r['message'] or '', one_line=True)}")
        from pipelines import retention

        thinned = sum(1 for r in runs if r["status"] == "deleted" and (r["message"] or "").startswith("retention:"))
        print(f"Retention (warehouse.retention): {retention.describe(config.warehouse.retention)}; "
              f"{thinned} runs' snapshots removed by it so far")
        return 0
    day = parse_as_of(args.snapshot, today=dt.date.max, name="snapshot")
    with runlock.run_lock(path, "scorecard snapshots delete", args.wait, _waiting):
        with warehouse.connect(path, doing="deleting a snapshot") as con, \
                warehouse.transaction(con, path, "deleting a snapshot"):
            found = warehouse.delete_snapshot(con, day, f"deleted by an operator at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
        if not found:
            return _err(f"no complete snapshot {day} in {path}; `scorecard snapshots list` shows what there is")
        published = publishing.publish(config, path)
    for warning in published.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Deleted snapshot {day} and republished {config.serving_path}")
    return 0


def cmd_demo(args) -> int:
    from pipelines.config import load_config
    from pipelines.demo.generate import generate_demo

    data = Path(args.data_dir)
    demo = data / "demo"
    config_path = demo / "scorecard.yaml"
    if not config_path.exists() or args.regenerate:
        print(f"Generating the demo organisation in {demo} ...", file=sys.stderr)
        progress = TerminalProgress()
        generate_demo(demo, end=dt.datetime.now(dt.UTC).date(),
                      progress=lambda msg: progress("generate demo", *_ratio(msg)))
    config = load_config(config_path)
    print("Scoring today's snapshot ...", file=sys.stderr)
    result = run_job(config_path, progress=TerminalProgress())
    if not result.success:
        return _err(_failure_summary(result))
    print(f"Backfilling {args.weeks} weekly snapshots ...", file=sys.stderr)
    # The demo's older weeks are scored under earlier rules: its history shows one rule change.
    from pipelines.demo.rule_change import backfill_with_rule_change

    results = backfill_with_rule_change(config_path, args.weeks, backfill)
    failed = [d for d, ok in results if not ok]
    if failed:
        print(f"scorecard: {len(failed)} backfill snapshots failed: {', '.join(map(str, failed))}", file=sys.stderr)
    print(summary_table(config))
    print(f"\nPublished snapshot: {config.serving_path}")
    print(f"Try: .venv/bin/scorecard explain payments-api --config {config_path}")
    if args.no_serve:
        return 1 if failed else 0
    return serve(config.serving_path, args.port)


def _ratio(message: str) -> tuple[int, int]:
    m = re.search(r"(\d+)\s*/\s*(\d+)", message)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def cmd_serve(args) -> int:
    if args.snapshot:
        snapshot = Path(args.snapshot)
        where = "--snapshot"
    else:
        snapshot = _config(args).serving_path
        where = f"the serving path of {args.config}"
    if not snapshot.is_file():
        return _err(f"no published snapshot at {snapshot} ({where}): run `scorecard run` first, "
                    "or pass --snapshot PATH")
    return serve(snapshot, args.port, args.address)


def serve(snapshot: Path, port: int, address: str = "127.0.0.1") -> int:
    """Run the dashboard on ``snapshot`` until stopped, behind SSO when SCORECARD_OIDC_* are set."""
    import contextlib

    import dashboard
    from pipelines import sso

    try:
        settings = sso.oidc_settings(os.environ)
    except sso.SsoConfigError as exc:
        return _err(str(exc))
    if settings is not None:  # any log line of ours that met them would show *** instead
        secrets.register(settings.client_secret)
        secrets.register(settings.cookie_secret)
    app = Path(dashboard.__file__).parent / "app.py"
    env = {**sso.child_environment(os.environ), "SCORECARD_SNAPSHOT": str(snapshot.resolve())}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
           "--server.address", address, "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    with contextlib.ExitStack() as stack:
        if settings is not None:
            # Only the file's path goes on the command line; its content stays in the file.
            cmd += ["--secrets.files", str(stack.enter_context(sso.secrets_file(settings)))]
        login = f"sign-in through {settings.issuer}" if settings else "no sign-in"
        print(f"\nDashboard: http://{address}:{port}  ({login}; Ctrl+C to stop)", flush=True)
        return _run_until_stopped(cmd, env)


def _run_until_stopped(cmd: list[str], env: dict[str, str]) -> int:
    proc = subprocess.Popen(cmd, env=env)
    # SIGTERM (Kubernetes, a test, `kill`) is passed on, so the child stops and
    # the caller's clean-up (the secrets file) runs instead of dying with us.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signum))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scorecard", description="Platform scorecard and golden-path adoption analytics.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p):
        p.add_argument("--config", default=os.environ.get("SCORECARD_CONFIG", DEFAULT_CONFIG),
                       help="scorecard.yaml to use (default: $SCORECARD_CONFIG or ./scorecard.yaml)")
        return p

    def with_wait(p):
        p.add_argument("--wait", type=_seconds, default=600.0,
                       help="seconds to wait for another run on the same warehouse to finish (default 600; 0: refuse at once)")
        return p

    p = with_wait(with_config(sub.add_parser("run", help="crawl, check, score and publish one snapshot")))
    p.add_argument("--as-of", help="snapshot date YYYY-MM-DD, not after today (default: today); "
                                   "past dates read git history as of then")
    p.set_defaults(fn=cmd_run)

    p = with_wait(with_config(sub.add_parser("backfill", help="compute past snapshots from git history")))
    p.add_argument("--since", type=_days, default=_days("90d"), help="how far back, e.g. 90d or 12w (default 90d)")
    p.add_argument("--every", type=_step_days, default=_days("7d"), help="spacing between snapshots, at least 1d (default 7d)")
    p.set_defaults(fn=cmd_backfill)

    p = sub.add_parser("snapshots", help="list runs and snapshots, or delete a snapshot (operators)")
    snap_sub = p.add_subparsers(dest="action", required=True)
    listing = with_config(snap_sub.add_parser(
        "list", help="every run: snapshot date, status (complete, rejected, failed, ...) and why"))
    listing.add_argument("--format", choices=["text", "json"], default="text")
    delete = with_wait(with_config(snap_sub.add_parser(
        "delete", help="remove a snapshot from history and republish the served file")))
    delete.add_argument("snapshot", help="snapshot date YYYY-MM-DD")
    p.set_defaults(fn=cmd_snapshots)

    p = with_config(sub.add_parser("explain", help="why a service has its level, and what to fix first"))
    p.add_argument("service")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--scorecard", default="default")
    p.add_argument("--snapshot", help="snapshot date (default: the latest)")
    p.set_defaults(fn=cmd_explain)

    p = sub.add_parser("export", help="write results for a developer portal (one JSON document per service)")
    export_sub = p.add_subparsers(dest="what", required=True)
    entities = with_config(export_sub.add_parser(
        "entities", help="per-entity scorecard documents and an index, for a Backstage card or Tech Insights"))
    entities.add_argument("--out", required=True, help="directory to write (replaced as a whole)")
    entities.add_argument("--snapshot", help="snapshot date YYYY-MM-DD (default: the latest)")
    entities.set_defaults(fn=cmd_export)

    p = sub.add_parser("checks", help="list the check catalogue")
    p.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    p.set_defaults(fn=cmd_checks)

    p = with_config(sub.add_parser("ingest", help="append validated deploy or incident events (JSON lines)"))
    p.add_argument("kind", choices=["deployments", "incidents"])
    p.add_argument("file")
    p.set_defaults(fn=cmd_ingest)

    gate_cli.add_parser(sub)
    # `preview`: its arguments only; the preview itself is imported when it runs.
    from pipelines import preview_cli

    preview_cli.register(sub, with_config)
    from pipelines import fix_cli  # `fix`: generators imported only when it runs

    fix_cli.register(sub, with_config)
    from pipelines import cluster_cli  # `cluster`: the lifecycle imported only when it runs

    cluster_cli.register(sub)

    p = sub.add_parser("demo", help="generate the demo organisation, score it with history, serve the dashboard")
    p.add_argument("--no-serve", action="store_true", help="stop after publishing (do not start the dashboard)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--weeks", type=int, default=12, help="weekly snapshots to backfill (default 12)")
    p.add_argument("--data-dir", default="data")
    p.add_argument("--regenerate", action="store_true", help="regenerate the demo organisation even if present")
    p.set_defaults(fn=cmd_demo)

    p = with_config(sub.add_parser(
        "serve", help="serve the dashboard on a published snapshot (behind SSO when SCORECARD_OIDC_* are set)"))
    p.add_argument("--snapshot", help="the published serving file (default: the serving path of --config)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=_port, default=8501, help="port to listen on (default 8501)")
    p.set_defaults(fn=cmd_serve)

    # The adoption programme (pipelines/programme_cli.py, imported only when one of these runs).
    p = with_config(sub.add_parser("initiatives", help="initiatives' progress, deadlines and what is left"))
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--snapshot", help="snapshot date (default: the latest)")
    p = with_config(sub.add_parser("waivers", help="the configured waivers, soonest to expire first"))
    p.add_argument("--expiring", type=_days, help="only those ending within this long, e.g. 30d (expired ones too)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p = with_config(sub.add_parser("waive", help="add a waiver to the config file (comments kept) for review"))
    p.add_argument("service")
    p.add_argument("check")
    p.add_argument("--reason", required=True)
    p.add_argument("--until", required=True, help="last day the waiver holds, YYYY-MM-DD")
    p.add_argument("--approver", help="who approved it")
    for name in ("initiatives", "waivers", "waive"):
        sub.choices[name].set_defaults(fn=_programme)

    # light modules: their heavy imports wait until `scorecard roi` / an export runs
    from pipelines import roi_cli
    from pipelines.exports.cli import add_commands as add_export_commands

    roi_cli.add_parser(sub, with_config)
    add_export_commands(sub, with_config)
    from pipelines import notify_cli  # arguments only; the notifier is imported when it runs

    notify_cli.register(sub, with_config)
    return parser


def _programme(args) -> int:
    from pipelines import programme_cli

    try:
        return programme_cli.run(args)
    except programme_cli.ProgrammeError as exc:
        return _err(str(exc))


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 1-65535, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


# Errors that are the operator's to fix (exit 2 with the message, no traceback), by module.
_USER_ERRORS = {
    "pipelines.config": "ConfigError",
    "pipelines.resources": "AsOfError",
    "pipelines.history": "HistoryRangeError",
    "pipelines.warehouse": "WarehouseError",
    "pipelines.gate": "GateError",
    "pipelines.exports.atomic": "ExportError",
    "pipelines.cluster": "ClusterError",
}


def _user_error_types() -> tuple[type[BaseException], ...]:
    # Only modules the command imported: an exception cannot be of a class never
    # loaded, and importing them here would cost every command Dagster's start-up.
    return tuple(getattr(sys.modules[m], name) for m, name in _USER_ERRORS.items() if m in sys.modules)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    secrets.install_log_redaction()
    try:
        return args.fn(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if isinstance(exc, _user_error_types()):
            return _err(str(exc))
        raise


if __name__ == "__main__":
    sys.exit(main())
