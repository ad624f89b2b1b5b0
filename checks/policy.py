"""What a result means: the one place every reader takes its rules from.

Scoring (pipelines/scoring.py), waivers, `scorecard explain`, the run summary,
the published snapshot's derived columns and therefore every dashboard page
ask this module, never a list of statuses of their own (DESIGN.md "Scoring"):

* a result **counts as passing** when it is `pass` or `waived` (until the
  waiver expires), and `warn` too unless the scorecard says otherwise
  (`warn_passes: false`: an advisory finding then blocks its level);
* `not_applicable` is **skipped**: neither passing nor failing, and out of
  every denominator;
* `unknown` (data missing or stale) and `error` (the check broke) **do not
  pass**: they block a level like a failure. `unknown` is counted apart from
  failures so missing data never reads as a bad service; `error` is grouped
  with failures, since more than 5 % of them stops the run as a broken check
  (pipelines/assets.py ERROR_SHARE_LIMIT) and the rest still need fixing;
* a service **reaches a level** when every applicable check of that level and
  of every lower level counts as passing; the **next level** is the one above;
  a check **blocks the next level** when it is applicable, does not pass, and
  belongs to a level at or below the next one;
* the **weighted score** is the weight of passing checks over the weight of
  applicable ones;
* golden-path **adoption** is adopted / (adopted + not adopted): a service
  whose adoption is unknown is counted apart, never as "not adopted".

The level rule and the shares are computed once, set-based, by
pipelines/scoring.py from these meanings, and published with the snapshot
(`scorecard_results.counts_as_pass`, `blocks_next_level`, `adoption_summary`),
so no reader decides them again.
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.model import Status

NO_LEVEL = "none"  # the state of a service below the first level

# How each status is grouped in counts and pass rates.
PASSING_GROUP = "passing"
FAILING_GROUP = "failing"
UNKNOWN_GROUP = "unknown"
SKIPPED_GROUP = "skipped"

_ALWAYS_PASS = frozenset({Status.PASS.value, Status.WAIVED.value})
_SKIPPED = frozenset({Status.NOT_APPLICABLE.value})
_UNKNOWN = frozenset({Status.UNKNOWN.value})


@dataclass(frozen=True, slots=True)
class Policy:
    """The meaning of results for one scorecard."""

    warn_passes: bool = True

    @property
    def passing(self) -> frozenset[str]:
        """Statuses that count as passing."""
        return _ALWAYS_PASS | ({Status.WARN.value} if self.warn_passes else frozenset())

    def counts_as_pass(self, status: str) -> bool:
        return status in self.passing

    @staticmethod
    def applicable(status: str) -> bool:
        return status not in _SKIPPED

    def blocks(self, status: str) -> bool:
        """Applicable and not passing: keeps the service from the level of its check."""
        return self.applicable(status) and not self.counts_as_pass(status)

    def group(self, status: str) -> str:
        """passing / failing / unknown / skipped, for counts and pass rates."""
        if status in _SKIPPED:
            return SKIPPED_GROUP
        if self.counts_as_pass(status):
            return PASSING_GROUP
        if status in _UNKNOWN:
            return UNKNOWN_GROUP
        return FAILING_GROUP


DEFAULT = Policy()


def gate_status(status: str) -> str:
    """The status a result has in `scorecard gate`, which sees one checkout and nothing else.

    `unknown` there means data the checkout cannot hold (clusters, deploy
    events, the team directory, GitHub settings) or a file it cannot read:
    it is skipped, as `not_applicable` is, so what a pull request cannot
    change never fails it. The full run keeps `unknown` blocking its level.
    """
    return Status.NOT_APPLICABLE.value if status in _UNKNOWN else status


# Adoption of a golden path, from the result of its `uses_*` check. Not a
# scorecard's choice: a warning on "uses" still means the service is on the path.
ADOPTED, NOT_ADOPTED, ADOPTION_UNKNOWN = "adopted", "not_adopted", "unknown"


def adoption_state(status: str) -> str | None:
    """adopted / not_adopted / unknown; None when the path does not apply to the service."""
    if status in _SKIPPED:
        return None
    if status in (Status.PASS.value, Status.WARN.value):
        return ADOPTED
    if status == Status.FAIL.value:
        return NOT_ADOPTED
    return ADOPTION_UNKNOWN  # unknown, error, or waived: whether it is on the path is not known
