"""Service identity: which services exist, where they live and who owns them.

Resolution order (DESIGN.md "Identity"), recorded per service in
``identity_rule``:

1. ``catalog``: Backstage ``kind: Component`` entities: a configured
   portal's first (``pipelines.portal_identity``; the portal wins over a
   repository's file describing the same entity), then the repositories'
   catalog files (several per monorepo, each at its own path);
2. ``config``: explicit ``services:`` entries in scorecard.yaml;
3. ``discovered``: the deployables of a repository (``pipelines.discovery``),
   one service each, when it builds more than one or also holds declared
   services; deployables already covered by a declared service's path are
   that service;
4. ``repo``: fallback, one repository = one service, owner from CODEOWNERS
   (also for a repository that builds exactly one deployable).

Each record says in ``identity_detail`` which files made it a service, so
``scorecard explain`` can tell a user how the identity was inferred.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from checks.evidence import CatalogEntity, Problem
from pipelines import parsers
from pipelines.config import ScorecardConfig
from pipelines.discovery import Deployable, discover
from pipelines.facts import RepoFacts
from pipelines.portal_identity import PORTAL_OWNER, disagreements, portal_components
from pipelines.sources.backstage import PortalCatalog


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
    identity_detail: str | None = None  # which files or entries made it a service
    aliases: tuple[str, ...] = ()  # other names its workloads go by (images built from its folder)

    @property
    def kubernetes_id(self) -> str:
        """The label value its workloads carry (DESIGN.md: backstage.io/kubernetes-id)."""
        return self.annotations.get("backstage.io/kubernetes-id") or self.service

    @property
    def join_names(self) -> tuple[str, ...]:
        """Every value a workload may carry to join this service (see pipelines.evidence)."""
        return tuple(dict.fromkeys((self.kubernetes_id, self.service, *self.aliases)))


def normalise_team(owner: str | None, aliases: dict[str, str], organisation: str | None = None) -> str | None:
    """Map "@acme/payments", "group:default/payments", "Payments" to the configured team name.

    A GitHub team of another organisation (``@other-org/payments`` when the
    config's organisation is ``acme``) stays as written: it is not your
    ``payments`` team, unless a team lists it as an alias.
    """
    if not owner:
        return None
    raw = owner.strip()
    key = raw.lower()
    if key in aliases:
        return aliases[key]
    if organisation and key.startswith("@") and "/" in key and key[1:].split("/", 1)[0] != organisation.lower():
        return raw
    bare = key.removeprefix("group:").removeprefix("default/").lstrip("@")
    bare = bare.rsplit("/", 1)[-1]
    return aliases.get(bare, bare)


def _codeowners_team(
    facts: RepoFacts, path: str, aliases: dict[str, str], organisation: str | None
) -> tuple[str | None, list[str] | None]:
    if facts.codeowners is None:
        return None, None
    owners = parsers.owners_for(facts.codeowners, path)
    teams = [o for o in owners if "/" in o]  # prefer a team over an individual (@alice)
    pick = (teams or owners or [None])[0]
    return normalise_team(pick, aliases, organisation), owners


def resolve_services(
    repos: list[RepoFacts], config: ScorecardConfig, portals: tuple[PortalCatalog, ...] | list[PortalCatalog] = (),
    historical: bool = False,
) -> tuple[list[ServiceRecord], list[Problem]]:
    """All services across the crawled repos and portals, and identity problems (duplicate names...)."""
    aliases = config.team_aliases()
    org = config.organisation
    services: list[ServiceRecord] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}  # service name -> where it was first declared

    def add(record: ServiceRecord, where: str) -> None:
        if record.service in seen:
            problems.append(
                Problem(where, f"service {record.service!r} is already declared in {seen[record.service]}; ignored here")
            )
            return
        seen[record.service] = where
        services.append(record)

    def owner(facts: RepoFacts, declared: str | None, source: str, path: str) -> tuple[str | None, str | None]:
        team = normalise_team(declared, aliases, org)
        if team is not None:
            return team, source
        team, _ = _codeowners_team(facts, path, aliases, org)
        return team, "CODEOWNERS" if team else None

    live = [f for f in repos if not f.archived]  # archived repos are not scored (they cannot change)
    by_repo = {f.repo: f for f in live}
    from_portal = {}  # (namespace, name) -> the portal's component, which wins over a repository's file
    for pc in portal_components(portals, live, aliases, problems, historical):
        e = pc.entity
        from_portal.setdefault((e.namespace.lower(), e.name.lower()), pc)
        add(
            ServiceRecord(
                service=e.name, repo=pc.repo, path=pc.path, identity_rule="catalog", team=pc.team,
                owner_source=PORTAL_OWNER if pc.team else None, catalog=e, lifecycle=e.lifecycle, system=e.system,
                type=e.type, annotations=dict(e.annotations), identity_detail=pc.detail,
            ),
            f"the Backstage portal {pc.portal}",
        )
    for facts in live:
        for entity in facts.catalog:
            if entity.kind.lower() != "component" or not entity.name:
                continue
            portal = from_portal.get((entity.namespace.lower(), entity.name.lower()))
            if portal is not None:
                problems.extend(disagreements(facts.repo, entity, portal))
                continue
            team, owner_source = owner(facts, entity.owner, "catalog spec.owner", entity.path)
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
                    identity_detail=f"catalog entity Component {entity.name} in {entity.file}",
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
        team, owner_source = owner(facts, entry.owner, "config", path)
        add(
            ServiceRecord(entry.name, entry.repo, path, "config", team, owner_source, lifecycle=entry.lifecycle,
                          identity_detail=f"`services:` entry {entry.name} in the config"),
            f"config services[{entry.name}]",
        )

    declared: dict[str, list[str]] = {}
    for rec in services:
        if rec.repo:
            declared.setdefault(rec.repo, []).append(rec.path)
    discovered = _discovered(live, declared, config)
    taken = set(seen)
    for facts, d in discovered:
        name = _unique_name(d, facts.repo, taken, discovered)
        taken.add(name)
        team, owner_source = owner(facts, None, "", d.path)
        add(
            ServiceRecord(name, facts.repo, d.path, "discovered", team, owner_source,
                          identity_detail=d.explain(), aliases=tuple(a for a in d.aliases if a != name)),
            f"{facts.repo}/{d.path}",
        )

    covered = {rec.repo for rec in services if rec.repo}
    for facts in live:
        if facts.repo in covered:
            continue
        team, owner_source = owner(facts, None, "", "")
        found = discover(facts, config.discovery) if not facts.error else []
        if found:
            detail = f"the repository builds one deployable ({found[0].explain()})"
            names = tuple(n for n in (found[0].name, *found[0].aliases) if n != facts.repo)
        else:
            detail = "no catalog entity, `services:` entry or deployable folder: the repository is one service"
            names = ()
        add(ServiceRecord(facts.repo, facts.repo, "", "repo", team, owner_source, identity_detail=detail,
                          aliases=names), facts.repo)
    return services, problems


def _discovered(
    repos: list[RepoFacts], declared: dict[str, list[str]], config: ScorecardConfig
) -> list[tuple[RepoFacts, Deployable]]:
    """Deployables that become services of their own.

    A repository that builds a single deployable and declares nothing is one
    service (the repo rule); a deployable inside a declared service's path is
    that service. A repository whose crawl failed has no known deployables.
    """
    out = []
    for facts in repos:
        if facts.error:
            continue
        paths = declared.get(facts.repo, [])
        found = [
            d for d in discover(facts, config.discovery)
            if not any(p == "" or d.path == p or d.path.startswith(p + "/") for p in paths)
        ]
        if len(found) > 1 or (found and paths):
            out.extend((facts, d) for d in found)
    return out


def _unique_name(d: Deployable, repo: str, taken: set[str], discovered: list[tuple[RepoFacts, Deployable]]) -> str:
    """A deployable's folder name, prefixed with its repository where another service has it too."""
    clashes = sum(1 for _, other in discovered if other.name == d.name)
    if d.name not in taken and clashes == 1:
        return d.name
    name = f"{repo}-{d.name}" if d.name != repo else repo
    if name in taken:
        name = f"{repo}-{d.path.replace('/', '-')}" if d.path else repo
    return name
