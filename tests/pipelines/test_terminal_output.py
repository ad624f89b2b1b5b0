"""Terminal output carries no escape sequences from repositories (an owner or image that drives the terminal)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.explain import terminal_safe
from tests.gitrepo import commit, init

ROOT = Path(__file__).resolve().parents[2]
# YAML double quotes: \e is ESC. An OSC 8 hyperlink, a screen clear, a title change, a C1 CSI and a bidi override.
HOSTILE = r"\e]8;;http://evil.example/\e\\click\e]8;;\e\\\e[2J\e]0;pwned\a\x9b31m\u202Eevil"


def scorecard(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, capture_output=True,
                          timeout=300, env={**os.environ, "DAGSTER_HOME": ""})


def test_run_summary_and_explain_print_repository_text_without_escapes(tmp_path):
    repo = init(tmp_path / "repos" / "evil")
    commit(repo, {
        "catalog-info.yaml": (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: evil-svc\n"
            f"spec:\n  type: service\n  owner: \"{HOSTILE}\"\n  lifecycle: production\n"),
        "deploy/deployment.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: evil-svc}\nspec:\n  replicas: 1\n"
            "  template:\n    spec:\n      containers:\n"
            f"        - {{name: app, image: \"registry.example.com/{HOSTILE}:latest\"}}\n"),
    })
    cfg = tmp_path / "scorecard.yaml"
    cfg.write_text("sources:\n  repos: [{root: repos}]\n")
    run = scorecard("run", "--config", str(cfg))
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    explained = scorecard("explain", "evil-svc", "--config", str(cfg))
    assert explained.returncode == 0, explained.stderr.decode()[-2000:]
    for proc in (run, explained):
        for stream in (proc.stdout, proc.stderr):
            text = stream.decode("utf-8")
            assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text and "\u202e" not in text
    out = explained.stdout.decode()
    assert "click" in out and "pwned" not in out  # the visible text stays, the escape's payload goes
    assert "no_latest_image_tags" in out and "registry.example.com/" in out


def test_terminal_safe_keeps_text_and_layout():
    assert terminal_safe("payments\tteam\nline two") == "payments\tteam\nline two"
    assert terminal_safe("a\nb", one_line=True) == "a b"
    assert terminal_safe("\x1b[31mred\x1b[0m") == "red"
    assert terminal_safe("ok\x00\x08\x7f!") == "ok!"
    assert terminal_safe("café – ✓") == "café – ✓"
