"""`scorecard preview`: what a changed config would do to the fleet, before it is published.

The latest complete snapshot's evidence (stored by the run,
`pipelines/evidence_store.py`) is checked and scored again under the new
config through the job's own functions (`stages.check_context`,
`stages.evaluate_checks`, `scoring.apply_waivers`, `scoring.score`), so a
preview can only differ from the next real run by what changes in the
repositories and clusters meanwhile. Nothing is crawled.

The baseline ("current") is the snapshot as stored, or, with ``--against``,
the same evidence scored under that config (so the difference is the rule
change alone, whatever the code or the stored snapshot say). Both sides are
stored in the warehouse as a named preview (`preview_*` tables, apart from
the dated history: no `runs` row, no snapshot table) and compared with the
read model's compare queries (`pipelines/readmodel/compare.py`), the same the
Compare page runs once the preview is published with the snapshot.

Config that shapes the evidence itself (sources, discovery, services, teams'
aliases) needs a crawl: a preview reports such differences as not previewed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import (
    evidence_store,
    frames,
    readmodel,
    rules,
    runlock,
    secrets,
    stages,
    warehouse,
)
from pipelines.config import ScorecardConfig
from pipelines.scoring import apply_waivers, score

SIDES = ("current", "preview")
# Stored per side: what the compare queries and the Compare page read.
COMPARED = ("service_scores", "scorecard_results", "check_results")
RUNS_DDL = """preview VARCHAR, snapshot DATE, created_at TIMESTAMPTZ, config_file VARCHAR, against VARCHAR,
    digest_before VARCHAR, digest_after VARCHAR, rule_changes VARCHAR, not_previewed VARCHAR"""
# Parts of the config that decide what the evidence is, not how it is judged.
EVIDENCE_SHAPING = ("sources", "discovery", "services", "teams", "organisation")


def table_ddl(table: str) -> str:
    return f"preview VARCHAR, side VARCHAR, {warehouse.SNAPSHOT_TABLES[table]}"


@dataclasses.dataclass
class Side:
    results: pd.DataFrame  # check_results as stored
    scores: dict[str, pd.DataFrame]  # at least service_scores and scorecard_results
    digest: str | None  # of the rules; None when the stored snapshot predates rule digests


def evaluate(config: ScorecardConfig, stored: evidence_store.StoredEvidence) -> Side:
    """The stored evidence checked and scored under ``config``, as the job does it."""
    found = stages.RepoCrawlResult(crawls=[], source_status=[], problems=[], known_teams=list(stored.known_teams))
    ctx = stages.check_context(config, stored.snapshot, found)
    results = apply_waivers(stages.evaluate_checks(stored.evidence, ctx), config, stored.snapshot)
    return Side(frames.stored_results(results), score(results, config), rules.rule_digest(config))


def stored_side(con: duckdb.DuckDBPyConnection, day: dt.date) -> Side:
    """The snapshot as the run stored it."""
    # Table names from COMPARED (this module's constant); the date is a parameter.
    got = {t: con.execute(f"SELECT * EXCLUDE (snapshot) FROM {t} WHERE snapshot = ?", [day]).df() for t in COMPARED}
    digest = con.execute("SELECT any_value(digest) FROM rule_sets WHERE snapshot = ?", [day]).fetchone()[0]
    return Side(got["check_results"], {t: got[t] for t in COMPARED if t != "check_results"}, digest)


def not_previewed(new: ScorecardConfig, current: ScorecardConfig | None) -> list[str]:
    """Config sections that differ but only act through a crawl."""
    if current is None:
        return []
    keys = set(EVIDENCE_SHAPING)
    a, b = current.model_dump(mode="json", include=keys), new.model_dump(mode="json", include=keys)
    return [key for key in EVIDENCE_SHAPING if a.get(key) != b.get(key)]


def run_preview(
    new: ScorecardConfig, name: str, config_file: Path, *, against: ScorecardConfig | None = None,
    against_file: Path | None = None, wait_seconds: float = 0.0, on_wait=None, publish_to: Path | None = None,
) -> dict:
    """Evaluate ``new`` on the latest snapshot's evidence, store it as preview ``name``; returns the report.

    With ``publish_to``, the served file is republished from the warehouse (history unchanged, the
    preview now in it) under the same lock; without, the served file is not touched.
    """
    base = against or new
    path = base.warehouse_path
    if not path.exists():
        raise warehouse.WarehouseError(f"no warehouse at {path} yet: run `scorecard run` first"
                                       + ("" if against else ", or pass --against the config the job runs with"))
    with runlock.run_lock(path, f"scorecard preview {name}", wait_seconds, on_wait):
        with warehouse.connect(path, doing="reading the latest snapshot") as con:
            latest = evidence_store.latest_complete(con)
            if latest is None:
                raise evidence_store.EvidenceUnavailable(f"{path} holds no complete snapshot: run `scorecard run` first")
            current_stored = stored_side(con, latest[0]) if against is None else None
        stored = evidence_store.load(path, *latest)
        after = evaluate(new, stored)
        before = evaluate(against, stored) if against is not None else current_stored
        with warehouse.connect(path, doing="storing the preview") as con, \
                warehouse.transaction(con, path, "storing the preview"):
            changes = _rule_changes(con, latest[0], against, new)
            run = {"preview": name, "snapshot": latest[0], "created_at": dt.datetime.now(dt.UTC),
                   "config_file": str(config_file), "against": str(against_file) if against_file else None,
                   "digest_before": before.digest, "digest_after": after.digest,
                   "rule_changes": json.dumps(changes), "not_previewed": json.dumps(not_previewed(new, against))}
            store(con, run, {"current": before, "preview": after})
        if publish_to is not None:
            from pipelines import publishing

            for warning in publishing.publish(against or new, path, publish_to).warnings:
                print(f"warning: {warning}", file=sys.stderr)
        return report(path, name, new, against)


def _rule_changes(con, day: dt.date, against: ScorecardConfig | None, new: ScorecardConfig) -> list[str]:
    """What changed in the rules: against the --against config, else against the rules the snapshot was scored by."""
    if against is not None:
        return rules.describe_changes(rules.rule_set(against), rules.rule_set(new))
    found = con.execute("SELECT any_value(rules) FROM rule_sets WHERE snapshot = ?", [day]).fetchone()[0]
    if found is None:
        return ["(the snapshot predates recorded rules: pass --against the current config to list the changes)"]
    return rules.describe_changes(json.loads(found), rules.rule_set(new))


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS preview_runs ({RUNS_DDL})")  # DDL constant of this module
    for table in COMPARED:
        con.execute(f"CREATE TABLE IF NOT EXISTS preview_{table} ({table_ddl(table)})")  # names from COMPARED


def store(con: duckdb.DuckDBPyConnection, run: dict, sides: dict[str, Side]) -> None:
    """Replace preview ``run['preview']`` (inside the caller's transaction); texts redacted like every stored text."""
    ensure_tables(con)
    name = run["preview"]
    con.execute("DELETE FROM preview_runs WHERE preview = ?", [name])
    for table in COMPARED:
        con.execute(f"DELETE FROM preview_{table} WHERE preview = ?", [name])
    con.register("_run", pd.DataFrame([{k: secrets.redact_optional(v) if isinstance(v, str) else v
                                        for k, v in run.items()}]))
    try:
        con.execute("INSERT INTO preview_runs BY NAME SELECT * FROM _run")
    finally:
        con.unregister("_run")
    for kind, side in sides.items():
        tables = {"check_results": side.results, **side.scores}
        for table in COMPARED:
            shaped = warehouse._shaped(table, run["snapshot"], tables[table])  # redacted, columns in order
            shaped.insert(0, "side", kind)
            shaped.insert(0, "preview", name)
            con.register("_rows", shaped)
            try:
                con.execute(f"INSERT INTO preview_{table} BY NAME SELECT * FROM _rows")
            finally:
                con.unregister("_rows")


def publish(con: duckdb.DuckDBPyConnection) -> None:
    """Copy the stored previews into the file being published (the warehouse attached as ``wh``)."""
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'wh' AND table_name LIKE 'preview_%'"
    ).fetchall()}
    ensure_tables(con)
    for table in ["preview_runs", *(f"preview_{t}" for t in COMPARED)]:
        if table in have:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM wh.main.{table}")


