"""What every chat channel does with a parent's message before Rasa sees it, without Rasa.

All four channels (REST, the widget's socket.io, Telegram, WhatsApp) call `read_message` before they
make a Rasa `UserMessage`:

- a message over the length limit never reaches NLU: the parent gets a friendly "too long" reply;
- anything that is not text, or nothing but spaces and control characters, gets a friendly reply;
- control characters, lone surrogates and bidirectional overrides are removed (they break storage,
  the review dashboard and the log; none is part of what a parent types);
- a message starting with "/" is read as text. Rasa parses "/intent{json}" as an intent with entities,
  bypassing NLU and the red-flag rules ("/ask_hip_health@1 my baby is having a seizure" would start the hip
  questions). The assistant offers no button whose payload starts with "/" (domain/, actions/,
  bot/triage/, knowledge/questions.yml and the widget all send plain words), so the leading slashes are
  dropped; `allowed_commands` names exact payloads to let through, should one ever be offered.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import AbstractSet, Any, Optional

from bot.knowledge.messages import say

_COMMAND_PREFIX = re.compile(r"^[\s/]+")  # leading slashes, and the spaces before, between and after them
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_KEPT_CONTROLS = frozenset("\n\t")


def text_only_notice() -> str:
    """The reply to a message that is not text (or nothing but spaces and control characters)."""
    return say("channel.text_only")


def technical_trouble_notice() -> str:
    """The reply when a message could not be handled at all (a store is down): the emergency line first, as in
    utter_technical_trouble, because the message we could not read may have described an emergency."""
    return f"{say('safety.emergency_first')} {say('trouble.unread')}"


def rate_limited_notice() -> str:
    """The reply to a message sent faster than the rate limit allows."""
    return say("channel.rate_limited")


def too_long_notice(text: str, max_chars: int) -> Optional[str]:
    """A friendly notice when a message is over the limit, else None."""
    if len(text) <= max_chars:
        return None
    return f"{say('channel.too_long', count=f'{len(text):,}', max=f'{max_chars:,}')} {say('channel.shorter')}"


def oversized_request_notice(max_chars: int) -> str:
    """The "too long" notice for a request refused by its size in bytes, before its text was read."""
    return f"{say('channel.too_long_request', max=f'{max_chars:,}')} {say('channel.shorter')}"


@dataclass(frozen=True)
class Inbound:
    """A message as the channel should pass it on: `text` for Rasa, or a `reply` (and `refused` reason) instead."""

    text: Optional[str] = None
    reply: Optional[str] = None
    refused: Optional[str] = None  # "too_long" | "not_text"


def clean_text(text: str) -> str:
    """text without control characters (newlines and tabs kept), lone surrogates or bidirectional overrides."""
    if text.isprintable():  # the common case, in one C-speed pass
        return text
    text = text.replace("\r\n", "\n")
    return "".join(
        c for c in text if c in _KEPT_CONTROLS or (c not in _BIDI_CONTROLS and unicodedata.category(c) not in ("Cc", "Cs"))
    )


def as_text(text: str, allowed_commands: AbstractSet[str] = frozenset()) -> str:
    """text with the leading slashes that would make Rasa read it as a command removed (unless allowed)."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped in allowed_commands:
        return text
    return _COMMAND_PREFIX.sub("", stripped)


def read_message(raw: Any, max_chars: int, allowed_commands: AbstractSet[str] = frozenset()) -> Inbound:
    """What to do with a message as received: pass on `text`, or send `reply` and stop."""
    if not isinstance(raw, str):
        return Inbound(reply=text_only_notice(), refused="not_text")
    notice = too_long_notice(raw, max_chars)
    if notice:
        return Inbound(reply=notice, refused="too_long")
    text = as_text(clean_text(raw), allowed_commands)
    if not text.strip():
        return Inbound(reply=text_only_notice(), refused="not_text")
    return Inbound(text=text)
