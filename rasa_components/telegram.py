"""Telegram channel with authenticated webhooks (Rasa 3.6's own accepts any POST).

POST /webhooks/telegram/webhook. Enabled when TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_SECRET are set.
A request must carry the secret in X-Telegram-Bot-Api-Secret-Token (set with setWebhook's
secret_token); an update id seen before is a replay. Both get 403 before anything reaches Rasa.
Quick replies become inline keyboards; a tap comes back as a callback query carrying the payload.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any, Dict, List

import httpx
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.messaging import TELEGRAM_LIMIT, post_with_retries, split_message, telegram_keyboard
from bot.settings import Settings
from rasa_components.messaging import ChatOutput, PlatformChannel

logger = logging.getLogger(__name__)


class TelegramOutput(ChatOutput):
    """Sends to one Telegram chat through the Bot API."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, client: httpx.AsyncClient, api: str, chat_id: Any) -> None:
        self.client, self.api, self.chat_id = client, api, chat_id

    async def send(self, text: str, buttons: List[Dict[str, Any]]) -> None:
        parts = split_message(text, TELEGRAM_LIMIT) or [""]
        for i, part in enumerate(parts):
            body: Dict[str, Any] = {"chat_id": self.chat_id, "text": part}
            if buttons and i == len(parts) - 1:
                body["reply_markup"] = telegram_keyboard(buttons)
            await post_with_retries(self.client, f"{self.api}/sendMessage", json=body)


class TelegramChannel(PlatformChannel):
    """credentials.yml: rasa_components.telegram.TelegramChannel (settings come from the environment)."""

    platform, title = "telegram", "Telegram"

    def configure(self, settings: Settings) -> bool:
        self.api = f"{settings.telegram_api_url}/bot{settings.telegram_token}"
        self.webhook_secret = (settings.telegram_webhook_secret or "").encode()
        return bool(settings.telegram_token and settings.telegram_webhook_secret)

    async def receive(self, request: Request) -> HTTPResponse:
        given = (request.headers.get("x-telegram-bot-api-secret-token") or "").encode()
        if not hmac.compare_digest(given, self.webhook_secret):
            logger.warning("Refused a Telegram webhook without the right secret token.")
            return response.json({"error": "forbidden"}, status=403)
        update = _object(request.json)
        if not _telegram_id(update.get("update_id")):
            return response.json({"error": "not a Telegram update"}, status=400)
        update_key = str(update["update_id"])
        if not self.first_time(update_key):
            return response.json({"error": "forbidden"}, status=403)
        callback = _object(update.get("callback_query"))
        if callback and isinstance(callback.get("id"), str):  # answer every tap, so the button stops spinning
            await post_with_retries(self.client, f"{self.api}/answerCallbackQuery", json={"callback_query_id": callback["id"]})
        message = _object(callback.get("message")) or _object(update.get("message"))  # edits of old messages are not new answers
        chat_id = _object(message.get("chat")).get("id")
        if not _telegram_id(chat_id):
            return response.text("")  # an update we don't act on (a member joined, ...)
        output = TelegramOutput(self.client, self.api, chat_id)
        sender = self.conversation(str(chat_id))
        raw = callback.get("data") if callback else message.get("text")
        text = await self.admit("" if raw is None else raw, output, sender)  # a photo has no text: the text-only reply
        if text is not None:
            await self.deliver(text, output, sender, update_key)
        return response.text("")


def _object(value: Any) -> Dict[str, Any]:
    """value when it is a JSON object, else an empty one (a hostile update can put anything anywhere)."""
    return value if isinstance(value, dict) else {}


def _telegram_id(value: Any) -> bool:
    """Whether value is an id as Telegram sends them: an integer that fits in 64 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
