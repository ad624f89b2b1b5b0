"""Sending: one POST per message and channel, retried, logged so it is never sent twice.

The delivery log is a small SQLite file next to the warehouse (not the
warehouse: the dashboard's published file must stay read-only, and the
warehouse is locked for the whole of a run). A row per (event id, channel)
is written only after the channel answered 2xx, so a failed channel is tried
again next time and a sent one never is. A crash between the answer and
the commit could repeat one message; the generic webhook's
``X-Scorecard-Delivery`` header lets a receiver drop that repeat.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipelines import secrets

SIGNATURE_HEADER = "X-Scorecard-Signature-256"
DELIVERY_HEADER = "X-Scorecard-Delivery"
_RETRY_STATUSES = {429, 500, 502, 503, 504}


class DeliveryLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("""CREATE TABLE IF NOT EXISTS deliveries (
                               event_id TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT, sent_at TEXT NOT NULL,
                               PRIMARY KEY (event_id, channel))""")
            yield con
            con.commit()
        finally:
            con.close()

    def sent(self, channel: str, event_ids: tuple[str, ...]) -> set[str]:
        """Which of ``event_ids`` were already delivered to ``channel``."""
        if not self.path.exists():
            return set()
        with self._connect() as con:
            rows = con.execute("SELECT event_id FROM deliveries WHERE channel = ?", [channel]).fetchall()
        return {r[0] for r in rows} & set(event_ids)

    def record(self, channel: str, kind: str, event_ids: tuple[str, ...]) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._connect() as con:
            con.executemany("INSERT OR IGNORE INTO deliveries VALUES (?, ?, ?, ?)",
                            [(e, channel, kind, now) for e in event_ids])


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status: int | None
    reason: str  # readable, redacted; empty when ok
    tries: int


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_id(channel: str, event_ids: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join((channel, *sorted(event_ids))).encode()).hexdigest()[:32]


def post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str], *, max_retries: int,
         backoff_s: float, max_wait_s: float, sleep: Callable[[float], None] = time.sleep) -> Attempt:
    """POST ``body``; retry 429 (after its Retry-After), 5xx and timeouts with doubling backoff."""
    status: int | None = None
    reason = ""
    for attempt in range(max_retries + 1):
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            status, reason, wait = None, "timed out", backoff_s * 2 ** attempt
        except httpx.HTTPError as exc:
            # The URL is a secret and httpx puts it in connection errors: redact.
            status, reason, wait = None, f"{type(exc).__name__}: {exc}", backoff_s * 2 ** attempt
        else:
            status = response.status_code
            if 200 <= status < 300:
                return Attempt(True, status, "", attempt + 1)
            reason = f"HTTP {status}: {_body_text(response)}"
            if status not in _RETRY_STATUSES:
                break  # 400/403/404/410: the URL or payload is wrong; retrying cannot help
            wait = _retry_after(response) if status == 429 else None
            if wait is None:
                wait = backoff_s * 2 ** attempt
            elif wait > max_wait_s:
                reason += f" (asked to wait {wait:.0f} s, more than max_wait_s {max_wait_s:.0f})"
                break
        if attempt < max_retries:
            sleep(min(wait, max_wait_s))
    return Attempt(False, status, secrets.redact(reason), attempt + 1)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date or garbage: fall back to our own backoff


def _body_text(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return (text[:200] + "...") if len(text) > 200 else (text or response.reason_phrase)


def encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
