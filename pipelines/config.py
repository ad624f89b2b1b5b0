"""`scorecard.yaml`: one validated configuration file.

A bad file raises :class:`ConfigError` naming the file, the key path and what
was expected, before anything runs. Every section has a default, so a file with
only ``sources: {repos: [{root: ./repos}]}`` is a working configuration.
Relative paths are resolved against the directory of the config file.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from checks.model import LEVELS, CheckContext, GoldenPath
from pipelines.parsers.errors import ParseError
from pipelines.parsers.yamlsafe import load_yaml


class ConfigError(Exception):
    """The configuration is invalid; the message says where and what was expected."""


class _Model(BaseModel):
    # Unknown keys are almost always typos ("golden_path" for "golden_paths"):
    # reject them so the user hears about it instead of silently getting defaults.
    model_config = ConfigDict(extra="forbid")


class RepoRoot(_Model):
    root: Path  # a directory whose sub-directories are git repositories
    include: list[str] = Field(default_factory=list)  # glob patterns of repo names; empty = all
    exclude: list[str] = Field(default_factory=list)


class ClusterSnapshot(_Model):
    path: Path  # `kubectl get ... -o json` output or multi-document manifests
    cluster: str
    environment: str = "production"


class DeliverySources(_Model):
    deployments: list[Path] = Field(default_factory=list)  # JSON lines
    incidents: list[Path] = Field(default_factory=list)  # JSON lines
    # Release tags that count as production deploys (DESIGN.md "Deployment").
    release_tag_pattern: str | None = r"^v?\d+\.\d+\.\d+$"
    production_environments: list[str] = Field(default_factory=lambda: ["production", "prod"])

    @field_validator("release_tag_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class Sources(_Model):
    repos: list[RepoRoot] = Field(default_factory=list)
    clusters: list[ClusterSnapshot] = Field(default_factory=list)
    delivery: DeliverySources = Field(default_factory=DeliverySources)


class GoldenPathConfig(_Model):
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


class GoldenPaths(_Model):
    template: GoldenPathConfig | None = None  # copier/cookiecutter template source
    ci_workflow: GoldenPathConfig | None = None  # "org/platform-workflows/.github/workflows/x.yml"
    helm_chart: GoldenPathConfig | None = None  # base chart name
    terraform: GoldenPathConfig | None = None  # module source prefix


class Team(_Model):
    name: str
    display_name: str | None = None
    aliases: list[str] = Field(default_factory=list)  # e.g. "@acme/payments-team" in CODEOWNERS


class ServiceEntry(_Model):
    name: str
    repo: str
    path: str = ""
    owner: str | None = None
    lifecycle: str | None = None


class Level(_Model):
    name: str
    checks: list[str]


class Scorecard(_Model):
    name: str
    description: str = ""
    levels: list[Level] | None = None  # None: the catalogue's default levels
    weights: dict[str, int] = Field(default_factory=dict)  # overrides of check weights
    exclude: list[str] = Field(default_factory=list)  # catalogue checks left out


class Waiver(_Model):
    service: str
    check: str
    reason: str
    expires: dt.date


class Warehouse(_Model):
    path: Path = Path("warehouse/scorecard.duckdb")  # what the pipeline writes
    serving_path: Path = Path("serving/scorecard.duckdb")  # the published read-only snapshot


class ScorecardConfig(_Model):
    organisation: str = "my-org"
    doc_base_url: str = "https://platform.example.com/scorecard/checks"
    sources: Sources = Field(default_factory=Sources)
    golden_paths: GoldenPaths = Field(default_factory=GoldenPaths)
    teams: list[Team] = Field(default_factory=list)
    services: list[ServiceEntry] = Field(default_factory=list)
    scorecards: list[Scorecard] = Field(default_factory=lambda: [Scorecard(name="default")])
    thresholds: dict[str, float | str] = Field(default_factory=dict)  # numbers, or a tier name for dora_target_tier
    waivers: list[Waiver] = Field(default_factory=list)
    warehouse: Warehouse = Field(default_factory=Warehouse)
    # where the file was read from; relative paths resolve against it
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _scorecards_are_consistent(self) -> ScorecardConfig:
        from checks.catalogue import CATALOGUE  # late: the catalogue registers on import

        names = [s.name for s in self.scorecards]
        if len(names) != len(set(names)):
            raise ValueError(f"scorecard names must be unique, got {names}")
        for i, card in enumerate(self.scorecards):
            for j, level in enumerate(card.levels or []):
                for k, check_id in enumerate(level.checks):
                    if check_id not in CATALOGUE:
                        raise ValueError(
                            f"scorecards[{i}].levels[{j}].checks[{k}]: unknown check {check_id!r} "
                            f"(see `scorecard checks`)"
                        )
            for check_id in list(card.weights) + card.exclude:
                if check_id not in CATALOGUE:
                    raise ValueError(f"scorecards[{i}]: unknown check {check_id!r}")
        for i, waiver in enumerate(self.waivers):
            if waiver.check not in CATALOGUE:
                raise ValueError(f"waivers[{i}].check: unknown check {waiver.check!r}")
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
            for alias in [team.name, *team.aliases, f"@{self.organisation}/{team.name}"]:
                out[alias.lower()] = team.name
        return out

    def check_context(self, as_of: dt.date) -> CheckContext:
        gp = self.golden_paths
        return CheckContext(
            as_of=as_of,
            known_teams=self.known_teams(),
            template=gp.template.to_check() if gp.template else None,
            ci_workflow=gp.ci_workflow.to_check() if gp.ci_workflow else None,
            helm_chart=gp.helm_chart.to_check() if gp.helm_chart else None,
            terraform=gp.terraform.to_check() if gp.terraform else None,
            thresholds=dict(self.thresholds),
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

