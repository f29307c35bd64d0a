"""Signed, expiring links to an appointment summary, with no state: the token carries the record itself.

A token is `<payload>.<signature>`: the payload is the record (bot/triage/appointment.py: ids and typed values
only, never the parent's words or an identifier) plus its expiry, as compact JSON, deflated, base64url; the
signature is HMAC-SHA256 over the payload (128 bits kept), under a key derived from the web chat's secret. Every
process that has that secret (the action servers of every replica, the web server) makes and checks the same
links, so nothing is stored and any replica can serve any link. Changing WEBCHAT_SECRET ends every link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Tuple

from bot.runtime_secrets import load_or_create_secret
from bot.settings import Settings
from bot.triage.appointment import Record

PURPOSE = b"appointment-summary-link/v1"  # key separation: this key signs nothing else
SIGNATURE_BYTES = 16
MAX_TOKEN_CHARS = 2048  # longer is refused before any work (a real token is a few hundred characters)
MAX_PAYLOAD_BYTES = 8192  # the inflated payload's bound
DAY_SECONDS = 86400


class LinkInvalid(ValueError):
    """The token was not made with this key, was changed, or does not hold a record."""


class LinkExpired(ValueError):
    """The token is genuine but past its expiry."""


def link_key(settings: Settings) -> bytes:
    """The signing key: derived from the web chat's secret (WEBCHAT_SECRET, else <DATA_DIR>/webchat_secret)."""
    secret = load_or_create_secret(settings.webchat_secret, settings.webchat_secret_file)
    return hmac.new(secret, PURPOSE, hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as error:
        raise LinkInvalid("not base64url") from error


def _signature(key: bytes, payload: str) -> str:
    return _encode(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()[:SIGNATURE_BYTES])


def make_token(record: Record, key: bytes, days: float) -> str:
    """A token for record that expires `days` after the record was made."""
    data = {**record.to_dict(), "x": int(record.made_at + days * DAY_SECONDS)}
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    payload = _encode(zlib.compress(text.encode("utf-8"), 9))
    return f"{payload}.{_signature(key, payload)}"


def open_token(token: str, key: bytes, now: float) -> Tuple[Record, int]:
    """The record and its expiry (Unix seconds). LinkInvalid when forged or damaged, LinkExpired when too old."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise LinkInvalid("not a token")
    payload, signature = token.split(".")
    if not payload.isascii() or not hmac.compare_digest(_signature(key, payload).encode(), signature.encode("utf-8")):
        raise LinkInvalid("bad signature")
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(_decode(payload), MAX_PAYLOAD_BYTES)
        data = json.loads(text.decode("utf-8"))
        expires = data.pop("x")
        record = Record.from_dict(data)
    except (zlib.error, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise LinkInvalid("not a record") from error
    if not isinstance(expires, int) or inflater.unconsumed_tail:
        raise LinkInvalid("not a record")
    if now >= expires:
        raise LinkExpired("expired")
    return record, expires
