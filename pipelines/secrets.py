"""Every secret the run holds, and the one step that removes them from text.

Sources register each secret the moment they hold it (a GitHub token or App
key, an installation token PyGithub minted, a kubeconfig token, password or
client key, an exec plugin's token). Any text that came from outside and may
be stored or shown (an error body a proxy echoed the Authorization header
into, an exception message, git or plugin stderr) goes through
:func:`redact` before it reaches a log line, a warehouse table or the UI:

* every log record, once :func:`install_log_redaction` ran (the CLI and the
  Dagster definitions install it);
* every text column of every frame the warehouse stores
  (``pipelines.warehouse._shaped``, which every staged frame goes through), so the published snapshot,
  the dashboard and ``explain`` never see one;
* the run-failure line the CLI prints.

A secret is removed in every form it travels in: as is, URL-encoded, and
base64 of ``user:secret`` (HTTP basic auth, git's ``x-access-token``);
a PEM key also by each of its body lines. Values shorter than 8 characters
are not registered: replacing ``"abc"`` everywhere would mangle ordinary
text and such a value is no credential worth the name.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from urllib.parse import quote

MASK = "***"
_MIN_LENGTH = 8
_BASIC_USERS = ("x-access-token", "oauth2", "token", "git", "")


class SecretRegistry:
    def __init__(self) -> None:
        # Re-entrant: a log record made while `pattern()` compiles (a garbage-collection
        # finaliser that logs, as SQLAlchemy's pool does) asks for the pattern again
        # on the same thread, and a plain Lock would wait for itself forever.
        self._lock = threading.RLock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str | bytes | None, *, users: tuple[str, ...] = ()) -> None:
        """Remember a secret and the forms it is sent in (basic auth for `users` too)."""
        if secret is None:
            return
        text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else str(secret)
        text = text.strip()
        if len(text) < _MIN_LENGTH:
            return
        forms = {text, quote(text, safe="")}
        for user in (*_BASIC_USERS, *users):
            forms.add(base64.b64encode(f"{user}:{text}".encode()).decode())
        if "-----BEGIN" in text:  # a PEM key: any of its lines identifies it
            forms.update(line.strip() for line in text.splitlines()
                         if len(line.strip()) >= 16 and not line.startswith("-----"))
        with self._lock:
            before = len(self._values)
            self._values.update(f for f in forms if len(f) >= _MIN_LENGTH)
            if len(self._values) != before:
                self._pattern = None

    def redact(self, text: object) -> str:
        """`text` with every registered secret replaced by ***."""
        value = text if isinstance(text, str) else str(text)
        pattern = self.pattern()
        return value if pattern is None else pattern.sub(MASK, value)

    def pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # Longest first, so a base64 form is never half-replaced by a shorter value inside it.
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))
            return self._pattern

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None


SECRETS = SecretRegistry()


def register(secret: str | bytes | None, *, users: tuple[str, ...] = ()) -> None:
    SECRETS.add(secret, users=users)


def redact(text: object) -> str:
    return SECRETS.redact(text)


def redact_optional(text: str | None) -> str | None:
    return None if text is None else SECRETS.redact(text)


_installed = False
_install_lock = threading.Lock()


def install_log_redaction() -> None:
    """Make every log record, from any logger and any library, carry redacted text.

    Done at record creation (the record factory), so no handler, formatter or
    Dagster's event log ever sees the secret; idempotent.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        make_record = logging.getLogRecordFactory()

        def redacting_record(*args, **kwargs) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            if SECRETS.pattern() is not None:
                try:
                    message = record.getMessage()
                except Exception:  # noqa: BLE001 - a malformed log call must still be logged
                    message = str(record.msg)
                record.msg, record.args = SECRETS.redact(message), None
                if record.exc_info and record.exc_info[1] is not None:
                    record.exc_text = SECRETS.redact(logging.Formatter().formatException(record.exc_info))
                    record.exc_info = None
            return record

        logging.setLogRecordFactory(redacting_record)
        _installed = True
