"""`sources.argocd`: Argo CD API servers, for organisations that do not let the
crawler read Application CRDs from their clusters (docs/gitops.md)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from pipelines.config_base import Model, api_url

DEFAULT_ARGOCD_TOKEN_ENV = "ARGOCD_TOKEN"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ArgoCDSourceConfig(Model):
    """One Argo CD API server. The token is never in this file: `token_env` names its variable."""

    name: str = Field(default="argocd", min_length=1)  # source_status target: "argocd:<name>"
    base_url: str  # https://argocd.example.com (the API is under /api/v1)
    token_env: str = DEFAULT_ARGOCD_TOKEN_ENV
    projects: list[str] = Field(default_factory=list)  # `projects=` filter; empty = every project the token sees
    selector: str | None = None  # label selector, e.g. "team in (payments,search)"
    environment: str = "production"  # the environment its Applications deploy to
    timeout_s: float = Field(default=30.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)  # on 429 / 5xx / connection errors
    max_retry_wait_s: float = Field(default=30.0, ge=0)  # a longer Retry-After gives up
    verify_tls: bool = True

    @field_validator("token_env")
    @classmethod
    def _names_a_variable(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            # Not echoed: a value that is not a variable name may well be a pasted token.
            raise ValueError("expected the name of an environment variable, like ARGOCD_TOKEN")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return api_url(value, "https://argocd.example.com")
