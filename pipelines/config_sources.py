"""The `sources:` section of `scorecard.yaml`: where repositories, clusters and delivery events come from.

Each live source (GitHub, Kubernetes) has its own page in docs/; secrets never
appear here, only the names of the environment variables or files that hold them.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from pipelines.config_argocd import ArgoCDSourceConfig
from pipelines.config_base import Model, Regex, api_url
from pipelines.config_jira import JiraSourceConfig


class RepoRoot(Model):
    root: Path  # a directory whose sub-directories are git repositories
    include: list[str] = Field(default_factory=list)  # glob patterns of repo names; empty = all
    exclude: list[str] = Field(default_factory=list)


class ClusterSnapshot(Model):
    path: Path  # `kubectl get ... -o json` output or multi-document manifests
    cluster: str
    environment: str = "production"


# ------------------------------------------------ live Kubernetes clusters (issue 5)

_SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class InCluster(Model):
    """Service-account settings when the scorecard runs inside the cluster it reads.

    The defaults are what Kubernetes mounts and sets; tests point them elsewhere.
    """

    token_path: Path = _SA_DIR / "token"
    ca_path: Path = _SA_DIR / "ca.crt"
    host: str | None = None  # default: $KUBERNETES_SERVICE_HOST, read when the crawl starts
    port: int | None = None  # default: $KUBERNETES_SERVICE_PORT


class LiveCluster(Model):
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


class RolloutDeploys(Model):
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


class DeliverySources(Model):
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


class GitHubApp(Model):
    """Authenticate as a GitHub App installation (preferred for organisations)."""

    app_id: int
    installation_id: int
    private_key_path: Path  # the App's PEM key; relative to the config file


class GitHubSourceConfig(Model):
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
        return api_url(value, "https://github.example.com/api/v3")

    @model_validator(mode="after")
    def _org_or_repos(self) -> GitHubSourceConfig:
        if not self.organisation and not self.repos:
            raise ValueError("set `organisation` (crawl all its repositories) or `repos` (a list of repositories)")
        if not self.organisation and any("/" not in r for r in self.repos):
            raise ValueError('repos given as "name" (not "owner/name") need `organisation`')
        return self


# ------------------------------------------------------- Backstage portal catalog

DEFAULT_BACKSTAGE_TOKEN_ENV = "BACKSTAGE_TOKEN"


class BackstageSourceConfig(Model):
    """A developer portal's catalog, the first identity source (docs/backstage.md).

    Read live from `base_url` (the catalog API at ``{base_url}/api/catalog``)
    or, air-gapped, from `entities_file` (a JSON dump of entities, the shape
    the API returns). The token is never in this file: `token_env` names the
    environment variable holding it; a portal without auth needs none.
    """

    name: str = "backstage"  # the target its source_status row and problems name
    base_url: str | None = None  # https://backstage.example.com (or .../api/catalog)
    entities_file: Path | None = None  # relative to the config file
    token_env: str = DEFAULT_BACKSTAGE_TOKEN_ENV
    page_size: int = Field(default=500, ge=1, le=5_000)
    timeout_s: float = Field(default=30.0, gt=0)  # per request
    max_retries: int = Field(default=4, ge=0)  # on 429 and 5xx
    backoff_s: float = Field(default=0.5, ge=0)  # first retry delay without Retry-After; doubles per attempt
    max_wait_s: float = Field(default=60.0, ge=0)  # longest Retry-After honoured; longer fails the portal
    deadline_seconds: float = Field(default=300.0, gt=0)  # the whole read of this portal
    state_dir: Path | None = None  # per-entity etags for re-crawls; default <warehouse dir>/backstage-state

    @field_validator("token_env")
    @classmethod
    def _names_a_variable(cls, value: str) -> str:
        # Not echoed: a value that is not a variable name may well be a pasted token. Backstage
        # static tokens are plain random letters and digits, which are also a valid variable
        # name: a long mixed-case one without an underscore is taken for a token, since the
        # reason a 401 gives names the variable.
        looks_random = len(value) >= 20 and "_" not in value and not value.isupper() and not value.islower()
        if not _ENV_NAME.match(value) or looks_random:
            raise ValueError("expected the name of an environment variable, like BACKSTAGE_TOKEN, not a token")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return api_url(value, "https://backstage.example.com")

    @model_validator(mode="after")
    def _one_place(self) -> BackstageSourceConfig:
        if (self.base_url is None) == (self.entities_file is None):
            raise ValueError("set either `base_url` (a running Backstage) or `entities_file` (a JSON dump), not both")
        return self


class Sources(Model):
    repos: list[RepoRoot] = Field(default_factory=list)
    github: list[GitHubSourceConfig] = Field(default_factory=list)
    clusters: list[ClusterSnapshot] = Field(default_factory=list)
    kubernetes: list[LiveCluster] = Field(default_factory=list)
    backstage: list[BackstageSourceConfig] = Field(default_factory=list)  # developer portals (identity)
    argocd: list[ArgoCDSourceConfig] = Field(default_factory=list)  # Argo CD API servers (docs/gitops.md)
    delivery: DeliverySources = Field(default_factory=DeliverySources)
    jira: list[JiraSourceConfig] = Field(default_factory=list)  # request queues (docs/jira.md)
    # A repository whose crawl takes longer is recorded as `error` and the run goes on.
    repo_crawl_budget_seconds: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _cluster_names_are_unique(self) -> Sources:
        # Findings, source_status and staleness are keyed by cluster name.
        names = [c.cluster for c in self.clusters] + [c.cluster for c in self.kubernetes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"cluster names must be unique across clusters and kubernetes, repeated: {duplicates}")
        # Stored requests and their crawl watermark are keyed by the target name.
        targets = [j.target for j in self.jira]
        repeated = sorted({t for t in targets if targets.count(t) > 1})
        if repeated:
            raise ValueError(f"jira entries need unique names (`name`, default the project key), repeated: {repeated}")
        portals = [b.name for b in self.backstage]
        if len(set(portals)) != len(portals):
            raise ValueError("each sources.backstage entry needs its own `name` (source_status is keyed by it)")
        return self
