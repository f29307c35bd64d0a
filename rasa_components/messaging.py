"""What the Telegram and WhatsApp channels share: an output channel bound to one chat, and the
quick replies of the assistant's last message (so a numbered reply can be mapped to its payload)."""

from __future__ import annotations

import abc
import logging
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import OutputChannel

logger = logging.getLogger(__name__)


class ChatOutput(OutputChannel, metaclass=abc.ABCMeta):
    """Replies to one chat; Rasa's recipient id is the hashed conversation id, so the chat is bound here."""

    @abc.abstractmethod
    async def send(self, text: str, buttons: List[Dict[str, Any]]) -> None:
        """Deliver one message, split and formatted for the platform."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send(text, [])

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self.send(text, list(buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send(image, [])

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.send(str(attachment), [])


async def last_buttons(app: Any, sender_id: str) -> List[Dict[str, Any]]:
    """The quick replies of the assistant's latest message, if the parent has not answered since."""
    store = getattr(getattr(getattr(app, "ctx", None), "agent", None), "tracker_store", None)
    if store is None:
        return []
    try:
        tracker = await store.retrieve(sender_id)
    except Exception:  # mapping a number is a convenience; the message still goes through as typed
        logger.exception("Could not read the conversation to map a numbered reply.")
        return []
    for event in reversed(list(tracker.events) if tracker else []):
        kind = getattr(event, "type_name", "")
        if kind == "user":
            return []
        if kind == "bot" and (event.data or {}).get("buttons"):
            return list(event.data["buttons"])
    return []


def disabled(platform: str) -> Optional[Dict[str, str]]:
    return {"error": f"{platform} is not configured on this server (see README)."}
