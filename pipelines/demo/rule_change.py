"""The demo's one rule change, so its trend charts show how a change of rules is marked.

The demo's history is backfilled in two halves: the older weeks under rules
that allow the shared CI workflow two releases behind, the newer weeks and
today under the demo config's own (one release behind, the default). Services
two releases behind then drop a level at the first snapshot under the
tighter rule, and the dashboard marks that date "rules changed: ...", as it
would when a platform team tightens its policy mid-quarter.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

EARLIER_CONFIG = "scorecard.earlier-rules.yaml"  # next to the demo config: its relative paths resolve the same
EARLIER_THRESHOLDS = {"ci_workflow_max_releases_behind": 2}


def earlier_rules_config(config_path: Path) -> Path:
    """The demo config as it was before the change (written next to it)."""
    doc = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    doc["thresholds"] = {**(doc.get("thresholds") or {}), **EARLIER_THRESHOLDS}
    out = config_path.with_name(EARLIER_CONFIG)
    out.write_text("# The demo's rules before its one rule change (pipelines/demo/rule_change.py)\n"
                   + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def backfill_with_rule_change(
    config_path: Path, weeks: int, backfill: Callable[..., list[tuple[dt.date, bool]]],
    today: dt.date | None = None,
) -> list[tuple[dt.date, bool]]:
    """``weeks`` weekly snapshots before today (``backfill`` is `pipelines.cli.backfill`), the older half under
    the earlier rules."""
    today = today or dt.datetime.now(dt.UTC).date()
    newer = weeks // 2
    if weeks - newer < 1 or newer < 1:
        return backfill(config_path, since_days=7 * weeks, every_days=7, today=today)
    changed = today - dt.timedelta(days=7 * newer)
    print(f"The demo's rules tighten on {changed}: ci_workflow_max_releases_behind 2 → 1 "
          "(the trend charts mark it)", file=sys.stderr)
    older = backfill(earlier_rules_config(config_path), since_days=7 * (weeks - newer), every_days=7, today=changed)
    return older + backfill(config_path, since_days=7 * newer, every_days=7, today=today)
