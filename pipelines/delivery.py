"""DORA metrics, exactly as DESIGN.md "Metric definitions" defines them.

Two steps:

1. per service (graph work, linear in the commits its deploys shipped):
   attribute each commit to the first successful production deployment whose
   range ``(previous deployed sha, this deployed sha]`` contains it, with git
   answering the ancestry (`attribute_changes`);
2. per service, set-based in DuckDB: lead time p50/p90 over the trailing 30
   days, deploy-days per week (median of the trailing 12 weeks), change failure
   rate and time to restore (trailing 90 days).

Deployments of a service come from deploy events for a production
environment with status ``success``; a service without such events falls back
to the ReplicaSet revisions of its production workloads (a cluster's rollout
history, see ``pipelines.sources.rollouts``), and a service with neither to
release tags matching the configured pattern (a tag's time is its tagger date
if annotated, else its commit's committer date). Using more than one would
count one release twice; the order is most to least direct evidence of a
production deploy.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from checks.dora import change_failure_tier, deploy_frequency_tier, lead_time_tier, restore_tier
from checks.evidence import DeliveryMetrics
from pipelines.facts import Commit, Tag
from pipelines.sources.base import Ancestry
from pipelines.sources.events import DeploymentEvent, IncidentEvent

LEAD_TIME_WINDOW_DAYS = 30
FREQUENCY_WEEKS = 12
FAILURE_WINDOW_DAYS = 90


@dataclass(slots=True)
class Deploy:
    service: str
    sha: str
    deployed_at: dt.datetime
    source: str  # "event" | "tag" | "replicaset"


def window_end(as_of: dt.date) -> dt.datetime:
    """Snapshots are as of the end of their day, in UTC."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)


def production_deploys(
    service_repo: dict[str, str | None],
    events: Iterable[DeploymentEvent],
    tags_by_repo: dict[str, list[Tag]],
    tag_pattern: str | None,
    production: frozenset[str],
    until: dt.datetime,
    rollouts: Iterable[Deploy] = (),
) -> list[Deploy]:
    deploys: list[Deploy] = []
    with_events: set[str] = set()
    for ev in events:
        at = ev.deployed_at.astimezone(dt.UTC)
        if ev.service in service_repo and ev.status == "success" and ev.environment.lower() in production and at < until:
            deploys.append(Deploy(ev.service, ev.sha, at, "event"))
            with_events.add(ev.service)
    with_rollouts: set[str] = set()
    for d in rollouts:
        if d.service in service_repo and d.service not in with_events and d.deployed_at < until:
            deploys.append(d)
            with_rollouts.add(d.service)
    with_events |= with_rollouts
    if tag_pattern:
        pattern = re.compile(tag_pattern)
        for service, repo in service_repo.items():
            if service in with_events or not repo:
                continue
            for tag in tags_by_repo.get(repo, []):
                if pattern.search(tag.name) and tag.time < until:
                    deploys.append(Deploy(service, tag.sha, tag.time, "tag"))
    deploys.sort(key=lambda d: (d.service, d.deployed_at))
    return deploys


def attribute_changes(commits: list[Commit], deploys: list[Deploy], path: str) -> list[tuple[str, dt.datetime, Deploy]]:
    """(sha, committer time, deployment) for each change a deployment shipped.

    A commit belongs to the first deployment, in time order, whose deployed
    sha has it as an ancestor: ``(previous deployed sha, this deployed sha]``
    (``git rev-list prev..this``) for ordered history, and still the first
    deployment that contains it when deploys go back and forth. Ancestry is
    the repository's own, so a release tagged on a release branch or on a
    detached commit, or a deploy event or ReplicaSet naming a sha on no
    default branch, ships what git says it contains.

    The first deployment we know of has no previous sha (records start
    there, not the service), so it only marks commits as shipped and yields
    no lead times.

    `commits` is a crawl's history: with a git repository behind it
    (``CommitHistory.repository``) git answers; otherwise the listed commits
    are walked by their parents.
    """
    repository = getattr(commits, "repository", None)
    if repository is not None:
        return _attribute_with_git(repository, sorted(deploys, key=lambda d: d.deployed_at), path)
    by_sha = {c.sha: c for c in commits}
    resolve = _prefix_resolver(by_sha)
    seen: set[str] = set()
    out: list[tuple[str, dt.datetime, Deploy]] = []
    first = True
    for deploy in deploys:
        head = resolve(deploy.sha)
        if head is None:
            continue  # a sha outside the listed history
        stack = [head]
        shipped = []
        while stack:
            sha = stack.pop()
            if sha in seen:
                continue
            seen.add(sha)
            commit = by_sha.get(sha)
            if commit is None:
                continue
            shipped.append(commit)
            stack.extend(commit.parents)
        if first:
            first = False
            continue
        for commit in shipped:
            if not path or any(p == path or p.startswith(path + "/") for p in commit.paths):
                out.append((commit.sha, commit.committer_time, deploy))
    return out


