"""Web chat sessions, without Rasa: unguessable ids, signed resume tokens, allowed origins, history.

A conversation id alone is not a credential: it shows up in logs, the tracker store and the review
dashboard. To rejoin a conversation, a browser must also present the session token the server gave it:
the time it was issued and an HMAC of the id and that time under a server secret. A token expires
`max_age` seconds after it was issued (the server gives a fresh one each time a browser rejoins, so an
active conversation never expires) and can be revoked ("Start over" in the widget, erasing the
conversation). The Rasa channel (rasa_components/webchat.py) uses these.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from typing import Any, Dict, Iterable, List, Optional, Sequence

SESSION_ID_BYTES = 16  # 128 random bits
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_TOKEN = re.compile(r"^([0-9a-f]{1,12})\.([0-9a-f]{64})$")
REVOKED = "webchat_revoked"  # the "platform" under which revoked session ids are kept (bot.channels.replays)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
HISTORY_LIMIT = 300  # messages replayed to a browser that rejoins


def new_session_id() -> str:
    """A fresh conversation id: 128 bits from the OS's secure random source, as hex."""
    return secrets.token_hex(SESSION_ID_BYTES)


def session_token(secret: bytes, session_id: str, issued: Optional[int] = None) -> str:
    """The token that proves a browser was given session_id by this server at `issued` (default now)."""
    issued = int(time.time()) if issued is None else issued
    return f"{issued:x}.{_mac(secret, session_id, issued)}"


def verify_session(secret: bytes, session_id: Any, token: Any, max_age: float, now: Optional[float] = None) -> bool:
    """True when session_id is well formed and token was issued for it less than max_age seconds ago."""
    if not isinstance(session_id, str) or not isinstance(token, str) or not _SESSION_ID.match(session_id):
        return False
    match = _TOKEN.match(token)
    if not match:
        return False
    issued = int(match.group(1), 16)
    age = (time.time() if now is None else now) - issued
    return 0 <= age + 60 and age <= max_age and hmac.compare_digest(_mac(secret, session_id, issued), match.group(2))


def revocation_key(session_id: str) -> str:
    """What the revocation list keeps for a session: a hash, so an erased conversation's id is not kept."""
    return hashlib.sha256(f"webchat:{session_id}".encode()).hexdigest()


def is_session_id(value: Any) -> bool:
    """Whether value has the form of a web-chat conversation id."""
    return isinstance(value, str) and bool(_SESSION_ID.match(value))


def _mac(secret: bytes, session_id: str, issued: int) -> str:
    return hmac.new(secret, f"{session_id}.{issued}".encode(), hashlib.sha256).hexdigest()


def origin_allowed(origin: Optional[str], allowed: Sequence[str]) -> bool:
    """Whether a page from origin may open the widget. Non-browser clients send no Origin."""
    if not origin or "*" in allowed:
        return True
    return origin.rstrip("/") in {a.rstrip("/") for a in allowed}


def clean_client_id(value: Any) -> Optional[str]:
    """The widget's id for one typed message, if well formed (used to drop re-sent duplicates)."""
    return value if isinstance(value, str) and _CLIENT_ID.match(value) else None


def shown_as_metadata(text: str, shown_as: Any) -> Dict[str, str]:
    """Message metadata naming the button title a parent tapped, when it differs from the payload sent."""
    if isinstance(shown_as, str) and shown_as.strip() and shown_as != text and len(shown_as) <= 200:
        return {"shown_as": shown_as.strip()}
    return {}


class RecentIds:
    """The last few message ids seen per conversation, so a message re-sent after a reconnect runs once."""

    def __init__(self, per_session: int = 50, sessions: int = 10_000) -> None:
        self._ids: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()
        self._per_session = per_session
        self._sessions = sessions

    def forget(self, session_id: str, message_id: str) -> None:
        """Drop an id whose processing failed, so the widget's re-send is handled."""
        self._ids.get(session_id, OrderedDict()).pop(message_id, None)

    def seen(self, session_id: str, message_id: str) -> bool:
        """Record message_id; True if it was already recorded for this conversation."""
        ids = self._ids.setdefault(session_id, OrderedDict())
        self._ids.move_to_end(session_id)
        if message_id in ids:
            return True
        ids[message_id] = None
        if len(ids) > self._per_session:
            ids.popitem(last=False)
        if len(self._ids) > self._sessions:
            self._ids.popitem(last=False)
        return False


def _bot_messages(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A bot event as the socket.io channel sent it: split at blank lines, buttons on the last part."""
    text = (event.get("text") or "").strip()
    data = event.get("data") or {}
    buttons = data.get("buttons") or data.get("quick_replies") or []
    parts = text.split("\n\n") if text else [""]
    messages: List[Dict[str, Any]] = [{"sender": "bot", "text": part} for part in parts]
    if buttons:
        messages[-1]["quick_replies"] = [{"title": b.get("title", ""), "payload": b.get("payload", "")} for b in buttons]
    return [m for m in messages if m["text"] or m.get("quick_replies")]


def history_from_events(events: Iterable[Dict[str, Any]], limit: int = HISTORY_LIMIT) -> List[Dict[str, Any]]:
    """The messages of a conversation (since its last restart) from tracker events, oldest first."""
    messages: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "restart":
            messages = []
        elif kind == "user":
            shown = (event.get("metadata") or {}).get("shown_as")
            message: Dict[str, Any] = {"sender": "user", "text": shown or event.get("text") or ""}
            if event.get("message_id"):
                message["id"] = event["message_id"]
            messages.append(message)
        elif kind == "bot":
            messages.extend(_bot_messages(event))
    return messages[-limit:]
