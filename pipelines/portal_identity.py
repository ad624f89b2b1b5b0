"""Services and teams from a developer portal's catalog (DESIGN.md "Identity", rule 1).

Where a Backstage is configured it is the first identity source: each
Component is a service, whether or not a crawled repository holds it; its
``spec.owner`` resolves through the portal's Groups to a team. Annotations tie
it to evidence:

* ``backstage.io/source-location`` (``url:https://github.com/org/repo/tree/main/services/x/``)
  names the repository and the service's path in it;
* ``github.com/project-slug`` (``org/repo``) names the repository;
* ``backstage.io/kubernetes-id`` joins workloads carrying that label
  (``ServiceRecord.kubernetes_id``); ``pagerduty.com/service-id`` and
  ``backstage.io/techdocs-ref`` are read by the ownership checks.

When a repository's own catalog-info.yaml describes the same Component, the
portal wins (it is what people see and what the portal's own plugins read),
and every field on which the two disagree becomes a problem a user can read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from checks.evidence import CatalogEntity, Problem
from pipelines.facts import RepoFacts
from pipelines.parsers.catalog import PROJECT_SLUG, SOURCE_LOCATION, normalise_owner, source_location_subpath
from pipelines.sources.backstage import PortalCatalog, parse_ref

PORTAL_OWNER = "portal spec.owner"  # ServiceEvidence.owner_source of a portal-owned service
_COMPARED = ("owner", "lifecycle", "system", "type")


@dataclass(slots=True)
class PortalComponent:
    entity: CatalogEntity
    portal: str
    repo: str | None  # a crawled repository's name, or None
    path: str
    team: str | None
    detail: str


def known_teams(portals: Iterable[PortalCatalog], aliases: dict[str, str]) -> list[str]:
    """The teams the portals know: one per Group, by its name (through the config's aliases)."""
    names = {aliases.get(g.name.lower(), g.name.lower()) for p in portals if p.usable for g in p.groups.values()}
    return sorted(names)


def portal_components(
    portals: Iterable[PortalCatalog], repos: list[RepoFacts], aliases: dict[str, str], problems: list[Problem],
    historical: bool = False,
) -> list[PortalComponent]:
    """Every Component of the readable portals, tied to its repository, path and team.

    ``historical``: a past date read with today's catalog; a Component whose
    repository did not exist yet was no service then, and is left out.
    """
    by_name = {f.repo.lower(): f for f in repos}
    out: list[PortalComponent] = []
    for portal in portals:
        if not portal.usable:
            continue  # never read well: the run goes on with the repositories' identity (source_status says why)
        problems.extend(portal.problems)
        for entity in portal.components:
            slug, sub_path = repository_of(entity.annotations)
            facts = by_name.get(slug.rsplit("/", 1)[-1].lower()) if slug else None
            if historical and slug and facts is None:
                continue
            entity.path = sub_path or ""
            if facts is not None and not sub_path:
                # The repository's own descriptor knows the component's folder in a monorepo.
                same = _same_entity(facts, entity)
                entity.path = same.path if same is not None else ""
            team = _team(entity.owner, portal, aliases, problems)
            ref = f"component:{entity.namespace}/{entity.name}"
            if facts is not None:
                where = f"{facts.repo}/{entity.path}".rstrip("/")
            elif slug:
                where = f"its repository {slug} is not among the crawled repositories"
            else:
                where = "no repository annotation (backstage.io/source-location, github.com/project-slug)"
            out.append(PortalComponent(entity, portal.source, facts.repo if facts else None, entity.path, team,
                                       f"Component {ref} in the Backstage portal {portal.source}: {where}"))
    return out


def repository_of(annotations: dict[str, str]) -> tuple[str | None, str | None]:
    """(``org/repo``, sub-path) from ``source-location`` or ``project-slug``; sub-path None at the root."""
    slug = annotations.get(PROJECT_SLUG, "").strip().strip("/") or None
    location = annotations.get(SOURCE_LOCATION, "").strip()
    if location.startswith("url:"):
        try:
            segments = [unquote(s) for s in urlsplit(location[len("url:"):]).path.split("/") if s]
        except ValueError:
            segments = []
        end = segments.index("tree", 2) if "tree" in segments[2:] else min(len(segments), 2)
        from_url = "/".join(s for s in segments[:end] if s != "-").removesuffix(".git") or None
        if slug is None or (from_url or "").lower() == slug.lower():
            sub_path = source_location_subpath({SOURCE_LOCATION: location}) or None
            return from_url or slug, (sub_path or "").strip("/") or None
    return slug, None


def disagreements(repo: str, file_entity: CatalogEntity, portal: PortalComponent) -> list[Problem]:
    """One problem per field the repository's catalog-info.yaml and the portal tell differently."""
    out = []
    for name in _COMPARED:
        mine = getattr(file_entity, name)
        theirs = getattr(portal.entity, name)
        if name == "owner":
            mine, theirs = normalise_owner(mine), normalise_owner(theirs)
        if (mine or "").lower() != (theirs or "").lower():
            out.append(Problem(
                f"{repo}/{file_entity.file}",
                f"{file_entity.name}: spec.{name} is {mine or '(unset)'!s} here but {theirs or '(unset)'!s} in the "
                f"Backstage portal {portal.portal}; the portal's value is used: update the file (or the portal)",
            ))
    return out


def _same_entity(facts: RepoFacts, entity: CatalogEntity) -> CatalogEntity | None:
    return next((e for e in facts.catalog if e.kind.lower() == "component" and e.name.lower() == entity.name.lower()
                 and e.namespace.lower() == entity.namespace.lower()), None)


def _team(owner: str | None, portal: PortalCatalog, aliases: dict[str, str], problems: list[Problem]) -> str | None:
    """``spec.owner`` through the portal's Groups: ``group:default/payments`` -> ``payments``."""
    if not owner:
        return None
    ref = parse_ref(owner)
    group = portal.groups.get(ref)
    if group is not None:
        return aliases.get(group.name.lower(), group.name.lower())
    if ref.startswith("group:") and portal.groups:
        problems.append(Problem(f"backstage {portal.source}",
                                f"spec.owner {owner} names no Group of the portal; taken as team {ref.rsplit('/', 1)[-1]}"))
    if not ref.startswith("group:"):
        return owner.strip()  # a User: a person, kept as written so it is never mistaken for a team
    name = ref.rsplit("/", 1)[-1]
    return aliases.get(name, name)
