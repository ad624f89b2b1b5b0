"""Crossplane evidence: the claims a service makes and the compositions the platform publishes.

Plain data, like `checks.evidence`: `pipelines.crossplane` builds it from the
Crossplane objects found in repositories and clusters, `checks.crossplane`
judges it. A claim here is anything that asks Crossplane for infrastructure:
a v1 claim (namespaced), a composite resource (XR) made directly, or a v2
namespaced XR; an XR created *for* a claim is the claim's, never counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AUTOMATIC = "Automatic"
MANUAL = "Manual"


@dataclass(slots=True)
class Claim:
    """One request for infrastructure through a Crossplane API."""

    kind: str  # "PostgreSQLInstance"
    api_group: str  # "platform.acme.io"
    name: str
    namespace: str  # "" for a cluster-scoped XR, or a manifest that leaves it to apply time
    shape: str  # "claim" (v1), "composite" (v1 XR made directly), "v2" (spec.crossplane.*)
    file: str | None = None  # manifest path when it came from a repo
    cluster: str | None = None  # cluster name when it came from a cluster
    composition: str | None = None  # compositionRef.name (set by Crossplane on live objects)
    selector: dict[str, str] = field(default_factory=dict)  # compositionSelector.matchLabels
    revision: str | None = None  # compositionRevisionRef.name
    update_policy: str | None = None  # "Automatic" | "Manual"; None: unset (Crossplane's default is Automatic)
    # How it was recognised: "xrd" (its kind is served by an XRD the run knows) or "shape" (its spec fields).
    recognised_by: str = "shape"


@dataclass(slots=True)
class CompositionInfo:
    name: str
    composite_kind: str | None  # spec.compositeTypeRef.kind
    composite_api_version: str | None  # spec.compositeTypeRef.apiVersion
    labels: dict[str, str] = field(default_factory=dict)
    where: str = ""  # a file in a repo, or "cluster prod-eu"


@dataclass(slots=True)
class RevisionInfo:
    name: str  # "<composition>-<hash>", what a claim's compositionRevisionRef names
    composition: str  # label crossplane.io/composition-name
    revision: int  # spec.revision: a number that only grows
    cluster: str | None = None


@dataclass(slots=True)
class XrdInfo:
    """What a CompositeResourceDefinition serves: composite kind and (v1) claim kind in its group."""

    name: str
    group: str
    kind: str  # spec.names.kind (the XR)
    claim_kind: str | None  # spec.claimNames.kind (v1 only)
    default_composition: str | None = None  # spec.defaultCompositionRef.name
    versions: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CompositionCatalogue:
    """Every XRD, Composition and CompositionRevision the run saw, in any repo or cluster.

    The same for every service: whether a claim's composition is the platform's
    and how many revisions newer its composition has are platform-wide facts.
    Indexed once when made (every service's checks ask it), so treat it as read-only.
    """

    xrds: list[XrdInfo] = field(default_factory=list)
    compositions: list[CompositionInfo] = field(default_factory=list)
    revisions: list[RevisionInfo] = field(default_factory=list)
    _by_name: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _revision: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _numbers: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _served: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _latest: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # for checks.crossplane

    def __post_init__(self) -> None:
        for c in self.compositions:
            self._by_name.setdefault(c.name, c)
        for r in self.revisions:
            self._revision.setdefault(r.name, r)
            self._numbers.setdefault(r.composition, set()).add(r.revision)
            if r.revision > getattr(self._latest.get(r.composition), "revision", -1):
                self._latest[r.composition] = r
        for x in self.xrds:
            for kind in (x.kind, x.claim_kind):
                if kind:
                    self._served.setdefault((x.group, kind), x)

    def composition(self, name: str) -> CompositionInfo | None:
        return self._by_name.get(name)

    def revision(self, name: str) -> RevisionInfo | None:
        return self._revision.get(name)

    def latest_revision(self, composition: str) -> int | None:
        numbers = self._numbers.get(composition)
        return max(numbers) if numbers else None

    def latest_revision_name(self, composition: str) -> str | None:
        latest = self._latest.get(composition)
        return latest.name if latest else None

    def revisions_after(self, composition: str, revision: int) -> int:
        """How many revisions of the composition are newer than this one."""
        return sum(1 for n in self._numbers.get(composition, ()) if n > revision)

    def xrd_for(self, group: str, kind: str) -> XrdInfo | None:
        """The XRD serving a kind, as composite or as claim."""
        return self._served.get((group, kind))
