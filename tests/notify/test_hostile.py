"""Hostile names from a real scored repository, and a token in a service name, on their way to each format."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pipelines.config import load_config
from pipelines.notify import notify, render
from pipelines.notify.events import Event
from tests.exports.conftest import scorecard
from tests.gitrepo import commit, init
from tests.notify.conftest import CHANNELS, HOOK_PATH, SLACK_PATH, TEAMS_PATH

TOKEN = "ghp_notifyTestToken1234567890abcdef"
# Owners and names anyone can write in a catalog file or CODEOWNERS.
HOSTILE = {
    "<!channel> ping": "<https://evil.example|click me> & co",
    f"svc-{TOKEN}": "tokens-team",
    "*bold* _it_ [x](javascript:alert(1))": "team\x1b]8;;https://evil\x07",
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-notify")
    repo = init(root / "repos" / "evil")
    commit(repo, {"README.md": "# evil\n", "Dockerfile": "FROM scratch\n"},
           when=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    config = {"sources": {"repos": [{"root": "repos"}]},
              "services": [{"name": n, "repo": "evil", "path": "", "owner": o} for n, o in HOSTILE.items()],
              "notifications": {"channels": CHANNELS, "default": ["slack", "teams", "hook"],
                                "state_path": "sent.sqlite"}}
    path = root / "scorecard.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    scorecard("run", "--config", str(path))  # its own process: the token is only a name there
    return load_config(path)


def test_hostile_names_are_escaped_and_the_token_never_leaves(hostile_run, receiver, env):
    env["GITHUB_TOKEN"] = TOKEN  # set where `scorecard notify` runs: the config's token is a secret
    report = notify(hostile_run, env=env, digest=True)
    assert report.failures == [] and receiver.received
    for got in receiver.received:
        assert TOKEN not in got.body.decode()
    # Slack reads links and mentions in `mrkdwn` text (and the `text` fallback); a `plain_text` header shows as is.
    slack = "\n".join(json.dumps([b for b in r.json()["blocks"] if b["type"] != "header"] + [r.json()["text"]])
                      for r in receiver.at(SLACK_PATH))
    assert "<!channel>" not in slack and "click me>" not in slack, slack
    # (the owner lost its "<https://" to owner normalisation; the rest of it still needs escaping)
    assert "&lt;!channel&gt; ping" in slack and "evil.example|click me&gt; &amp; co" in slack
    assert "svc-***" in slack
    teams = "\n".join(r.body.decode() for r in receiver.at(TEAMS_PATH))
    assert "[x](javascript" not in teams and "\\\\[x\\\\]\\\\(javascript" in teams  # JSON of \[x\](javascript
    hook = [r.json() for r in receiver.at(HOOK_PATH)]
    assert any("<!channel> ping" in json.dumps(h, ensure_ascii=False) for h in hook)  # JSON is its own escaping
    assert not any("\x1b" in r.body.decode() for r in receiver.received)


def test_each_format_escapes_its_own_control_characters():
    event = Event("e1", "regression", "<team>", "a & b <!here> *x* _y_ [l](u)", ("`code` \x1b[31mred\x1b[0m",))
    m = render.alert_message("regression", "<team>", [event], dt.date(2026, 11, 23))
    slack = render.slack_payload(m)
    text = slack["blocks"][1]["text"]["text"]
    assert text.startswith("a &amp; b &lt;!here&gt;") and "\x1b" not in text and slack["text"].endswith("(&lt;team&gt;)")
    card = render.teams_adaptive_payload(m)["attachments"][0]["content"]["body"]
    assert card[1]["text"].startswith(r"a & b <!here> \*x\* \_y\_ \[l\]\(u\)")  # no HTML in Adaptive Cards
    legacy = render.teams_message_card_payload(m)
    assert legacy["@type"] == "MessageCard" and r"\`code\`" in legacy["sections"][0]["text"]
    assert legacy["sections"][0]["text"].startswith(r"a &amp; b &lt;!here&gt; \*x\*")  # MessageCards read some HTML
    assert render.teams_escape("- not a list\n2. nor this") == "\\- not a list\n2\\. nor this"
    assert render.webhook_payload(m)["sections"][0]["lines"][0] == "a & b <!here> *x* _y_ [l](u)"


def test_long_lists_are_cut_to_fit_a_message():
    events = [Event(f"e{i}", "regression", None, f"service-{i} " + "x" * 200) for i in range(100)]
    m = render.alert_message("regression", None, events, None)
    assert m.sections[0][1][-1] == "... and 75 more" and len(m.event_ids) == 100
    assert all(len(b["text"]["text"]) <= 3000 for b in render.slack_payload(m)["blocks"] if b["type"] == "section")
