"""WhatsApp through Twilio, with signed webhooks (Rasa 3.6's Twilio channel never checks them).

POST /webhooks/whatsapp/webhook. Enabled when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
TWILIO_WHATSAPP_NUMBER are set. X-Twilio-Signature is checked with the twilio library's
RequestValidator over TWILIO_WEBHOOK_URL (the public URL, right behind a proxy) or the request URL;
a MessageSid seen before is a replay. Both get 403 before anything reaches Rasa. Quick replies become
a numbered list; "2" or the option's words answer. Phone numbers never become conversation ids.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

import httpx
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.messaging import (
    WHATSAPP_LIMIT,
    conversation_id,
    match_option,
    numbered_options,
    post_with_retries,
    split_message,
)
from bot.channels.replays import ReplayGuard
from bot.channels.webchat import load_or_create_secret
from bot.settings import get_settings
from rasa_components.messaging import ChatOutput, disabled, last_buttons

logger = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class WhatsAppOutput(ChatOutput):
    """Sends to one WhatsApp number through Twilio's Messages API."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, client: httpx.AsyncClient, url: str, auth: tuple, sender: str, to: str) -> None:
        self.client, self.url, self.auth, self.sender, self.to = client, url, auth, sender, to

    async def send(self, text: str, buttons: List[Dict[str, Any]]) -> None:
        body = numbered_options(text, buttons) if buttons else text
        for part in split_message(body, WHATSAPP_LIMIT):
            await post_with_retries(self.client, self.url, auth=self.auth, data={"From": self.sender, "To": self.to, "Body": part})


class WhatsAppChannel(InputChannel):
    """credentials.yml: rasa_components.whatsapp.WhatsAppChannel (settings come from the environment)."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = get_settings()
        enabled = bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_whatsapp_number)
        validator = RequestValidator(settings.twilio_auth_token or "")
        url = f"{settings.twilio_api_url}/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json"
        auth = (settings.twilio_account_sid or "", settings.twilio_auth_token or "")
        secret = load_or_create_secret(settings.webchat_secret, settings.webchat_secret_file)
        replays = ReplayGuard(settings.service_env["TRACKER_DB_URL"]) if enabled else None
        clients: Dict[str, httpx.AsyncClient] = {}
        webhook = Blueprint("whatsapp_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if enabled else "not configured"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not enabled:
                return response.json(disabled("WhatsApp"), status=404)
            form = {key: values[0] for key, values in request.form.items()}
            signed_url = settings.twilio_webhook_url or request.url
            if not validator.validate(signed_url, form, request.headers.get("x-twilio-signature") or ""):
                logger.warning("Refused a Twilio webhook with a missing or wrong signature.")
                return response.json({"error": "forbidden"}, status=403)
            if not form.get("MessageSid") or not replays.first_time("whatsapp", form["MessageSid"]):
                return response.json({"error": "forbidden"}, status=403)
            phone = form.get("From") or ""
            if "http" not in clients:
                clients["http"] = httpx.AsyncClient(timeout=10)
            client = clients["http"]
            output = WhatsAppOutput(client, url, auth, settings.twilio_whatsapp_number, phone)
            sender = conversation_id(secret, "whatsapp", phone)
            text = form.get("Body") or ""
            if not text.strip():
                await output.send("Sorry, I can only read text messages. Please type your question.", [])
                return response.text(EMPTY_TWIML, content_type="text/xml")
            text = match_option(text, await last_buttons(request.app, sender)) or text
            try:
                await on_new_message(UserMessage(text, output, sender, input_channel=self.name(), metadata={}))
            except Exception:
                replays.forget("whatsapp", form["MessageSid"])  # Twilio may retry; let that one through
                raise
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook
