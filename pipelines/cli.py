"""`scorecard`: the command line. Each command is wiring around the library."""

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

from pipelines import secrets
from pipelines.config import ConfigError, ScorecardConfig, load_config

DEFAULT_CONFIG = "scorecard.yaml"
DEMO_DIR = Path("data/demo")


class TerminalProgress:
    """One updating line per stage on stderr (plain lines when not a terminal)."""

    def __init__(self, stream=None, prefix: str = "") -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.prefix = prefix
        self._last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        final = done >= total
        if not final and now - self._last.get(stage, 0.0) < (0.1 if self.tty else 2.0):
            return
        self._last[stage] = now
        pct = f"{100 * done / total:5.1f} %" if total else ""
        text = f"{self.prefix}{stage}: {done}/{total} {pct}"
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        elif final:
            self.stream.write(text + "\n")
        self.stream.flush()


def _err(msg: str) -> int:
    print(f"scorecard: {msg}", file=sys.stderr)
    return 2


def _config(args) -> ScorecardConfig:
    return load_config(Path(args.config))


def _instance():
    import dagster as dg

    # With DAGSTER_HOME set, CLI runs are recorded where `dagster dev` shows them.
    home = os.environ.get("DAGSTER_HOME")
    if home and Path(home).is_dir():
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_job(config_path: Path, as_of: dt.date | None = None, kind: str = "run", progress=None, instance=None):
    """Run the crawl-and-score job in-process; returns the Dagster result."""
    from pipelines.definitions import CRAWL_AND_SCORE_JOB, build_definitions

    defs = build_definitions(progress)
    job = defs.resolve_job_def(CRAWL_AND_SCORE_JOB)
    run_config = {
        "resources": {
            "settings": {
                "config": {
                    "config_path": str(config_path.resolve()),
                    "as_of": as_of.isoformat() if as_of else "",
                    "kind": kind,
                }
            }
        },
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }
    return job.execute_in_process(run_config=run_config, instance=instance or _instance(), raise_on_error=False)


def _failure_summary(result) -> str:
    for event in result.all_events:
        if event.event_type_value in ("STEP_FAILURE", "ASSET_CHECK_EVALUATION") and event.event_specific_data is not None:
            data = event.event_specific_data
            err = getattr(data, "error", None)
            if err is not None:
                # The step error wraps the real one; its cause says what went wrong.
                root = err
                while root.cause is not None:
                    root = root.cause
                return secrets.redact(f"step {event.step_key} failed: {root.message.strip().splitlines()[-1]}")
            evaluation = getattr(data, "passed", None)
            if evaluation is False:
                return f"data invariant {data.check_name} failed"
    return "the run failed (see the Dagster UI for the step logs)"


def cmd_run(args) -> int:
    config = _config(args)
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    started = time.monotonic()
    result = run_job(Path(args.config), as_of, progress=TerminalProgress())
    if not result.success:
        return _err(_failure_summary(result))
    print(f"Published snapshot {(as_of or dt.datetime.now(dt.UTC).date()).isoformat()} to {config.serving_path} "
          f"in {time.monotonic() - started:.1f} s")
    print(summary_table(config))
    if (why := no_services_reason(config)) is not None:
        print(why, file=sys.stderr)
    return 0


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
    lines = ["No services were found, so nothing was scored."]
    lines += [f"  {source} {target}: {reason}" for source, target, reason in failed[:10]]
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


def backfill_dates(since_days: int, every_days: int, today: dt.date) -> list[dt.date]:
    """Past snapshot dates, oldest first, stepping back from today (today itself excluded)."""
    if every_days <= 0:
        raise ValueError("--every must be at least 1d")
    dates = []
    day = today - dt.timedelta(days=every_days)
    while day >= today - dt.timedelta(days=since_days):
        dates.append(day)
        day -= dt.timedelta(days=every_days)
    return sorted(dates)


def backfill(config_path: Path, since_days: int, every_days: int, today: dt.date | None = None) -> list[tuple[dt.date, bool]]:
    today = today or dt.datetime.now(dt.UTC).date()
    dates = backfill_dates(since_days, every_days, today)
    out = []
    instance = _instance()
    for i, day in enumerate(dates, start=1):
        progress = TerminalProgress(prefix=f"[{i}/{len(dates)} {day.isoformat()}] ")
        result = run_job(config_path, day, kind="backfill", progress=progress, instance=instance)
        if not result.success:
            print(f"scorecard: snapshot {day}: {_failure_summary(result)}", file=sys.stderr)
        out.append((day, result.success))
    return out


