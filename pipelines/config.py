"""`scorecard.yaml`: one validated configuration file.

A bad file raises :class:`ConfigError` naming the file, the key path and what
was expected, before anything runs. Every section has a default, so a file with
only ``sources: {repos: [{root: ./repos}]}`` is a working configuration.
Relative paths are resolved against the directory of the config file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from checks.model import LEVELS, CheckContext, GoldenPath
from checks.policy import Policy
from checks.thresholds import ThresholdProblems, Thresholds
from pipelines.parsers.errors import ParseError
from pipelines.parsers.yamlsafe import load_yaml


class ConfigError(Exception):
    """The configuration is invalid; the message says where and what was expected."""


def _valid_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    return value


# Every pattern key of the config: it compiles, or the error says why.
Regex = Annotated[str, AfterValidator(_valid_regex)]


def _problem(message: str) -> PydanticCustomError:
    # A custom error prints as written ("Value error, " prefixes a ValueError's text).
    return PydanticCustomError("invalid", "{message}", {"message": message})


def _problems(title: str, found: list[tuple[tuple, str]]) -> None:
    """Raise every problem a validator found at once, each at its own key path."""
    if found:
        raise ValidationError.from_exception_data(
            title, [InitErrorDetails(type=_problem(message), loc=loc, input=None) for loc, message in found]
        )


def _known_check(check_id: str) -> str:
    from checks.catalogue import CATALOGUE  # late: the catalogue registers on import

    if check_id not in CATALOGUE:
        close = difflib.get_close_matches(check_id, list(CATALOGUE), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (see `scorecard checks`)"
        raise _problem(f"unknown check {check_id!r}{hint}")
    return check_id


CheckId = Annotated[str, AfterValidator(_known_check)]

# The scoring's word for "no level reached" (pipelines/scoring.py NO_LEVEL), as
# the dashboard shows it: a level of that name would be indistinguishable.
_RESERVED_LEVELS = {"none", "nolevel"}


def _level_name(name: str) -> str:
    if not name.strip():
        raise _problem("a level needs a name")
    if re.sub(r"[\s_-]+", "", name.lower()) in _RESERVED_LEVELS:
        raise _problem(f"{name!r} is what a service without any level is called; name the level something else")
    return name


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


# ------------------------------------------------ live Kubernetes clusters (issue 5)

_SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class InCluster(_Model):
    """Service-account settings when the scorecard runs inside the cluster it reads.

    The defaults are what Kubernetes mounts and sets; tests point them elsewhere.
    """

    token_path: Path = _SA_DIR / "token"
    ca_path: Path = _SA_DIR / "ca.crt"
    host: str | None = None  # default: $KUBERNETES_SERVICE_HOST, read when the crawl starts
    port: int | None = None  # default: $KUBERNETES_SERVICE_PORT


class LiveCluster(_Model):
    """A cluster read over the Kubernetes API (docs/kubernetes.md)."""

    cluster: str  # the name findings use: "in prod-eu: replicas 1"
    environment: str = "production"
    # Either a kubeconfig (default $KUBECONFIG, else ~/.kube/config; current
    # context unless `context` is set) or `in_cluster`.
    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: InCluster | None = None
    namespaces: list[str] = Field(default_factory=list)  # only these (exact names); empty = all namespaces
    exclude_namespaces: list[str] = Field(default_factory=list)  # glob patterns, e.g. "kube-*"
    page_size: int = Field(default=500, ge=1, le=10_000)
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    request_timeout_seconds: float = Field(default=30.0, gt=0)  # per read: a stalled server fails fast
    deadline_seconds: float = Field(default=300.0, gt=0)  # the whole crawl of this cluster
    exec_timeout_seconds: float = Field(default=60.0, gt=0)  # a credential plugin may open a browser-less SSO flow

    @model_validator(mode="after")
    def _one_way_to_connect(self) -> LiveCluster:
        if self.in_cluster is not None and (self.kubeconfig is not None or self.context is not None):
            raise ValueError("set either in_cluster or kubeconfig/context, not both")
        if self.namespaces and self.exclude_namespaces:
            raise ValueError("set either namespaces (include) or exclude_namespaces, not both")
        return self


_DEFAULT_SHA_KEYS = ["platform-scorecard/git-sha", "org.opencontainers.image.revision", "app.kubernetes.io/version"]
# Without a marker such as `sha-`, an all-digit short value is far more often a
# date or build number (20240101, 1.4.2-1234567) than a commit, so the
# unmarked forms need a hex letter unless the sha is full length.
_UNMARKED_SHA = r"(?P<sha>[0-9a-f]{40}|(?=[0-9]*[a-f])[0-9a-f]{7,39})"
_DEFAULT_TAG_PATTERNS = [
    r"^sha-(?P<sha>[0-9a-f]{7,40})$",  # docker/metadata-action `type=sha`
    rf"^{_UNMARKED_SHA}$",  # the bare sha
    # <semver>-<sha>, also `git describe` (v1.2.3-14-g3f2a9c1) and +build metadata
    rf"^v?\d+(?:\.\d+){{1,2}}(?:[-+.][0-9A-Za-z]+)*?[-+.]g?{_UNMARKED_SHA}$",
]


class RolloutDeploys(_Model):
    """Deploy events from ReplicaSet revisions of production workloads (docs/kubernetes.md)."""

    enabled: bool = True
    # Annotations / labels whose value is the deployed git sha, tried in order
    # before the image tags (on the ReplicaSet, which copies the Deployment's
    # annotations, or on the pod template's labels).
    sha_keys: list[str] = Field(default_factory=lambda: list(_DEFAULT_SHA_KEYS))
    # Tried in order on each value and image tag; the named group `sha` is the sha.
    image_tag_patterns: list[str] = Field(default_factory=lambda: list(_DEFAULT_TAG_PATTERNS))

    @field_validator("image_tag_patterns")
    @classmethod
    def _patterns_name_the_sha(cls, value: list[str]) -> list[str]:
        for i, pattern in enumerate(value):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"[{i}] is not a valid regular expression: {exc}") from exc
            if "sha" not in compiled.groupindex:
                raise ValueError(f"[{i}] needs a named group (?P<sha>...) for the sha")
        return value


# ---------------------------------------------------------------------------


class DeliverySources(_Model):
    deployments: list[Path] = Field(default_factory=list)  # JSON lines
    incidents: list[Path] = Field(default_factory=list)  # JSON lines
    # Release tags that count as production deploys (DESIGN.md "Deployment").
    release_tag_pattern: Regex | None = r"^v?\d+\.\d+\.\d+$"
    production_environments: list[str] = Field(default_factory=lambda: ["production", "prod"])
    rollouts: RolloutDeploys = Field(default_factory=RolloutDeploys)
    # Raw events (`scorecard ingest`) older than this are deleted after each run.
    # The metrics read at most 90 days; the rest is room for backfills.
    event_retention_days: int = Field(default=400, ge=90)



# ------------------------------------------------------------ GitHub source (issue 4)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")
# The variable Dagster's `source_credentials` resource reads (pipelines/definitions.py).
DEFAULT_GITHUB_TOKEN_ENV = "GITHUB_TOKEN"


class GitHubApp(_Model):
    """Authenticate as a GitHub App installation (preferred for organisations)."""

    app_id: int
    installation_id: int
    private_key_path: Path  # the App's PEM key; relative to the config file


class GitHubSourceConfig(_Model):
    """One GitHub (or GitHub Enterprise Server) organisation, or a list of repositories.

    The token is never in this file: `token_env` names the environment
    variable that holds it (docs/github.md). The default one reaches the
    crawl through Dagster's `source_credentials` resource; another name (a
    second organisation's token) is read when the crawl starts.
    """

    organisation: str | None = None  # every repository of this organisation ...
    repos: list[str] = Field(default_factory=list)  # ... or only these ("name" or "owner/name")
    base_url: str = "https://api.github.com"  # GitHub Enterprise Server: https://HOST/api/v3
    token_env: str = DEFAULT_GITHUB_TOKEN_ENV
    app: GitHubApp | None = None  # when set, used instead of the token
    include: list[str] = Field(default_factory=list)  # glob patterns of repo names; empty = all
    exclude: list[str] = Field(default_factory=list)
    skip_forks: bool = False
    # Workflow runs on the default branch whose name matches count as production
    # deploys when the repo records no GitHub Deployments (as Apache DevLake does).
    deploy_workflow_pattern: Regex | None = None
    incident_label: str | None = None  # issues with this label are incidents (opened -> closed)
    history_days: int = Field(default=400, ge=30)  # shallow-fetch depth and deployment window
    # Branches fetched besides the default one: a release cut on a branch ships
    # commits the default branch may never see, and lead time needs them.
    release_branches: list[str] = Field(default_factory=lambda: ["release/*", "release-*", "releases/*", "hotfix/*"])

    @field_validator("release_branches")
    @classmethod
    def _one_star(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if pattern.count("*") > 1 or not pattern or pattern.startswith(("/", "refs/")) or ".." in pattern:
                raise ValueError(f"{pattern!r}: a branch name pattern with at most one '*', like 'release/*'")
        return value
    max_concurrency: int = Field(default=2, ge=1, le=8)  # API requests in flight per token
    seconds_between_requests: float = Field(default=0.07, ge=0)  # ~14/s, under the secondary limit
    timeout_s: int = Field(default=30, ge=1)
    max_retries: int = Field(default=5, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)  # first retry delay; doubles per attempt
    max_wait_s: float = Field(default=300.0, ge=0)  # longest wait for a limit reset before deferring repos
    state_dir: Path | None = None  # ETags, git mirrors, last crawl; default <warehouse dir>/github-state

    @field_validator("token_env")
    @classmethod
    def _names_a_variable(cls, value: str) -> str:
        if value.startswith(_TOKEN_PREFIXES):
            raise ValueError(
                "this looks like a token, not the name of an environment variable; put the token in "
                "an environment variable (e.g. GITHUB_TOKEN) and name that variable here"
            )
        if not _ENV_NAME.match(value):
            # Not echoed: a value that is not a variable name may well be a pasted token.
            raise ValueError("expected the name of an environment variable, like GITHUB_TOKEN")
        return value


    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"expected an http(s) URL such as https://github.example.com/api/v3, got {value!r}")
        if "@" in value.split("//", 1)[1].split("/", 1)[0]:
            raise ValueError("must not contain credentials; name the token's environment variable in token_env")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _org_or_repos(self) -> GitHubSourceConfig:
        if not self.organisation and not self.repos:
            raise ValueError("set `organisation` (crawl all its repositories) or `repos` (a list of repositories)")
        if not self.organisation and any("/" not in r for r in self.repos):
            raise ValueError('repos given as "name" (not "owner/name") need `organisation`')
        return self


class Sources(_Model):
    repos: list[RepoRoot] = Field(default_factory=list)
    github: list[GitHubSourceConfig] = Field(default_factory=list)
    clusters: list[ClusterSnapshot] = Field(default_factory=list)
    kubernetes: list[LiveCluster] = Field(default_factory=list)
    delivery: DeliverySources = Field(default_factory=DeliverySources)
    # A repository whose crawl takes longer is recorded as `error` and the run goes on.
    repo_crawl_budget_seconds: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _cluster_names_are_unique(self) -> Sources:
        # Findings, source_status and staleness are keyed by cluster name.
        names = [c.cluster for c in self.clusters] + [c.cluster for c in self.kubernetes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"cluster names must be unique across clusters and kubernetes, repeated: {duplicates}")
        return self


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


class Discovery(_Model):
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


def _some_checks(value: list[str]) -> list[str]:
    if not value:
        raise _problem("a level needs at least one check")
    return value


def _positive_weight(value: int) -> int:
    if value <= 0:
        raise _problem(f"a weight is a whole number above 0, got {value} (to leave a check out, list it in `exclude`)")
    return value


class Level(_Model):
    name: Annotated[str, AfterValidator(_level_name)]
    checks: Annotated[list[CheckId], AfterValidator(_some_checks)]


class Scorecard(_Model):
    name: str = Field(min_length=1)
    description: str = ""
    # None: the catalogue's default levels. An empty list is refused rather than read as "default".
    levels: list[Level] | None = None
    weights: dict[CheckId, Annotated[int, AfterValidator(_positive_weight)]] = Field(default_factory=dict)  # overrides
    exclude: list[CheckId] = Field(default_factory=list)  # catalogue checks left out
    # An advisory `warn` (one release behind, a branch pin) counts as passing its
    # level; false makes every warning block its level (checks/policy.py).
    warn_passes: bool = True

    def policy(self) -> Policy:
        return Policy(warn_passes=self.warn_passes)

    @field_validator("levels")
    @classmethod
    def _levels_not_empty(cls, value: list[Level] | None) -> list[Level] | None:
        if value is not None and not value:
            raise _problem("no levels listed; list at least one, or leave `levels` out for the default Bronze/Silver/Gold")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _levels_are_distinct(cls, data: object, handler) -> Scorecard:
        # A wrap validator, so a repeated level or check is reported together
        # with the other errors of the same scorecard, not only once they are fixed.
        return _with_more_problems("Scorecard", data, handler, _level_problems)


def _with_more_problems(title: str, data: object, handler, more) -> object:
    """Validate with ``handler``, then add ``more(data)``'s problems: every error of the value at once."""
    try:
        value, found = handler(data), []
    except ValidationError as exc:
        value = None
        found = [(tuple(e["loc"]), e["msg"]) for e in exc.errors()]
    found += [problem for problem in more(data) if problem not in found]
    _problems(title, found)
    return value


