"""Micro-benchmark: every check on 1,000 varied services through checks.model.evaluate.

Not collected by pytest (no `test_` prefix); run it by hand:

    .venv/bin/python tests/checks/bench_evaluate.py

"Cold" is the first pass over fresh evidence (memoised file indexes empty),
"warm" repeats it. The number that matters for a scoring run is cold.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import app_container, make_context, make_evidence, prod_workload, staging_workload  # noqa: E402

from checks._helpers import _index  # noqa: E402
from checks.catalogue import all_checks  # noqa: E402
from checks.evidence import Container  # noqa: E402
from checks.model import Status, evaluate  # noqa: E402


def varied_evidence(n: int, seed: int = 7):
    rng = random.Random(seed)
    base = make_evidence()
    out = []
    for i in range(n):
        name = f"svc-{i}"
        path = rng.choice(["", f"services/{name}"])
        extra = {f"{path + '/' if path else ''}src/{name}/mod_{k}.py" for k in range(rng.randint(20, 300))}
        drop = set(rng.sample(sorted(base.files), rng.randint(0, 5)))
        containers = [app_container(name=f"c{k}", readiness_probe=rng.random() > 0.2, memory_limit=rng.choice([None, "1Gi"])) for k in range(rng.randint(1, 3))]
        if rng.random() < 0.1:
            containers.append(Container(name="sidecar", image="envoy:latest", readiness_probe=False, liveness_probe=False, literal_env={"API_KEY": "text"}))
        workloads = [prod_workload(name=name, containers=containers, replicas=rng.choice([None, 1, 2, 3]))]
        if rng.random() < 0.5:
            workloads.append(staging_workload())
        ev = replace(
            base,
            service=name,
            path=path,
            files=frozenset((base.files - drop) | extra),
            cluster_workloads=workloads if rng.random() > 0.15 else None,
            team=rng.choice(["payments-team", "ghost", None]),
            delivery=None if rng.random() < 0.1 else replace(base.delivery, lead_time_p50_hours=rng.uniform(1, 900)),
            branch_protected=rng.choice([True, False, None]),
            repo_error="clone failed" if rng.random() < 0.03 else None,
        )
        out.append(ev)
    return out


def run(evidences, checks, ctx) -> tuple[float, int, dict]:
    statuses: dict[Status, int] = {}
    start = time.perf_counter()
    for ev in evidences:
        for check in checks:
            status = evaluate(check, ev, ctx).status
            statuses[status] = statuses.get(status, 0) + 1
    return time.perf_counter() - start, len(evidences) * len(checks), statuses


def main() -> None:
    checks = all_checks()
    ctx = make_context()
    evidences = varied_evidence(1000)
    # Best of five: the machine is shared, and the minimum is the least disturbed run.
    colds = []
    for _ in range(5):
        _index.cache_clear()
        elapsed, n, statuses = run(evidences, checks, ctx)
        colds.append(elapsed)
    warm = min(run(evidences, checks, ctx)[0] for _ in range(5))
    cold, median = min(colds), sorted(colds)[len(colds) // 2]
    print(f"{len(evidences)} services x {len(checks)} checks = {n} evaluations")
    print(f"cold: best {cold * 1000:.0f} ms = {n / cold:,.0f} evaluations/s ({len(evidences) / cold:,.0f} services/s); "
          f"median {n / median:,.0f} evaluations/s")
    print(f"warm: best {warm * 1000:.0f} ms = {n / warm:,.0f} evaluations/s")
    print("statuses:", {str(k): v for k, v in sorted(statuses.items())})


if __name__ == "__main__":
    main()
