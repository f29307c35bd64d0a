"""What the Telegram and WhatsApp channels share: the webhook scaffolding (on only with credentials,
a request-size cap, replay refusal, hashed conversation ids, one HTTP client, a failed message forgotten so
it can be redelivered), the checks every message passes before Rasa (bot/channels/inbound.py) and the rate
limits (per conversation, and all of a platform's webhook calls together; the "too fast" reply is sent once
per window, not per message), an output channel bound to one chat, and the quick replies of the assistant's
last message (so a numbered reply can be mapped to its payload)."""

from __future__ import annotations

import abc
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

import httpx
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.inbound import rate_limited_notice, read_message
from bot.channels.messaging import conversation_id
from bot.channels.ratelimit import get_rate_limiter
from bot.channels.replays import ReplayGuard
from bot.runtime_secrets import messaging_secret
from bot.settings import Settings, get_settings
from rasa_components.adaptations import rasa_agent

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
    store = getattr(rasa_agent(app), "tracker_store", None)
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


class PlatformChannel(InputChannel, metaclass=abc.ABCMeta):
    """A messaging platform's webhook at /webhooks/<platform>/webhook, configured from settings."""

    platform = ""  # the channel name, recorded on every message
    title = ""  # shown in messages, e.g. "Telegram"

    @classmethod
    def name(cls) -> str:
        return cls.platform

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    @abc.abstractmethod
    def configure(self, settings: Settings) -> bool:
        """Read this platform's settings; True when its credentials are all present."""

    @abc.abstractmethod
    async def receive(self, request: Request) -> HTTPResponse:
        """Authenticate and handle one webhook request (self.deliver passes a message on to Rasa)."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = get_settings()
        enabled = self.configure(settings)
        self.max_message_chars, self.limiter = settings.max_message_chars, get_rate_limiter()
        self.on_new_message = on_new_message
        self.secret = messaging_secret(settings)
        self.replays = ReplayGuard(settings.service_env["TRACKER_DB_URL"]) if enabled else None
        self._client: Optional[httpx.AsyncClient] = None
        webhook = Blueprint(f"{self.platform}_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if enabled else "not configured"})

        @webhook.route("/webhook", methods=["POST"])
        async def webhook_post(request: Request) -> HTTPResponse:
            if not enabled:
                return response.json({"error": f"{self.title} is not configured on this server (see README)."}, status=404)
            if len(request.body or b"") > settings.max_request_bytes:
                return response.json({"error": "request too large"}, status=413)
            return await self.receive(request)

        return webhook

    @property
    def client(self) -> httpx.AsyncClient:
        """The channel's HTTP client for the platform API, made on first use."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10)
        return self._client

    def first_time(self, request_id: str) -> bool:
        """False for a request id handled before (a replay)."""
        return bool(request_id) and self.replays.first_time(self.platform, request_id)

    def conversation(self, raw_id: str) -> str:
        """The stable conversation id for a chat or phone number (an HMAC; the raw id is never stored)."""
        return conversation_id(self.secret, self.platform, raw_id)

    async def admit(self, raw: Any, output: ChatOutput, sender: str) -> Optional[str]:
        """The message's text to pass on, or None when the parent has been answered instead (or is going too fast)."""
        decision = await self.limiter.check(conversation=sender, platform=self.platform)
        if not decision.allowed:
            if await self.limiter.first_notice(sender):
                await output.send(rate_limited_notice(), [])
            return None
        inbound = read_message(raw, self.max_message_chars)
        if inbound.text is None:
            await output.send(inbound.reply or "", [])
        return inbound.text

    async def deliver(self, text: str, output: OutputChannel, sender: str, request_id: str) -> None:
        """Pass a message to Rasa; if that fails, forget the request id so a redelivery runs."""
        try:
            await self.on_new_message(UserMessage(text, output, sender, input_channel=self.platform, metadata={}))
        except Exception:
            self.replays.forget(self.platform, request_id)
            raise
