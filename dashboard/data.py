"""What the dashboard reads: the read model (`pipelines.readmodel`), cached.

The dashboard reads only the file ``pipelines.warehouse.publish`` swaps in
atomically, never the warehouse the pipeline writes (DuckDB allows one writer
*or* many readers; a reader on the warehouse would block the next run). The
queries, and what every result means, live in the read model and in the
published snapshot; this module only adds Streamlit's cache.

Results are cached with a short ttl and a bounded number of entries; the
cache key includes the served file's inode and mtime (:class:`Source`), so a
publish changes every key and one page never mixes two publishes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import streamlit as st

from pipelines import readmodel

DEFAULT_SNAPSHOT = "data/serving/scorecard.duckdb"
TTL_SECONDS = 60
MAX_ENTRIES = 128

_cached = functools.partial(st.cache_data, ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)


class Source(NamedTuple):
    """The served file as of now: path plus (inode, mtime_ns) so a publish,
    which replaces the inode, gives every cached query a new key."""

    path: str
    stamp: tuple[int, int]


def snapshot_path() -> Path:
    return Path(os.environ.get("SCORECARD_SNAPSHOT", DEFAULT_SNAPSHOT))


def current_source() -> Source | None:
    """The published snapshot, or None when nothing has been published yet."""
    path = snapshot_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return Source(str(path.resolve()), (info.st_ino, info.st_mtime_ns))


def clear_cache() -> None:
    st.cache_data.clear()


def _reads(query: Callable[..., Any]) -> Callable[..., Any]:
    """`query(path, ...)` of the read model as a cached `(src: Source, ...)` call."""

    @_cached
    @functools.wraps(query)
    def cached(src: Source, *args: Any, **kwargs: Any) -> Any:
        return query(src.path, *args, **kwargs)

    return cached


overview = _reads(readmodel.overview)
scorecard_levels = _reads(readmodel.scorecard_levels)
# Adoption
golden_path_trend = _reads(readmodel.golden_path_trend)
version_distribution = _reads(readmodel.version_distribution)
services_behind = _reads(readmodel.services_behind)
team_lag = _reads(readmodel.team_lag)
level_distribution = _reads(readmodel.level_distribution)
orphan_workloads = _reads(readmodel.orphan_workloads)
orphan_manifests = _reads(readmodel.orphan_manifests)
source_freshness = _reads(readmodel.source_freshness)
problems = _reads(readmodel.problems)
request_trend = _reads(readmodel.request_trend)
requests_by_team = _reads(readmodel.requests_by_team)
# Teams
team_overview = _reads(readmodel.team_overview)
team_services = _reads(readmodel.team_services)
scorecard_check_list = _reads(readmodel.scorecard_check_list)
team_results = _reads(readmodel.team_results)
score_trend = _reads(readmodel.score_trend)
dora_summary = _reads(readmodel.dora_summary)
dora_services = _reads(readmodel.dora_services)
next_level_blockers = _reads(readmodel.next_level_blockers)
rank_blockers = readmodel.rank_blockers  # plain frame transforms: nothing to cache
close_to_next_level = readmodel.close_to_next_level
# Service
service_names = _reads(readmodel.service_names)
service_profile = _reads(readmodel.service_profile)
service_trend = _reads(readmodel.service_trend)
service_checks = _reads(readmodel.service_checks)
service_fixes = _reads(readmodel.service_fixes)
# Checks
check_pass_rates = _reads(readmodel.check_pass_rates)
check_catalogue = _reads(readmodel.check_catalogue)
failing_services = _reads(readmodel.failing_services)
# Compare
compare_summary = _reads(readmodel.compare_summary)
level_moves = _reads(readmodel.level_moves)
check_changes = _reads(readmodel.check_changes)
# Initiatives (the adoption programme)
initiative_summary = _reads(readmodel.initiative_summary)
initiative_burndown = _reads(readmodel.initiative_burndown)
initiative_teams = _reads(readmodel.initiative_teams)
initiative_work = _reads(readmodel.initiative_work)
expiring_waivers = _reads(readmodel.expiring_waivers)
previews = _reads(readmodel.previews)
# Platform ROI (pipelines/roi.py)
roi_cohorts = _reads(readmodel.roi_cohorts)
roi_subjects = _reads(readmodel.roi_subjects)
roi_trend = _reads(readmodel.roi_trend)
# Trend charts: rule changes marked on them
rule_changes = _reads(readmodel.rule_changes)
