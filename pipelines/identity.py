"""Service identity: which services exist, where they live and who owns them.

Resolution order (DESIGN.md "Identity"), recorded per service in
``identity_rule``:

1. ``catalog``: Backstage ``kind: Component`` entities (several per monorepo,
   each at its own path);
2. ``config``: explicit ``services:`` entries in scorecard.yaml;
3. ``repo``: fallback, one repository = one service, owner from CODEOWNERS.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from checks.evidence import CatalogEntity, Problem, RepoFacts
from pipelines import parsers
from pipelines.config import ScorecardConfig


@dataclass(slots=True)
class ServiceRecord:
    service: str
    repo: str | None
    path: str
    identity_rule: str
    team: str | None
    owner_source: str | None
    catalog: CatalogEntity | None = None
    lifecycle: str | None = None
    system: str | None = None
    type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def kubernetes_id(self) -> str:
        """The label value its workloads carry (DESIGN.md: backstage.io/kubernetes-id)."""
        return self.annotations.get("backstage.io/kubernetes-id") or self.service


def normalise_team(owner: str | None, aliases: dict[str, str]) -> str | None:
    """Map "@acme/payments", "group:default/payments", "Payments" to the configured team name."""
    if not owner:
        return None
    raw = owner.strip()
    key = raw.lower()
    if key in aliases:
        return aliases[key]
    bare = key.removeprefix("group:").removeprefix("default/").lstrip("@")
    bare = bare.rsplit("/", 1)[-1]
    return aliases.get(bare, bare)


def _codeowners_team(facts: RepoFacts, path: str, aliases: dict[str, str]) -> tuple[str | None, list[str] | None]:
    if facts.codeowners is None:
        return None, None
    owners = parsers.owners_for(facts.codeowners, path)
    teams = [o for o in owners if "/" in o]  # prefer a team over an individual (@alice)
    pick = (teams or owners or [None])[0]
    return normalise_team(pick, aliases), owners


def resolve_services(repos: list[RepoFacts], config: ScorecardConfig) -> tuple[list[ServiceRecord], list[Problem]]:
    """All services across the crawled repos, and identity problems (duplicate names...)."""
    aliases = config.team_aliases()
    services: list[ServiceRecord] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}  # service name -> where it was first declared
    covered: set[str] = set()  # repos that produced at least one service

    def add(record: ServiceRecord, where: str) -> None:
        if record.service in seen:
            problems.append(
                Problem(where, f"service {record.service!r} is already declared in {seen[record.service]}; ignored here")
            )
            return
        seen[record.service] = where
        services.append(record)
        if record.repo:
            covered.add(record.repo)

    by_repo = {f.repo: f for f in repos}
    for facts in repos:
        if facts.archived:
            continue  # archived repos are not scored (they cannot change)
        for entity in facts.catalog:
            if entity.kind.lower() != "component" or not entity.name:
                continue
            team = normalise_team(entity.owner, aliases)
            owner_source = "catalog spec.owner" if team else None
            if team is None:
                team, _ = _codeowners_team(facts, entity.path, aliases)
                owner_source = "CODEOWNERS" if team else None
            add(
                ServiceRecord(
                    service=entity.name,
                    repo=facts.repo,
                    path=entity.path,
                    identity_rule="catalog",
                    team=team,
                    owner_source=owner_source,
                    catalog=entity,
                    lifecycle=entity.lifecycle,
                    system=entity.system,
                    type=entity.type,
                    annotations=dict(entity.annotations),
                ),
                f"{facts.repo}/{entity.file}",
            )

    for entry in config.services:
        facts = by_repo.get(entry.repo)
        if facts is None:
            problems.append(Problem(f"config services[{entry.name}]", f"repo {entry.repo!r} was not crawled"))
            continue
        path = posixpath.normpath(entry.path).strip("/") if entry.path else ""
        path = "" if path == "." else path
        team = normalise_team(entry.owner, aliases)
        owner_source = "config" if team else None
        if team is None:
            team, _ = _codeowners_team(facts, path, aliases)
            owner_source = "CODEOWNERS" if team else None
        add(
            ServiceRecord(entry.name, entry.repo, path, "config", team, owner_source, lifecycle=entry.lifecycle),
            f"config services[{entry.name}]",
        )

    for facts in repos:
        if facts.archived or facts.repo in covered:
            continue
        team, _ = _codeowners_team(facts, "", aliases)
        add(
            ServiceRecord(facts.repo, facts.repo, "", "repo", team, "CODEOWNERS" if team else None),
            facts.repo,
        )
    return services, problems
