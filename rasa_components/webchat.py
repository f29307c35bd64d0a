"""The web chat widget's socket.io channel: Rasa's SocketIOInput with its session handling hardened.

Rasa 3.6's channel lets any client join any conversation by sending its id in `session_request`, and
trusts the `session_id` inside every message. Here the server issues the ids (128 random bits) with a
signed token that expires (WEBCHAT_SESSION_DAYS, renewed on each visit) and can be revoked, a browser rejoins
only with that token, and a message always goes to the conversation its socket joined. Pages must come from an allowed origin. Resuming replays the conversation's history.
Messages go through the channels' shared checks (bot/channels/inbound.py: length, slash commands, control
characters) and rate limits (bot/channels/ratelimit.py: per conversation and per client address, session
requests included); socket.io payloads over MAX_REQUEST_BYTES are refused by the engine itself.

Events (all on the default namespace):
  client -> server  session_request {session_id?, session_token?, revoke?}
                      revoke: true ends the session presented (the widget's "Start over") and starts a new one
                    user_uttered {message, client_id?, shown_as?}   ack: {ok, error?, duplicate?, refused?, retry_after?}
                      error: no_session | too_long | rate_limited (the widget re-sends later) | server
  server -> client  session_confirm <session_id>           (as Rasa's channel, for compatibility)
                    session_state {session_id, session_token, resumed, history, max_message_chars}
                    bot_uttered {text, quick_replies?}      user_echo {text} (to the session's other tabs)
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.inbound import RATE_LIMITED, TECHNICAL_TROUBLE, clean_text, read_message
from bot.channels.ratelimit import client_address, get_rate_limiter, networks
from bot.channels.replays import ReplayGuard
from bot.channels.webchat import (
    REVOKED,
    RecentIds,
    clean_client_id,
    history_from_events,
    new_session_id,
    origin_allowed,
    revocation_key,
    session_token,
    shown_as_metadata,
    verify_session,
)
from bot.runtime_secrets import load_or_create_secret
from bot.settings import get_settings

logger = logging.getLogger(__name__)


class Revocations:
    """Revoked session ids, in the tracker store's database (bot.channels.replays), so every replica knows.

    Connected on first use. When the database does not answer, a session with a valid, unexpired token is
    let in (logged): a parent is not locked out of their conversation by an outage.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._guard: Optional[ReplayGuard] = None

    def _store(self) -> ReplayGuard:
        if self._guard is None:
            self._guard = ReplayGuard(self._url)
        return self._guard

    def revoked(self, session_id: str) -> bool:
        try:
            return self._store().recorded(REVOKED, revocation_key(session_id))
        except Exception:  # noqa: BLE001 - any database failure: fail open, as documented
            logger.warning("Could not check web-chat revocations (the database did not answer); letting a valid token in.")
            return False

    def revoke(self, session_id: str) -> None:
        try:
            self._store().first_time(REVOKED, revocation_key(session_id))
        except Exception:  # noqa: BLE001
            logger.error("Could not record a web-chat session revocation (the database did not answer).")


class LenientJson:
    """JSON for socket.io packets: an integer of more than 100 digits is read as null.

    python-engineio refuses such integers (parsing them is slow) by dropping the whole packet, so a client
    sending one gets no acknowledgement and the log a traceback. Read as null, the message is answered like
    any other that is not text. (Passed to AsyncServer(json=...), python-socketio's documented option.)
    """

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: Any, **kwargs: Any) -> Any:
        """json.loads with long integers read as None."""
        kwargs.setdefault("parse_int", lambda digits: int(digits) if len(digits) <= 100 else None)
        return json.loads(text, **kwargs)


class OriginCheckedBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint, refusing (403) socket.io requests from pages of other origins.

    Refused at the HTTP handshake, before any socket exists, for polling and WebSocket alike.
    """

    def __init__(self, sio: AsyncServer, socketio_path: str, allowed: Sequence[str], *args: Any) -> None:
        super().__init__(sio, socketio_path, *args)
        self.ctx.allowed_origins = tuple(allowed)

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        """Attach socket.io to the app, behind the origin check."""
        path, allowed = self.ctx.socketio_path.rstrip("/"), self.ctx.allowed_origins

        async def refuse_other_origins(request: Request) -> Optional[HTTPResponse]:
            origin = request.headers.get("origin")
            if request.path.startswith(path) and not origin_allowed(origin, allowed):
                logger.warning("Refused a web chat connection from origin %s (see WEB_ALLOWED_ORIGINS).", origin)
                return response.json({"error": "This site is not allowed to use the chat."}, status=403)
            return None

        app.register_middleware(refuse_other_origins, "request")
        super().register(app, options)


class WebChatInput(SocketIOInput):
    """socket.io channel for the web widget (credentials.yml: rasa_components.webchat.WebChatInput)."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Event names and path from credentials.yml; sessions are always persistent here."""
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,
            credentials.get("socketio_path", "/socket.io"),
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io endpoint with server-issued sessions."""
        settings = get_settings()
        secret = load_or_create_secret(settings.webchat_secret, settings.webchat_secret_file)
        max_age = settings.webchat_session_days * 86400
        revocations = Revocations(settings.service_env["TRACKER_DB_URL"])
        # CORS headers for polling come from `rasa run --cors`; the blueprint checks the Origin.
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=[], max_http_buffer_size=settings.max_request_bytes, json=LenientJson
        )
        webhook = OriginCheckedBlueprint(sio, self.socketio_path, settings.web_allowed_origins, "socketio_webhook", __name__)
        self.sio = sio
        sessions: Dict[str, str] = {}  # socket id -> conversation id
        addresses: Dict[str, str] = {}  # socket id -> client address (for the per-address rate limit)
        trusted = networks(settings.trusted_proxies)
        limiter = get_rate_limiter()
        recent = RecentIds()
        apps: Dict[str, Any] = {}

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if not origin_allowed(environ.get("HTTP_ORIGIN"), settings.web_allowed_origins):
                return False  # the blueprint refuses these already; kept in case of a custom mount
            request = environ.get("sanic.request")
            if request is not None:
                apps["app"] = request.app
                addresses[sid] = client_address(request.ip, request.headers.get("x-forwarded-for"), trusted)
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            sessions.pop(sid, None)
            addresses.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            if not (await limiter.check(address=addresses.get(sid))).allowed:
                await sio.emit(self.bot_message_evt, {"text": RATE_LIMITED}, room=sid, namespace=self.namespace)
                return
            data = data if isinstance(data, dict) else {}
            requested = data.get("session_id")
            valid = verify_session(secret, requested, data.get("session_token"), max_age) and not revocations.revoked(requested)
            if valid and data.get("revoke") is True:
                revocations.revoke(requested)
            resumed = valid and data.get("revoke") is not True
            session_id = requested if resumed else new_session_id()
            previous = sessions.get(sid)
            if previous and previous != session_id:
                await sio.leave_room(sid, previous, namespace=self.namespace)
            sessions[sid] = session_id
            await sio.enter_room(sid, session_id, namespace=self.namespace)
            state = {
                "session_id": session_id,
                "session_token": session_token(secret, session_id),
                "resumed": resumed,
                "history": await self._history(apps.get("app"), session_id) if resumed else [],
                "max_message_chars": settings.max_message_chars,
            }
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            await sio.emit("session_state", state, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None) -> Dict[str, Any]:  # data may be missing altogether
            session_id = sessions.get(sid)
            if session_id is None:
                return {"ok": False, "error": "no_session"}
            decision = await limiter.check(conversation=session_id, address=addresses.get(sid))
            if not decision.allowed:  # the widget keeps the message and sends it again a little later
                if await limiter.first_notice(session_id):
                    await sio.emit(self.bot_message_evt, {"text": RATE_LIMITED}, room=sid, namespace=self.namespace)
                return {"ok": False, "error": "rate_limited", "retry_after": round(decision.retry_after, 1)}
            data = data if isinstance(data, dict) else {}
            inbound = read_message(data.get("message"), settings.max_message_chars)
            if inbound.text is None:
                await sio.emit(self.bot_message_evt, {"text": inbound.reply}, room=sid, namespace=self.namespace)
                if inbound.refused == "too_long":
                    return {"ok": False, "error": "too_long"}
                return {"ok": True, "refused": inbound.refused}  # answered; nothing for the widget to re-send
            text = inbound.text
            client_id = clean_client_id(data.get("client_id"))
            if client_id and recent.seen(session_id, client_id):
                return {"ok": True, "duplicate": True}
            shown_as = data.get("shown_as")
            metadata = shown_as_metadata(text, clean_text(shown_as) if isinstance(shown_as, str) else None)
            echo = {"text": metadata.get("shown_as", text)}
            await sio.emit("user_echo", echo, room=session_id, skip_sid=sid, namespace=self.namespace)
            output = SocketIOOutput(sio, self.bot_message_evt)
            message = UserMessage(
                text,
                output,
                session_id,
                input_channel=self.name(),
                message_id=client_id,
                metadata=metadata,
            )
            try:
                await on_new_message(message)
            except Exception:  # the parent still gets an answer; the details go to the log
                logger.exception("Handling a web chat message failed.")
                if client_id:
                    recent.forget(session_id, client_id)  # the widget's re-send must run
                await sio.emit(self.bot_message_evt, {"text": TECHNICAL_TROUBLE}, room=sid, namespace=self.namespace)
                return {"ok": False, "error": "server"}
            return {"ok": True}

        return webhook

    @staticmethod
    async def _history(app: Any, session_id: str) -> List[Dict[str, Any]]:
        """The conversation so far, read from the tracker store."""
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        if agent is None or agent.tracker_store is None:
            return []
        try:
            tracker = await agent.tracker_store.retrieve(session_id)
        except Exception:  # history is a convenience; the conversation itself goes on
            logger.exception("Could not read the history of a web chat conversation.")
            return []
        return history_from_events(e.as_dict() for e in tracker.events) if tracker else []
