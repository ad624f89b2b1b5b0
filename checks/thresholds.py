"""The numbers and words the checks judge by: `thresholds:` in scorecard.yaml.

Each threshold is a typed field with its default, here and nowhere else: the
checks read ``ctx.thresholds.<name>``, `pipelines.config` builds the file's
`thresholds:` mapping with :meth:`Thresholds.from_mapping` (every unknown key
and bad value is an error at its key path before anything runs), and the
README's table of thresholds is generated from the descriptions below.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields

from checks import dora


def _count(value: object) -> int:
    # bool is an int to Python, but `true` for a count is a mistake worth hearing about.
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != int(value):
        raise ValueError(f"expected a whole number, 0 or more, got {value!r}")
    return int(value)


def _flag(value: object) -> bool:
    # 0 and 1 too: the README asked for `require_cpu_limit: 1` before thresholds were typed.
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise ValueError(f"expected true or false, got {value!r}")


def _threshold(default: object, parse: Callable[[object], object], description: str):
    return field(default=default, metadata={"parse": parse, "description": description})


class ThresholdProblems(ValueError):
    """Every bad key of a `thresholds:` mapping, as (key, what was expected)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Made from config text or in code, each value is parsed to its type (`1` for
    true, `Elite` for elite), and one that is not a valid value is refused."""

    template_max_releases_behind: int = _threshold(
        1, _count, "How many releases the service template may lag behind its latest (a warning) before "
        "`template_up_to_date` fails.",
    )
    ci_workflow_max_releases_behind: int = _threshold(
        1, _count, "The same for the shared CI workflow (`shared_ci_workflow_up_to_date`).",
    )
    helm_chart_max_releases_behind: int = _threshold(
        1, _count, "The same for the shared base Helm chart (`base_helm_chart_up_to_date`).",
    )
    composition_max_revisions_behind: int = _threshold(
        1, _count, "How many revisions a claim pinned with `compositionUpdatePolicy: Manual` may lag its "
        "composition's latest (a warning) before `composition_revision_up_to_date` fails.",
    )
    min_replicas: int = _threshold(
        2, _count, "Replicas (or autoscaler minimum) `runs_multiple_replicas` asks of each replicated workload.",
    )
    require_cpu_limit: bool = _threshold(
        False, _flag, "Whether `has_resource_limits` also asks for a CPU limit (off by default: CPU limits "
        "throttle even on idle nodes).",
    )
    dora_target_tier: str = _threshold(
        "high", dora.parse_tier, "The DORA tier (low, medium, high, elite) the four delivery checks pass at or above.",
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, f.metadata["parse"](getattr(self, f.name)))

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> Thresholds:
        """The thresholds a config file sets, the rest at their defaults; raises
        :class:`ThresholdProblems` naming every unknown key (with the nearest
        known one, since it is almost always a typo) and every bad value."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, object] = {}
        problems: list[tuple[str, str]] = []
        for key, value in raw.items():
            if key not in known:
                close = difflib.get_close_matches(str(key), list(known), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problems.append((key, f"unknown threshold {key!r}; {hint}known: {', '.join(sorted(known))}"))
                continue
            try:
                values[key] = known[key].metadata["parse"](value)
            except ValueError as exc:
                problems.append((key, str(exc)))
        if problems:
            raise ThresholdProblems(problems)
        return cls(**values)


def thresholds_markdown() -> str:
    """The thresholds as a Markdown table for the README."""
    lines = ["| threshold | default | meaning |", "|---|---|---|"]
    for f in fields(Thresholds):
        default = str(f.default).lower() if isinstance(f.default, bool) else f.default
        lines.append(f"| `{f.name}` | `{default}` | {f.metadata['description']} |")
    return "\n".join(lines) + "\n"