def report(path: Path, name: str, new: ScorecardConfig, against: ScorecardConfig | None) -> dict:
    """The preview's effect, read back from the stored tables through the read model's compare queries."""
    src = str(path)
    run = readmodel.row(src, "SELECT * FROM preview_runs WHERE preview = $name", name=name)
    cards = list(dict.fromkeys([c.name for c in new.scorecards] + [c.name for c in (against or new).scorecards]))
    out = {"preview": name, "snapshot": run["snapshot"].isoformat(), "config_file": run["config_file"],
           "against": run["against"] or "the stored snapshot", "digest_before": run["digest_before"],
           "digest_after": run["digest_after"], "rule_changes": json.loads(run["rule_changes"]),
           "not_previewed": json.loads(run["not_previewed"]), "scorecards": []}
    for card in cards:
        summary = readmodel.compare_summary(src, card, None, None, None, preview=name)
        moves = readmodel.level_moves(src, card, None, None, None, preview=name)
        flips = readmodel.check_changes(src, card, None, None, None, None, preview=name)
        teams = (moves[moves["movement"].isin(["up", "down"])].assign(team=lambda m: m["team"].fillna("(no owner)"))
                 .groupby(["team", "movement"]).size().unstack(fill_value=0)
                 .reindex(columns=["up", "down"], fill_value=0))
        per_check = flips.groupby(["check_id", "change"]).size().unstack(fill_value=0).reindex(
            columns=["regressed", "improved"], fill_value=0)
        flipped = flips.groupby("service")["check_id"].agg(lambda ids: sorted(set(ids))).to_dict()
        levels = {r.service: r for r in moves.itertuples(index=False)}
        teams_of = dict(zip(flips["service"], flips["team"], strict=True)) | dict(zip(moves["service"], moves["team"], strict=True))
        affected = [
            {"service": s, "team": teams_of.get(s),
             "level_before": levels[s].level_before if s in levels else None,
             "level_after": levels[s].level_after if s in levels else None,
             "movement": levels[s].movement if s in levels else None,
             "checks_flipped": flipped.get(s, [])}
            for s in sorted(set(levels) | set(flipped))
        ]
        out["scorecards"].append({
            "scorecard": card,
            "services": summary["services_after"],
            "moved_up": summary["moved_up"], "moved_down": summary["moved_down"],
            "mean_score_before": _round(summary["mean_score_before"]),
            "mean_score_after": _round(summary["mean_score_after"]),
            "by_team": [{"team": t, "up": int(r["up"]), "down": int(r["down"])} for t, r in teams.iterrows()],
            "newly_failing": _counts(per_check, "regressed"),
            "newly_passing": _counts(per_check, "improved"),
            "services_affected": affected,
        })
    return out


