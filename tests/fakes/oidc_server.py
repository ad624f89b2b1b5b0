"""A small OpenID Connect provider for tests: real sockets on loopback, a thread.

Written from OpenID Connect Core 1.0 (authorization code flow, section 3.1),
Discovery 1.0 and RP-Initiated Logout 1.0, as far as a relying party such as
Streamlit's ``st.login`` (Authlib) uses them:

* ``GET /.well-known/openid-configuration``: the discovery document.
* ``GET /authorize``: checks ``client_id``, ``redirect_uri`` (exactly as
  registered), ``response_type=code`` and the ``openid`` scope, then signs the
  configured :attr:`FakeOidc.user` in without a form (auto-approve; a claim
  listed in :attr:`FakeOidc.claim_scopes` only when its scope was asked for)
  and redirects back with ``code`` and ``state``; a bad request is an ``error``
  redirect (or a 400 when the redirect URI itself is not registered, as the
  spec requires).
* ``POST /token``: the code once, for the same ``redirect_uri``, the client
  authenticated by HTTP Basic or by form fields, PKCE S256 checked when the
  authorize request carried a challenge; answers an RS256 ``id_token`` (key
  generated per fake, served at ``/jwks``) with ``iss``, ``aud``, ``exp``,
  ``iat``, ``nonce`` and the user's claims.
* ``GET /userinfo`` with the access token as ``Bearer``: the user's claims.
* ``GET /logout``: the ``end_session_endpoint``; redirects to
  ``post_logout_redirect_uri`` when registered.

Every request is recorded in :attr:`FakeOidc.seen` (method, path, and the
names of the query or form fields, never their values).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

KEY_ID = "fake-oidc-1"


@dataclass
class Seen:
    method: str
    path: str
    fields: tuple[str, ...]


@dataclass
class _Grant:
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    claims: dict


@dataclass
class FakeOidc:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    user: dict = field(default_factory=lambda: {"sub": "u-1", "name": "Ada Lovelace", "email": "ada@example.com"})
    # claim -> the scope that releases it (as Dex sends `groups` only for the `groups` scope)
    claim_scopes: dict[str, str] = field(default_factory=dict)
    token_lifetime: int = 300
    seen: list[Seen] = field(default_factory=list)
    logins: int = 0
    logouts: int = 0

    def __post_init__(self) -> None:
        self._key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"}, private=True)
        self._grants: dict[str, _Grant] = {}
        self._access: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler, fake=self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOidc:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ endpoints

    def discovery(self) -> dict:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted({"openid", "profile", "email", *self.claim_scopes.values()}),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": sorted({"sub", "iss", "aud", "exp", "iat", "nonce", *self.user}),
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict | None]:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or redirect_uri not in self.redirect_uris:
            # Never redirect to an unregistered URI (OIDC Core 3.1.2.6).
            return 400, {}, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"}
        state = query.get("state")

        def back(**params: str) -> tuple[int, dict[str, str], None]:
            if state is not None:
                params["state"] = state
            sep = "&" if urlsplit(redirect_uri).query else "?"
            return 302, {"Location": f"{redirect_uri}{sep}{urlencode(params)}"}, None

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "openid" not in query.get("scope", "").split():
            return back(error="invalid_scope", error_description="openid scope required")
        challenge = query.get("code_challenge")
        if challenge is not None and query.get("code_challenge_method") != "S256":
            return back(error="invalid_request", error_description="only S256 PKCE")
        code = secrets.token_urlsafe(24)
        asked = set(query.get("scope", "").split())
        claims = {k: v for k, v in self.user.items() if self.claim_scopes.get(k, "openid") in asked}
        with self._lock:
            self._grants[code] = _Grant(redirect_uri, query.get("nonce"), challenge, claims)
            self.logins += 1
        return back(code=code)

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except ValueError:
                return 401, {"error": "invalid_client"}
        if client_id != self.client_id or not secrets.compare_digest(client_secret or "", self.client_secret):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code works once
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not secrets.compare_digest(digest, grant.challenge):
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {**grant.claims, "iss": self.issuer, "aud": self.client_id, "iat": now,
                  "exp": now + self.token_lifetime}
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode({"alg": "RS256", "kid": KEY_ID, "typ": "JWT"}, claims, self._key)
        access = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access] = grant.claims
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": self.token_lifetime,
                     "id_token": id_token, "scope": "openid profile email"}

    def userinfo(self, authorization: str) -> tuple[int, dict]:
        claims = self._access.get(authorization.removeprefix("Bearer ").strip())
        if not authorization.startswith("Bearer ") or claims is None:
            return 401, {"error": "invalid_token"}
        return 200, claims

    def logout(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict | None]:
        with self._lock:
            self.logouts += 1
        target = query.get("post_logout_redirect_uri")
        if target in self.redirect_uris:
            return 302, {"Location": target}, None
        return 200, {}, {"logged_out": True}

    def jwks(self) -> dict:
        return {"keys": [self._key.as_dict(private=False)]}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, *, fake: FakeOidc) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().server_bind()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        fake.seen.append(Seen("GET", parts.path, tuple(sorted(query))))
        if parts.path == "/.well-known/openid-configuration":
            self._json(200, fake.discovery())
        elif parts.path == "/jwks":
            self._json(200, fake.jwks())
        elif parts.path == "/authorize":
            self._answer(*fake.authorize(query))
        elif parts.path == "/logout":
            self._answer(*fake.logout(query))
        elif parts.path == "/userinfo":
            self._json(*fake.userinfo(self.headers.get("Authorization", "")))
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = {k: v[0] for k, v in parse_qs(body).items()}
        fake.seen.append(Seen("POST", parts.path, tuple(sorted(form))))
        if parts.path == "/token":
            self._json(*fake.token(form, self.headers.get("Authorization", "")))
        else:
            self._json(404, {"error": "not_found"})

    def _answer(self, code: int, headers: dict[str, str], body: dict | None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _json(self, code: int, body: dict) -> None:
        self._answer(code, {}, body)

    def log_message(self, format: str, *args: object) -> None:  # quiet in test output
        pass
