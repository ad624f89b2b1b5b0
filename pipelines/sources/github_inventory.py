"""What the GitHub source lists before it crawls: repositories and teams.

One GraphQL query per INVENTORY_PAGE repositories (or NAMED_BATCH named ones)
gives each repository's facts and two signatures: its newest production
deployment and its newest incident issue. The source compares them with the
last crawl's to decide which repositories need their history read again
(`github_history`) and which can keep the stored one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from pipelines.sources.github_client import ApiError, Client, GitHubSourceError, next_link

INVENTORY_PAGE = 100
NAMED_BATCH = 50  # aliased repository lookups per query when the config lists repos

_REPO_FIELDS = """
fragment RepoFields on Repository {
  id name nameWithOwner url isArchived isFork isEmpty visibility pushedAt
  owner { login }
  repositoryTopics(first: 20) { nodes { topic { name } } }
  defaultBranchRef { name target { oid ... on Commit { committedDate } } }
  deploySig: deployments(environments: $envs, first: 1, orderBy: {field: CREATED_AT, direction: DESC}) {
    totalCount nodes { databaseId latestStatus { id state } }
  }
  incidentSig: issues(labels: $labels, first: 1, orderBy: {field: UPDATED_AT, direction: DESC}) @include(if: $withIncidents) {
    totalCount nodes { updatedAt }
  }
}
"""

ORG_REPOSITORIES = """query OrgRepositories($org: String!, $after: String, $envs: [String!], $labels: [String!], $withIncidents: Boolean!) {
  rateLimit { cost remaining resetAt }
  organization(login: $org) {
    repositories(first: %d, after: $after, orderBy: {field: NAME, direction: ASC}) {
      pageInfo { hasNextPage endCursor }
      nodes { ...RepoFields }
    }
  }
}
""" % INVENTORY_PAGE + _REPO_FIELDS

def _named_repositories_query(pairs: list[tuple[str, str]]) -> str:
    # GraphQL has no "repositories by name" list field: one aliased lookup each.
    # json.dumps gives a valid GraphQL string literal for any name.
    fields = "\n".join(
        f"  r{i}: repository(owner: {json.dumps(owner)}, name: {json.dumps(name)}) {{ ...RepoFields }}"
        for i, (owner, name) in enumerate(pairs)
    )
    return (
        "query NamedRepositories($envs: [String!], $labels: [String!], $withIncidents: Boolean!) {\n"
        "  rateLimit { cost remaining resetAt }\n" + fields + "\n}\n" + _REPO_FIELDS
    )


@dataclass(slots=True)
class RepoInfo:
    """One repository as the inventory saw it."""

    key: str  # RepoFacts.repo: the name, or owner/name outside the organisation
    owner: str
    name: str
    node_id: str | None = None
    url: str | None = None
    archived: bool = False
    fork: bool = False
    visibility: str | None = None
    topics: list[str] = field(default_factory=list)
    pushed_at: str | None = None
    default_branch: str | None = None
    head: str | None = None
    deploy_sig: list | None = None
    deployments_total: int = 0
    incident_sig: list | None = None
    incidents_total: int = 0
    error: str | None = None  # a listed repository the token cannot see

    def api_facts(self) -> dict:
        return {"url": self.url, "fork": self.fork, "visibility": self.visibility, "topics": list(self.topics),
                "pushed_at": self.pushed_at}

    # What the next run needs when it cannot list the organisation: where the
    # repository is, and whether it was scored at all.
    _STATE = ("owner", "name", "url", "archived", "fork", "visibility", "default_branch", "error")

    def to_state(self) -> dict:
        return {k: getattr(self, k) for k in self._STATE}

    @classmethod
    def from_state(cls, key: str, data: dict) -> RepoInfo:
        return cls(key=key, **{"owner": "", "name": key, **{k: v for k, v in data.items() if k in cls._STATE}})


def list_org(client: Client, org: str, variables: dict) -> list[RepoInfo]:
    """Every repository of the organisation, INVENTORY_PAGE per query."""
    out: list[RepoInfo] = []
    after = None
    while True:
        data, errors = client.graphql(ORG_REPOSITORIES, {"org": org, "after": after, **variables}, category="inventory")
        found = data.get("organization")
        if found is None:
            why = "; ".join(e.get("message", "") for e in errors) or "not found"
            raise GitHubSourceError(f"organisation {org!r} cannot be read: {why}")
        conn = found["repositories"]
        out.extend(repo_info(node, org) for node in conn["nodes"] if node)
        if not conn["pageInfo"]["hasNextPage"]:
            return out
        after = conn["pageInfo"]["endCursor"]


def list_named(client: Client, repos: list[str], org: str | None, variables: dict) -> list[RepoInfo]:
    """The listed repositories ("name" in ``org``, or "owner/name"); one the token cannot see
    is listed with its error."""
    pairs = [tuple(r.split("/", 1)) if "/" in r else (org, r) for r in repos]
    out: list[RepoInfo] = []
    for start in range(0, len(pairs), NAMED_BATCH):
        batch = pairs[start : start + NAMED_BATCH]
        data, _ = client.graphql(_named_repositories_query(batch), variables, category="inventory")
        for i, (owner, name) in enumerate(batch):
            node = data.get(f"r{i}")
            if node:
                out.append(repo_info(node, org))
            else:
                key = name if org and owner.lower() == org.lower() else f"{owner}/{name}"
                out.append(RepoInfo(key=key, owner=owner, name=name,
                                    error=f"repository {owner}/{name} not found, or the token may not read it"))
    return out


def repo_info(node: dict, org: str | None) -> RepoInfo:
    """A repository node of the inventory queries (`RepoFields`)."""
    owner = node["owner"]["login"]
    ref = node.get("defaultBranchRef") or {}
    deploy = node.get("deploySig") or {}
    incident = node.get("incidentSig") or {}
    return RepoInfo(
        key=node["name"] if org and owner.lower() == org.lower() else f"{owner}/{node['name']}",
        owner=owner,
        name=node["name"],
        node_id=node["id"],
        url=node["url"],
        archived=bool(node.get("isArchived")),
        fork=bool(node.get("isFork")),
        visibility=node.get("visibility"),
        topics=[t["topic"]["name"] for t in (node.get("repositoryTopics") or {}).get("nodes", [])],
        pushed_at=node.get("pushedAt"),
        default_branch=ref.get("name"),
        head=(ref.get("target") or {}).get("oid"),
        deploy_sig=[deploy.get("totalCount", 0), deploy.get("nodes")],
        deployments_total=int(deploy.get("totalCount") or 0),
        incident_sig=[incident.get("totalCount", 0), incident.get("nodes")] if incident else None,
        incidents_total=int(incident.get("totalCount") or 0),
    )


def fetch_teams(client: Client, base_url: str, organisation: str, cache: dict) -> tuple[dict[str, list[str]], dict]:
    """Teams and members, every page a conditional request (an unchanged org answers 304s)."""
    new_cache: dict = {}

    def pages(path: str) -> list:
        items: list = []
        url: str | None = f"{path}?{urlencode({'per_page': 100})}"
        while url:
            key = url if url.startswith("/") else urlsplit(url).path + "?" + urlsplit(url).query
            key = key.removeprefix(urlsplit(base_url).path)
            resp = client.get(key, cached=cache.get(key), category="teams")
            if resp.status not in (200, 304):
                raise ApiError(resp.status, f"GET {key}: HTTP {resp.status}")
            if resp.not_modified:
                entry = cache[key]
            else:
                entry = {"etag": resp.headers.get("etag"),
                         "data": {"items": resp.data, "next": next_link(resp.headers)}}
            new_cache[key] = entry
            items.extend(entry["data"]["items"])
            nxt = entry["data"]["next"]
            url = (urlsplit(nxt).path + "?" + urlsplit(nxt).query) if nxt else None
        return items

    org = quote(organisation, safe="")
    teams: dict[str, list[str]] = {}
    for team in pages(f"/orgs/{org}/teams"):
        slug = team["slug"]
        teams[slug] = sorted(m["login"] for m in pages(f"/orgs/{org}/teams/{quote(slug, safe='')}/members"))
    return teams, new_cache