# Only deployments inside a metric window need their change sets: lead time
# reads the changes of the last 30 days' deploys, change failure rate links an
# incident's root-cause sha to the deploy that shipped it over 90 days, and
# deploy frequency counts deploys without looking at commits.
CHANGE_WINDOW_DAYS = max(LEAD_TIME_WINDOW_DAYS, FAILURE_WINDOW_DAYS)


_FULL_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def _attribute_with_git(repository: Ancestry, deploys: list[Deploy], path: str) -> list[tuple[str, dt.datetime, Deploy]]:
    """The same rule, asked of git with one walk for all of a service's windowed deploys.

    ``git rev-list <deploys in the window> --not <every earlier deploy>`` is
    the union of their ranges; walking it from each deploy in time order
    hands every commit to the first deploy that reaches it. The walk is
    bounded by the deploys before the window, not by a branch or a number of
    days, so a change that waited a year on a branch still counts. In a
    monorepo, git's own path-limited walk decides which commits touch the
    service's path (a merge counts only when it differs from every parent
    there, i.e. it resolved changes from both sides).
    """
    if all(_FULL_SHA.fullmatch(d.sha) for d in deploys):
        # Deployed shas are mostly full commit shas the clone has (tags, API
        # deployments): walk at once, one git call per service on a
        # 1,000-repository run. Git refuses the walk if one is unknown, and a
        # head outside the walk may be a tag object: then resolve each first.
        out = _walk_deploys(repository, [(d, d.sha) for d in deploys], path, strict=True)
        if out is not None:
            return out
    resolved = repository.resolve(d.sha for d in deploys)
    return _walk_deploys(repository, [(d, resolved[d.sha]) for d in deploys if d.sha in resolved], path) or []


def _walk_deploys(
    repository: Ancestry, known: list[tuple[Deploy, str]], path: str, strict: bool = False
) -> list[tuple[str, dt.datetime, Deploy]] | None:
    if len(known) < 2:
        return []
    first_in_window = 1
    if repository.until is not None:
        since = repository.until - dt.timedelta(days=CHANGE_WINDOW_DAYS)
        while first_in_window < len(known) and known[first_in_window][0].deployed_at < since:
            first_in_window += 1
    shipping = known[first_in_window:]
    if not shipping:
        return []
    include = list(dict.fromkeys(sha for _, sha in shipping))
    exclude = list(dict.fromkeys(sha for _, sha in known[:first_in_window]))
    graph = repository.walk(include, exclude)
    if graph is None or (strict and not all(sha in graph for sha in include)):
        return None  # git could not walk this: lead time unknown, not zero
    touching = repository.touching(include, exclude, path) if path else None
    if path and touching is None:
        return None
    seen: set[str] = set()
    out: list[tuple[str, dt.datetime, Deploy]] = []
    for deploy, head in shipping:
        stack = [head]
        while stack:
            sha = stack.pop()
            if sha in seen or sha not in graph:
                continue  # shipped earlier, or reachable from a deploy before the window
            seen.add(sha)
            committed, parents = graph[sha]
            stack.extend(parents)
            if touching is None or sha in touching:
                out.append((sha, committed, deploy))
    return out


