"""The published history the notification tests read (the dashboard's, built once per run) and a receiver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.config import ScorecardConfig, load_config
from pipelines.parsers.yamlsafe import load_yaml
from tests.dashboard.conftest import built  # noqa: F401 - the shared published history, built once per run
from tests.dashboard.snapshot_fixture import BuiltSnapshot
from tests.fakes.webhook_server import FakeReceiver

HOOK_SECRET = "whsec-signing-secret-0123456789"
SLACK_PATH = "/services/T0001/B0001/slackWebhookSecretPart42"
TEAMS_PATH = "/workflows/0a1b2c/triggers/manual/paths/invoke?sig=teamsSignatureSecret77"
HOOK_PATH = "/hooks/scorecard"


@pytest.fixture(autouse=True)
def _secrets_restored():
    """The registry is process-wide: what a test registers must not mask another test's expectations."""
    from pipelines import secrets

    saved = set(secrets.SECRETS._values)
    yield
    secrets.SECRETS.clear()
    for value in saved:
        secrets.SECRETS.add(value)


@pytest.fixture
def receiver():
    with FakeReceiver(secret=HOOK_SECRET) as fake:
        yield fake


@pytest.fixture
def env(receiver: FakeReceiver) -> dict[str, str]:
    return {"SLACK_URL": receiver.url + SLACK_PATH, "TEAMS_URL": receiver.url + TEAMS_PATH,
            "HOOK_URL": receiver.url + HOOK_PATH, "HOOK_SECRET": HOOK_SECRET}


CHANNELS = [
    {"name": "slack", "kind": "slack", "url_env": "SLACK_URL"},
    {"name": "teams", "kind": "teams", "url_env": "TEAMS_URL"},
    {"name": "hook", "kind": "webhook", "url_env": "HOOK_URL", "secret_env": "HOOK_SECRET"},
]


def config_for(history: BuiltSnapshot, where: Path, **notifications) -> ScorecardConfig:
    """The built history's config with a `notifications:` section, its paths absolute, written under ``where``."""
    data = load_yaml(history.config.read_text(encoding="utf-8"), str(history.config))
    data["warehouse"] = {"path": str(history.warehouse), "serving_path": str(history.serving)}
    for source in data.get("sources", {}).get("repos", []):
        source["root"] = str((history.config.parent / source["root"]).resolve())
    data["notifications"] = {"channels": CHANNELS, "default": ["hook"], "state_path": str(where / "sent.sqlite"),
                             "backoff_s": 0.01, **notifications}
    path = where / "scorecard.yaml"
    path.write_text(json.dumps(data, default=str), encoding="utf-8")
    return load_config(path)
