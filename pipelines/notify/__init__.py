"""Notifications: alerts after each publish and a weekly digest per team, to Slack, Teams or any webhook.

:func:`notify` reads the published snapshot (`events.find`), routes each
event to its team's channels (`notifications.routes`, else `default`),
leaves out what the delivery log says each channel already has, renders one
message per channel, kind and team (`render`) and posts it (`deliver`).
It never raises for a channel: a channel that fails is reported in the
result, the others are still sent, and the scoring run that triggered it
is never failed by it (docs/notifications.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx
from pydantic import BaseModel

from pipelines import secrets
from pipelines.config_notify import Channel
from pipelines.notify import deliver, events, render

log = logging.getLogger(__name__)
USER_AGENT = "platform-scorecard-notify"


@dataclass
class ChannelReport:
    channel: str
    kind: str
    sent: int = 0  # messages delivered
    duplicates: int = 0  # events left out: the delivery log says this channel has them
    unconfigured: str | None = None  # why nothing could be sent (the URL's variable is unset)
    failures: list[str] = field(default_factory=list)  # one readable, redacted reason per message not delivered


@dataclass
class Planned:
    channel: str
    kind: str  # slack, teams, webhook
    message: render.Message
    payload: dict


@dataclass
class NotifyReport:
    snapshot: dt.date | None
    baseline: dt.date | None
    planned: list[Planned] = field(default_factory=list)
    channels: dict[str, ChannelReport] = field(default_factory=dict)
    problem: str | None = None  # nothing could be computed (no published snapshot)

    @property
    def failures(self) -> list[str]:
        return [f"{c.channel}: {f}" for c in self.channels.values() for f in c.failures]


def notify(config, *, since: dt.date | None = None, digest: bool = False, dry_run: bool = False,
           today: dt.date | None = None, env: Mapping[str, str] | None = None,
           transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep) -> NotifyReport:
    """Send what the latest published snapshot says to each configured channel; ``dry_run`` only renders."""
    cfg = config.notifications
    env = os.environ if env is None else env
    served = config.serving_path
    if not cfg.channels:  # the sensor runs after every publish, configured or not: nothing to compute
        return NotifyReport(None, None)
    if not served.exists():
        return NotifyReport(None, None, problem=f"no published snapshot at {served}: run `scorecard run` first")
    register_config_secrets(config, env)
    found = events.find(str(served), cfg, since=since, today=today, digest=digest)
    report = NotifyReport(found.snapshot, found.baseline)
    urls = {c.name: _secret(env, c.url_env) for c in cfg.channels}
    keys = {c.name: _secret(env, c.secret_env) for c in cfg.channels}
    delivery_log = deliver.DeliveryLog(config.resolve(cfg.state_path))
    for channel in cfg.channels:
        result = report.channels[channel.name] = ChannelReport(channel.name, channel.kind)
        if urls[channel.name] is None:
            result.unconfigured = f"${channel.url_env} is not set: nothing is sent to this channel"
        try:
            messages = _messages(channel, cfg, found, delivery_log, result)
        except Exception as exc:  # noqa: BLE001 - an unreadable delivery log fails this channel only
            result.failures.append(secrets.redact(f"could not read the delivery log: {type(exc).__name__}: {exc}"))
            continue
        for message in messages:
            report.planned.append(Planned(channel.name, channel.kind, message,
                                          render.payload(channel.kind, message, channel.teams_format)))
        if dry_run or result.unconfigured or not messages:
            continue
        _send(channel, urls[channel.name], keys[channel.name], report.planned[-len(messages):], cfg, delivery_log,
              result, transport, sleep)
    for reason in report.failures:
        log.warning("notification not delivered: %s", reason)
    return report


def register_config_secrets(config, env: Mapping[str, str]) -> None:
    """Register every credential the config names (`token_env`, `url_env`, ...) that is set here.

    `scorecard notify` runs in its own process, where no source registered its
    token: a snapshot detail that quoted one (published before it was
    registered, or from a source's error text) must still not leave in a message.
    """
    from pipelines.config import DEFAULT_GITHUB_TOKEN_ENV

    names = {DEFAULT_GITHUB_TOKEN_ENV}

    def walk(value: object) -> None:
        if isinstance(value, BaseModel):
            for key in type(value).model_fields:
                item = getattr(value, key)
                if key.endswith("_env") and isinstance(item, str):
                    names.add(item)
                else:
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(config)
    for name in names:
        secrets.register(env.get(name))


def _secret(env: Mapping[str, str], name: str | None) -> str | None:
    value = env.get(name) if name else None
    if not value:
        return None
    # The webhook URL is the credential: registered before any request, log line or error can carry it.
    secrets.register(value)
    return value


def _messages(channel: Channel, cfg, found: events.Findings, delivery_log: deliver.DeliveryLog,
              result: ChannelReport) -> list[render.Message]:
    """This channel's messages: its routed events not yet delivered to it, one message per kind and team."""
    mine = [e for e in found.events if channel in cfg.channels_for(e.team)]
    digests = [d for d in found.digests if channel in cfg.channels_for(d.team)]
    already = delivery_log.sent(channel.name, tuple(e.id for e in mine) + tuple(d.id for d in digests))
    result.duplicates = len(already)
    groups: dict[tuple[str, str | None], list[events.Event]] = {}
    for e in mine:
        if e.id not in already:
            groups.setdefault((e.kind, e.team), []).append(e)
    out = [render.alert_message(kind, team, evs, found.snapshot) for (kind, team), evs in groups.items()]
    out += [render.digest_message(d, found.snapshot) for d in digests if d.id not in already]
    return out


def _send(channel: Channel, url: str, key: str | None, planned: list[Planned], cfg, delivery_log, result,
          transport, sleep) -> None:
    try:
        with httpx.Client(timeout=cfg.timeout_s, transport=transport, follow_redirects=False,
                          headers={"User-Agent": USER_AGENT}) as client:
            for item in planned:
                # A last pass over the whole body: nothing registered as a secret leaves, whatever field carried it.
                body = secrets.redact(deliver.encode(item.payload).decode()).encode()
                headers = {"Content-Type": "application/json; charset=utf-8"}
                if channel.kind == "webhook":
                    headers[deliver.DELIVERY_HEADER] = deliver.delivery_id(channel.name, item.message.event_ids)
                    headers["X-Scorecard-Event"] = item.message.kind
                    if key:
                        headers[deliver.SIGNATURE_HEADER] = deliver.signature(key, body)
                attempt = deliver.post(client, url, body, headers, max_retries=cfg.max_retries,
                                       backoff_s=cfg.backoff_s, max_wait_s=cfg.max_wait_s, sleep=sleep)
                if not attempt.ok:
                    result.failures.append(f"{item.message.title}: {attempt.reason} after {attempt.tries} tries")
                    continue
                delivery_log.record(channel.name, item.message.kind, item.message.event_ids)
                result.sent += 1
    except Exception as exc:  # noqa: BLE001 - one channel's failure is reported, never raised into the run
        result.failures.append(secrets.redact(f"{type(exc).__name__}: {exc}"))
