"""Who is in the demo organisation and how mature each service is, over time.

Everything here is planning: plain data built from seeded random generators,
no I/O. `plan_org` decides teams, repositories, services, each service's
state on the first day of the window and the dated changes that move it
along the golden paths. `generate.py` turns the plan into git history.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field, fields, replace

ORG = "acme"
TEMPLATE_RELEASES = ("v1.0.0", "v2.0.0", "v3.0.0", "v3.1.0", "v3.2.0")
CI_RELEASES = ("v1", "v2", "v3", "v4")
CHART_RELEASES = ("1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0", "2.2.0", "2.3.0")
TF_RELEASES = ("v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v1.4.0")
LATEST_TEMPLATE = TEMPLATE_RELEASES[-1]
LATEST_CHART = CHART_RELEASES[-1]

# Special repositories, present in every demo org whatever its size.
MONOREPO = "acme-commerce"
BROKEN_REPO = "legacy-reporting"
EMPTY_REPO = "new-service-sandbox"
LIBRARY_REPO = "acme-python-commons"
ARCHIVED_REPO = "acme-go-kit"
SPECIAL_REPOS = (MONOREPO, BROKEN_REPO, EMPTY_REPO, LIBRARY_REPO, ARCHIVED_REPO)
MIN_REPOS = len(SPECIAL_REPOS) + 1


@dataclass(frozen=True, slots=True)
class Profile:
    """How a kind of team works: cadence, stability, and restore speed."""

    commits_per_weekday: float
    deploy_p: float  # chance of a production deploy on a weekday with new commits
    deploy_fail_p: float  # chance a deploy attempt fails (and is retried or abandoned)
    cfr: float  # chance a successful production deploy causes an incident
    restore_hours: float  # median time to restore
    staging_p: float  # share of the team's services that also deploy to staging


PROFILES: dict[str, Profile] = {
    "leader": Profile(1.6, 0.85, 0.03, 0.04, 0.6, 1.0),
    "tooling": Profile(0.9, 0.5, 0.04, 0.05, 1.5, 0.6),
    "steady": Profile(1.0, 0.45, 0.06, 0.10, 5.0, 0.7),
    "legacy": Profile(0.6, 0.2, 0.10, 0.15, 30.0, 0.3),
    "laggard": Profile(0.5, 0.1, 0.15, 0.25, 50.0, 0.2),
}


@dataclass(slots=True)
class Team:
    name: str
    display_name: str
    archetype: str
    languages: tuple[str, ...]
    story: str
    catalogue: list[tuple[str, str]]  # (service name, description) to draw from
    branch: str = "main"
    cfr: float | None = None  # overrides the archetype's change failure rate
    late_adopters: int | None = None  # laggards: services that adopt the template late in the window
    aliases: tuple[str, ...] = ()
    codeowners_alias: str | None = None  # the spelling some of its CODEOWNERS files use
    people: list[tuple[str, str]] = field(default_factory=list)  # (name, email)

    @property
    def profile(self) -> Profile:
        p = PROFILES[self.archetype]
        return p if self.cfr is None else replace(p, cfr=self.cfr)


NAMED_TEAMS: list[Team] = [
    Team(
        "payments",
        "Payments",
        "leader",
        ("python", "go"),
        "mature, early adopter: on the service template since v3, upgrades within weeks, "
        "deploys most days, rare incidents",
        [
            ("payments-api", "Card and wallet payment authorisation API"),
            ("ledger-worker", "Double-entry ledger writer consuming payment events"),
            ("refunds-service", "Refund requests and their state machine"),
            ("payouts-scheduler", "Schedules merchant payouts"),
            ("fx-rates", "Foreign exchange rates cache and API"),
            ("invoice-renderer", "Renders invoices to PDF"),
            ("fraud-scorer", "Real-time fraud scoring for payment attempts"),
            ("card-vault", "Tokenises and stores card data"),
            ("settlement-batch", "Nightly settlement with acquirers"),
            ("chargeback-handler", "Chargeback intake and evidence submission"),
            ("payment-links", "Shareable payment links"),
            ("billing-webhooks", "Outbound payment webhooks for merchants"),
        ],
        aliases=("@acme/payments-team",),
        codeowners_alias="@acme/payments-team",
    ),
    Team(
        "checkout",
        "Checkout",
        "steady",
        ("node",),
        "steady improver: adopts the template mid-quarter, bumps charts when reminded, "
        "owns most of the acme-commerce monorepo",
        [
            ("checkout-api", "Checkout sessions and order placement"),
            ("basket-service", "Shopping basket storage"),
            ("order-orchestrator", "Coordinates payment, stock and shipping for an order"),
            ("shipping-quotes", "Carrier quotes and delivery estimates"),
            ("gift-cards", "Gift card issuing and redemption"),
            ("address-validator", "Postal address validation"),
            ("order-history", "Customer order history API"),
            ("delivery-slots", "Delivery slot booking"),
        ],
    ),
    Team(
        "growth",
        "Growth",
        "laggard",
        ("node", "python"),
        "laggard: hand-rolled CI, hand-written charts, no PDBs; two services adopt the template late in the quarter",
        [
            ("referral-service", "Referral codes and rewards"),
            ("campaign-api", "Marketing campaign configuration"),
            ("experiment-gateway", "A/B test assignment"),
            ("email-sender", "Transactional and marketing email"),
            ("landing-pages", "Server-rendered landing pages"),
            ("loyalty-points", "Loyalty points balance and history"),
            ("coupon-service", "Coupon validation"),
            ("attribution-tracker", "Marketing attribution events"),
        ],
        late_adopters=2,
    ),
    Team(
        "identity",
        "Identity & Access",
        "leader",
        ("go",),
        "mature, early adopter, Go shop: every path adopted, zero change failures this quarter",
        [
            ("auth-gateway", "Authentication gateway in front of every API"),
            ("token-service", "Issues and validates access tokens"),
            ("user-profile-api", "User profiles"),
            ("sso-bridge", "SAML/OIDC single sign-on bridge"),
            ("mfa-service", "Multi-factor authentication"),
            ("session-store", "Session storage"),
            ("permissions-api", "Fine-grained permissions checks"),
            ("scim-sync", "SCIM user provisioning"),
        ],
        cfr=0.0,
    ),
    Team(
        "search",
        "Search & Discovery",
        "steady",
        ("python-pyproject", "go"),
        "steady: good reliability basics, adds OpenTelemetry during the quarter, co-owns monorepo components",
        [
            ("search-api", "Product search API"),
            ("indexer-worker", "Builds the search index from catalogue events"),
            ("query-suggest", "Query autocompletion"),
            ("ranking-service", "Learning-to-rank scoring"),
            ("catalog-sync", "Syncs the product catalogue into search"),
            ("synonyms-admin", "Synonym management UI"),
            ("search-analytics", "Search click and query analytics"),
        ],
    ),
    Team(
        "data-platform",
        "Data Platform",
        "legacy",
        ("python",),
        "legacy: default branch `master`, old base chart 1.x, pinned to platform-workflows v2 "
        "or hand-rolled CI, literal secrets being moved to ExternalSecrets",
        [
            ("event-ingest", "Ingests product events into the lake"),
            ("etl-orchestrator", "Schedules ETL jobs"),
            ("warehouse-loader", "Loads curated tables into the warehouse"),
            ("metrics-exporter", "Exports business metrics"),
            ("feature-store-api", "Online feature store"),
            ("cdc-connector", "Change data capture from service databases"),
            ("data-quality-runner", "Runs data quality checks"),
        ],
        branch="master",
    ),
    Team(
        "mobile-api",
        "Mobile API",
        "laggard",
        ("node",),
        "laggard: no template, literal secrets in env, missing probes and limits, deploys "
        "every couple of weeks, about one in four deploys causes an incident",
        [
            ("mobile-bff", "Backend-for-frontend of the mobile apps"),
            ("push-gateway", "Push notification gateway"),
            ("app-config-service", "Remote configuration for the apps"),
            ("device-registry", "Registered devices"),
            ("deep-link-resolver", "Resolves deep links"),
            ("in-app-messaging", "In-app messages"),
        ],
        aliases=("@acme/mobile",),
        codeowners_alias="@acme/mobile",
        late_adopters=1,
    ),
    Team(
        "infra-tools",
        "Infrastructure Tooling",
        "tooling",
        ("go",),
        "tooling: owns the shared libraries and internal tools, releases with version tags "
        "(no deploy log), stuck on template v3.0.0",
        [
            ("deploy-bot", "Chat-ops deploy bot"),
            ("cost-exporter", "Cloud cost exporter"),
            ("dns-controller", "Manages DNS records"),
            ("cert-watcher", "Certificate expiry watcher"),
            ("runner-autoscaler", "CI runner autoscaler"),
            ("secrets-syncer", "Syncs secrets to the vault"),
        ],
    ),
]

# Extra teams for the scaled (benchmark) organisation.
_EXTRA_DOMAINS = (
    "billing",
    "fraud",
    "notifications",
    "logistics",
    "inventory",
    "fulfilment",
    "returns",
    "pricing",
    "loyalty",
    "ads",
    "content",
    "media",
    "maps",
    "risk",
    "compliance",
    "trust-safety",
    "experimentation",
    "analytics",
    "sre",
    "observability",
    "devex",
    "edge",
    "storage",
    "streaming",
    "messaging",
    "recommendations",
    "personalisation",
    "support-tools",
    "partner-api",
    "onboarding",
    "crm",
    "marketing-tech",
    "tax",
    "accounting",
    "reporting",
    "ml-platform",
    "seller-tools",
    "customer-care",
    "travel",
    "insurance",
)
_EXTRA_ARCHETYPES = ("leader", "steady", "steady", "legacy", "laggard", "tooling", "steady", "laggard")
_NOUNS = (
    "api",
    "worker",
    "gateway",
    "scheduler",
    "indexer",
    "sync",
    "exporter",
    "consumer",
    "service",
    "adapter",
    "web",
    "jobs",
    "cache",
    "store",
    "router",
    "notifier",
    "reporter",
    "importer",
    "bff",
    "admin",
    "engine",
    "proxy",
    "collector",
    "resolver",
    "registry",
)
_FIRST = (
    "Alex",
    "Sam",
    "Priya",
    "Jonas",
    "Mei",
    "Omar",
    "Lena",
    "Diego",
    "Aisha",
    "Tomás",
    "Hana",
    "Kofi",
    "Marta",
    "Ravi",
    "Ines",
    "Felix",
    "Yuki",
    "Nora",
    "Emeka",
    "Sofia",
)
_LAST = (
    "Berg",
    "Okafor",
    "Nakamura",
    "Silva",
    "Novak",
    "Haddad",
    "Larsen",
    "Kaur",
    "Moreau",
    "Rossi",
    "Schmidt",
    "Ortiz",
    "Chen",
    "Dubois",
    "Petrov",
    "Walsh",
    "Yilmaz",
    "Costa",
)

MONOREPO_COMPONENTS = (
    # name, preferred owner, catalog style ("own": services/<name>/catalog-info.yaml,
    # "root": listed in the root catalog-info.yaml with a source-location), description
    ("commerce-cart", "checkout", "own", "Cart pages and cart API of the storefront"),
    ("storefront-web", "checkout", "own", "Storefront web frontend"),
    ("pricing-engine", "search", "root", "Computes prices, discounts and taxes"),
    ("promotions-engine", "growth", "own", "Evaluates promotions at checkout"),
    ("product-catalog", "search", "root", "Product catalogue API"),
)


@dataclass(slots=True)
class Component:
    """One service (or library) and its golden-path state at a point in time."""

    name: str
    description: str
    team: str
    language: str
    path: str = ""  # "" for a single-service repo, "services/<name>" in the monorepo
    type: str = "service"
    lifecycle: str = "production"
    system: str = ""
    catalog: str | None = "own"  # "own" | "root" | "broken" | None (no catalog entity)
    owner_ref: str = "plain"  # "plain": `payments`, "group": `group:default/payments`
    pagerduty: bool = False
    label_style: str = "backstage"  # "backstage" | "k8s-name" | "app"
    workload_kind: str = "Deployment"
    chart: str | None = None  # base chart version, "custom" or None
    terraform: list[tuple[str, str, str | None]] = field(default_factory=list)  # (name, style, ref)
    otel: bool = False
    structured_logging: bool = False
    runbook: bool = False
    dashboard: bool = False
    alerts: bool = False
    slo: bool = False
    manifests: bool = True  # k8s/ kept in the repo
    readiness: bool = True
    liveness: bool = True
    requests: bool = True
    limits: bool = True
    non_root: bool = True
    replicas: int = 2
    pdb: bool = False
    hpa: bool = False
    servicemonitor: bool = False
    scrape_annotation: bool = False
    externalsecret: bool = False
    literal_secret: bool = False
    latest_image: bool = False
    port: int = 8080
    # delivery
    deploys: str = "events"  # "events" | "tags" | "none"
    staging: bool = False
    pagerduty_id: str = ""


@dataclass(slots=True)
class RepoSettings:
    """Repository-level golden-path state (template, CI, CODEOWNERS, bots)."""

    template: tuple[str, str] | None = None  # (tool, version): copier | cookiecutter | cookiecutter-replay
    ci: tuple[str, str | None] | None = ("shared", "v4")  # ("shared", ref) | ("handrolled", None)
    codeowners: str | None = ".github/CODEOWNERS"
    dep_bot: str | None = None  # "dependabot" | "renovate"
    security_md: bool = False
    readme: bool = True
    broken_ci: bool = False
    owner_handle: str = ""  # the team handle its CODEOWNERS uses ("@acme/payments" or an alias)


@dataclass(slots=True)
class Change:
    """A dated commit that moves a service along (or off) a golden path."""

    day: int
    message: str
    changes: dict[str, object]  # field -> new value; "repo." prefix for RepoSettings fields
    component: str | None = None  # None: the repo's only component / the repo itself
    bot: str | None = None  # "renovate" | "dependabot": authored by the bot


@dataclass(slots=True)
class RepoPlan:
    name: str
    role: str  # "service" | "monorepo" | "broken" | "empty" | "library" | "archived"
    team: str  # primary owner
    branch: str
    components: list[Component]
    settings: RepoSettings
    changes: list[Change] = field(default_factory=list)
    created_day: int = 0
    last_day: int | None = None  # archived repos stop early
    tag_style: str | None = None  # "annotated" | "lightweight" for tag-deployed repos

    @property
    def has_history(self) -> bool:
        return self.role != "empty"


@dataclass(slots=True)
class OrgPlan:
    teams: list[Team]
    repos: list[RepoPlan]
    config_services: list[dict]  # explicit `services:` entries for the config
    waivers: list[dict]


COMPONENT_FIELDS = frozenset(f.name for f in fields(Component))
REPO_FIELDS = frozenset(f.name for f in fields(RepoSettings))


def apply_change(repo: RepoPlan, change: Change) -> None:
    comp = _component(repo, change.component)
    for key, value in change.changes.items():
        if key.startswith("repo."):
            setattr(repo.settings, key[5:], value)
        else:
            setattr(comp, key, value)


def _component(repo: RepoPlan, name: str | None) -> Component:
    if name is None:
        return repo.components[0]
    for comp in repo.components:
        if comp.name == name:
            return comp
    raise KeyError(name)


# ------------------------------------------------------------------ planning


def _people(rng: random.Random, team: str) -> list[tuple[str, str]]:
    out = []
    for first, last in rng.sample([(f, la) for f in _FIRST for la in _LAST], rng.randint(3, 5)):
        ascii_first = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode().lower()
        out.append((f"{first} {last}", f"{ascii_first}.{last.lower()}@{ORG}.example"))
    return out


def _teams(n: int, rng: random.Random) -> list[Team]:
    teams = [replace(t, people=[]) for t in NAMED_TEAMS[:n]]
    archetypes = list(_EXTRA_ARCHETYPES)
    for i in range(max(0, n - len(NAMED_TEAMS))):
        domain = _EXTRA_DOMAINS[i % len(_EXTRA_DOMAINS)]
        name = domain if i < len(_EXTRA_DOMAINS) else f"{domain}-{i // len(_EXTRA_DOMAINS) + 1}"
        archetype = archetypes[(i + rng.randrange(len(archetypes))) % len(archetypes)]
        languages = tuple(rng.sample(("python", "python-pyproject", "node", "go"), rng.randint(1, 2)))
        teams.append(
            Team(
                name,
                name.replace("-", " ").title(),
                archetype,
                languages,
                f"{archetype} (generated team)",
                [],
                branch="master" if archetype == "legacy" and rng.random() < 0.5 else "main",
            )
        )
    for team in teams:
        team.people = _people(random.Random(f"people/{team.name}"), team.name)
        team.aliases = tuple(dict.fromkeys((*team.aliases, f"@{ORG}/{team.name}")))
    return teams


def _service_names(teams: list[Team], counts: dict[str, int], reserved: set[str]) -> dict[str, list[tuple[str, str]]]:
    taken = set(reserved)
    out: dict[str, list[tuple[str, str]]] = {}
    for team in teams:
        names: list[tuple[str, str]] = []
        for name, desc in team.catalogue:
            if len(names) == counts[team.name]:
                break
            if name not in taken:
                names.append((name, desc))
                taken.add(name)
        k = 0
        while len(names) < counts[team.name]:
            noun = _NOUNS[k % len(_NOUNS)]
            suffix = "" if k < len(_NOUNS) else f"-{k // len(_NOUNS) + 1}"
            name = f"{team.name}-{noun}{suffix}"
            k += 1
            if name not in taken:
                taken.add(name)
                names.append((name, f"{team.display_name} {noun}"))
        out[team.name] = names
    return out


def _day(rng: random.Random, days: int, lo: float, hi: float) -> int:
    return max(1, min(days - 1, int(rng.uniform(lo, hi) * days)))


def _pick(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _golden_bundle(comp: Component) -> dict[str, object]:
    """What adopting the current service template brings with it."""
    out: dict[str, object] = {
        "repo.template": ("copier", LATEST_TEMPLATE),
        "repo.ci": ("shared", "v4"),
        "repo.security_md": True,
        "readiness": True,
        "liveness": True,
        "requests": True,
        "limits": True,
        "non_root": True,
        "servicemonitor": True,
        "scrape_annotation": False,
        "pdb": True,
        "replicas": max(comp.replicas, 2),
        # The template ships a catalog entity and CODEOWNERS too.
        "catalog": comp.catalog or "own",
        "repo.codeowners": ".github/CODEOWNERS",
        "repo.readme": True,
    }
    if comp.chart != "custom":
        out["chart"] = LATEST_CHART
    return out


def _sample(team: Team, comp: Component, s: RepoSettings, rng: random.Random, days: int) -> list[Change]:
    """Initial state and dated changes of one component, by team archetype."""
    arch = team.archetype
    ch: list[Change] = []
    c = comp
    c.pagerduty_id = "P" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(6))
    c.label_style = rng.choices(("backstage", "k8s-name", "app"), (0.7, 0.2, 0.1))[0]
    c.port = rng.choice((8080, 8080, 8000, 3000, 9090))
    if arch in ("leader", "tooling"):
        s.template = (
            ("copier", "v3.0.0") if arch == "tooling" else ("copier", rng.choice(("v3.0.0", "v3.1.0", "v3.1.0")))
        )
        s.ci = ("shared", rng.choice(("v3", "v4", "v4")) if arch == "leader" else ("v4" if _pick(rng, 0.8) else "main"))
        s.codeowners = ".github/CODEOWNERS"
        s.dep_bot = "renovate" if arch == "tooling" else rng.choice(("renovate", "dependabot"))
        s.security_md = True
        c.owner_ref = "plain" if _pick(rng, 0.8) else "group"
        c.pagerduty = _pick(rng, 0.8 if arch == "leader" else 0.5)
        c.chart = (
            rng.choice(("2.1.0", "2.2.0", "2.2.0")) if arch == "leader" else rng.choice(("2.2.0", "2.3.0", "2.3.0"))
        )
        tf_ref = "v1.3.0" if arch == "leader" else "v1.4.0"
        c.terraform = [("db", "standard", tf_ref)] if _pick(rng, 0.7) else []
        c.otel = c.structured_logging = c.dashboard = True
        c.runbook = _pick(rng, 0.95)
        c.alerts = _pick(rng, 0.9)
        c.slo = _pick(rng, 0.6 if arch == "leader" else 0.4)
        c.replicas = 3 if arch == "leader" else 2
        c.pdb = _pick(rng, 0.8 if arch == "leader" else 0.7)
        c.hpa = _pick(rng, 0.9 if arch == "leader" else 0.3)
        c.servicemonitor = c.externalsecret = True
        c.staging = True
        if arch == "leader":
            if s.template[1] != LATEST_TEMPLATE and _pick(rng, 0.85):
                ch.append(
                    Change(
                        _day(rng, days, 0.1, 0.45),
                        f"chore: update to service-template {LATEST_TEMPLATE} (copier update)",
                        {"repo.template": ("copier", LATEST_TEMPLATE)},
                    )
                )
            if s.ci[1] != "v4" and _pick(rng, 0.85):
                ch.append(
                    Change(
                        _day(rng, days, 0.05, 0.35),
                        "ci: move to platform-workflows service-ci v4",
                        {"repo.ci": ("shared", "v4")},
                    )
                )
            if c.terraform and _pick(rng, 0.5):
                ch.append(
                    Change(
                        _day(rng, days, 0.3, 0.9),
                        "chore(terraform): bump acme terraform-modules to v1.4.0",
                        {"terraform": [("db", "standard", "v1.4.0")]},
                    )
                )
        if c.chart != LATEST_CHART and _pick(rng, 0.85):
            ch.append(
                Change(
                    _day(rng, days, 0.25, 0.6),
                    f"chore(deps): update helm release acme-base-chart to {LATEST_CHART}",
                    {"chart": LATEST_CHART},
                    bot=s.dep_bot,
                )
            )
        if not c.pdb:
            ch.append(Change(_day(rng, days, 0.2, 0.5), "feat(k8s): add PodDisruptionBudget", {"pdb": True}))
        if not c.slo and _pick(rng, 0.6):
            ch.append(Change(_day(rng, days, 0.3, 0.8), "feat(slo): define availability SLO", {"slo": True}))
        if not c.pagerduty and _pick(rng, 0.7):
            ch.append(Change(_day(rng, days, 0.1, 0.5), "chore(catalog): link PagerDuty service", {"pagerduty": True}))
    elif arch == "steady":
        s.template = ("copier", rng.choice(("v2.0.0", "v3.0.0", "v3.1.0"))) if _pick(rng, 0.5) else None
        s.ci = ("shared", rng.choice(("v2", "v3", "v3", "v4"))) if _pick(rng, 0.85) else ("handrolled", None)
        s.codeowners = ".github/CODEOWNERS" if _pick(rng, 0.7) else "CODEOWNERS"
        s.dep_bot = "dependabot" if _pick(rng, 0.6) else None
        s.security_md = _pick(rng, 0.5)
        c.catalog = "own" if _pick(rng, 0.9) else None
        c.owner_ref = "plain" if _pick(rng, 0.7) else "group"
        c.pagerduty = _pick(rng, 0.4)
        c.chart = rng.choice(("2.0.0", "2.1.0", "2.2.0")) if _pick(rng, 0.85) else "custom"
        c.terraform = rng.choices(
            ([("db", "standard", rng.choice(("v1.2.0", "v1.3.0")))], [("db", "community", "6.1.0")], []),
            (0.6, 0.2, 0.2),
        )[0]
        c.otel = _pick(rng, 0.5)
        c.structured_logging = _pick(rng, 0.7)
        c.runbook = _pick(rng, 0.6)
        c.dashboard = _pick(rng, 0.7)
        c.alerts = _pick(rng, 0.6)
        c.slo = _pick(rng, 0.25)
        c.limits = _pick(rng, 0.7)
        c.non_root = _pick(rng, 0.7)
        c.replicas = rng.choice((2, 3))
        c.pdb = _pick(rng, 0.5)
        c.hpa = _pick(rng, 0.5)
        c.servicemonitor = _pick(rng, 0.85)
        c.scrape_annotation = not c.servicemonitor
        c.externalsecret = _pick(rng, 0.8)
        c.literal_secret = not c.externalsecret and _pick(rng, 0.5)
        c.staging = _pick(rng, team.profile.staging_p)
        if s.template is None:
            if _pick(rng, 0.6):
                ch.append(
                    Change(
                        _day(rng, days, 0.3, 0.65), f"feat: adopt service template {LATEST_TEMPLATE}", _golden_bundle(c)
                    )
                )
        elif _pick(rng, 0.5):
            target = rng.choice(("v3.1.0", LATEST_TEMPLATE))
            if TEMPLATE_RELEASES.index(target) > TEMPLATE_RELEASES.index(s.template[1]):
                ch.append(
                    Change(
                        _day(rng, days, 0.3, 0.9),
                        f"chore: update to service-template {target}",
                        {"repo.template": ("copier", target)},
                    )
                )
        if not c.otel and _pick(rng, 0.5):
            ch.append(Change(_day(rng, days, 0.2, 0.8), "feat: instrument with OpenTelemetry", {"otel": True}))
        if not c.pdb and _pick(rng, 0.4):
            ch.append(Change(_day(rng, days, 0.3, 0.9), "feat(k8s): add PodDisruptionBudget", {"pdb": True}))
        if c.chart not in ("custom", LATEST_CHART) and _pick(rng, 0.5):
            target = CHART_RELEASES[CHART_RELEASES.index(c.chart) + 1]
            ch.append(
                Change(_day(rng, days, 0.3, 0.9), f"chore(deps): bump acme-base-chart to {target}", {"chart": target})
            )
        if not c.runbook and _pick(rng, 0.4):
            ch.append(Change(_day(rng, days, 0.2, 0.9), "docs: add on-call runbook", {"runbook": True}))
        if s.ci[0] == "shared" and s.ci[1] == "v2" and _pick(rng, 0.5):
            ch.append(
                Change(_day(rng, days, 0.1, 0.7), "ci: bump platform-workflows to v3", {"repo.ci": ("shared", "v3")})
            )
        if c.literal_secret and _pick(rng, 0.5):
            ch.append(
                Change(
                    _day(rng, days, 0.2, 0.7),
                    "fix(security): read credentials from ExternalSecret",
                    {"literal_secret": False, "externalsecret": True},
                )
            )
    elif arch == "legacy":
        s.template = None
        s.ci = ("shared", "v2") if _pick(rng, 0.5) else ("handrolled", None)
        s.codeowners = rng.choice(("CODEOWNERS", "docs/CODEOWNERS", ".github/CODEOWNERS")) if _pick(rng, 0.8) else None
        s.dep_bot = None
        s.security_md = _pick(rng, 0.3)
        c.catalog = "own" if _pick(rng, 0.8) else None
        c.owner_ref = "group" if _pick(rng, 0.5) else "plain"
        c.chart = rng.choice(("1.0.0", "1.1.0", "1.2.0")) if _pick(rng, 0.7) else "custom"
        c.terraform = rng.choices(
            ([("warehouse", "community", "6.1.0")], [("bucket", "local", None)], [("db", "standard", "v1.0.0")]),
            (0.5, 0.3, 0.2),
        )[0]
        c.structured_logging = _pick(rng, 0.3)
        c.runbook = _pick(rng, 0.4)
        c.dashboard = _pick(rng, 0.5)
        c.alerts = _pick(rng, 0.3)
        c.readiness = _pick(rng, 0.5)
        c.requests = _pick(rng, 0.6)
        c.limits = _pick(rng, 0.2)
        c.non_root = _pick(rng, 0.3)
        c.replicas = rng.choice((1, 2))
        c.servicemonitor = _pick(rng, 0.3)
        c.scrape_annotation = not c.servicemonitor and _pick(rng, 0.6)
        c.externalsecret = _pick(rng, 0.5)
        c.literal_secret = not c.externalsecret and _pick(rng, 0.6)
        c.workload_kind = "StatefulSet" if _pick(rng, 0.15) else "Deployment"
        c.staging = _pick(rng, team.profile.staging_p)
        if c.literal_secret and _pick(rng, 0.6):
            ch.append(
                Change(
                    _day(rng, days, 0.4, 0.8),
                    "fix(security): move credentials to ExternalSecret",
                    {"literal_secret": False, "externalsecret": True},
                )
            )
        if _pick(rng, 0.5):
            ch.append(Change(_day(rng, days, 0.3, 0.9), "chore: enable Dependabot", {"repo.dep_bot": "dependabot"}))
        if c.chart not in ("custom", None) and _pick(rng, 0.3):
            ch.append(Change(_day(rng, days, 0.6, 0.95), "chore: migrate to acme-base-chart 2.0.0", {"chart": "2.0.0"}))
        if not c.readiness and _pick(rng, 0.4):
            ch.append(Change(_day(rng, days, 0.3, 0.9), "fix(k8s): add readiness probe", {"readiness": True}))
        if _pick(rng, 0.15):
            ch.append(Change(_day(rng, days, 0.6, 0.95), "feat: add OpenTelemetry tracing", {"otel": True}))
    else:  # laggard
        s.template = None
        s.ci = rng.choices(
            (("shared", "v2"), ("shared", "v3"), ("shared", "sha"), ("shared", "main"), ("handrolled", None)),
            (0.3, 0.15, 0.15, 0.1, 0.3),
        )[0]
        if s.ci == ("shared", "sha"):
            s.ci = ("shared", "%040x" % rng.getrandbits(160))
        s.codeowners = ".github/CODEOWNERS" if _pick(rng, 0.6) else None
        s.dep_bot = "renovate" if _pick(rng, 0.2) else None
        s.security_md = _pick(rng, 0.1)
        s.readme = _pick(rng, 0.75)
        c.catalog = "own" if _pick(rng, 0.55) else None
        c.owner_ref = "group" if _pick(rng, 0.5) else "plain"
        c.pagerduty = _pick(rng, 0.1)
        c.chart = rng.choices(("custom", rng.choice(("1.0.0", "1.2.0", "2.0.0")), None), (0.5, 0.4, 0.1))[0]
        c.terraform = rng.choices(
            ([("cache", "unpinned", None)], [("queue", "community", "4.2.0")], []), (0.4, 0.3, 0.3)
        )[0]
        c.otel = _pick(rng, 0.1)
        c.structured_logging = _pick(rng, 0.4)
        c.runbook = _pick(rng, 0.15)
        c.dashboard = _pick(rng, 0.3)
        c.alerts = _pick(rng, 0.1)
        c.readiness = _pick(rng, 0.4)
        c.liveness = _pick(rng, 0.6)
        c.requests = _pick(rng, 0.5)
        c.limits = _pick(rng, 0.2)
        c.non_root = _pick(rng, 0.1)
        c.replicas = rng.choice((1, 1, 2))
        c.hpa = _pick(rng, 0.2)
        c.servicemonitor = _pick(rng, 0.1)
        c.scrape_annotation = not c.servicemonitor and _pick(rng, 0.4)
        c.externalsecret = _pick(rng, 0.3)
        c.literal_secret = not c.externalsecret and _pick(rng, 0.6)
        c.latest_image = _pick(rng, 0.15)
        c.staging = _pick(rng, team.profile.staging_p)
        if not c.readiness and _pick(rng, 0.35):
            ch.append(
                Change(
                    _day(rng, days, 0.3, 0.8), "fix(k8s): add readiness probe (postmortem action)", {"readiness": True}
                )
            )
        if s.codeowners is None and _pick(rng, 0.4):
            ch.append(
                Change(_day(rng, days, 0.3, 0.8), "chore: add CODEOWNERS", {"repo.codeowners": ".github/CODEOWNERS"})
            )
        if c.catalog is None and _pick(rng, 0.3):
            ch.append(Change(_day(rng, days, 0.4, 0.9), "chore: register component in Backstage", {"catalog": "own"}))
        if not c.limits and _pick(rng, 0.2):
            ch.append(
                Change(_day(rng, days, 0.3, 0.9), "fix(k8s): set resource limits", {"limits": True, "requests": True})
            )
    return ch


def _system(team: Team) -> str:
    return f"{team.name}-platform"


def plan_org(*, repos: int, teams: int, days: int, seed: int) -> OrgPlan:
    if repos < MIN_REPOS:
        raise ValueError(f"repos must be at least {MIN_REPOS} (the demo has {len(SPECIAL_REPOS)} special repositories)")
    if not 1 <= teams <= repos - len(SPECIAL_REPOS):
        raise ValueError(f"teams must be between 1 and {repos - len(SPECIAL_REPOS)} for {repos} repos")
    if days < 7:
        raise ValueError("days must be at least 7")
    org_rng = random.Random(f"{seed}/org")
    team_list = _teams(teams, org_rng)
    by_name = {t.name: t for t in team_list}

    def owner(preferred: str, i: int) -> Team:
        return by_name.get(preferred) or team_list[i % len(team_list)]

    # Spread the ordinary service repos over the teams: every team gets one,
    # the rest by weight so team sizes differ believably.
    n_services = repos - len(SPECIAL_REPOS)
    weights = [org_rng.uniform(0.6, 1.4) for _ in team_list]
    counts = {t.name: 1 for t in team_list}
    for _ in range(n_services - len(team_list)):
        # Named teams draw from their hand-written service lists while those last.
        open_ = [
            (t, w)
            for t, w in zip(team_list, weights, strict=True)
            if not t.catalogue or counts[t.name] < len(t.catalogue)
        ]
        pool, pool_w = zip(*open_, strict=True) if open_ else (team_list, weights)
        t = org_rng.choices(pool, pool_w)[0]
        counts[t.name] += 1
    reserved = set(SPECIAL_REPOS) | {name for name, *_ in MONOREPO_COMPONENTS}
    names = _service_names(team_list, counts, reserved)

    plans: list[RepoPlan] = []
    replay_tools = ["cookiecutter-replay", "cookiecutter"]  # one repo each, on a legacy or laggard team
    config_service_repo: str | None = None
    late_adopted: dict[str, int] = {}
    for team in team_list:
        for s_index, (name, desc) in enumerate(names[team.name]):
            rng = random.Random(f"{seed}/repo/{name}")
            lang = team.languages[s_index % len(team.languages)]
            comp = Component(name, desc, team.name, lang, system=_system(team))
            settings = RepoSettings()
            changes = _sample(team, comp, settings, rng, days)
            use_alias = team.codeowners_alias is not None and rng.random() < 0.5
            settings.owner_handle = team.codeowners_alias if use_alias else f"@{ORG}/{team.name}"
            plan = RepoPlan(name, "service", team.name, team.branch, [comp], settings, changes)
            if team.archetype == "tooling":
                # Releases by version tag, no deploy log.
                comp.deploys = "tags"
                plan.tag_style = "lightweight" if s_index % 2 == 0 else "annotated"
            elif team.archetype == "leader" and s_index == 0:
                # Deploy log *and* a release tag on every production deploy.
                plan.tag_style = "annotated"
            if team.archetype in ("legacy", "laggard") and replay_tools and s_index >= 1:
                tool = replay_tools.pop(0)
                settings.template = (tool, "v1.0.0" if tool == "cookiecutter-replay" else "v2.0.0")
                plan.changes = [c for c in changes if "repo.template" not in c.changes]
            if team.archetype == "laggard" and config_service_repo is None and settings.template is None:
                # Known to the config only: no catalog file and no CODEOWNERS.
                config_service_repo = name
                comp.catalog = None
                settings.codeowners = None
                plan.changes = [
                    c for c in plan.changes if not {"catalog", "repo.codeowners", "repo.template"} & set(c.changes)
                ]
            if team.archetype == "leader" and len(names[team.name]) >= 3 and s_index == len(names[team.name]) - 1:
                # A brand-new service, started from the current template mid-window.
                plan.created_day = _day(rng, days, 0.3, 0.6)
                comp.lifecycle = "experimental"
                for key, value in _golden_bundle(comp).items():
                    apply_change(plan, Change(0, "", {key: value}))
                comp.runbook = comp.slo = comp.pdb = True
                plan.changes = []
            if team.archetype == "laggard" and plan.settings.template is None and name != config_service_repo:
                if team.late_adopters is None:
                    team.late_adopters = org_rng.randint(0, 2)
                if late_adopted.get(team.name, 0) < team.late_adopters:
                    late_adopted[team.name] = late_adopted.get(team.name, 0) + 1
                    plan.changes.append(
                        Change(
                            _day(rng, days, 0.65, 0.9),
                            f"feat: adopt service template {LATEST_TEMPLATE}",
                            _golden_bundle(comp),
                        )
                    )
            plans.append(plan)

    # Make sure the window always shows at least one template adoption.
    if not any(
        "repo.template" in c.changes
        and c.changes["repo.template"] == ("copier", LATEST_TEMPLATE)
        and p.settings.template is None
        for p in plans
        for c in p.changes
    ):
        for p in plans:
            if (
                p.settings.template is None
                and p.role == "service"
                and p.created_day == 0
                and p.name != config_service_repo
            ):
                p.changes.append(
                    Change(
                        max(1, days // 2),
                        f"feat: adopt service template {LATEST_TEMPLATE}",
                        _golden_bundle(p.components[0]),
                    )
                )
                break
    if config_service_repo is None:
        config_service_repo = plans[-1].name
        plans[-1].components[0].catalog = None
        plans[-1].changes = [c for c in plans[-1].changes if not {"catalog", "repo.template"} & set(c.changes)]

    plans.extend(_special_repos(owner, seed, days))
    plans.sort(key=lambda p: p.name)

    cfg_team = next(p for p in plans if p.name == config_service_repo).team
    config_services = [
        {"name": config_service_repo, "repo": config_service_repo, "owner": cfg_team, "lifecycle": "production"}
    ]
    return OrgPlan(team_list, plans, config_services, _waivers(plans, org_rng))


def _special_repos(owner, seed: int, days: int) -> list[RepoPlan]:
    out: list[RepoPlan] = []

    # The monorepo: several components, two catalog styles, per-path CODEOWNERS.
    checkout = owner("checkout", 1)
    rng = random.Random(f"{seed}/repo/{MONOREPO}")
    settings = RepoSettings(template=("copier", "v3.1.0"), ci=("shared", "v3"), dep_bot="renovate", security_md=True)
    comps: list[Component] = []
    changes = [
        Change(_day(rng, days, 0.4, 0.6), "ci: move to platform-workflows service-ci v4", {"repo.ci": ("shared", "v4")})
    ]
    for i, (name, preferred, style, desc) in enumerate(MONOREPO_COMPONENTS):
        team = owner(preferred, i)
        lang = "node" if i < 2 or name == "promotions-engine" else "go"
        comp = Component(name, desc, team.name, lang, path=f"services/{name}", system="commerce")
        crng = random.Random(f"{seed}/component/{name}")
        scratch = RepoSettings()
        comp_changes = _sample(team, comp, scratch, crng, days)
        comp.catalog = style
        comp.deploys = "events"
        for c in comp_changes:
            # Repo-level moves belong to the monorepo as a whole, not to one component.
            c.changes = {k: v for k, v in c.changes.items() if not k.startswith("repo.") and k != "catalog"}
            c.component = name
            if c.changes:
                changes.append(c)
        comps.append(comp)
    out.append(RepoPlan(MONOREPO, "monorepo", checkout.name, "main", comps, settings, changes))

    # Broken YAML: a catalog file that stops parsing mid-window, a workflow that never did.
    data = owner("data-platform", 5)
    rng = random.Random(f"{seed}/repo/{BROKEN_REPO}")
    comp = Component(
        BROKEN_REPO, "Nightly finance reports (legacy cron jobs)", data.name, "python", system=_system(data)
    )
    settings = RepoSettings()
    legacy_team = replace(data, archetype="legacy")
    _sample(legacy_team, comp, settings, rng, days)
    comp.catalog = "own"
    settings.ci = ("handrolled", None)
    settings.broken_ci = True
    settings.codeowners = "CODEOWNERS"
    changes = [Change(_day(rng, days, 0.45, 0.6), "chore: update catalog annotations", {"catalog": "broken"})]
    out.append(RepoPlan(BROKEN_REPO, "broken", data.name, "master", [comp], settings, changes))

    # An empty repository: created, never pushed to.
    out.append(RepoPlan(EMPTY_REPO, "empty", owner("infra-tools", 7).name, "main", [], RepoSettings()))

    # Two libraries: one maintained, one archived-looking (no commits after the first week).
    tools = owner("infra-tools", 7)
    comp = Component(
        LIBRARY_REPO,
        "Shared Python helpers: config, logging, HTTP clients",
        tools.name,
        "python-pyproject",
        type="library",
        system="developer-platform",
        manifests=False,
        structured_logging=True,
        otel=True,
        deploys="none",
    )
    settings = RepoSettings(template=("copier", "v3.0.0"), ci=("shared", "v4"), dep_bot="renovate", security_md=True)
    out.append(RepoPlan(LIBRARY_REPO, "library", tools.name, "main", [comp], settings))
    comp = Component(
        ARCHIVED_REPO,
        "Go service kit (archived: use the service template instead)",
        tools.name,
        "go",
        type="library",
        lifecycle="deprecated",
        system="developer-platform",
        manifests=False,
        deploys="none",
    )
    settings = RepoSettings(template=None, ci=("shared", "v2"), codeowners="CODEOWNERS")
    out.append(RepoPlan(ARCHIVED_REPO, "archived", tools.name, "main", [comp], settings, last_day=max(1, days // 15)))
    for plan in out:
        for comp in plan.components:
            if comp.type == "library":
                comp.readiness = comp.liveness = comp.requests = comp.limits = comp.non_root = False
    return out


def _waivers(plans: list[RepoPlan], rng: random.Random) -> list[dict]:
    """A few waivers on real services, on three different services: two current, one expired."""
    candidates = [c for p in plans if p.role in ("service", "monorepo") for c in p.components]
    used: set[str] = set()

    def first(*preds) -> Component | None:
        for pred in preds:
            for c in candidates:
                if c.name not in used and pred(c):
                    used.add(c.name)
                    return c
        return None

    out = []
    singleton = first(
        lambda c: c.workload_kind == "StatefulSet",
        lambda c: c.replicas == 1 and any(w in c.name for w in ("worker", "scheduler", "batch", "orchestr")),
        lambda c: c.replicas == 1,
    )
    if singleton:
        out.append(
            {
                "service": singleton.name,
                "check": "runs_multiple_replicas",
                "reason": "singleton by design (leader election); HA rework planned next quarter",
                "expires_in_days": 45,
            }
        )
    no_pdb = first(lambda c: not c.pdb and "worker" in c.name, lambda c: not c.pdb)
    if no_pdb:
        out.append(
            {
                "service": no_pdb.name,
                "check": "has_pod_disruption_budget",
                "reason": "tolerates eviction (idempotent consumer); revisit after the queue migration",
                "expires_in_days": 30,
            }
        )
    expired = first(lambda c: c.literal_secret, lambda c: not c.non_root, lambda c: True)
    if expired:
        check = "no_literal_secrets" if expired.literal_secret else "runs_as_non_root"
        out.append(
            {
                "service": expired.name,
                "check": check,
                "reason": "migration tracked in SEC-412 (waiver lapsed: the date passed)",
                "expires_in_days": -10,
            }
        )
    return out
