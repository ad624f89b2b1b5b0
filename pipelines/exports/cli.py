"""`scorecard export <kind>` and `scorecard serve-metrics`: wiring around pipelines.exports.

Registered by `pipelines/cli.py` :func:`add_commands`. Each kind is one
sub-command of the `export` group, so other export kinds join the same group.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.exports import DEFAULT_PORT
from pipelines.exports.atomic import ExportError


def _readable(fn):
    """An OS error writing an export (permissions, full disk) or a snapshot DuckDB cannot read,
    as a one-line reason naming the path."""
    def run(args) -> int:
        import duckdb  # here, not at import: `scorecard --help` must not pay for it

        try:
            return fn(args)
        except OSError as exc:
            where = exc.filename or getattr(args, "out", "")
            raise ExportError(f"could not write {where}: {exc.strerror or exc}") from exc
        except duckdb.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ExportError(f"could not read the published snapshot {_serving(args)}: {first}") from exc
    return run


def _serving(args) -> Path:
    """The published snapshot: ``--snapshot`` when given, else the config's serving path."""
    if args.snapshot:
        return Path(args.snapshot).resolve()
    from pipelines.config import load_config

    return load_config(Path(args.config)).serving_path


@_readable
def cmd_export_parquet(args) -> int:
    from pipelines.exports.parquet import export_parquet

    out = Path(args.out)
    manifest = export_parquet(_serving(args), out)
    rows = sum(t["rows"] for t in manifest["tables"])
    print(f"Exported {len(manifest['tables'])} tables ({rows:,} rows, latest snapshot "
          f"{manifest['latest_snapshot']}) to {out}")
    return 0


@_readable
def cmd_export_metrics(args) -> int:
    from pipelines.exports.openmetrics import export_metrics, metrics_text

    if args.out == "-":
        sys.stdout.write(metrics_text(_serving(args)))
        return 0
    text = export_metrics(_serving(args), Path(args.out))
    print(f"Wrote {sum(1 for line in text.splitlines() if not line.startswith('#'))} samples to {args.out}")
    return 0


@_readable
def cmd_export_badges(args) -> int:
    from pipelines.exports.badges import export_badges

    counts = export_badges(_serving(args), Path(args.out))
    print(f"{counts.total} badges in {args.out} ({counts.written} new or changed; "
          "index.json maps each service and scorecard to its file)")
    return 0


def cmd_serve_metrics(args) -> int:
    from pipelines.exports.endpoint import make_server

    serving = _serving(args)
    try:
        server = make_server(serving, args.host, args.port)
    except OSError as exc:
        raise ExportError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    host, port = server.server_address[:2]
    print(f"Serving OpenMetrics of {serving} at http://{host}:{port}/metrics  (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def export_group(sub) -> argparse._SubParsersAction:
    """The sub-command parser of `scorecard export`, created by whichever export kind asks first.

    Other export kinds add their own `export <kind>` here (``export_group(sub).add_parser(...)``),
    whatever order `pipelines/cli.py` registers them in.
    """
    export = sub.choices.get("export") or sub.add_parser("export", help="export the published snapshot for other tools")
    for action in export._actions:  # argparse keeps a group's sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            return action
    return export.add_subparsers(dest="kind", required=True, metavar="KIND")


def add_commands(sub, with_config) -> None:
    """Add `export <kind>` and `serve-metrics` to the `scorecard` sub-command parser ``sub``."""
    def source(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        with_config(p)
        p.add_argument("--snapshot", help="published snapshot file to read (default: the config's serving path)")
        return p

    kinds = export_group(sub)
    p = source(kinds.add_parser("parquet", help="every published table as Parquet, with manifest.json"))
    p.add_argument("--out", required=True, help="folder to (re)place; must be new, empty or an earlier export")
    p.set_defaults(fn=cmd_export_parquet)
    p = source(kinds.add_parser("metrics", help="OpenMetrics text of the latest snapshot (Prometheus, Grafana)"))
    p.add_argument("--out", required=True, help="file to write atomically, or - for stdout")
    p.set_defaults(fn=cmd_export_metrics)
    p = source(kinds.add_parser("badges", help="an SVG badge per service and scorecard, for READMEs"))
    p.add_argument("--out", required=True, help="folder to bring up to date; must be new, empty or an earlier export")
    p.set_defaults(fn=cmd_export_badges)

    p = source(sub.add_parser("serve-metrics", help="serve GET /metrics (OpenMetrics) from the published snapshot"))
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.set_defaults(fn=cmd_serve_metrics)

