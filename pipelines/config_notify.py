"""The `notifications:` section of `scorecard.yaml`: where alerts and the weekly digest go (docs/notifications.md).

Channels are Slack incoming webhooks, Microsoft Teams webhooks (a Workflows
"post to a channel when a webhook request is received" flow, or a classic
incoming webhook) and any HTTPS endpoint taking a JSON POST. A webhook URL
is itself a credential (anyone holding it can post), so the file only names
the environment variable that holds it, like `token_env` for GitHub.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipelines.config_base import Model, problem

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

EVENT_KINDS = ("level_drop", "regression", "initiative_deadline", "waiver_expiring", "weekly_digest")
EventKind = Literal["level_drop", "regression", "initiative_deadline", "waiver_expiring", "weekly_digest"]


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        # Not echoed: a value that is not a variable name may well be a pasted webhook URL.
        raise problem("expected the name of an environment variable, like SCORECARD_SLACK_WEBHOOK_URL")
    return value


class Channel(Model):
    """One destination. ``url_env`` names the variable holding its webhook URL."""

    name: str
    kind: Literal["slack", "teams", "webhook"]
    url_env: str
    # webhook only: a shared secret; each request then carries X-Scorecard-Signature-256 (HMAC-SHA256 of the body)
    secret_env: str | None = None
    # teams only: "adaptive_card" for a Workflows webhook, "message_card" for a classic incoming webhook
    teams_format: Literal["adaptive_card", "message_card"] = "adaptive_card"

    @field_validator("name")
    @classmethod
    def _simple_name(cls, value: str) -> str:
        if not _CHANNEL_NAME.match(value):
            raise problem(f"expected a short name of letters, digits, '-', '_' or '.', got {value!r}")
        return value

    @field_validator("url_env", "secret_env")
    @classmethod
    def _names_a_variable(cls, value: str | None) -> str | None:
        return None if value is None else _env_name(value)

    @model_validator(mode="after")
    def _secret_for_webhooks(self) -> Channel:
        if self.secret_env is not None and self.kind != "webhook":
            raise problem("secret_env signs generic webhooks only; Slack and Teams URLs carry their own secret")
        return self


class Notifications(Model):
    """Which events go where. Nothing is sent unless a channel's variable is set."""

    channels: list[Channel] = Field(default_factory=list)
    default: list[str] = Field(default_factory=list)  # channels for teams without a route, and org-wide events
    routes: dict[str, list[str]] = Field(default_factory=dict)  # team -> channel names
    events: list[EventKind] = Field(default_factory=lambda: list(EVENT_KINDS))
    scorecard: str = "default"  # level drops, regressions and the digest are about this scorecard
    deadline_days: int = Field(default=14, ge=0)  # initiatives due within this many days (and overdue ones)
    waiver_days: int = Field(default=14, ge=0)  # waivers ending within this many days
    digest_blockers: int = Field(default=5, ge=1, le=20)  # top blockers per team in the digest
    # The delivery log: one row per event and channel sent, so a re-run never sends twice.
    state_path: Path = Path("warehouse/notifications.sqlite")
    timeout_s: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)  # first retry delay without Retry-After; doubles per attempt
    max_wait_s: float = Field(default=60.0, ge=0)  # longest Retry-After honoured before giving up on a channel

    @model_validator(mode="after")
    def _routes_name_channels(self) -> Notifications:
        names = [c.name for c in self.channels]
        known = set(names)
        found: list[str] = []
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            found.append(f"channel names must be unique; repeated: {', '.join(duplicates)}")
        for where, listed in [("default", self.default), *((f"routes.{t}", c) for t, c in self.routes.items())]:
            unknown = [c for c in listed if c not in known]
            if unknown:
                found.append(f"{where} names unknown channels {unknown}; channels are {sorted(known) or 'none'}")
        if found:
            raise problem("; ".join(found))
        return self

    def channel(self, name: str) -> Channel:
        return next(c for c in self.channels if c.name == name)

    def channels_for(self, team: str | None) -> list[Channel]:
        """A team's routed channels, else the default ones (also for events without a team)."""
        names = self.routes.get(team, self.default) if team is not None else self.default
        return [self.channel(n) for n in dict.fromkeys(names)]