def cmd_backfill(args) -> int:
    _config(args)  # fail fast on a bad config, before the first snapshot
    results = backfill(Path(args.config), args.since, args.every)
    ok = sum(1 for _, success in results if success)
    print(f"Backfilled {ok}/{len(results)} snapshots")
    return 0 if ok == len(results) else 1


def summary_table(config: ScorecardConfig, scorecard: str = "default") -> str:
    """Services per level per team, for the latest published snapshot."""
    from pipelines import warehouse

    if not config.serving_path.exists():
        return "(no snapshot published)"
    with warehouse.read_only(config.serving_path) as con:
        snap = con.execute("SELECT max(snapshot) FROM runs WHERE status = 'complete'").fetchone()[0]
        levels = [r[0] for r in con.execute(
            "SELECT DISTINCT level, level_rank FROM service_scores WHERE snapshot = ? AND scorecard = ? ORDER BY level_rank",
            [snap, scorecard]).fetchall()]
        counts = con.execute(
            """SELECT coalesce(team, '(no owner)'), level, count(*) FROM service_scores
               WHERE snapshot = ? AND scorecard = ? GROUP BY ALL""", [snap, scorecard]).fetchall()
        means = dict(con.execute(
            """SELECT coalesce(team, '(no owner)'), round(avg(score_pct), 1) FROM service_scores
               WHERE snapshot = ? AND scorecard = ? GROUP BY ALL""", [snap, scorecard]).fetchall())
    teams: dict[str, dict[str, int]] = {}
    for team, level, n in counts:
        teams.setdefault(team, {})[level] = n
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
    from pipelines.ingest import ingest

    config = _config(args)
    report = ingest(config, args.kind, Path(args.file))
    for problem in report.problems[:20]:
        print(f"  rejected: {problem}", file=sys.stderr)
    if len(report.problems) > 20:
        print(f"  ... and {len(report.problems) - 20} more", file=sys.stderr)
    print(f"Ingested {report.added} {args.kind} ({report.duplicates} already known, {len(report.problems)} rejected) "
          f"into {config.warehouse_path}")
    return 0 if report.added or not report.problems else 1


def cmd_demo(args) -> int:
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
    results = backfill(config_path, since_days=7 * args.weeks, every_days=7)
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


def serve(snapshot: Path, port: int) -> int:
    import dashboard

    app = Path(dashboard.__file__).parent / "app.py"
    env = {**os.environ, "SCORECARD_SNAPSHOT": str(snapshot.resolve())}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    print(f"\nDashboard: http://127.0.0.1:{port}  (Ctrl+C to stop)", flush=True)
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scorecard", description="Platform scorecard and golden-path adoption analytics.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p):
        p.add_argument("--config", default=os.environ.get("SCORECARD_CONFIG", DEFAULT_CONFIG),
                       help="scorecard.yaml to use (default: $SCORECARD_CONFIG or ./scorecard.yaml)")
        return p

    p = with_config(sub.add_parser("run", help="crawl, check, score and publish one snapshot"))
    p.add_argument("--as-of", help="snapshot date YYYY-MM-DD (default: today); past dates read git history as of then")
    p.set_defaults(fn=cmd_run)

    p = with_config(sub.add_parser("backfill", help="compute past snapshots from git history"))
    p.add_argument("--since", type=_days, default=_days("90d"), help="how far back, e.g. 90d or 12w (default 90d)")
    p.add_argument("--every", type=_days, default=_days("7d"), help="spacing between snapshots (default 7d)")
    p.set_defaults(fn=cmd_backfill)

    p = with_config(sub.add_parser("explain", help="why a service has its level, and what to fix first"))
    p.add_argument("service")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--scorecard", default="default")
    p.add_argument("--snapshot", help="snapshot date (default: the latest)")
    p.set_defaults(fn=cmd_explain)

    p = sub.add_parser("checks", help="list the check catalogue")
    p.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    p.set_defaults(fn=cmd_checks)

    p = with_config(sub.add_parser("ingest", help="append validated deploy or incident events (JSON lines)"))
    p.add_argument("kind", choices=["deployments", "incidents"])
    p.add_argument("file")
    p.set_defaults(fn=cmd_ingest)

    p = sub.add_parser("demo", help="generate the demo organisation, score it with history, serve the dashboard")
    p.add_argument("--no-serve", action="store_true", help="stop after publishing (do not start the dashboard)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--weeks", type=int, default=12, help="weekly snapshots to backfill (default 12)")
    p.add_argument("--data-dir", default="data")
    p.add_argument("--regenerate", action="store_true", help="regenerate the demo organisation even if present")
    p.set_defaults(fn=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    secrets.install_log_redaction()
    try:
        return args.fn(args)
    except ConfigError as exc:
        return _err(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
