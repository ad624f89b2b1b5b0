"""`notifications:` validation, the demo's section, and `scorecard notify` as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.config import ConfigError, load_config
from tests.notify.conftest import config_for

ROOT = Path(__file__).resolve().parents[2]


def _load(tmp_path: Path, notifications: dict):
    path = tmp_path / "scorecard.yaml"
    path.write_text(json.dumps({"notifications": notifications}), encoding="utf-8")
    return load_config(path)


def test_mistakes_are_reported_at_their_key_path(tmp_path):
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, {"channels": [
            {"name": "a", "kind": "slack", "url_env": "https://hooks.slack.com/services/T/B/pastedSecret"},
            {"name": "b", "kind": "slack", "url_env": "B_URL", "secret_env": "B_SECRET"},
            {"name": "c", "kind": "email", "url_env": "C_URL"},
        ], "default": ["nope"], "events": ["level_drop", "everything"]})
    message = str(exc.value)
    assert "notifications.channels[0].url_env: expected the name of an environment variable" in message
    assert "pastedSecret" not in message  # a pasted URL is a secret: never echoed
    assert "secret_env signs generic webhooks only" in message
    assert "notifications.channels[2].kind" in message and "notifications.events[1]" in message


def test_routes_must_name_channels(tmp_path):
    with pytest.raises(ConfigError, match=r"routes.payments names unknown channels \['pager'\]"):
        _load(tmp_path, {"channels": [{"name": "a", "kind": "webhook", "url_env": "A"}],
                         "default": ["a"], "routes": {"payments": ["pager"]}})


def test_routing_falls_back_to_the_default_channels(tmp_path):
    cfg = _load(tmp_path, {"channels": [{"name": "a", "kind": "webhook", "url_env": "A"},
                                        {"name": "b", "kind": "teams", "url_env": "B"}],
                           "default": ["a"], "routes": {"payments": ["b", "a"]}}).notifications
    assert [c.name for c in cfg.channels_for("payments")] == ["b", "a"]
    assert [c.name for c in cfg.channels_for("search")] == ["a"] == [c.name for c in cfg.channels_for(None)]


def test_the_demo_points_at_variables_that_are_unset(built):
    cfg = load_config(built.config).notifications
    assert cfg.channels and all(c.url_env.startswith("SCORECARD_DEMO_") for c in cfg.channels)


def _notify(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCORECARD_DEMO_", "SLACK_", "TEAMS_", "HOOK_"))}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "notify", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_dry_run_on_the_demo_shows_what_would_be_sent(built):
    proc = _notify("--dry-run", "--digest", "--config", str(built.config))
    assert proc.returncode == 0, proc.stderr
    assert "platform-webhook [webhook]: would send" in proc.stdout
    assert "$SCORECARD_DEMO_WEBHOOK_URL is not set" in proc.stdout
    assert "Weekly scorecard digest for" in proc.stdout and built.regression.service in proc.stdout


def test_dry_run_json_is_each_channels_payload(built, tmp_path):
    config_for(built, tmp_path)
    proc = _notify("--dry-run", "--format", "json", "--since", built.level_drop.before.isoformat(), "--config", str(tmp_path / "scorecard.yaml"))
    assert proc.returncode == 0, proc.stderr
    planned = json.loads(proc.stdout)
    assert {p["kind"] for p in planned} == {"webhook"}  # routes: none, so the default channel only
    assert any(p["payload"]["kind"] == "level_drop" for p in planned)
    assert not (tmp_path / "sent.sqlite").exists()  # a dry run records nothing


def test_a_config_without_channels_says_so(tmp_path):
    (tmp_path / "scorecard.yaml").write_text("{}", encoding="utf-8")
    proc = _notify("--config", str(tmp_path / "scorecard.yaml"))
    assert proc.returncode == 2 and "no `notifications.channels`" in proc.stderr
