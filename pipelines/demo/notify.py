"""The demo's `notifications:` section: real channels whose URLs come from variables unset by default.

Nothing is sent from the demo unless someone sets a variable;
`scorecard notify --dry-run --digest --config data/demo/scorecard.yaml` shows
what each team would get (docs/notifications.md).
"""

from __future__ import annotations


def config(teams: list[str]) -> dict:
    first = teams[:1]
    return {
        "channels": [
            {"name": "platform-webhook", "kind": "webhook", "url_env": "SCORECARD_DEMO_WEBHOOK_URL",
             "secret_env": "SCORECARD_DEMO_WEBHOOK_SECRET"},
            {"name": "slack-alerts", "kind": "slack", "url_env": "SCORECARD_DEMO_SLACK_WEBHOOK_URL"},
        ],
        "default": ["platform-webhook"],
        # One team also hears on Slack: routing per team.
        "routes": {team: ["slack-alerts", "platform-webhook"] for team in first},
        "deadline_days": 21,
        "waiver_days": 30,
        "state_path": "../warehouse/notifications.sqlite",
    }
