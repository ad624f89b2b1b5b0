"""`scorecard gate`: the scorecard of one checkout, for a pull request's CI job.

The same stages as a scoring run, on one local git working tree and nothing
else: the local-git crawl (`pipelines.sources.local_git`) of the checked-out
commit, service identity (`pipelines.identity`), evidence
(`pipelines.evidence`), every check of the catalogue, waivers and levels by
the scoring SQL (`pipelines.scoring.score_rows`, the rules of
`checks/policy.py`). No warehouse, no Dagster, no pandas: a CI job pays for
its start-up on every push.

What the gate cannot see (cluster workloads, deploy events, the team
directory, GitHub settings) reads as `unknown`, and in the gate an `unknown`
is skipped (`checks.policy.gate_status`): a pull request is judged on what it
can change.

Exit codes: 0 the gate passed, 1 it failed (a service below ``--fail-under``
or a named ``--check`` failing), 2 it could not run (usage, config, not a git
working tree, a checkout git cannot read).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from checks import policy
from checks.catalogue import CATALOGUE, all_checks
from checks.model import evaluate
from pipelines import scoring
from pipelines.evidence import build_evidence
from pipelines.identity import resolve_services
from pipelines.sources.local_git import GitError, LocalGitSource, RepoReads, git

if TYPE_CHECKING:
    from pipelines.config import ScorecardConfig

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Keys of a finding's params that name the file it is about (checks put them there for remediation text).
_FILE_KEYS = ("file", "catalog_file", "chart_file", "workflow_file", "readme_file")


class GateError(Exception):
    """The gate could not run (exit 2); the message says why and what to do."""


@dataclass(slots=True)
class GateResult:
    """One check on one service, as the gate judged it."""

    check_id: str
    title: str
    level: str  # the level it belongs to in the scorecard (the catalogue's when not in it)
    rank: int  # that level's place in the scorecard's order (1 = the first level)
    status: str  # what the check said (waivers applied)
    detail: str
    remediation: str | None
    doc_url: str
    file: str | None = None  # path in the checkout the finding is about, when the check names one
    line: int | None = None
    in_scorecard: bool = True
    blocking: bool = False  # applicable and not passing under the scorecard's policy (after gate_status)
    named: bool = False  # asked for with --check


@dataclass(slots=True)
class ServiceGate:
    service: str
    path: str
    team: str | None
    identity_rule: str
    level: str
    level_rank: int
    score_pct: float | None
    next_level: str | None
    below: bool  # under --fail-under
    catalog_file: str | None = None  # where its catalog entity is declared, for the annotation on the service
    # The highest level whose checks are reported: the next level, or --fail-under's if higher.
    # Gold's checks on a service still short of Bronze are in the JSON, not in the pull request's way.
    horizon: int = 0
    results: list[GateResult] = field(default_factory=list)

    @property
    def failing(self) -> list[GateResult]:
        """Scorecard checks keeping the service from a level, lowest level first."""
        return [r for r in self.results if r.blocking and r.in_scorecard]

    @property
    def to_fix(self) -> list[GateResult]:
        """What a pull request should fix first: failing named checks, then checks not passing
        (warnings too) up to the horizon, lowest level first."""
        return [r for r in self.results if (r.blocking or r.status == "warn")
                and (r.named or (r.in_scorecard and r.rank <= self.horizon))]

    @property
    def later(self) -> list[GateResult]:
        """Failing scorecard checks of levels above the horizon."""
        return [r for r in self.failing if not r.named and r.rank > self.horizon]

    @property
    def failed_named(self) -> list[GateResult]:
        return [r for r in self.results if r.named and r.blocking]

    @property
    def not_judged(self) -> list[GateResult]:
        return [r for r in self.results if r.status == "unknown" and (r.in_scorecard or r.named)]

    @property
    def passed(self) -> bool:
        return not self.below and not self.failed_named


@dataclass(slots=True)
class GateReport:
    repo: str
    root: str
    commit: str
    scorecard: str
    levels: list[str]
    fail_under: str | None
    checks: list[str]
    services: list[ServiceGate]
    problems: list[tuple[str | None, str]]  # (file in the checkout or None, reason): parse and identity problems

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.services)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.passed else EXIT_FAILED


def checkout_root(path: Path) -> Path:
    """The top of the git working tree holding ``path``, or GateError saying why there is none."""
    if not path.exists():
        raise GateError(f"{path}: no such directory")
    if not path.is_dir():
        raise GateError(f"{path}: not a directory (pass the checkout's directory)")
    try:
        top = git(path, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip()
    except GitError as exc:
        reason = str(exc).removeprefix("git rev-parse failed: ")
        raise GateError(f"{path}: not a git working tree ({reason}); run the gate in a checkout of the repository") from None
    except OSError as exc:
        raise GateError(f"cannot run git: {exc.strerror or exc}") from None
    return Path(top)


class _CheckedOut(RepoReads):
    """Read the commit checked out (a pull request's head or merge commit), not the default branch."""

    def default_branch(self, repo: Path) -> tuple[str, str]:
        if not git(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False).strip():
            raise GitError("nothing committed yet: the gate reads the checked-out commit, and HEAD names none")
        branch = git(repo, "symbolic-ref", "-q", "--short", "HEAD", check=False).decode().strip()
        return branch or "HEAD", "HEAD"


def default_config(base_dir: Path) -> ScorecardConfig:
    """Every section's defaults: the catalogue's Bronze/Silver/Gold scorecard, discovery on."""
    from pipelines.config import parse_config

    return parse_config({}, "(built-in defaults)", base_dir)


def _named_checks(names: list[str]) -> list[str]:
    out: list[str] = []
    for raw in names:
        for name in (n.strip() for n in raw.split(",")):
            if not name:
                continue
            if name not in CATALOGUE:
                close = difflib.get_close_matches(name, list(CATALOGUE), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else " (`scorecard checks` lists them)"
                raise GateError(f"--check {name}: no such check{hint}")
            if name not in out:
                out.append(name)
    return out


def _level(name: str | None, levels: list[str], scorecard: str) -> str | None:
    if name is None:
        return None
    for level in levels:
        if level.lower() == name.strip().lower():
            return level
    raise GateError(f"--fail-under {name}: scorecard {scorecard!r} has the levels {', '.join(levels)}")


def _location(params: dict, detail: str, files: frozenset[str] | set[str]) -> tuple[str | None, int | None]:
    """The checkout file (and line) a finding is about, for its annotation.

    From the finding's params when they name one; else the first file of the
    checkout its detail names (workload checks say "in repo manifests
    (k8s/deployment.yaml): ..." without a param). A file the fix would create
    is no place for an annotation: GitHub anchors them to existing files.
    """
    file = next((v for k in _FILE_KEYS if isinstance(v := params.get(k), str) and v), None)
    if file not in files:
        file = next((w for w in _PATHISH.findall(detail) if w in files), None)
    if file is None:
        return None, None
    line = params.get("line")
    return file, line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None


_PATHISH = re.compile(r"[\w.@+-]+(?:/[\w.@+-]+)*\.[A-Za-z0-9]+")


def checkout_evidence(root: Path, config: ScorecardConfig, today: dt.date):
    """(facts, service records, identity problems, evidence) of the commit checked out at ``root``.

    Shared with `scorecard fix`, which re-checks a checkout the same way the gate does.
    """
    crawl = LocalGitSource(root.parent, reads=_CheckedOut()).crawl(root.name, None)
    facts = crawl.facts
    if facts.error:
        raise GateError(f"{root}: cannot read the checked-out commit: {facts.error}")
    records, identity_problems = resolve_services([facts], config)
    # No clusters (None: not crawled, so workload checks read the repo's manifests
    # or say unknown) and no deploy events (delivery checks say unknown).
    evidence = build_evidence(records, {facts.repo: facts}, None, {}, today)
    return facts, records, identity_problems, evidence


def run_gate(
    path: Path,
    config: ScorecardConfig,
    *,
    scorecard: str = "default",
    fail_under: str | None = None,
    checks: list[str] | None = None,
    as_of: dt.date | None = None,
) -> GateReport:
    """Crawl, check and score the checkout holding ``path``; GateError when it cannot."""
    card = next((c for c in config.scorecards if c.name == scorecard), None)
    if card is None:
        names = ", ".join(c.name for c in config.scorecards)
        raise GateError(f"--scorecard {scorecard}: no such scorecard in the config (it has: {names})")
    levels = config.level_order(scorecard)
    threshold = _level(fail_under, levels, scorecard)
    named = _named_checks(checks or [])
    root = checkout_root(path)
    # `services:` entries of other repositories are not this checkout's business.
    config = config.model_copy(update={"services": [e for e in config.services if e.repo == root.name]})

    today = as_of or dt.datetime.now(dt.UTC).date()
    facts, records, identity_problems, evidence = checkout_evidence(root, config, today)
    ctx = config.check_context(today)
    rules = card.policy()
    files = frozenset(facts.files)
    in_card = {cid: level for cid, _, level in config.scorecard_levels()[scorecard]}
    waivers = {(w.service, w.check): w for w in config.waivers}

    rank = {level: i for i, level in enumerate(levels, start=1)}
    by_service: dict[str, list[GateResult]] = {}
    rows: list[dict] = []
    for ev in evidence:
        results = by_service.setdefault(ev.service, [])
        for chk in all_checks():
            if chk.id not in in_card and chk.id not in named:
                continue
            finding = evaluate(chk, ev, ctx)
            status = finding.status.value
            waiver = waivers.get((ev.service, chk.id))
            if waiver is not None and scoring.waiver_covers(waiver, status, today):
                status = "waived"
            judged = policy.gate_status(status)
            rows.append({"service": ev.service, "team": ev.team, "check_id": chk.id, "status": judged})
            file, line = _location(dict(finding.params), finding.detail, files)
            results.append(GateResult(
                check_id=chk.id, title=chk.title, level=(level := in_card.get(chk.id, chk.level)),
                rank=rank.get(level, len(levels) + 1), status=status,
                detail=finding.detail, remediation=finding.remediation, doc_url=chk.doc_url(config.doc_base_url),
                file=file, line=line, in_scorecard=chk.id in in_card, blocking=rules.blocks(judged),
                named=chk.id in named,
            ))

    scores, _ = scoring.score_rows(rows, config)
    by_name = {s["service"]: s for s in scores if s["scorecard"] == scorecard}
    services = []
    for rec in records:
        s = by_name.get(rec.service)
        level_rank = int(s["level_rank"]) if s else 0
        results = sorted(by_service.get(rec.service, []), key=lambda r: (r.rank, r.check_id))
        services.append(ServiceGate(
            service=rec.service, path=rec.path, team=rec.team, identity_rule=rec.identity_rule,
            level=s["level"] if s else policy.NO_LEVEL, level_rank=level_rank,
            score_pct=float(s["score_pct"]) if s and s["score_pct"] is not None else None,
            next_level=s["next_level"] if s else None,
            below=threshold is not None and level_rank < rank[threshold], results=results,
            catalog_file=rec.catalog.file if rec.catalog is not None else None,
            horizon=max(level_rank + 1, rank[threshold] if threshold else 0),
        ))
    problems = [(p.path, p.reason) for p in facts.problems]
    prefix = f"{facts.repo}/"
    problems += [(p.path.removeprefix(prefix) if p.path.startswith(prefix) else None, p.reason)
                 for p in identity_problems]
    return GateReport(
        repo=facts.repo, root=str(root), commit=facts.head_sha or "", scorecard=scorecard, levels=levels,
        fail_under=threshold, checks=named, services=services, problems=problems,
    )