def _counts(per_check: pd.DataFrame, change: str) -> list[dict]:
    part = per_check[per_check[change] > 0][change].sort_values(ascending=False, kind="stable")
    return [{"check_id": c, "services": int(n)} for c, n in part.items()]


def _round(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 1)


def render_text(rep: dict) -> str:
    """The report for a terminal (names from repositories are made terminal-safe)."""
    from pipelines.explain import terminal_safe

    def t(value: object) -> str:
        return terminal_safe("" if value is None else str(value), one_line=True)

    lines = [f"Preview {t(rep['preview'])} of snapshot {rep['snapshot']} (nothing published; stored in the warehouse)",
             f"  rules {rep['digest_before'] or '(unrecorded)'} → {rep['digest_after']}, against {t(rep['against'])}"]
    lines += [f"  rule change: {t(c)}" for c in rep["rule_changes"]] or ["  no rule change"]
    if rep["not_previewed"]:
        lines.append(f"  not previewed (needs a crawl: `scorecard run`): {', '.join(rep['not_previewed'])}")
    for card in rep["scorecards"]:
        mean = f"{card['mean_score_before']} → {card['mean_score_after']} %"
        head = (f"Scorecard {t(card['scorecard'])}: {card['moved_up']} services up, {card['moved_down']} down "
                f"(of {card['services']}); mean score {mean}")
        lines += ["", head]
        if card["by_team"]:
            width = max(len(t(r["team"])) for r in card["by_team"])
            lines.append(f"  {'team'.ljust(width)}  up  down")
            lines += [f"  {t(r['team']).ljust(width)}  {r['up']:>2}  {r['down']:>4}" for r in card["by_team"]]
        for key, label in (("newly_failing", "newly failing"), ("newly_passing", "newly passing")):
            if card[key]:
                lines.append(f"  checks {label}: " + ", ".join(f"{c['check_id']} ({c['services']})" for c in card[key]))
        if card["services_affected"]:
            lines.append(f"  services affected ({len(card['services_affected'])}):")
            for s in card["services_affected"]:
                move = f"{t(s['level_before'])} → {t(s['level_after'])}" if s["movement"] else "level unchanged"
                checks = f"; {', '.join(s['checks_flipped'])}" if s["checks_flipped"] else ""
                lines.append(f"    {t(s['service'])} ({t(s['team'] or '(no owner)')}): {move}{checks}")
        else:
            lines.append("  no service affected")
    return "\n".join(lines)
