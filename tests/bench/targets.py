"""Targets a benchmark must meet: printed next to each figure, and a missed one
fails the benchmark (so `make bench` exits non-zero) instead of scrolling by."""

from __future__ import annotations

from dataclasses import dataclass, field


class TargetMissed(AssertionError):
    pass


@dataclass
class Targets:
    missed: list[str] = field(default_factory=list)

    def below(self, label: str, value: float, limit: float, unit: str = "s") -> str:
        """`value < limit`, as the text to print after the figure."""
        if not value < limit:
            self.missed.append(f"{label}: {value:,.1f} {unit}, target < {limit:,.0f} {unit}")
        return f"(target < {limit:,.0f} {unit})"

    def above(self, label: str, value: float, limit: float, unit: str = "/s") -> str:
        if not value > limit:
            self.missed.append(f"{label}: {value:,.0f}{unit}, target > {limit:,.0f}{unit}")
        return f"(target > {limit:,.0f}{unit})"

    def check(self) -> None:
        if self.missed:
            raise TargetMissed("missed: " + "; ".join(self.missed))
