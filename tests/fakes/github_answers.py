"""What the fake GitHub answers: REST bodies and GraphQL data, in GitHub's shapes.

Pure functions of the fake's state (`FakeGitHub`); the server in
`github_server` decides first whether a request is answered at all
(credentials, injected faults, the rate-limit budget) and adds the headers.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlencode

if TYPE_CHECKING:  # the server imports this module: types only, no import cycle
    from tests.fakes.github_server import FakeDeployment, FakeGitHub, FakeIssue, FakeRepo, FakeRun

API = "/api/v3"


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cursor(i: int) -> str:
    return base64.b64encode(f"cursor:{i}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.b64decode(cursor).decode().split(":")[1])


def _page(items: list, after: str | None, size: int) -> tuple[list, dict]:
    start = _offset(after)
    chunk = items[start : start + size]
    end = start + len(chunk)
    return chunk, {"hasNextPage": end < len(items), "endCursor": _cursor(end) if chunk else after}


def _paged(fake: FakeGitHub, items: list, query: dict[str, list[str]], path: str) -> tuple[list, dict[str, str]]:
    """A REST page (`page`, `per_page`) and its `Link` header."""
    per_page = min(int(query.get("per_page", ["30"])[0]), fake.page_size)
    page = int(query.get("page", ["1"])[0])
    chunk = items[(page - 1) * per_page : page * per_page]
    last = max(1, math.ceil(len(items) / per_page))
    links = []
    params = {k: v[0] for k, v in query.items()}
    if page < last:
        links.append(f'<{fake.origin}{path}?{urlencode({**params, "page": page + 1})}>; rel="next"')
        links.append(f'<{fake.origin}{path}?{urlencode({**params, "page": last})}>; rel="last"')
    return chunk, ({"Link": ", ".join(links)} if links else {})


def rest(fake: FakeGitHub, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, object, dict[str, str]]:
    """(status, JSON body, extra headers) for a REST path the source calls."""
    not_found = (404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {})
    if method != "GET":
        return not_found
    m = re.fullmatch(rf"{API}/repos/([^/]+)/([^/]+)/branches/(.+)", path)
    if m:
        repo = fake._repo(m.group(1), m.group(2))
        if repo is None:
            return not_found
        if repo.branch_status != 200:
            return repo.branch_status, {"message": "Resource not accessible by integration"}, {}
        branch = unquote(m.group(3))
        head = fake.head(repo) if branch == repo.default_branch else None
        if head is None:
            return 404, {"message": "Branch not found"}, {}
        api = f"{fake.base_url}/repos/{repo.owner}/{repo.name}"
        return 200, {
            "name": branch,
            "commit": {"sha": head[0], "url": f"{api}/commits/{head[0]}"},
            "protected": repo.protected,
            "protection_url": f"{api}/branches/{quote(branch, safe='')}/protection",
            "_links": {"self": f"{api}/branches/{quote(branch, safe='')}"},
        }, {}
    m = re.fullmatch(rf"{API}/repos/([^/]+)/([^/]+)", path)
    if m:
        repo = fake._repo(m.group(1), m.group(2))
        if repo is None:
            return not_found
        api = f"{fake.base_url}/repos/{repo.owner}/{repo.name}"
        return 200, {"id": 1, "name": repo.name, "full_name": f"{repo.owner}/{repo.name}", "url": api,
                     "archived": repo.archived, "default_branch": repo.default_branch}, {}
    m = re.fullmatch(rf"{API}/repos/([^/]+)/([^/]+)/actions/runs", path)
    if m:
        repo = fake._repo(m.group(1), m.group(2))
        if repo is None:
            return not_found
        branch = query.get("branch", [None])[0]
        runs = [r for r in repo.runs if branch is None or r.head_branch == branch]
        runs.sort(key=lambda r: r.created_at, reverse=True)
        chunk, links = _paged(fake, runs, query, path)
        api = f"{fake.base_url}/repos/{repo.owner}/{repo.name}"
        return 200, {"total_count": len(runs), "workflow_runs": [_run_json(r, api) for r in chunk]}, links
    m = re.fullmatch(rf"{API}/orgs/([^/]+)/teams", path)
    if m:
        if m.group(1) != fake.org:
            return not_found
        chunk, links = _paged(fake, fake.teams, query, path)
        return 200, [
            {"id": i, "slug": t.slug, "name": t.name, "url": f"{fake.base_url}/orgs/{fake.org}/teams/{t.slug}"}
            for i, t in enumerate(chunk, start=1)
        ], links
    m = re.fullmatch(rf"{API}/orgs/([^/]+)/teams/([^/]+)/members", path)
    if m:
        team = next((t for t in fake.teams if t.slug == m.group(2)), None)
        if m.group(1) != fake.org or team is None:
            return not_found
        chunk, links = _paged(fake, team.members, query, path)
        return 200, [{"login": u, "id": i, "url": f"{fake.base_url}/users/{u}"} for i, u in enumerate(chunk, 1)], links
    return not_found


# ------------------------------------------------------------------- GraphQL


def graphql(fake: FakeGitHub, payload: dict, operation: str | None) -> dict:
    """The GraphQL answer to one of the operations the source sends, by operation name."""
    v = payload.get("variables") or {}
    query = payload.get("query", "")
    rate = {"cost": 1, "remaining": max(0, fake.remaining["graphql"] - 1), "resetAt": iso(
        dt.datetime.fromtimestamp(fake.reset_at["graphql"], dt.UTC))}
    if operation == "OrgRepositories":
        if v.get("org") != fake.org:
            return {"data": {"organization": None, "rateLimit": rate}, "errors": [
                {"type": "NOT_FOUND", "path": ["organization"], "message": f"Could not resolve to an Organization with the login of '{v.get('org')}'."}]}
        repos = sorted((r for r in fake.repos.values() if r.owner == fake.org and not r.deleted), key=lambda r: r.name.lower())
        chunk, info = _page(repos, v.get("after"), min(100, fake.page_size))
        for r in chunk:
            r.listed = True
        return {"data": {"rateLimit": rate, "organization": {"repositories": {
            "pageInfo": info, "nodes": [_repo_node(fake, r, v) for r in chunk]}}}}
    if operation == "NamedRepositories":
        data: dict = {"rateLimit": rate}
        errors = []
        pattern = r'(\w+)\s*:\s*repository\(\s*owner:\s*("(?:[^"\\]|\\.)*")\s*,\s*name:\s*("(?:[^"\\]|\\.)*")\s*\)'
        for alias, owner, name in re.findall(pattern, query):
            repo = fake._repo(json.loads(owner), json.loads(name))
            if repo is None:
                data[alias] = None
                errors.append({"type": "NOT_FOUND", "path": [alias], "message": f"Could not resolve to a Repository with the name '{json.loads(owner)}/{json.loads(name)}'."})
            else:
                repo.listed = True
                data[alias] = _repo_node(fake, repo, v)
        out = {"data": data}
        if errors:
            out["errors"] = errors
        return out
    if operation == "RepositoryHistory":
        nodes = []
        for node_id in v.get("ids") or []:
            repo = next((r for r in fake.repos.values() if r.node_id == node_id), None)
            if repo is not None:
                repo = fake._repo(repo.owner, repo.name)
            nodes.append(None if repo is None else _history_node(fake, repo, v, None, None))
        return {"data": {"rateLimit": rate, "nodes": nodes}}
    if operation == "RepositoryHistoryPage":
        repo = next((r for r in fake.repos.values() if r.node_id == v.get("id")), None)
        if repo is not None:
            repo = fake._repo(repo.owner, repo.name)
        node = None if repo is None else _history_node(fake, repo, v, v.get("deploymentsAfter"), v.get("issuesAfter"))
        return {"data": {"rateLimit": rate, "node": node}}
    return {"errors": [{"message": f"fake GitHub does not know operation {operation!r}"}]}


def _deployments(repo: FakeRepo, envs: list[str] | None) -> list[FakeDeployment]:
    deps = [d for d in repo.deployments if envs is None or d.environment in envs]
    return sorted(deps, key=lambda d: (d.created_at, d.id), reverse=True)


def _issues(repo: FakeRepo, labels: list[str] | None) -> list[FakeIssue]:
    return [i for i in repo.issues if not labels or set(labels) & set(i.labels)]


def _repo_node(fake: FakeGitHub, repo: FakeRepo, v: dict) -> dict:
    head = fake.head(repo)
    deps = _deployments(repo, v.get("envs"))
    node = {
        "id": repo.node_id,
        "name": repo.name,
        "nameWithOwner": f"{repo.owner}/{repo.name}",
        "owner": {"login": repo.owner},
        "url": f"{fake.origin}/{repo.owner}/{repo.name}",
        "isArchived": repo.archived,
        "isFork": repo.fork,
        "isEmpty": head is None,
        "visibility": repo.visibility,
        "pushedAt": iso(repo.pushed_at or (head[1] if head else None)),
        "repositoryTopics": {"nodes": [{"topic": {"name": t}} for t in repo.topics]},
        "defaultBranchRef": None if head is None else {
            "name": repo.default_branch, "target": {"oid": head[0], "committedDate": iso(head[1])}},
        "deploySig": {"totalCount": len(deps), "nodes": [
            {"databaseId": d.id, "latestStatus": {"id": f"DS_{d.id}_{len(d.statuses)}", "state": d.statuses[-1][0]} if d.statuses else None}
            for d in deps[:1]]},
    }
    if v.get("withIncidents"):
        issues = sorted(_issues(repo, v.get("labels")), key=lambda i: max(i.created_at, i.closed_at or i.created_at), reverse=True)
        node["incidentSig"] = {"totalCount": len(issues), "nodes": [
            {"updatedAt": iso(max(i.created_at, i.closed_at or i.created_at))} for i in issues[:1]]}
    return node


def _history_node(fake: FakeGitHub, repo: FakeRepo, v: dict, deployments_after: str | None, issues_after: str | None) -> dict:
    node: dict = {"id": repo.node_id}
    size = min(100, fake.page_size)
    if v.get("withDeployments"):
        chunk, info = _page(_deployments(repo, v.get("envs")), deployments_after, size)
        node["deployments"] = {"pageInfo": info, "nodes": [
            {"databaseId": d.id, "commitOid": d.sha, "createdAt": iso(d.created_at), "environment": d.environment,
             "statuses": {"nodes": [{"state": s, "createdAt": iso(at)} for s, at in d.statuses]}}
            for d in chunk]}
    if v.get("withIncidents"):
        issues = sorted(_issues(repo, v.get("labels")), key=lambda i: i.created_at, reverse=True)
        chunk, info = _page(issues, issues_after, size)
        node["issues"] = {"pageInfo": info, "nodes": [
            {"number": i.number, "createdAt": iso(i.created_at), "closedAt": iso(i.closed_at)} for i in chunk]}
    return node


def _run_json(run: FakeRun, api: str) -> dict:
    started = run.created_at + dt.timedelta(seconds=5)
    updated = started + dt.timedelta(seconds=run.duration_s) if run.status == "completed" else started
    return {
        "id": run.id,
        "name": run.name,
        "path": run.path,
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "created_at": iso(run.created_at),
        "run_started_at": iso(started),
        "updated_at": iso(updated),
        "url": f"{api}/actions/runs/{run.id}",
    }
