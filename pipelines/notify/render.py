"""Messages, and their payload for each kind of channel, with text made safe for each format.

Every text from the snapshot (service, team, check and initiative names,
details, remediation) came from repositories, catalogs or config that anyone
in the organisation can write. Before it reaches a payload it is redacted
(`pipelines/secrets.py`: a token quoted in a detail or a name never leaves),
stripped of control characters, then escaped for the format:

* Slack `mrkdwn`: ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;``, ``&gt;``
  (Slack's "Escaping text" rule): otherwise ``<!channel>`` in a service
  name pings everyone and ``<https://evil|click>`` is a disguised link.
* Teams: Adaptive Card and MessageCard text is Markdown (bold, italic,
  links, lists): its characters are backslash-escaped; a MessageCard also
  reads limited HTML, so there ``<``, ``>`` and ``&`` become entities.
* Generic webhook: plain strings in JSON; JSON encoding is the escaping.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pipelines import secrets
from pipelines.notify.events import MAX_LINES, Digest, Event
from pipelines.textsafe import terminal_safe

SOURCE = "platform-scorecard"
_TITLES = {
    "level_drop": "Services dropped a level",
    "regression": "Checks newly failing",
    "initiative_deadline": "Initiative deadlines",
    "waiver_expiring": "Waivers expiring",
}
_SLACK_SECTION_LIMIT = 3000  # characters of a section block's text
_SLACK_HEADER_LIMIT = 150


@dataclass(frozen=True)
class Message:
    """One post to one channel: a title and sections of plain (unescaped, redacted) lines."""

    kind: str
    team: str | None
    title: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    event_ids: tuple[str, ...]
    snapshot: dt.date | None


def clean(text: object) -> str:
    """Redacted, one logical line per line, no control characters: the input of every format."""
    return terminal_safe(secrets.redact("" if text is None else text))


def alert_message(kind: str, team: str | None, events: list[Event], snapshot: dt.date | None) -> Message:
    lines: list[str] = []
    for e in events[:MAX_LINES]:
        lines.append(clean(e.text))
        lines += [f"  {clean(d)}" for d in e.detail]
    if len(events) > MAX_LINES:
        lines.append(f"... and {len(events) - MAX_LINES} more")
    title = _TITLES.get(kind, kind) + (f" ({clean(team)})" if team else "")
    return Message(kind, team, title, (("", tuple(lines)),), tuple(e.id for e in events), snapshot)


def digest_message(d: Digest, snapshot: dt.date | None) -> Message:
    sections = tuple((clean(h), tuple(clean(x) for x in lines[:MAX_LINES])) for h, lines in d.sections)
    return Message("weekly_digest", d.team, clean(d.title), sections, (d.id,), snapshot)


# ------------------------------------------------------------------ Slack

def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(m: Message) -> dict:
    """Incoming webhook body: ``text`` (notifications, clients without blocks) and Block Kit ``blocks``."""
    header = m.title if len(m.title) <= _SLACK_HEADER_LIMIT else m.title[: _SLACK_HEADER_LIMIT - 3] + "..."
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
    for heading, lines in m.sections:
        body = "\n".join(slack_escape(x) for x in lines)
        if heading:
            body = f"*{slack_escape(heading)}*\n{body}"
        if len(body) > _SLACK_SECTION_LIMIT:
            body = body[: _SLACK_SECTION_LIMIT - 4] + "\n..."
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body or " "}})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"Platform Scorecard · snapshot {m.snapshot}"}]})
    return {"text": slack_escape(m.title), "blocks": blocks}


# ------------------------------------------------------------------ Teams

# What Teams' card Markdown acts on: bold, italic, links, code, strike (inline); lists and headings (line start).
_MARKDOWN = re.compile(r"([\\`*_\[\]()~])")
_BULLET = re.compile(r"^(\s*)([-+#>])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*)(\d+)\.", re.MULTILINE)


def teams_escape(text: str, html: bool = False) -> str:
    """Backslash-escape Markdown; ``html``: also entities for <, >, & (MessageCards read limited HTML,
    Adaptive Cards read none and would show ``&amp;`` as is)."""
    if html:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN.sub(r"\\\1", text)
    return _NUMBERED.sub(r"\1\2\\.", _BULLET.sub(r"\1\\\2", text))


def teams_adaptive_payload(m: Message) -> dict:
    """What a Teams Workflows webhook ("When a Teams webhook request is received") posts: an Adaptive Card."""
    body: list[dict] = [{"type": "TextBlock", "text": teams_escape(m.title), "weight": "Bolder", "size": "Medium",
                         "wrap": True}]
    for heading, lines in m.sections:
        if heading:
            body.append({"type": "TextBlock", "text": teams_escape(heading), "weight": "Bolder", "wrap": True,
                         "spacing": "Medium"})
        body.append({"type": "TextBlock", "text": "\n\n".join(teams_escape(x) for x in lines) or " ", "wrap": True})
    body.append({"type": "TextBlock", "text": f"Platform Scorecard · snapshot {m.snapshot}", "isSubtle": True,
                 "size": "Small", "wrap": True})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def teams_message_card_payload(m: Message) -> dict:
    """A classic Office 365 connector (incoming webhook) body: a MessageCard."""
    def esc(text: str) -> str:
        return teams_escape(text, html=True)

    return {"@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": esc(m.title),
            "title": esc(m.title), "sections": [
                {**({"activityTitle": esc(h)} if h else {}), "text": "\n\n".join(esc(x) for x in lines) or " "}
                for h, lines in m.sections]}


# ---------------------------------------------------------------- webhook

def webhook_payload(m: Message) -> dict:
    """The generic JSON body (docs/notifications.md "Generic webhook"): values as plain strings."""
    return {"source": SOURCE, "kind": m.kind, "team": m.team, "title": m.title,
            "snapshot": m.snapshot.isoformat() if m.snapshot else None, "event_ids": list(m.event_ids),
            "sections": [{"heading": h, "lines": list(lines)} for h, lines in m.sections]}


def payload(kind: str, m: Message, teams_format: str = "adaptive_card") -> dict:
    if kind == "slack":
        return slack_payload(m)
    if kind == "teams":
        return teams_message_card_payload(m) if teams_format == "message_card" else teams_adaptive_payload(m)
    return webhook_payload(m)
