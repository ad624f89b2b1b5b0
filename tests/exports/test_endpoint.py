"""`scorecard serve-metrics`: a real GET /metrics on loopback, following each publish."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from pipelines import warehouse
from tests.exports.conftest import HOSTILE_SERVICES, ROOT

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@contextmanager
def serve_metrics(*args: str) -> Iterator[str]:
    """Start `scorecard serve-metrics ARGS --port 0` in its own process; yields its base URL."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pipelines.cli", "serve-metrics", *args, "--port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        found = re.search(r"http://([\d.]+):(\d+)/metrics", line)
        assert found, f"no address in {line!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        yield f"http://{found.group(1)}:{found.group(2)}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode("utf-8")


def snapshot_label(text: str) -> str:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return families["scorecard_snapshot"].samples[0].labels["snapshot"]


def test_get_metrics_serves_openmetrics_and_follows_a_new_publish(built, hostile, tmp_path):
    served = tmp_path / "serving" / "scorecard.duckdb"
    served.parent.mkdir()
    shutil.copyfile(built.serving, served)
    with serve_metrics("--snapshot", str(served)) as url:
        assert url.startswith("http://127.0.0.1:")  # loopback unless told otherwise
        status, content_type, text = get(url + "/metrics")
        assert (status, content_type) == (200, OPENMETRICS)
        assert snapshot_label(text) == built.latest.isoformat()
        assert get(url + "/metrics?x=1")[2] == text  # a second scrape: the same text (rendered once)

        # The real publish swaps another history in (os.replace): the next scrape shows it, no restart.
        warehouse.publish(hostile.root / "warehouse" / "scorecard.duckdb", served)
        status, _, text = get(url + "/metrics")
        assert status == 200
        assert snapshot_label(text) != built.latest.isoformat()
        teams = {s.labels.get("team") for f in text_string_to_metric_families(text) for s in f.samples}
        assert set(HOSTILE_SERVICES.values()) <= teams

        status, content_type, body = get(url + "/")
        assert status == 404 and content_type.startswith("text/plain") and "/metrics" in body


def test_no_published_snapshot_is_a_503_with_the_reason_until_one_is(built, tmp_path):
    served = tmp_path / "serving" / "scorecard.duckdb"
    with serve_metrics("--snapshot", str(served)) as url:
        status, content_type, body = get(url + "/metrics")
        assert status == 503 and content_type.startswith("text/plain")
        assert "no published snapshot" in body and str(served) in body
        served.parent.mkdir()
        warehouse.publish(built.warehouse, served)
        status, _, text = get(url + "/metrics")
        assert status == 200 and snapshot_label(text) == built.latest.isoformat()


def test_an_unreadable_snapshot_is_a_503_and_the_server_keeps_serving(built, tmp_path):
    served = tmp_path / "scorecard.duckdb"
    served.write_text("not a database")
    with serve_metrics("--snapshot", str(served)) as url:
        status, _, body = get(url + "/metrics")
        assert status == 503 and "could not read the published snapshot" in body
        tmp = tmp_path / "next.duckdb"
        shutil.copyfile(built.serving, tmp)
        os.replace(tmp, served)
        assert get(url + "/metrics")[0] == 200


def test_a_port_in_use_is_a_clear_error(built):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "serve-metrics", "--snapshot",
                               str(built.serving), "--port", str(port)], cwd=ROOT, capture_output=True, text=True,
                              timeout=60, check=False)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr


def test_the_served_path_defaults_to_the_configs(hostile):
    with serve_metrics("--config", str(hostile.config)) as url:
        status, _, text = get(url + "/metrics")
    assert status == 200
    assert (Path(hostile.serving).parent / "static" / "metrics.txt").read_text(encoding="utf-8") == text
