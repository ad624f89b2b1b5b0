"""Alerts and digests from the built history, delivered to a loopback receiver as Slack, Teams and a webhook."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from pipelines.notify import notify
from tests.fakes.webhook_server import Fault
from tests.notify.conftest import (
    HOOK_PATH,
    HOOK_SECRET,
    SLACK_PATH,
    TEAMS_PATH,
    config_for,
)


@pytest.fixture
def config(built, tmp_path):
    # The regression's team (growth) hears on every channel; other teams on the default webhook.
    return config_for(built, tmp_path, routes={built.regression.team: ["slack", "teams", "hook"]})


def test_each_channel_gets_its_own_payload_shape(built, config, receiver, env):
    report = notify(config, env=env, today=built.latest, digest=True)
    assert report.failures == [] and report.snapshot == built.latest and report.baseline == built.previous

    slack = [r.json() for r in receiver.at(SLACK_PATH)]
    assert slack and all(isinstance(m["text"], str) and m["blocks"][0]["type"] == "header" for m in slack)
    regression = next(m for m in slack if m["text"].startswith("Checks newly failing"))
    body = "\n".join(b["text"]["text"] for b in regression["blocks"] if b["type"] == "section")
    r = built.regression
    assert f"{r.service}: {r.title} ({r.check_id}) now {r.status_after} (was {r.status_before})" in body
    assert r.remediation.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in body

    teams = receiver.at(TEAMS_PATH)
    assert teams, "the Teams Workflows webhook answered 202 to nothing"
    card = teams[0].json()["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard" and card["content"]["body"][0]["type"] == "TextBlock"

    hooks = receiver.at(HOOK_PATH)
    assert hooks
    for got in hooks:  # the receiver answered 401 to any bad signature; verify it here too
        want = "sha256=" + hmac.new(HOOK_SECRET.encode(), got.body, hashlib.sha256).hexdigest()
        assert got.headers["x-scorecard-signature-256"] == want
        assert len(got.headers["x-scorecard-delivery"]) == 32
    docs = [h.json() for h in hooks]
    assert {d["kind"] for d in docs} >= {"regression", "initiative_deadline", "weekly_digest"}
    digest = next(d for d in docs if d["kind"] == "weekly_digest")
    assert [s["heading"] for s in digest["sections"]][:1] == ["Levels"]
    assert any(s["heading"] == "Top blockers" and any("Fix (" in x for x in s["lines"]) for s in digest["sections"])
    # Routing: the growth team's regression went to its channels, never to the default webhook.
    assert not any(d["kind"] == "regression" for d in docs if d["team"] != r.team)


def test_a_second_run_sends_nothing_twice(built, config, receiver, env):
    first = notify(config, env=env, today=built.latest, digest=True)
    sent = len(receiver.received)
    assert sent == sum(c.sent for c in first.channels.values()) > 0
    again = notify(config, env=env, today=built.latest, digest=True)
    assert len(receiver.received) == sent
    assert all(c.sent == 0 and c.duplicates > 0 for c in again.channels.values())
    assert again.planned == []


def test_429_waits_retry_after_and_5xx_backs_off(built, config, receiver, env):
    receiver.fail(SLACK_PATH, Fault(429, {"Retry-After": "7"}, "rate_limited"), Fault(503, body="busy"))
    slept: list[float] = []
    report = notify(config, env=env, today=built.latest, sleep=slept.append)
    assert report.failures == []
    assert slept[:2] == [7.0, 0.02]  # Retry-After as asked; then backoff_s doubled on the second try
    assert receiver.attempts.count(SLACK_PATH) == len(receiver.at(SLACK_PATH)) + 2


def test_a_failing_channel_is_reported_and_the_others_are_delivered(built, config, receiver, env):
    receiver.fail(SLACK_PATH, *[Fault(500, body="internal error")] * 50)
    receiver.fail(TEAMS_PATH, Fault(403, body="Forbidden"))  # not retried: the URL is wrong
    report = notify(config, env=env, today=built.latest, sleep=lambda s: None)
    slack, teams, hook = (report.channels[n] for n in ("slack", "teams", "hook"))
    assert slack.sent == 0 and slack.failures and all("HTTP 500: internal error" in f for f in slack.failures)
    assert teams.failures and "HTTP 403: Forbidden after 1 tries" in teams.failures[0]
    assert hook.sent > 0 and not hook.failures and receiver.at(HOOK_PATH)
    assert receiver.attempts.count(SLACK_PATH) == len(slack.failures) * 4  # max_retries 3: four tries each
    assert not any(SLACK_PATH in f or "slackWebhookSecret" in f for f in report.failures)
    # Next time the failed channels are tried again; the delivered one is not repeated.
    receiver.faults.clear()
    hooks = len(receiver.at(HOOK_PATH))
    later = notify(config, env=env, today=built.latest)
    assert later.channels["slack"].sent > 0 and later.channels["teams"].sent > 0
    assert len(receiver.at(HOOK_PATH)) == hooks and later.failures == []


def test_a_slow_receiver_times_out_without_failing_the_others(built, tmp_path, receiver, env):
    config = config_for(built, tmp_path, timeout_s=0.3, max_retries=1, default=["hook", "slack"])
    receiver.fail(HOOK_PATH, *[Fault(200, delay_s=1.0)] * 20)
    report = notify(config, env=env, today=built.latest, sleep=lambda s: None)
    assert report.channels["hook"].failures and all("timed out after 2 tries" in f
                                                    for f in report.channels["hook"].failures)
    assert report.channels["slack"].sent > 0


def test_unset_url_sends_nothing_and_says_why(built, config, receiver, env):
    del env["TEAMS_URL"]
    report = notify(config, env=env, today=built.latest)
    assert report.channels["teams"].unconfigured == "$TEAMS_URL is not set: nothing is sent to this channel"
    assert not receiver.at(TEAMS_PATH) and receiver.at(SLACK_PATH)


def test_dry_run_renders_without_sending_or_recording(built, config, receiver, env):
    report = notify(config, env=env, today=built.latest, dry_run=True, digest=True)
    assert report.planned and receiver.attempts == []
    assert notify(config, env=env, today=built.latest, dry_run=True, digest=True).planned == report.planned


def test_since_compares_with_an_older_snapshot(built, config, receiver, env):
    drop = built.level_drop
    report = notify(config, env=env, today=built.latest, since=drop.before, dry_run=True)
    assert report.baseline == drop.before
    lines = [x for p in report.planned if p.message.kind == "level_drop" for _, ls in p.message.sections for x in ls]
    assert any(x.startswith(f"{drop.service} dropped from {drop.level_before}") for x in lines)


def test_no_secret_reaches_the_receiver(built, config, receiver, env):
    # A token equal to text the snapshot carries (a service name, a detail): it must be masked on the way out.
    token = built.regression.service + "-ghp_0123456789"
    env["GITHUB_TOKEN"] = built.regression.service  # as if the token were the service's name
    report = notify(config, env=env, today=built.latest, digest=True)
    assert report.failures == [] and receiver.received
    for got in receiver.received:
        text = got.body.decode()
        assert built.regression.service not in text and token not in text
        assert HOOK_SECRET not in text and "slackWebhookSecret" not in text and "teamsSignatureSecret" not in text
        assert HOOK_SECRET not in json.dumps(got.headers)
    assert any("***" in r.body.decode() for r in receiver.received)