def _raw(data: object) -> dict:
    return data if isinstance(data, dict) else (data.model_dump() if isinstance(data, BaseModel) else {})


def _level_problems(data: object) -> list[tuple[tuple, str]]:
    """Repeated level names and checks placed twice, read from the raw input (types may still be wrong)."""
    raw = _raw(data)
    levels = raw.get("levels") if isinstance(raw.get("levels"), list) else []
    found: list[tuple[tuple, str]] = []
    names: dict[str, int] = {}
    placed: dict[str, tuple[int, str]] = {}
    for j, level in enumerate(levels):
        if not isinstance(level, dict):
            continue
        name = str(level.get("name", ""))
        key = name.strip().lower()
        if key and key in names:
            found.append((("levels", j, "name"), f"level {name!r} is already levels[{names[key]}]"))
        names.setdefault(key, j)
        for k, check_id in enumerate(level.get("checks") if isinstance(level.get("checks"), list) else []):
            if not isinstance(check_id, str):
                continue
            if check_id in placed:
                first, first_name = placed[check_id]
                found.append((("levels", j, "checks", k),
                              f"check {check_id!r} is already in level {first_name!r} (levels[{first}]); "
                              "a check belongs to one level"))
            placed.setdefault(check_id, (j, name))
    exclude = raw.get("exclude") if isinstance(raw.get("exclude"), list) else []
    for k, check_id in enumerate(exclude):
        if isinstance(check_id, str) and check_id in placed:
            found.append((("exclude", k), f"check {check_id!r} is both excluded and in level {placed[check_id][1]!r}"))
    return found


