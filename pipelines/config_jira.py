"""The `sources.jira:` entries of `scorecard.yaml`: a platform team's request queue (docs/jira.md).

A platform is a product when its golden paths make the routine requests
("new repo", "new database", "DNS") self-service; the queue of those
requests should then shrink. Each entry names one Jira project (Cloud or
Data Center) or an offline export of its issues, how the requesting team
is found on an issue, and which requests the golden paths are meant to
make unnecessary. Credentials are never here: only the names of the
environment variables that hold them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipelines.config_base import Model, api_url

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")  # Jira's default project key format
_CUSTOM_FIELD = re.compile(r"^customfield_\d+$")
DEFAULT_JIRA_TOKEN_ENV = "JIRA_API_TOKEN"
DEFAULT_JIRA_EMAIL_ENV = "JIRA_EMAIL"


class RequestingTeam(Model):
    """How an issue names the team that asked; tried in this order, the first that answers wins."""

    field: str | None = None  # a custom field id, e.g. customfield_10050 (select, text, or Jira Team)
    label_prefix: str | None = None  # labels like `team:payments`
    # Reporter (Cloud accountId, Data Center user name) -> team. Only the team is
    # stored: who reported an issue is personal data the metrics do not need.
    reporters: dict[str, str] = Field(default_factory=dict)

    @field_validator("field")
    @classmethod
    def _custom_field_id(cls, value: str | None) -> str | None:
        if value is not None and not _CUSTOM_FIELD.match(value):
            raise ValueError(f"expected a custom field id like customfield_10050, got {value!r}")
        return value

    @model_validator(mode="after")
    def _some_rule(self) -> RequestingTeam:
        if not (self.field or self.label_prefix or self.reporters):
            raise ValueError("set at least one of field, label_prefix or reporters")
        return self


class SelfServiceKinds(Model):
    """The requests the golden paths are meant to make self-service ("new repo", "new database", "DNS")."""

    issue_types: list[str] = Field(default_factory=list)  # issue type names, matched case-insensitively
    labels: list[str] = Field(default_factory=list)  # any of these labels, matched case-insensitively


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        # Not echoed: a value that is not a variable name may well be a pasted token.
        raise ValueError("expected the name of an environment variable, like JIRA_API_TOKEN")
    return value


class JiraSourceConfig(Model):
    """One Jira project read over the REST API, or an export of its issues (`issues_file`)."""

    name: str | None = None  # the target name in source_status; default: the project key
    project: str
    deployment: Literal["cloud", "data_center"] = "cloud"
    base_url: str | None = None  # https://acme.atlassian.net or https://jira.example.com[/context]
    issues_file: Path | None = None  # the search API's JSON ({"issues": [...]}); relative to the config file
    jql: str | None = None  # ANDed with `project = <project>`, e.g. 'issuetype != Epic'
    requesting_team: RequestingTeam
    self_service: SelfServiceKinds = Field(default_factory=SelfServiceKinds)
    email_env: str = DEFAULT_JIRA_EMAIL_ENV  # Cloud: the Atlassian account's email
    token_env: str = DEFAULT_JIRA_TOKEN_ENV  # Cloud: API token; Data Center: personal access token
    # Cloud only: the search endpoint Atlassian is removing (startAt paging), for sites that still serve it.
    legacy_search: bool = False
    history_days: int = Field(default=400, ge=7)  # the first crawl reads issues updated this far back
    page_size: int = Field(default=100, ge=1, le=1000)
    timeout_s: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)  # first retry delay without Retry-After; doubles per attempt
    max_wait_s: float = Field(default=120.0, ge=0)  # longest Retry-After honoured before giving up

    @field_validator("email_env", "token_env")
    @classmethod
    def _names_a_variable(cls, value: str) -> str:
        return _env_name(value)

    @field_validator("project")
    @classmethod
    def _project_key(cls, value: str) -> str:
        if not _PROJECT_KEY.match(value):
            raise ValueError(f"expected a Jira project key like PLAT (capital letters, digits, _), got {value!r}")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return api_url(value, "https://acme.atlassian.net", "their environment variables in email_env/token_env")

    @model_validator(mode="after")
    def _one_place(self) -> JiraSourceConfig:
        if (self.base_url is None) == (self.issues_file is None):
            raise ValueError("set either base_url (read the Jira API) or issues_file (an export), not both")
        if self.legacy_search and self.deployment != "cloud":
            raise ValueError("legacy_search is for Jira Cloud; Data Center always uses /rest/api/2/search")
        return self

    @property
    def target(self) -> str:
        return self.name or self.project
