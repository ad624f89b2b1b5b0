"""Single sign-on for the dashboard: the environment -> Streamlit's ``[auth]`` secrets.

Streamlit's own ``st.login`` reads its OIDC settings from ``secrets.toml``
(``[auth]``: ``redirect_uri``, ``cookie_secret``, ``client_id``,
``client_secret``, ``server_metadata_url``). Operators give them to us as
environment variables (a Kubernetes Secret, a vault agent), never as a file
in the repository, so ``scorecard serve`` writes that file itself at launch:
mode 0600, inside a fresh private temp directory outside the repository,
removed when the server exits, and handed to Streamlit by path
(``--secrets.files``). The secret values never travel in argv, in a log line
or in an error message: errors name variables, never values.

No ``SCORECARD_OIDC_*`` variable set means no login (the dashboard as it
always was); some but not all of the required ones is an error naming the
missing ones, since half a configuration silently serving the dashboard
without login would be the worst outcome.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ISSUER = "SCORECARD_OIDC_ISSUER"
CLIENT_ID = "SCORECARD_OIDC_CLIENT_ID"
CLIENT_SECRET = "SCORECARD_OIDC_CLIENT_SECRET"
REDIRECT_URI = "SCORECARD_OIDC_REDIRECT_URI"
COOKIE_SECRET = "SCORECARD_OIDC_COOKIE_SECRET"
REQUIRED = (ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, COOKIE_SECRET)
# Read by the dashboard (dashboard/auth.py), not written to the secrets file: they are not secret.
TEAM_CLAIM = "SCORECARD_OIDC_TEAM_CLAIM"
ADMIN_TEAMS = "SCORECARD_OIDC_ADMIN_TEAMS"
# Optional: the scopes asked for, when the team claim needs one (Dex sends `groups` only for the `groups` scope).
SCOPES = "SCORECARD_OIDC_SCOPES"
# Values the dashboard process does not need once they are in the secrets file.
SECRET_VARIABLES = (CLIENT_SECRET, COOKIE_SECRET)

CALLBACK_PATH = "/oauth2callback"  # the route Streamlit serves the provider's redirect on
# Streamlit signs its identity cookie with cookie_secret; joserfc calls fewer than
# 14 bytes weak. 32 characters is what `openssl rand -hex 16` gives.
MIN_COOKIE_SECRET = 32


class SsoConfigError(ValueError):
    """The OIDC variables are incomplete or malformed (the message names variables, never values)."""


@dataclass(frozen=True, repr=False)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    cookie_secret: str
    scopes: str | None = None  # None: Streamlit's default, "openid email profile"

    @property
    def server_metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def __repr__(self) -> str:  # a stray log of the object must not print the secrets
        return f"OidcSettings(issuer={self.issuer!r}, client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})"


def oidc_settings(environ: Mapping[str, str]) -> OidcSettings | None:
    """The OIDC settings from the environment; None when none are set (no login)."""
    present = {name: environ.get(name, "").strip() for name in REQUIRED}
    if not any(present.values()):
        scoping = [name for name in (TEAM_CLAIM, ADMIN_TEAMS) if environ.get(name, "").strip()]
        if scoping:  # team-scoped views were asked for; serving everything to everyone would be a surprise
            _fail(f"{' and '.join(scoping)} {'is' if len(scoping) == 1 else 'are'} set but single sign-on is not: "
                  f"set {', '.join(REQUIRED)} too, or unset {' and '.join(scoping)}")
        return None
    missing = [name for name, value in present.items() if not value]
    if missing:
        return _fail(f"single sign-on is half configured: {', '.join(missing)} "
                     f"{'is' if len(missing) == 1 else 'are'} not set (set all of {', '.join(REQUIRED)}, "
                     "or none of them to serve without login)")
    for name in (ISSUER, REDIRECT_URI):
        parts = urlsplit(present[name])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            _fail(f"{name} must be an absolute http(s) URL")
    if urlsplit(present[REDIRECT_URI]).path.rstrip("/") != CALLBACK_PATH:
        _fail(f"{REDIRECT_URI} must be the dashboard's address with the path {CALLBACK_PATH} "
              f"(e.g. https://scorecard.example.com{CALLBACK_PATH}), and registered as such with the provider")
    if len(present[COOKIE_SECRET]) < MIN_COOKIE_SECRET:
        _fail(f"{COOKIE_SECRET} is shorter than {MIN_COOKIE_SECRET} characters: "
              "use a random one, e.g. `openssl rand -hex 32`")
    scopes = " ".join(environ.get(SCOPES, "").replace(",", " ").split()) or None
    if scopes is not None and "openid" not in scopes.split():
        _fail(f"{SCOPES} must include openid (OpenID Connect sign-in asks for it)")
    return OidcSettings(
        issuer=present[ISSUER], client_id=present[CLIENT_ID], client_secret=present[CLIENT_SECRET],
        redirect_uri=present[REDIRECT_URI].rstrip("/"), cookie_secret=present[COOKIE_SECRET], scopes=scopes,
    )


def _fail(message: str):
    raise SsoConfigError(message)


def secrets_toml(settings: OidcSettings) -> str:
    """Streamlit's ``[auth]`` section for one unnamed (default) provider."""
    values = {
        "redirect_uri": settings.redirect_uri,
        "cookie_secret": settings.cookie_secret,
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        "server_metadata_url": settings.server_metadata_url,
    }
    # A JSON string (ASCII, every control character escaped) is a valid TOML basic string.
    text = "[auth]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    if settings.scopes is not None:
        text += f"\n[auth.client_kwargs]\nscope = {json.dumps(settings.scopes)}\n"
    return text


@contextlib.contextmanager
def secrets_file(settings: OidcSettings) -> Iterator[Path]:
    """A private ``secrets.toml`` for one server's lifetime, removed afterwards.

    ``mkdtemp`` makes the directory 0700 in the system temp dir (never the
    repository or the working directory, where it could be committed or
    served); the file is created 0600 before any byte is written, so there is
    no moment when another user could read it.
    """
    directory = Path(tempfile.mkdtemp(prefix="scorecard-sso-"))
    try:
        path = directory / "secrets.toml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets_toml(settings))
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The dashboard process's environment: the secrets are in the file, so not here too.

    Dropping them keeps them out of ``/proc/<pid>/environ`` of the server and
    of anything it starts.
    """
    return {k: v for k, v in environ.items() if k not in SECRET_VARIABLES}