def _prefix_resolver(by_sha: dict[str, Commit]):
    """Deploy events often carry short shas (image tags): resolve unambiguous prefixes."""
    shas = sorted(by_sha)

    def resolve(sha: str) -> str | None:
        if sha in by_sha:
            return sha
        i = bisect.bisect_left(shas, sha)
        if i < len(shas) and shas[i].startswith(sha) and not (i + 1 < len(shas) and shas[i + 1].startswith(sha)):
            return shas[i]
        return None

    return resolve


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


_METRICS_SQL = """
WITH
lead AS (
    SELECT service,
           quantile_cont(epoch(deployed_at - committed_at) / 3600.0, 0.5) AS p50,
           quantile_cont(epoch(deployed_at - committed_at) / 3600.0, 0.9) AS p90
    FROM changes
    WHERE deployed_at >= $lead_start AND deployed_at < $end AND deployed_at > committed_at
    GROUP BY service
),
weeks AS (
    SELECT s.service, w.week
    FROM services s CROSS JOIN range($weeks) AS w(week)
),
week_days AS (
    SELECT service,
           CAST(floor(epoch($end - deployed_at) / (7 * 86400)) AS INTEGER) AS week,
           count(DISTINCT CAST(deployed_at AS DATE)) AS days
    FROM deploys
    WHERE deployed_at >= $freq_start AND deployed_at < $end
    GROUP BY ALL
),
freq AS (
    SELECT w.service, median(coalesce(d.days, 0)) AS per_week
    FROM weeks w LEFT JOIN week_days d USING (service, week)
    GROUP BY w.service
),
recent_deploys AS (
    SELECT * FROM deploys WHERE deployed_at >= $fail_start AND deployed_at < $end
),
incidents_in AS (
    SELECT row_number() OVER (ORDER BY service, opened_at) AS incident_id, *
    FROM incidents WHERE opened_at >= $fail_start AND opened_at < $end
),
-- An incident links to the deployment that shipped its root-cause sha, else to
-- the last production deployment finished before it was opened.
by_cause AS (
    SELECT incident_id, service, min(deploy_at) AS deploy_at FROM (
        SELECT i.incident_id, i.service, c.deployed_at AS deploy_at
        FROM incidents_in i JOIN changes c ON c.service = i.service AND c.sha = i.root_cause_sha
        UNION ALL
        SELECT i.incident_id, i.service, d.deployed_at
        FROM incidents_in i JOIN deploys d
          ON d.service = i.service AND i.root_cause_sha IS NOT NULL
         AND (d.sha = i.root_cause_sha OR starts_with(i.root_cause_sha, d.sha))
    ) GROUP BY ALL
),
linked AS (
    SELECT service, deploy_at FROM by_cause
    UNION ALL
    SELECT i.service, d.deployed_at
    FROM incidents_in i
    ASOF JOIN deploys d ON d.service = i.service AND i.opened_at >= d.deployed_at
    WHERE i.incident_id NOT IN (SELECT incident_id FROM by_cause)
),
cfr AS (
    SELECT r.service,
           count(*) AS deploys,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM linked l WHERE l.service = r.service AND l.deploy_at = r.deployed_at)) AS failed
    FROM recent_deploys r GROUP BY r.service
),
restore AS (
    SELECT service,
           median(epoch(resolved_at - opened_at) / 3600.0) FILTER (WHERE resolved_at IS NOT NULL AND resolved_at < $end) AS ttr,
           count(*) AS incidents
    FROM incidents_in GROUP BY service
),
d30 AS (
    SELECT service, count(*) AS n FROM deploys
    WHERE deployed_at >= $lead_start AND deployed_at < $end GROUP BY service
)
SELECT s.service,
       coalesce(d30.n, 0) AS deployments_30d,
       lead.p50 AS lead_time_p50_hours,
       lead.p90 AS lead_time_p90_hours,
       freq.per_week AS deploy_days_per_week,
       CASE WHEN cfr.deploys > 0 THEN cfr.failed / cfr.deploys END AS change_failure_rate,
       restore.ttr AS time_to_restore_hours,
       coalesce(restore.incidents, 0) AS incidents_90d
FROM services s
LEFT JOIN lead USING (service)
LEFT JOIN freq USING (service)
LEFT JOIN cfr USING (service)
LEFT JOIN restore USING (service)
LEFT JOIN d30 USING (service)
ORDER BY s.service
"""


