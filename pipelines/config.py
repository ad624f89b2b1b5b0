"""`scorecard.yaml`: one validated configuration file.

A bad file raises :class:`ConfigError` naming the file, the key path and what
was expected, before anything runs. Every section has a default, so a file with
only ``sources: {repos: [{root: ./repos}]}`` is a working configuration.
Relative paths are resolved against the directory of the config file.

The `sources:` models live in `config_sources`, `scorecards:` and `waivers:`
in `config_scorecards`, what every section shares in `config_base`; import
them from here, where `ScorecardConfig` puts them together.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from checks.model import LEVELS, CheckContext, GoldenPath, PlatformCompositions
from checks.thresholds import ThresholdProblems, Thresholds
from pipelines import warehouse_backends
from pipelines.config_base import Model, problem, problems, with_more_problems
from pipelines.config_notify import Notifications
from pipelines.config_programme import Initiative, WaiverPolicy, initiative_problems, waiver_problems
from pipelines.config_scorecards import Scorecard, Waiver, scorecard_name_problems
from pipelines.config_sources import (  # noqa: F401 - re-exported: the config's public models live here too
    DEFAULT_GITHUB_TOKEN_ENV,
    ClusterSnapshot,
    DeliverySources,
    GitHubApp,
    GitHubSourceConfig,
    InCluster,
    LiveCluster,
    RepoRoot,
    RolloutDeploys,
    Sources,
)
from pipelines.config_warehouse import DuckLakeOptions, MotherDuckOptions, backend_problems
from pipelines.parsers.errors import ParseError
from pipelines.parsers.yamlsafe import load_yaml


class ConfigError(Exception):
    """The configuration is invalid; the message says where and what was expected."""


class GoldenPathConfig(Model):
    reference: str
    latest: str | None = None
    releases: list[str] = Field(default_factory=list)  # oldest -> newest

    @model_validator(mode="after")
    def _latest_defaults_to_newest_release(self) -> GoldenPathConfig:
        if self.latest is None and self.releases:
            self.latest = self.releases[-1]
        return self

    def to_check(self) -> GoldenPath:
        return GoldenPath(self.reference, self.latest, tuple(self.releases))


class CrossplanePath(Model):
    """`golden_paths.crossplane`: the compositions the platform publishes (docs/crossplane.md)."""

    compositions: list[str] = Field(default_factory=list)  # Composition names
    match_labels: dict[str, str] = Field(default_factory=dict)  # or: every composition carrying these labels

    @model_validator(mode="after")
    def _names_something(self) -> CrossplanePath:
        if not self.compositions and not self.match_labels:
            raise problem("list the platform's `compositions`, or the `match_labels` its compositions carry")
        return self

    def to_check(self) -> PlatformCompositions:
        return PlatformCompositions(tuple(self.compositions), tuple(sorted(self.match_labels.items())))


class GoldenPaths(Model):
    template: GoldenPathConfig | None = None  # copier/cookiecutter template source
    ci_workflow: GoldenPathConfig | None = None  # "org/platform-workflows/.github/workflows/x.yml"
    helm_chart: GoldenPathConfig | None = None  # base chart name
    terraform: GoldenPathConfig | None = None  # module source prefix
    crossplane: CrossplanePath | None = None  # platform compositions
    # "argocd", "flux" or "argocd,flux"; releases are Argo CD projects / Flux source names (docs/gitops.md)
    gitops: GoldenPathConfig | None = None


_RUNNABLE_PLUGINS = [
    # Maven plugins that turn a module into something that runs or ships as an image
    "spring-boot-maven-plugin", "jib-maven-plugin", "quarkus-maven-plugin", "micronaut-maven-plugin",
    "docker-maven-plugin", "dockerfile-maven-plugin",
    # Gradle plugin ids doing the same
    "org.springframework.boot", "com.google.cloud.tools.jib", "io.quarkus", "io.micronaut.application",
    "application", "com.bmuschko.docker-remote-api", "com.bmuschko.docker-spring-boot-application",
]  # fmt: skip
_NOT_SERVICE_DIRS = [
    "docs", "doc", "test", "tests", "testdata", "test-data", "e2e", "integration-tests", "__tests__", "fixtures",
    "examples", "example", "samples", "sample", "hack", "scripts", "tools", "docker", "build", "ci",
    "vendor", "third_party", "node_modules", "lib", "libs", "shared", "common",
]  # fmt: skip


class Discovery(Model):
    """How services are found in a repository without catalog entities (README "How services are identified").

    A directory is a deployable when it has a marker file of its own (a
    Dockerfile), when it is the build context of an image a compose or
    skaffold file builds, or when it is a Maven/Gradle module with a plugin
    that makes it runnable; Go `cmd/<bin>` directories when a workload or
    image of that name confirms them. Conservative: nothing under an excluded
    folder is a service.
    """

    enabled: bool = True
    # Folders whose sub-directories may be deployables (marker and cmd rules);
    # "." stands for the top-level directories of the repository.
    roots: list[str] = Field(default_factory=lambda: [
        ".", "src", "services", "service", "apps", "packages", "cmd", "components", "microservices", "functions",
    ])  # fmt: skip
    max_depth: int = Field(default=2, ge=1, le=5)  # directories below a root (src/<group>/<service> is 2)
    markers: list[str] = Field(default_factory=lambda: ["Dockerfile", "Containerfile"])
    runnable_plugins: list[str] = Field(default_factory=lambda: list(_RUNNABLE_PLUGINS))
    exclude: list[str] = Field(default_factory=lambda: list(_NOT_SERVICE_DIRS))  # folder names, any depth

    @field_validator("roots")
    @classmethod
    def _relative_roots(cls, value: list[str]) -> list[str]:
        for root in value:
            if root.startswith("/") or ".." in root.split("/"):
                raise ValueError(f"roots are folders inside a repository, like 'services'; got {root!r}")
        return [r.strip("/") or "." for r in value]


class Team(Model):
    name: str
    display_name: str | None = None
    aliases: list[str] = Field(default_factory=list)  # e.g. "@acme/payments-team" in CODEOWNERS


class ServiceEntry(Model):
    name: str
    repo: str
    path: str = ""
    owner: str | None = None
    lifecycle: str | None = None


class Retention(Model):
    """How much history is kept (pipelines/retention.py): every daily snapshot of the newest
    ``daily_days`` days, then the last snapshot of each ISO week for ``weekly_weeks`` more
    weeks (or ``forever``); older snapshots are removed when a run is promoted."""

    daily_days: int = Field(default=90, ge=1)
    weekly_weeks: int | None = 52  # None: `forever`

    @field_validator("weekly_weeks", mode="before")
    @classmethod
    def _weeks_or_forever(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "forever":
            return None
        if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise problem(f"expected a number of weeks (0 or more) or `forever`, got {value!r}")
        return value


class Compaction(Model):
    """When the warehouse file is rewritten to give back the space of deleted snapshots
    (pipelines/warehouse.py compact_if_due): DuckDB reuses freed blocks but never shrinks the file."""

    min_free_share: float = Field(default=0.25, gt=0, le=1)  # of the file's blocks
    min_free_mib: float = Field(default=64, ge=0)  # and at least this much to gain


class Warehouse(Model):
    path: Path = Path("warehouse/scorecard.duckdb")  # what the pipeline writes
    serving_path: Path = Path("serving/scorecard.duckdb")  # the published read-only snapshot
    retention: Retention = Field(default_factory=Retention)
    compaction: Compaction = Field(default_factory=Compaction)
    # Many writers: a DuckLake (catalog on PostgreSQL, Parquet data) or MotherDuck instead of the file
    # at `path` (pipelines/config_warehouse.py, docs/scaling.md); `path`'s folder still holds crawl state.
    backend: Literal["duckdb", "ducklake", "motherduck"] = "duckdb"
    ducklake: DuckLakeOptions | None = None
    motherduck: MotherDuckOptions | None = None

    @model_validator(mode="after")
    def _one_backend(self) -> Warehouse:
        problems("Warehouse", backend_problems(self))
        return self


class ScorecardConfig(Model):
    organisation: str | None = None  # e.g. your GitHub organisation; "@<org>/<team>" owners map to teams
    doc_base_url: str = "https://platform.example.com/scorecard/checks"
    sources: Sources = Field(default_factory=Sources)
    golden_paths: GoldenPaths = Field(default_factory=GoldenPaths)
    teams: list[Team] = Field(default_factory=list)
    services: list[ServiceEntry] = Field(default_factory=list)
    discovery: Discovery = Field(default_factory=Discovery)
    scorecards: list[Scorecard] = Field(default_factory=lambda: [Scorecard(name="default")])
    thresholds: Thresholds = Field(default_factory=Thresholds)  # names, types and defaults: checks/thresholds.py
    waivers: list[Waiver] = Field(default_factory=list)
    waiver_policy: WaiverPolicy = Field(default_factory=WaiverPolicy)
    initiatives: list[Initiative] = Field(default_factory=list)  # the adoption programme (config_programme)
    warehouse: Warehouse = Field(default_factory=Warehouse)
    notifications: Notifications = Field(default_factory=Notifications)  # alerts and digest (config_notify)
    # where the file was read from; relative paths resolve against it
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("doc_base_url")
    @classmethod
    def _doc_base_url_is_http(cls, value: str) -> str:
        # It becomes a link on every check; anything but http(s) (javascript:, file:, data:) is refused.
        if not re.match(r"^https?://[^\s/?#]+", value, re.IGNORECASE) or any(c.isspace() for c in value):
            raise problem(f"expected an http(s) URL such as https://docs.example.com/scorecard/checks, got {value!r}")
        return value.rstrip("/")

    @field_validator("scorecards", mode="wrap")
    @classmethod
    def _scorecard_names_are_unique(cls, value: object, handler) -> list[Scorecard]:
        return with_more_problems("scorecards", value, handler, scorecard_name_problems)

    @field_validator("thresholds", mode="plain")
    @classmethod
    def _typed_thresholds(cls, value: object) -> Thresholds:
        # The names, types and messages are checks.thresholds'; this puts each problem at its key path.
        if isinstance(value, Thresholds):
            return value
        if not isinstance(value, dict):
            raise problem(f"expected a mapping of threshold names to values, got {type(value).__name__}")
        try:
            return Thresholds.from_mapping(value)
        except ThresholdProblems as exc:
            problems("thresholds", [((key,), message) for key, message in exc.problems])
            raise  # unreachable: problems() raised

    @model_validator(mode="after")
    def _programme_refers_to_this_config(self) -> ScorecardConfig:
        # Goals name scorecards and levels, waivers obey waiver_policy: only checkable with the whole file.
        problems("ScorecardConfig", initiative_problems(self) + waiver_problems(self))
        return self

    # ---------------------------------------------------------- derived views

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse.path)

    @property
    def serving_path(self) -> Path:
        return self.resolve(self.warehouse.serving_path)

    def known_teams(self) -> frozenset[str]:
        return frozenset(t.name for t in self.teams)

    def team_aliases(self) -> dict[str, str]:
        """Map every spelling of a team (name, aliases, "@org/name") to its name."""
        out: dict[str, str] = {}
        for team in self.teams:
            org_alias = [f"@{self.organisation}/{team.name}"] if self.organisation else []
            for alias in [team.name, *team.aliases, *org_alias]:
                out[alias.lower()] = team.name
        return out

    def check_context(self, as_of: dt.date) -> CheckContext:
        gp = self.golden_paths
        return CheckContext(
            as_of=as_of,
            known_teams=self.known_teams(),
            organisation=self.organisation,
            template=gp.template.to_check() if gp.template else None,
            ci_workflow=gp.ci_workflow.to_check() if gp.ci_workflow else None,
            helm_chart=gp.helm_chart.to_check() if gp.helm_chart else None,
            terraform=gp.terraform.to_check() if gp.terraform else None,
            crossplane=gp.crossplane.to_check() if gp.crossplane else None,
            gitops=gp.gitops.to_check() if gp.gitops else None,
            thresholds=self.thresholds,
            production_environments=frozenset(self.sources.delivery.production_environments),
        )

    def scorecard_levels(self) -> dict[str, list[tuple[str, int, str]]]:
        """Per scorecard: [(check_id, weight, level)], levels from config or the catalogue."""
        from checks.catalogue import CATALOGUE

        out: dict[str, list[tuple[str, int, str]]] = {}
        for card in self.scorecards:
            rows: list[tuple[str, int, str]] = []
            if card.levels:
                for level in card.levels:
                    for cid in level.checks:
                        rows.append((cid, card.weights.get(cid, CATALOGUE[cid].weight), level.name))
            else:
                for cid, chk in CATALOGUE.items():
                    if cid not in card.exclude:
                        rows.append((cid, card.weights.get(cid, chk.weight), chk.level))
            out[card.name] = rows
        return out

    def level_order(self, scorecard: str) -> list[str]:
        for card in self.scorecards:
            if card.name == scorecard and card.levels:
                return [lvl.name for lvl in card.levels]
        return list(LEVELS)


def _key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if part == "[key]":
            out += " (the key)"  # pydantic's marker for a mapping key that failed, e.g. a weight's check id
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_config(data: object, source: str, base_dir: Path) -> ScorecardConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        cfg = ScorecardConfig.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        lines = [f"{source}: invalid configuration"]
        for err in exc.errors():
            lines.append(f"  {_key_path(err['loc'])}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None
    # Every warehouse caller names only the path: its backend is looked up by it (pipelines.warehouse_backends).
    warehouse_backends.register(cfg.warehouse_path, cfg.warehouse)
    return cfg


def load_config(path: Path | str) -> ScorecardConfig:
    """Read and validate a config file; raise ConfigError with a readable message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (pass --config FILE)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    try:
        data = load_yaml(text, str(path))
    except ParseError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc.reason}") from None
    return parse_config(data, str(path), path.resolve().parent)
