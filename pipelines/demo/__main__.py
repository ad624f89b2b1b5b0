"""`python -m pipelines.demo OUT_DIR [--repos N --teams N ...]`: generate the demo org and time it."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from pipelines.demo import generate_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--repos", type=int, default=60)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=None, help="last day (default: today, UTC)")
    parser.add_argument("--workers", type=int, default=None, help="concurrent git fast-import processes")
    args = parser.parse_args(argv)
    end = args.end or dt.datetime.now(dt.UTC).date()
    try:
        summary = generate_demo(
            args.out_dir,
            repos=args.repos,
            teams=args.teams,
            days=args.days,
            end=end,
            seed=args.seed,
            workers=args.workers,
            progress=lambda msg: print(msg, file=sys.stderr),
        )
    except (ValueError, FileExistsError) as exc:
        print(f"pipelines.demo: {exc}", file=sys.stderr)
        return 2
    print(
        f"{summary.repos} repos, {summary.services} services, {summary.commits} commits, "
        f"{summary.deployment_events} deploy events, {summary.incident_events} incidents "
        f"in {summary.seconds:.1f}s -> {summary.config}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
