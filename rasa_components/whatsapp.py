"""WhatsApp through Twilio, with signed webhooks (Rasa 3.6's Twilio channel never checks them).

POST /webhooks/whatsapp/webhook. Enabled when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
TWILIO_WHATSAPP_NUMBER are set. X-Twilio-Signature is checked with the twilio library's
RequestValidator over TWILIO_WEBHOOK_URL (the public URL, right behind a proxy) or the request URL;
a MessageSid seen before is a replay. Both get 403 before anything reaches Rasa. Quick replies become
a numbered list; "2" or the option's words answer. Phone numbers never become conversation ids.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List

import httpx
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.messaging import WHATSAPP_LIMIT, match_option, numbered_options, post_with_retries, split_message
from bot.settings import Settings
from rasa_components.messaging import ChatOutput, PlatformChannel, last_buttons

logger = logging.getLogger(__name__)
TWILIO_SID = re.compile(r"^[A-Za-z]{2}[0-9A-Fa-f]{32}$")  # e.g. SM + 32 hex digits
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
            await post_with_retries(
                self.client, self.url, auth=self.auth, data={"From": self.sender, "To": self.to, "Body": part}
            )


class WhatsAppChannel(PlatformChannel):
    """credentials.yml: rasa_components.whatsapp.WhatsAppChannel (settings come from the environment)."""

    platform, title = "whatsapp", "WhatsApp"

    def configure(self, settings: Settings) -> bool:
        self.validator = RequestValidator(settings.twilio_auth_token or "")
        self.url = f"{settings.twilio_api_url}/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json"
        self.auth = (settings.twilio_account_sid or "", settings.twilio_auth_token or "")
        self.number = settings.twilio_whatsapp_number
        self.public_url = settings.twilio_webhook_url
        return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_whatsapp_number)

    async def receive(self, request: Request) -> HTTPResponse:
        form = {key: values[0] for key, values in request.form.items()}
        if not self.validator.validate(self.public_url or request.url, form, request.headers.get("x-twilio-signature") or ""):
            logger.warning("Refused a Twilio webhook with a missing or wrong signature.")
            return response.json({"error": "forbidden"}, status=403)
        if not TWILIO_SID.match(form.get("MessageSid") or ""):
            return response.json({"error": "not a Twilio message"}, status=400)
        if not self.first_time(form["MessageSid"]):
            return response.json({"error": "forbidden"}, status=403)
        phone = form.get("From") or ""
        output = WhatsAppOutput(self.client, self.url, self.auth, self.number, phone)
        sender = self.conversation(phone)
        text = await self.admit(form.get("Body") or "", output, sender)
        if text is not None:
            text = match_option(text, await last_buttons(request.app, sender)) or text
            await self.deliver(text, output, sender, form["MessageSid"])
        return response.text(EMPTY_TWIML, content_type="text/xml")
