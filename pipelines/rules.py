"""The rules a snapshot was scored by, their digest, and the log of rule changes.

A change of rules (a check moved to another level, a weight, a threshold, a
golden path's release list, `warn_passes`, an excluded check) moves scores
without any service changing. Each snapshot therefore records the rules it
was scored by (`rule_sets`: one row, a digest and the rules as JSON, computed
from the config models); publishing derives the rule-change log from
consecutive snapshots (`rule_changes`: the first snapshot under new rules,
what changed, both digests), and the trend charts mark those dates so a drop
is not mistaken for a regression.

Derived at publish rather than at each run, so a backfill that computes past
dates after today's run still logs each change at the date it took effect.
Waivers are exceptions for one service, not rules, and are left out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import duckdb
import pandas as pd

from pipelines.config import ScorecardConfig

RULE_CHANGES_DDL = """snapshot DATE, digest VARCHAR, previous_digest VARCHAR, previous_snapshot DATE,
    changes VARCHAR, summary VARCHAR"""


def rule_set(config: ScorecardConfig) -> dict:
    """Everything that decides a level or a score besides the evidence, as plain JSON-able data."""
    paths = {}
    for name in ("template", "ci_workflow", "helm_chart", "terraform"):
        gp = getattr(config.golden_paths, name)
        paths[name] = None if gp is None else {"reference": gp.reference, "latest": gp.latest,
                                               "releases": list(gp.releases)}
    levels = config.scorecard_levels()
    cards = {
        card.name: {
            "levels": config.level_order(card.name),
            "warn_passes": card.warn_passes,
            "checks": {check_id: {"level": level, "weight": weight} for check_id, weight, level in levels[card.name]},
        }
        for card in config.scorecards
    }
    return {"golden_paths": paths, "thresholds": dataclasses.asdict(config.thresholds), "scorecards": cards}


def digest(rules: dict) -> str:
    text = json.dumps(rules, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def rule_digest(config: ScorecardConfig) -> str:
    return digest(rule_set(config))


def rule_sets_frame(config: ScorecardConfig) -> pd.DataFrame:
    """The `rule_sets` row of a snapshot (the warehouse adds the date)."""
    rules = rule_set(config)
    return pd.DataFrame([{"digest": digest(rules), "rules": json.dumps(rules, sort_keys=True, default=str)}])


def describe_changes(before: dict, after: dict) -> list[str]:
    """What changed between two rule sets, one short line each, in a stable order."""
    out: list[str] = []
    for name in sorted(set(before["golden_paths"]) | set(after["golden_paths"])):
        a, b = before["golden_paths"].get(name), after["golden_paths"].get(name)
        if a == b:
            continue
        if a is None or b is None:
            out.append(f"golden path {name} {'added' if a is None else 'removed'}")
            continue
        added = [r for r in b["releases"] if r not in a["releases"]]
        removed = [r for r in a["releases"] if r not in b["releases"]]
        if added:
            out.append(f"{name} releases +{', +'.join(added)}")
        if removed:
            out.append(f"{name} releases -{', -'.join(removed)}")
        if a["latest"] != b["latest"] and not added:
            out.append(f"{name} latest {a['latest']} → {b['latest']}")
        if a["reference"] != b["reference"]:
            out.append(f"{name} reference {a['reference']} → {b['reference']}")
    for key in sorted(set(before["thresholds"]) | set(after["thresholds"])):
        a, b = before["thresholds"].get(key), after["thresholds"].get(key)
        if a != b:
            out.append(f"{key} {_text(a)} → {_text(b)}")
    for card in sorted(set(before["scorecards"]) | set(after["scorecards"])):
        a, b = before["scorecards"].get(card), after["scorecards"].get(card)
        if a == b:
            continue
        if a is None or b is None:
            out.append(f"scorecard {card} {'added' if a is None else 'removed'}")
            continue
        if a["levels"] != b["levels"]:
            out.append(f"{card}: levels {'/'.join(a['levels'])} → {'/'.join(b['levels'])}")
        if a["warn_passes"] != b["warn_passes"]:
            out.append(f"{card}: warn_passes {_text(a['warn_passes'])} → {_text(b['warn_passes'])}")
        for check_id in sorted(set(a["checks"]) | set(b["checks"])):
            x, y = a["checks"].get(check_id), b["checks"].get(check_id)
            if x == y:
                continue
            if x is None:
                out.append(f"{card}: {check_id} added at {y['level']}")
            elif y is None:
                out.append(f"{card}: {check_id} left out")
            else:
                if x["level"] != y["level"]:
                    out.append(f"{card}: {check_id} {x['level']} → {y['level']}")
                if x["weight"] != y["weight"]:
                    out.append(f"{card}: {check_id} weight {x['weight']} → {y['weight']}")
    return out


def _text(value: object) -> str:
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def summary(changes: list[str], limit: int = 3) -> str:
    """The label a trend chart shows: the first few changes and how many more."""
    if not changes:
        return "rules changed"
    more = f" (+{len(changes) - limit} more)" if len(changes) > limit else ""
    return "rules changed: " + "; ".join(changes[:limit]) + more


def change_log(rule_sets: pd.DataFrame) -> pd.DataFrame:
    """One row per snapshot whose rules differ from the snapshot before it (`rule_sets` rows in any order)."""
    rows = []
    ordered = rule_sets.sort_values("snapshot")
    previous = None
    for snap, dig, text in ordered[["snapshot", "digest", "rules"]].itertuples(index=False, name=None):
        if previous is not None and previous[1] != dig:
            changes = describe_changes(json.loads(previous[2]), json.loads(text))
            rows.append({"snapshot": snap, "digest": dig, "previous_digest": previous[1],
                         "previous_snapshot": previous[0], "changes": json.dumps(changes),
                         "summary": summary(changes)})
        previous = (snap, dig, text)
    return pd.DataFrame(rows, columns=["snapshot", "digest", "previous_digest", "previous_snapshot", "changes",
                                       "summary"])


def publish_rule_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Write the `rule_changes` table into the file being published, from its `rule_sets`."""
    log = change_log(con.execute("SELECT snapshot, digest, rules FROM rule_sets").df())
    con.execute(f"CREATE TABLE rule_changes ({RULE_CHANGES_DDL})")  # fixed DDL text
    if len(log):
        con.register("_log", log)
        try:
            con.execute("INSERT INTO rule_changes BY NAME SELECT * FROM _log")
        finally:
            con.unregister("_log")
