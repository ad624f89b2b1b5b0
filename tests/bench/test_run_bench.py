"""`make bench` fails when a benchmark misses a target, not only when one crashes."""

from __future__ import annotations

import sys
import types

import pytest

from tests.bench import run_bench
from tests.bench.targets import TargetMissed, Targets


def _fake(name: str, outcome):
    module = types.ModuleType(name)

    def main():
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    module.main = main
    sys.modules[name] = module
    return name


@pytest.mark.parametrize(("outcome", "code"), [
    (None, 0), ([], 0), (0, 0), (["whole run: 75.0 s, target < 60 s"], 1), (1, 1), (RuntimeError("x"), 1),
    (TargetMissed("missed: whole run: 75.0 s, target < 60 s"), 1),
])
def test_a_missed_target_fails_the_bench_run(monkeypatch, capsys, outcome, code):
    name = _fake(f"tests.bench._fake_{abs(hash(repr(outcome)))}", outcome)
    monkeypatch.setattr(run_bench, "BENCHMARKS", [("fake", name), ("fine", _fake("tests.bench._fine", None))])
    assert run_bench.main([]) == code
    out = capsys.readouterr().out
    assert ("MISSED TARGETS" in out) == bool(code)


def test_targets_record_only_misses():
    t = Targets()
    t.below("run", 10.0, 60.0)
    t.check()
    t.below("rss", 2000.0, 1536.0, "MiB")
    assert t.missed == ["rss: 2,000.0 MiB, target < 1,536 MiB"]
    with pytest.raises(TargetMissed):
        t.check()
