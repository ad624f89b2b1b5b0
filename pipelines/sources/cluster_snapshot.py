"""Cluster snapshot files: `kubectl get ... -o json` Lists or multi-document manifests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines import parsers
from pipelines.facts import K8sInventory
from pipelines.parsers import ParseError
from pipelines.sources.base import ClusterCrawl

MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024


class ClusterSnapshotSource:
    """One cluster's state as exported to a file; the file's mtime is its crawl time."""

    def __init__(self, path: Path, cluster: str, environment: str) -> None:
        self.path = Path(path)
        self.cluster = cluster
        self.environment = environment

    def crawl(self) -> ClusterCrawl:
        empty = K8sInventory()
        try:
            size = self.path.stat().st_size
            if size > MAX_SNAPSHOT_BYTES:
                return self._failed(f"snapshot is {size / 1e6:.0f} MB, over the {MAX_SNAPSHOT_BYTES // 2**20} MiB limit")
            raw = self.path.read_bytes()
            crawled_at = dt.datetime.fromtimestamp(self.path.stat().st_mtime, dt.UTC)
        except FileNotFoundError:
            return self._failed(f"snapshot file {self.path} not found")
        except OSError as exc:
            return self._failed(f"cannot read {self.path}: {exc.strerror or exc}")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return self._failed(f"{self.path.name} is not valid UTF-8 (offset {exc.start})")
        try:
            inventory = parsers.parse_k8s_text(
                text, self.path.name, cluster=self.cluster, environment=self.environment,
                max_bytes=MAX_SNAPSHOT_BYTES,
            )
        except ParseError as exc:
            return ClusterCrawl(self.cluster, self.environment, empty, f"cannot parse {exc}", crawled_at)
        return ClusterCrawl(self.cluster, self.environment, inventory, None, crawled_at)

    def _failed(self, reason: str) -> ClusterCrawl:
        return ClusterCrawl(self.cluster, self.environment, K8sInventory(), reason, None)
