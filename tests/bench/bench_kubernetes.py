"""Benchmark of the Kubernetes source: one cluster of 5,000 workloads over HTTPS.

The cluster lives on the loopback fake API server (tests/fakes/k8s_server.py),
run in a forked process so the figures are the client's alone: 4,500
Deployments, 300 StatefulSets and 200 DaemonSets, three ReplicaSet revisions
per Deployment, and a Service, PodDisruptionBudget and HPA per workload,
ServiceMonitors for half of them. It is crawled with a bearer token over TLS
(certificates made here), 500 objects a page, as a real crawl would.

Figures: crawl wall time, requests, objects, and the crawling process's peak
memory above its baseline (RSS sampled every 5 ms; the Python-heap peak from
tracemalloc is reported by a second, slower run).

    .venv/bin/python -m tests.bench.bench_kubernetes
"""

from __future__ import annotations

import gc
import logging
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import psutil

WORKLOADS = 5_000
REVISIONS = 3
PAGE_SIZE = 500
TOKEN = "bench-k8s-token-0123456789"
TARGET_SECONDS = 30.0
TARGET_MIB = 500.0


def build_cluster(tls_dir: Path):
    from tests.fakes.k8s_server import (
        PKI,
        FakeKubernetes,
        daemonset,
        deployment,
        hpa,
        pdb,
        replica_set,
        service,
        service_monitor,
        statefulset,
    )  # fmt: skip

    pki = PKI(tls_dir)
    fake = FakeKubernetes(tokens={TOKEN}, tls=pki.issue("apiserver", hosts=("127.0.0.1",)), max_limit=PAGE_SIZE)
    for i in range(WORKLOADS):
        app, ns = f"svc-{i:05d}", f"team-{i % 50:02d}"
        if i < 4_500:
            fake.add(deployment(app, ns, replicas=2 + i % 3, image=f"registry.example.com/{app}:sha-{i:07x}a"))
            fake.add(*(replica_set(app, ns, r + 1, f"registry.example.com/{app}:sha-{i + r:07x}b",
                                   created=f"2026-11-{10 + r:02d}T10:00:00Z") for r in range(REVISIONS)))
        elif i < 4_800:
            fake.add(statefulset(app, ns, replicas=3))
        else:
            fake.add(daemonset(app, ns))
        fake.add(service(app, ns), pdb(app, ns), hpa(app, ns))
        if i % 2 == 0:
            fake.add(service_monitor(app, ns))
    return fake, pki.ca


class _RequestCounter(logging.Handler):
    """httpx logs one INFO line per request sent: count them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.requests = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("HTTP Request:"):
            self.requests += 1


class _PeakRSS:
    """The highest RSS of this process while the block runs, sampled in a thread."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> _PeakRSS:
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def delta_mib(self) -> float:
        return (self.peak - self.baseline) / 2**20


def _serve(tls_dir: str):
    fake, _ = build_cluster(Path(tls_dir))
    return fake


def run() -> dict:
    from pipelines.sources.kubeconfig import Endpoint
    from pipelines.sources.kubernetes import KubernetesSource
    from tests.fakes.k8s_server import serve_in_process

    with tempfile.TemporaryDirectory(prefix="bench-k8s-") as tmp:
        tls_dir = Path(tmp)
        started = time.monotonic()
        url, stop = serve_in_process(lambda: _serve(str(tls_dir)))
        setup_s = time.monotonic() - started
        try:
            endpoint = Endpoint(server=url, source="bench", ca_file=tls_dir / "test-ca.crt", token=TOKEN)
            source = KubernetesSource("bench", "production", lambda: endpoint, page_size=PAGE_SIZE)
            gc.collect()
            counter = _RequestCounter()
            httpx_log = logging.getLogger("httpx")
            httpx_log.addHandler(counter)
            level = httpx_log.level
            httpx_log.setLevel(logging.INFO)
            try:
                with _PeakRSS() as rss:
                    started = time.monotonic()
                    crawl = source.crawl()
                    crawl_s = time.monotonic() - started
            finally:
                httpx_log.removeHandler(counter)
                httpx_log.setLevel(level)
            assert crawl.error is None, crawl.error
            inventory = crawl.inventory
            objects = len(inventory.workloads) + len(inventory.objects) + len(inventory.replica_sets)
            del crawl, inventory
            gc.collect()
            tracemalloc.start()
            heap_run = source.crawl()
            _, heap_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert heap_run.error is None
        finally:
            stop()
    return {
        "workloads": WORKLOADS,
        "objects": objects,
        "requests": counter.requests,
        "server_setup_s": round(setup_s, 1),
        "crawl_s": round(crawl_s, 2),
        "objects_per_s": round(objects / crawl_s),
        "peak_rss_delta_mib": round(rss.delta_mib, 1),
        "peak_python_heap_mib": round(heap_peak / 2**20, 1),
        "target_s": TARGET_SECONDS,
        "target_mib": TARGET_MIB,
        "within_target": crawl_s < TARGET_SECONDS and rss.delta_mib < TARGET_MIB,
    }


def main() -> int:
    result = run()
    print(f"cluster: {result['workloads']:,} workloads, {result['objects']:,} objects "
          f"(with ReplicaSets, Services, PDBs, HPAs, ServiceMonitors), {result['requests']} list requests")
    print(f"crawl time:        {result['crawl_s']:.2f} s  ({result['objects_per_s']:,} objects/s; target < {TARGET_SECONDS:.0f} s)")
    print(f"peak RSS delta:    {result['peak_rss_delta_mib']:.1f} MiB  (target < {TARGET_MIB:.0f} MiB)")
    print(f"peak Python heap:  {result['peak_python_heap_mib']:.1f} MiB  (tracemalloc, second crawl)")
    print("within target" if result["within_target"] else "OVER TARGET")
    return 0 if result["within_target"] else 1


if __name__ == "__main__":
    main()
