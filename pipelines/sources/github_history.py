"""Deployments and incident issues of GitHub repositories, read in batches.

Read only for repositories whose signature in the inventory moved since the
last crawl (`GitHubSource` decides which): one GraphQL query per
HISTORY_BATCH repositories, then further pages for a repository only while
its newest-first connections are still inside the history window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipelines.sources.github_client import ApiError, Client
from pipelines.sources.github_inventory import RepoInfo
from pipelines.sources.github_state import RepoDeployment, RepoIncident, parse_time

HISTORY_BATCH = 20  # repositories per deployments/incidents query (100 x 20 statuses each)

_HISTORY_FIELDS = """
  deployments(environments: $envs, first: 100, after: $deploymentsAfter, orderBy: {field: CREATED_AT, direction: DESC}) @include(if: $withDeployments) {
    pageInfo { hasNextPage endCursor }
    nodes { databaseId commitOid createdAt environment statuses(first: 20) { nodes { state createdAt } } }
  }
  issues(labels: $labels, first: 100, after: $issuesAfter, orderBy: {field: CREATED_AT, direction: DESC}) @include(if: $withIncidents) {
    pageInfo { hasNextPage endCursor }
    nodes { number createdAt closedAt }
  }
"""

REPOSITORY_HISTORY = """query RepositoryHistory($ids: [ID!]!, $envs: [String!], $labels: [String!], $withDeployments: Boolean!, $withIncidents: Boolean!, $deploymentsAfter: String, $issuesAfter: String) {
  rateLimit { cost remaining resetAt }
  nodes(ids: $ids) { ... on Repository { id %s } }
}
""" % _HISTORY_FIELDS

REPOSITORY_HISTORY_PAGE = """query RepositoryHistoryPage($id: ID!, $envs: [String!], $labels: [String!], $withDeployments: Boolean!, $withIncidents: Boolean!, $deploymentsAfter: String, $issuesAfter: String) {
  rateLimit { cost remaining resetAt }
  node(id: $id) { ... on Repository { id %s } }
}
""" % _HISTORY_FIELDS


@dataclass(slots=True)
class History:
    """What was read for one repository; None where it was not asked for or not read."""

    deployments: list[RepoDeployment] | None = None
    incidents: list[RepoIncident] | None = None
    problem: str | None = None


def fetch_history(client: Client, todo: list[tuple[RepoInfo, bool, bool]], variables: dict, window: dt.datetime,
                  into: dict[str, History]) -> None:
    """Read the history of each repository in ``todo`` (with whether to read its
    deployments and its incidents) into ``into``, by repository key.

    Each batch lands as it is read, so a rate-limit deferral midway keeps what
    was read before it; a repository the query failed for gets its `problem`.
    """
    for start in range(0, len(todo), HISTORY_BATCH):
        batch = todo[start : start + HISTORY_BATCH]
        for with_deps, with_incs in {(d, i) for _, d, i in batch}:
            group = [info for info, d, i in batch if (d, i) == (with_deps, with_incs)]
            _read_batch(client, group, variables, with_deps, with_incs, window, into)


def _read_batch(client: Client, group: list[RepoInfo], variables: dict, with_deps: bool, with_incs: bool,
                window: dt.datetime, into: dict[str, History]) -> None:
    flags = {**variables, "withDeployments": with_deps, "withIncidents": with_incs,
             "deploymentsAfter": None, "issuesAfter": None}
    try:
        data, errors = client.graphql(REPOSITORY_HISTORY, {"ids": [i.node_id for i in group], **flags},
                                      category="history")
    except ApiError as exc:
        for info in group:
            into[info.key] = History(problem=f"deployments not read: {exc}")
        return
    failed = {e["path"][1] for e in errors if isinstance(e.get("path"), list) and len(e["path"]) > 1}
    for index, (info, node) in enumerate(zip(group, data.get("nodes") or [None] * len(group), strict=False)):
        if node is None or index in failed:
            why = next((e.get("message") for e in errors if (e.get("path") or [None, None])[1:2] == [index]), None)
            into[info.key] = History(problem=f"deployments not read: {why or 'repository not returned'}")
            continue
        try:
            into[info.key] = _read_pages(client, info, node, flags, with_deps, with_incs, window)
        except ApiError as exc:
            into[info.key] = History(problem=f"deployments not read: {exc}")


def _read_pages(client: Client, info: RepoInfo, node: dict, flags: dict, with_deps: bool, with_incs: bool,
               window: dt.datetime) -> History:
    """Follow each connection newest-first until it leaves the history window."""
    deployments: list[dict] = []
    issues: list[dict] = []
    while True:
        more = {}
        for key, sink in (("deployments", deployments), ("issues", issues)):
            conn = node.get(key)
            if not conn:
                continue
            nodes = conn.get("nodes") or []
            sink.extend(nodes)
            oldest = parse_time(nodes[-1]["createdAt"]) if nodes else None
            if conn["pageInfo"]["hasNextPage"] and oldest is not None and oldest >= window:
                more[key] = conn["pageInfo"]["endCursor"]
        if not more:
            break
        variables = {**flags, "id": info.node_id, "withDeployments": "deployments" in more,
                     "withIncidents": "issues" in more, "deploymentsAfter": more.get("deployments"),
                     "issuesAfter": more.get("issues")}
        data, errors = client.graphql(REPOSITORY_HISTORY_PAGE, variables, category="history")
        node = data.get("node") or {}
        if errors or not node:
            raise ApiError(200, "; ".join(e.get("message", "") for e in errors) or "repository not returned")
    history = History()
    if with_deps:
        history.deployments = [d for d in (github_deployment(info.key, n) for n in deployments)
                               if d is not None and d.deployed_at >= window]
    if with_incs:
        history.incidents = [
            RepoIncident(info.key, parse_time(n["createdAt"]), parse_time(n.get("closedAt")), f"issue #{n['number']}")  # type: ignore[arg-type]
            for n in issues if parse_time(n["createdAt"]) >= window  # type: ignore[operator]
        ]
    return history


def github_deployment(repo: str, node: dict) -> RepoDeployment | None:
    """A GitHub deployment as a deploy event: its sha, and the time of its success status."""
    statuses = sorted((node.get("statuses") or {}).get("nodes") or [], key=lambda s: s["createdAt"])
    success = [s for s in statuses if s["state"] == "SUCCESS"]
    if success:
        status, at = "success", success[0]["createdAt"]
    elif statuses:
        state = statuses[-1]["state"]
        if state == "INACTIVE":
            return None  # superseded before it ever succeeded: not a deploy
        status = {"FAILURE": "failure", "ERROR": "error"}.get(state, "in_progress")
        at = statuses[-1]["createdAt"]
    else:
        status, at = "in_progress", node["createdAt"]
    return RepoDeployment(repo, node["environment"], node["commitOid"], parse_time(at), status, "github_deployment")  # type: ignore[arg-type]
