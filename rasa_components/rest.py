"""The REST channel (POST /webhooks/rest/webhook): Rasa's RestInput behind the Rasa token, with its inputs bounded.

Rasa 3.6's channel is open to anyone who knows (or guesses) a conversation id, takes `input_channel` and
`metadata` from the client (a forged `shown_as` would be replayed in the widget's history as the parent's
words), accepts any size of message, and in `?stream=true` mode waits forever when handling fails. Here:

- the token (RASA_TOKEN; bot/serve.py makes one when unset) is required as `?token=` or
  `Authorization: Bearer`: 401 without it; with no token configured at all (`rasa run` by hand) every
  request is refused (403) rather than served openly;
- `input_channel` is always "rest" and client metadata is dropped;
- `sender` must be a printable string of at most 128 characters (400 otherwise; Rasa would file a
  missing sender under the shared conversation "default");
- the request body is capped (413, with the friendly "too long" reply), and every message goes through
  the channels' shared checks (bot/channels/inbound.py) and rate limits (bot/channels/ratelimit.py, 429);
- the response is Rasa's: a JSON list of bot messages, or with `?stream=true` one JSON message per line.
"""

from __future__ import annotations

import hmac
import json
import logging
from asyncio import CancelledError, Queue
from typing import Any, Awaitable, Callable, Dict, Optional, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.channels.inbound import oversized_request_notice, rate_limited_notice, read_message, technical_trouble_notice
from bot.channels.ratelimit import client_address, get_rate_limiter, networks
from bot.settings import get_settings

logger = logging.getLogger(__name__)
MAX_SENDER_CHARS = 128
NO_TOKEN = (
    "The REST channel is closed: no Rasa token is configured. Start the assistant with `make run` "
    "(it makes a token), or set RASA_TOKEN for the Rasa process."
)


def provided_token(request: Request) -> str:
    """The token a request carries: ?token=, else an `Authorization: Bearer` header."""
    token = request.args.get("token")
    if token:
        return token
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def valid_sender(sender: Any) -> bool:
    """A conversation id we accept: a non-empty printable string of at most 128 characters."""
    return isinstance(sender, str) and 0 < len(sender) <= MAX_SENDER_CHARS and sender.isprintable() and bool(sender.strip())


class TokenRestInput(RestInput):
    """credentials.yml: rasa_components.rest.TokenRestInput (keeps the name "rest" and so its URL)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    @staticmethod
    async def on_message_wrapper(
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        queue: Queue,
        sender_id: str,
        input_channel: str,
        metadata: Optional[Dict[str, Any]],
    ) -> None:
        """Rasa's streaming handler, ending the stream even when handling fails (Rasa's would wait forever).

        Overrides the method RestInput.stream_response calls: listed in rasa_components/adaptations.py (RELIANCES).
        """
        try:
            await on_new_message(UserMessage(text, QueueOutputChannel(queue), sender_id, input_channel=input_channel))
        except Exception:
            logger.exception("Handling a REST message failed.")
            await queue.put({"recipient_id": sender_id, "text": technical_trouble_notice()})
        finally:
            await queue.put("DONE")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET / (health) and POST /webhook."""
        settings = get_settings()
        trusted = networks(settings.trusted_proxies)
        webhook = Blueprint("custom_webhook_TokenRestInput", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            if not settings.rasa_token:
                return response.json({"error": NO_TOKEN}, status=403)
            if not hmac.compare_digest(provided_token(request).encode(), settings.rasa_token.encode()):
                return response.json({"error": "A valid token is required (?token= or Authorization: Bearer)."}, status=401)
            stream = rasa.utils.endpoints.bool_arg(request, "stream", default=False)
            if len(request.body or b"") > settings.max_request_bytes:
                return _reply(stream, None, oversized_request_notice(settings.max_message_chars), 413)
            body = request.json
            if not isinstance(body, dict):
                return response.json({"error": 'Expected a JSON object {"sender": ..., "message": ...}.'}, status=400)
            sender = body.get("sender")
            if not valid_sender(sender):
                return response.json(
                    {"error": f"sender must be a printable string of 1 to {MAX_SENDER_CHARS} characters."}, status=400
                )
            address = client_address(request.ip, request.headers.get("x-forwarded-for"), trusted)
            decision = await get_rate_limiter().check(conversation=sender, address=address)
            if not decision.allowed:
                return _reply(
                    stream, sender, rate_limited_notice(), 429, {"Retry-After": str(max(1, round(decision.retry_after)))}
                )
            inbound = read_message(body.get("message"), settings.max_message_chars)
            if inbound.text is None:
                return _reply(stream, sender, inbound.reply or "", 200)
            if stream:
                return response.stream(
                    self.stream_response(on_new_message, inbound.text, sender, self.name(), None),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(inbound.text, collector, sender, input_channel=self.name()))
            except CancelledError:
                logger.error("A REST message timed out.")
            except Exception:  # the details go to the log, never the parent's text
                logger.exception("Handling a REST message failed.")
                if not collector.messages:
                    collector.messages.append({"recipient_id": sender, "text": technical_trouble_notice()})
            return response.json(collector.messages)

        return webhook


def _reply(stream: bool, sender: Optional[str], text: str, status: int, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    """One bot message in the channel's response format (a JSON list, or a line of the stream)."""
    message = {"recipient_id": sender, "text": text}
    if stream:
        return response.text(json.dumps(message) + "\n", status=status, headers=headers, content_type="text/event-stream")
    return response.json([message], status=status, headers=headers)