def _scorecard_name_problems(data: object) -> list[tuple[tuple, str]]:
    seen: dict[str, int] = {}
    found = []
    for i, card in enumerate(data if isinstance(data, list) else []):
        name = _raw(card).get("name")
        if isinstance(name, str) and name in seen:
            found.append(((i, "name"), f"scorecard {name!r} is already scorecards[{seen[name]}]"))
        if isinstance(name, str):
            seen.setdefault(name, i)
    return found


class Waiver(_Model):
    # Services are only known after a crawl: a waiver naming none is reported
    # by the run (a `problems` row and a warning), not refused here.
    service: str = Field(min_length=1)
    check: CheckId
    reason: str = Field(min_length=1)
    expires: dt.date


class Warehouse(_Model):
    path: Path = Path("warehouse/scorecard.duckdb")  # what the pipeline writes
    serving_path: Path = Path("serving/scorecard.duckdb")  # the published read-only snapshot


class ScorecardConfig(_Model):
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
    warehouse: Warehouse = Field(default_factory=Warehouse)
    # where the file was read from; relative paths resolve against it
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("doc_base_url")
    @classmethod
    def _doc_base_url_is_http(cls, value: str) -> str:
        # It becomes a link on every check; anything but http(s) (javascript:, file:, data:) is refused.
        if not re.match(r"^https?://[^\s/?#]+", value, re.IGNORECASE) or any(c.isspace() for c in value):
            raise _problem(f"expected an http(s) URL such as https://docs.example.com/scorecard/checks, got {value!r}")
        return value.rstrip("/")

    @field_validator("scorecards", mode="wrap")
    @classmethod
    def _scorecard_names_are_unique(cls, value: object, handler) -> list[Scorecard]:
        return _with_more_problems("scorecards", value, handler, _scorecard_name_problems)

    @field_validator("thresholds", mode="plain")
    @classmethod
    def _typed_thresholds(cls, value: object) -> Thresholds:
        # The names, types and messages are checks.thresholds'; this puts each problem at its key path.
        if isinstance(value, Thresholds):
            return value
        if not isinstance(value, dict):
            raise _problem(f"expected a mapping of threshold names to values, got {type(value).__name__}")
        try:
            return Thresholds.from_mapping(value)
        except ThresholdProblems as exc:
            _problems("thresholds", [((key,), message) for key, message in exc.problems])
            raise  # unreachable: _problems raised

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

