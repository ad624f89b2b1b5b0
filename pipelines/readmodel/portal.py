"""The published snapshot as per-entity documents a developer portal can fetch (docs/backstage.md).

Three set-based queries for the whole snapshot (services with their DORA
tiers, scores per scorecard, findings with the check's title), assembled in
one pass: the export of 10,000 services stays a few queries, not 30,000.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipelines.readmodel.base import frame
from pipelines.readmodel.overview import latest_snapshot

SCHEMA = "platform-scorecard/entity-scorecard/v1"


def entity_ref(service: str) -> str:
    """The Backstage ref a service is exported under: services are keyed by name, in namespace default."""
    return f"component:default/{service.lower()}"


def entity_documents(path: str, snapshot: dt.date | None = None) -> tuple[dt.date | None, list[dict[str, Any]]]:
    """(snapshot date, one document per service) for the given or latest published snapshot."""
    day = latest_snapshot(path, snapshot)
    if day is None:
        return None, []
    services = frame(path, """
        SELECT s.service, s.team, s.repo, s.path, s.lifecycle, s.system, s.type, s.identity_rule,
               d.lead_time_tier, d.deploy_frequency_tier, d.change_failure_tier, d.restore_tier
        FROM services s LEFT JOIN dora d USING (snapshot, service)
        WHERE s.snapshot = $day ORDER BY s.service""", day=day)
    scores = frame(path, """
        SELECT service, scorecard, level, score_pct, next_level, checks_to_next_level
        FROM service_scores WHERE snapshot = $day ORDER BY service, scorecard""", day=day)
    findings = frame(path, """
        SELECT r.service, r.check_id, c.title, c.category, c.level, r.status, r.detail, r.remediation, c.doc_url
        FROM check_results r JOIN checks c USING (snapshot, check_id)
        WHERE r.snapshot = $day ORDER BY r.service, r.check_id""", day=day)
    by_service: dict[str, dict[str, Any]] = {}
    for s in services.astype(object).where(services.notna(), None).itertuples(index=False):
        tiers = {"lead_time": s.lead_time_tier, "deploy_frequency": s.deploy_frequency_tier,
                 "change_failure_rate": s.change_failure_tier, "time_to_restore": s.restore_tier}
        by_service[s.service] = {
            "schema": SCHEMA, "entityRef": entity_ref(s.service), "service": s.service, "snapshot": day.isoformat(),
            "owner": s.team, "repo": s.repo, "path": s.path or "", "lifecycle": s.lifecycle, "system": s.system,
            "type": s.type, "identityRule": s.identity_rule,
            "dora": tiers if any(tiers.values()) else None,
            "scorecards": {}, "checks": [],
        }
    for r in scores.astype(object).where(scores.notna(), None).itertuples(index=False):
        doc = by_service.get(r.service)
        if doc is not None:
            doc["scorecards"][r.scorecard] = {
                "level": r.level, "score": None if r.score_pct is None else round(float(r.score_pct), 1),
                "nextLevel": r.next_level,
                "checksToNextLevel": None if r.checks_to_next_level is None else int(r.checks_to_next_level),
            }
    for f in findings.astype(object).where(findings.notna(), None).itertuples(index=False):
        doc = by_service.get(f.service)
        if doc is not None:
            doc["checks"].append({
                "id": f.check_id, "title": f.title, "category": f.category, "level": f.level, "status": f.status,
                "detail": f.detail, "remediation": f.remediation if f.status not in ("pass", "not_applicable") else None,
                "docUrl": f.doc_url,
            })
    return day, list(by_service.values())
