"""Telegram channel with authenticated webhooks (Rasa 3.6's own accepts any POST).

POST /webhooks/telegram/webhook. Enabled when TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_SECRET are set.
A request must carry the secret in X-Telegram-Bot-Api-Secret-Token (set with setWebhook's
secret_token); an update id seen before is a replay. Both get 403 before anything reaches Rasa.
Quick replies become inline keyboards; a tap comes back as a callback query carrying the payload.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

import httpx
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.messaging import TELEGRAM_LIMIT, conversation_id, post_with_retries, split_message, telegram_keyboard
from bot.channels.replays import ReplayGuard
from bot.channels.webchat import load_or_create_secret
from bot.settings import get_settings
from rasa_components.messaging import ChatOutput, disabled

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


class TelegramChannel(InputChannel):
    """credentials.yml: rasa_components.telegram.TelegramChannel (settings come from the environment)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = get_settings()
        enabled = bool(settings.telegram_token and settings.telegram_webhook_secret)
        api = f"{settings.telegram_api_url}/bot{settings.telegram_token}"
        secret = load_or_create_secret(settings.webchat_secret, settings.webchat_secret_file)
        replays = ReplayGuard(settings.service_env["TRACKER_DB_URL"]) if enabled else None
        clients: Dict[str, httpx.AsyncClient] = {}
        webhook = Blueprint("telegram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if enabled else "not configured"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not enabled:
                return response.json(disabled("Telegram"), status=404)
            given = request.headers.get("x-telegram-bot-api-secret-token") or ""
            if not hmac.compare_digest(given.encode(), settings.telegram_webhook_secret.encode()):
                logger.warning("Refused a Telegram webhook without the right secret token.")
                return response.json({"error": "forbidden"}, status=403)
            update = request.json if isinstance(request.json, dict) else {}
            if "update_id" not in update:
                return response.json({"error": "not a Telegram update"}, status=400)
            update_key = str(update["update_id"])
            if not replays.first_time("telegram", update_key):
                return response.json({"error": "forbidden"}, status=403)
            if "http" not in clients:
                clients["http"] = httpx.AsyncClient(timeout=10)
            client = clients["http"]
            callback = update.get("callback_query") or {}
            if callback:  # answer every tap, so the button stops spinning
                await post_with_retries(client, f"{api}/answerCallbackQuery", json={"callback_query_id": callback.get("id")})
            message = callback.get("message") or update.get("message") or {}  # edits of old messages are not new answers
            chat_id = (message.get("chat") or {}).get("id")
            if chat_id is None:
                return response.text("")  # an update we don't act on (a member joined, ...)
            output = TelegramOutput(client, api, chat_id)
            if callback:
                text = str(callback.get("data") or "")
            else:
                text = message.get("text") or ""
            if not text.strip():
                await output.send("Sorry, I can only read text messages. Please type your question.", [])
                return response.text("")
            sender = conversation_id(secret, "telegram", str(chat_id))
            try:
                await on_new_message(UserMessage(text, output, sender, input_channel=self.name(), metadata={}))
            except Exception:
                replays.forget("telegram", update_key)  # Telegram redelivers; let that one through
                raise
            return response.text("")

        return webhook