def compute_metrics(
    deploys: list[Deploy],
    changes: list[tuple[str, str, dt.datetime, dt.datetime]],  # (service, sha, committed_at, deployed_at)
    incidents: Iterable[IncidentEvent],
    as_of: dt.date,
) -> pd.DataFrame:
    """One row per service that has any production deployment; DORA metrics and tiers."""
    end = window_end(as_of)
    services = sorted({d.service for d in deploys})
    columns = [
        "service", "deployments_30d", "lead_time_p50_hours", "lead_time_p90_hours",
        "deploy_days_per_week", "change_failure_rate", "time_to_restore_hours", "incidents_90d",
    ]
    if not services:
        return pd.DataFrame(columns=columns + ["lead_time_tier", "deploy_frequency_tier", "change_failure_tier", "restore_tier"])
    con = duckdb.connect()
    try:
        con.register("services", _frame([{"service": s} for s in services], ["service"]))
        con.register(
            "deploys",
            _frame([{"service": d.service, "sha": d.sha, "deployed_at": d.deployed_at} for d in deploys],
                   ["service", "sha", "deployed_at"]),
        )
        con.register(
            "changes",
            _frame([{"service": s, "sha": sha, "committed_at": c, "deployed_at": d} for s, sha, c, d in changes],
                   ["service", "sha", "committed_at", "deployed_at"]).astype(
                {"committed_at": "datetime64[us, UTC]", "deployed_at": "datetime64[us, UTC]"}),
        )
        wanted = set(services)
        con.register(
            "incidents",
            _frame(
                [
                    {
                        "service": i.service,
                        "opened_at": i.opened_at.astimezone(dt.UTC),
                        "resolved_at": i.resolved_at.astimezone(dt.UTC) if i.resolved_at else None,
                        "root_cause_sha": i.root_cause_sha,
                    }
                    for i in incidents
                    if i.service in wanted
                ],
                ["service", "opened_at", "resolved_at", "root_cause_sha"],
            ).astype({"opened_at": "datetime64[us, UTC]", "resolved_at": "datetime64[us, UTC]", "root_cause_sha": "string"}),
        )
        params = {
            "end": end,
            "lead_start": end - dt.timedelta(days=LEAD_TIME_WINDOW_DAYS),
            "freq_start": end - dt.timedelta(weeks=FREQUENCY_WEEKS),
            "fail_start": end - dt.timedelta(days=FAILURE_WINDOW_DAYS),
            "weeks": FREQUENCY_WEEKS,
        }
        df = con.execute(_METRICS_SQL, params).df()
    finally:
        con.close()
    return add_tiers(df)


TIER_COLUMNS = ["lead_time_tier", "deploy_frequency_tier", "change_failure_tier", "restore_tier"]


def add_tiers(df: pd.DataFrame) -> pd.DataFrame:
    """The DORA tier of each metric column, by checks/dora.py (the one place tiers are defined)."""
    df["lead_time_tier"] = df["lead_time_p50_hours"].map(_tier(lead_time_tier))
    df["deploy_frequency_tier"] = df["deploy_days_per_week"].map(_tier(deploy_frequency_tier))
    df["change_failure_tier"] = df["change_failure_rate"].map(_tier(change_failure_tier))
    df["restore_tier"] = df["time_to_restore_hours"].map(_tier(restore_tier))
    return df


def _tier(fn):
    def apply(value):
        return None if value is None or pd.isna(value) else fn(float(value))

    return apply


def _opt(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def metrics_by_service(df: pd.DataFrame) -> dict[str, DeliveryMetrics]:
    out = {}
    for row in df.itertuples(index=False):
        out[row.service] = DeliveryMetrics(
            deployments_30d=int(row.deployments_30d),
            lead_time_p50_hours=_opt(row.lead_time_p50_hours),
            lead_time_p90_hours=_opt(row.lead_time_p90_hours),
            deploy_days_per_week=_opt(row.deploy_days_per_week),
            change_failure_rate=_opt(row.change_failure_rate),
            time_to_restore_hours=_opt(row.time_to_restore_hours),
            incidents_90d=int(row.incidents_90d),
        )
    return out
