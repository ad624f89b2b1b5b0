"""`scorecard gate` on the command line: its arguments, and the wiring around `pipelines.gate`.

Importing this module costs nothing beyond argparse: `scorecard --help` builds
every parser, and the gate's machinery (config models, parsers, DuckDB) is
imported only when the gate runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DESCRIPTION = (
    "Crawl the git checkout holding PATH (the checked-out commit: no warehouse, no cluster), run the check "
    "catalogue and compute each service's level. Exit codes: 0 the gate passed; 1 it failed (a service below "
    "--fail-under, or a --check failing for a service); 2 it could not run (usage, config, not a git working "
    "tree). Checks that need data a checkout does not hold (cluster workloads, deploy events, the team "
    "directory) say unknown and never fail the gate. With $GITHUB_STEP_SUMMARY set, a Markdown summary is "
    "appended to that file."
)


def add_parser(sub) -> None:
    p = sub.add_parser("gate", help="score one local checkout for CI; exit 1 under --fail-under or on a failing --check",
                       description=DESCRIPTION)
    p.add_argument("path", nargs="?", default=".", help="a directory of the git working tree (default: .)")
    p.add_argument("--config", default=os.environ.get("SCORECARD_CONFIG"),
                   help="scorecard.yaml with scorecards, teams, waivers, golden paths "
                        "(default: $SCORECARD_CONFIG, else the built-in defaults)")
    p.add_argument("--scorecard", default="default", help="the scorecard to gate on (default: default)")
    p.add_argument("--fail-under", metavar="LEVEL",
                   help="fail when a service is below this level, e.g. bronze (default: no level fails the gate)")
    p.add_argument("--check", action="append", default=[], metavar="ID",
                   help="fail when this check fails for a service; repeat the option or separate ids with commas")
    p.add_argument("--format", choices=["text", "github", "json"],
                   help="text; github: workflow-command annotations, then the text; json: for tools "
                        "(default: github when $GITHUB_ACTIONS is true, else text)")
    p.set_defaults(fn=run)


def run(args) -> int:
    from pipelines import gate_output as out
    from pipelines.config import ConfigError, load_config
    from pipelines.gate import EXIT_USAGE, GateError, default_config, run_gate

    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    try:
        config = load_config(Path(args.config)) if args.config else default_config(Path.cwd())
        report = run_gate(Path(args.path), config, scorecard=args.scorecard, fail_under=args.fail_under,
                          checks=args.check)
    except (GateError, ConfigError) as exc:
        if fmt == "github":  # shown on the pull request, not only in the step's log
            print(out.annotation("error", str(exc), title="scorecard gate could not run"))
        print(f"scorecard: {exc}", file=sys.stderr)
        _append_summary(f"### Scorecard gate could not run\n\n```\n{exc}\n```\n")
        return EXIT_USAGE
    render = {"json": out.to_json, "github": out.render_github}.get(fmt, out.render_text)
    try:
        print(render(report), flush=True)
    except BrokenPipeError:  # `scorecard gate | head`: the verdict is the exit code all the same
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    _append_summary(out.summary_markdown(report))
    return report.exit_code


def _append_summary(markdown: str) -> None:
    """Append to the job summary when run by GitHub Actions ($GITHUB_STEP_SUMMARY names the file)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    try:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(markdown)
    except OSError as exc:  # the verdict and the exit code matter more than the summary
        print(f"scorecard: warning: cannot append the job summary to {summary}: {exc.strerror or exc}",
              file=sys.stderr)
