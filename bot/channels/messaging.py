"""Messaging-platform logic without Rasa: conversation ids, message splitting, numbered options,
and sending to a platform API with retries.

Telegram and WhatsApp (through Twilio) replies are built here; rasa_components/telegram.py and
rasa_components/whatsapp.py only adapt them to Rasa's channel interface.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from typing import Any, Dict, List, Optional, Sequence

import httpx

from bot.knowledge.messages import say

logger = logging.getLogger(__name__)
TELEGRAM_LIMIT = 4096  # characters per Telegram message
WHATSAPP_LIMIT = 1600  # characters per WhatsApp message through Twilio


def conversation_id(secret: bytes, platform: str, raw_id: str) -> str:
    """A stable conversation id for a chat or phone number that does not reveal it (HMAC-SHA256)."""
    digest = hmac.new(secret, f"{platform}:{raw_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{platform}-{digest}"


def split_message(text: str, limit: int) -> List[str]:
    """Split text into parts of at most limit characters, at paragraph, line, sentence or word breaks."""
    text = text.strip()
    parts: List[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            sentence = max(window.rfind(". "), window.rfind("! "), window.rfind("? "))
            cut = sentence + 1 if sentence >= limit // 2 else window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _numbers_are_answers(buttons: Sequence[Dict[str, Any]]) -> bool:
    """True when an option itself holds a number ("4 weeks early"): then a bare "2" may mean 2 weeks."""
    return any(re.search(r"\d", str(b["title"])) for b in buttons)


def numbered_options(text: str, buttons: Sequence[Dict[str, Any]]) -> str:
    """A question followed by its quick replies as a numbered list (WhatsApp has no buttons here)."""
    lines = [f"{i}. {b['title']}" for i, b in enumerate(buttons, 1)]
    how = say("channel.numbered_words" if _numbers_are_answers(buttons) else "channel.numbered_number")
    return f"{text}\n\n{how}:\n" + "\n".join(lines)


def match_option(reply: str, buttons: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The payload a reply picks from numbered options ("2", "2.", "option 2" or the title), else None.

    When an option holds a number itself, a bare number is left as typed (the parent may mean
    "2 weeks"); "option 2" and the option's words still pick it.
    """
    cleaned = reply.strip().lower()
    pattern = r"(?:option|#)\s*(\d{1,2})[.)]?" if _numbers_are_answers(buttons) else r"(?:option\s*|#)?(\d{1,2})[.)]?"
    number = re.fullmatch(pattern, cleaned)
    if number and 1 <= int(number.group(1)) <= len(buttons):
        return str(buttons[int(number.group(1)) - 1]["payload"])
    for button in buttons:
        if cleaned == str(button["title"]).strip().lower():
            return str(button["payload"])
    return None


def telegram_keyboard(buttons: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """An inline keyboard, one button per row; a tap sends the payload back as callback data."""
    return {
        "inline_keyboard": [
            [{"text": str(b["title"])[:64], "callback_data": str(b["payload"]).encode()[:64].decode(errors="ignore")}]
            for b in buttons
        ]
    }


RETRY_STATUSES = {429, 500, 502, 503, 504}


async def post_with_retries(
    client: httpx.AsyncClient, url: str, *, attempts: int = 5, base_delay: float = 0.5, max_delay: float = 8.0, **kwargs: Any
) -> Optional[httpx.Response]:
    """POST, retrying timeouts, connection errors, 5xx and 429 with exponential backoff (Retry-After honoured).

    Returns the last response, or None when every attempt failed to connect; failures are logged.
    """
    delay = base_delay
    for attempt in range(1, attempts + 1):
        response: Optional[httpx.Response] = None
        try:
            response = await client.post(url, **kwargs)
            if response.status_code not in RETRY_STATUSES:
                if response.status_code >= 400:
                    logger.error("Platform API refused a message: HTTP %s %s", response.status_code, response.text[:200])
                return response
            wait = _retry_after(response) or delay
            logger.warning(
                "Platform API answered HTTP %s (attempt %s of %s); retrying in %.1f s",
                response.status_code,
                attempt,
                attempts,
                wait,
            )
        except httpx.HTTPError as error:
            wait = delay
            logger.warning(
                "Platform API unreachable (%s; attempt %s of %s); retrying in %.1f s",
                type(error).__name__,
                attempt,
                attempts,
                wait,
            )
        if attempt == attempts:
            logger.error("Giving up on a platform message after %s attempts", attempts)
            return response
        await asyncio.sleep(min(wait, max_delay))
        delay = min(delay * 2, max_delay)
    return None


def _retry_after(response: httpx.Response) -> Optional[float]:
    header = response.headers.get("retry-after")
    if header and header.replace(".", "", 1).isdecimal():
        return float(header)
    try:
        return float(response.json().get("parameters", {}).get("retry_after"))  # Telegram's 429 body
    except (ValueError, TypeError, AttributeError):
        return None
