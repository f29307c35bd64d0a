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

from bot.channels.inbound import clean_text, rate_limited_notice, read_message, technical_trouble_notice
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
from bot.settings import Settings, get_settings
from rasa_components.adaptations import rasa_agent, sanic_request, whole_session_reader

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

    Refused at the HTTP handshake, before any socket exists, for polling and WebSocket alike. on_register is told
    the Sanic app the blueprint is attached to (the web chat reads Rasa's agent from it).
    """

    def __init__(
        self, sio: AsyncServer, socketio_path: str, allowed: Sequence[str], on_register: Callable[[Sanic], None], *args: Any
    ) -> None:
        super().__init__(sio, socketio_path, *args)
        self.ctx.allowed_origins = tuple(allowed)
        self.ctx.on_register = on_register

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
        self.ctx.on_register(app)
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
        """The socket.io endpoint with server-issued sessions (handlers: WebChatSessions)."""
        settings = get_settings()
        # CORS headers for polling come from `rasa run --cors`; the blueprint checks the Origin.
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=[], max_http_buffer_size=settings.max_request_bytes, json=LenientJson
        )
        self.sio = sio
        sessions = WebChatSessions(self, sio, on_new_message, settings)
        webhook = OriginCheckedBlueprint(
            sio, self.socketio_path, settings.web_allowed_origins, sessions.attach_app, "socketio_webhook", __name__
        )

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        sessions.register()
        return webhook


class WebChatSessions:
    """The socket.io handlers of one web chat channel: server-issued sessions, rate limits, messages to Rasa."""

    def __init__(
        self, channel: WebChatInput, sio: AsyncServer, on_new_message: Callable[[UserMessage], Awaitable[Any]], settings: Settings
    ) -> None:
        self.channel, self.sio, self.on_new_message, self.settings = channel, sio, on_new_message, settings
        self.secret = load_or_create_secret(settings.webchat_secret, settings.webchat_secret_file)
        self.max_age = settings.webchat_session_days * 86400
        self.revocations = Revocations(settings.service_env["TRACKER_DB_URL"])
        self.sessions: Dict[str, str] = {}  # socket id -> conversation id
        self.addresses: Dict[str, str] = {}  # socket id -> client address (for the per-address rate limit)
        self.trusted = networks(settings.trusted_proxies)
        self.limiter = get_rate_limiter()
        self.recent = RecentIds()
        self.app: Optional[Sanic] = None  # the Rasa server's app, once the blueprint is registered on it

    def attach_app(self, app: Sanic) -> None:
        """Remember the app the channel is served by (its agent holds the tracker store)."""
        self.app = app

    def register(self) -> None:
        """Attach the handlers to the socket.io server."""
        namespace = self.channel.namespace
        self.sio.on("connect", namespace=namespace)(self.connect)
        self.sio.on("disconnect", namespace=namespace)(self.disconnect)
        self.sio.on("session_request", namespace=namespace)(self.session_request)
        self.sio.on(self.channel.user_message_evt, namespace=namespace)(self.handle_message)

    async def _say(self, sid: str, text: str) -> None:
        await self.sio.emit(self.channel.bot_message_evt, {"text": text}, room=sid, namespace=self.channel.namespace)

    async def connect(self, sid: str, environ: Dict[str, Any], auth: Optional[Dict[str, Any]] = None) -> bool:
        """Accept a socket from an allowed origin; remember its client address."""
        if not origin_allowed(environ.get("HTTP_ORIGIN"), self.settings.web_allowed_origins):
            return False  # the blueprint refuses these already; kept in case of a custom mount
        request = sanic_request(environ)
        if request is not None:
            self.addresses[sid] = client_address(request.ip, request.headers.get("x-forwarded-for"), self.trusted)
        return True

    async def disconnect(self, sid: str) -> None:
        """Forget the socket."""
        self.sessions.pop(sid, None)
        self.addresses.pop(sid, None)

    async def session_request(self, sid: str, data: Any = None) -> None:
        """Resume the session presented (valid, unrevoked token) or start a new one; send its state."""
        if not (await self.limiter.check(address=self.addresses.get(sid))).allowed:
            await self._say(sid, rate_limited_notice())
            return
        data = data if isinstance(data, dict) else {}
        requested = data.get("session_id")
        valid = verify_session(self.secret, requested, data.get("session_token"), self.max_age)
        valid = valid and not self.revocations.revoked(requested)
        if valid and data.get("revoke") is True:
            self.revocations.revoke(requested)
        resumed = valid and data.get("revoke") is not True
        session_id = requested if resumed else new_session_id()
        namespace = self.channel.namespace
        previous = self.sessions.get(sid)
        if previous and previous != session_id:
            await self.sio.leave_room(sid, previous, namespace=namespace)
        self.sessions[sid] = session_id
        await self.sio.enter_room(sid, session_id, namespace=namespace)
        state = {
            "session_id": session_id,
            "session_token": session_token(self.secret, session_id),
            "resumed": resumed,
            "history": await self.history(session_id) if resumed else [],
            "max_message_chars": self.settings.max_message_chars,
        }
        await self.sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
        await self.sio.emit("session_state", state, room=sid, namespace=namespace)

    async def handle_message(self, sid: str, data: Any = None) -> Dict[str, Any]:  # data may be missing altogether
        """Check a parent's message (session, rate limit, content, duplicate) and hand it to Rasa; the ack says how it went."""
        session_id = self.sessions.get(sid)
        if session_id is None:
            return {"ok": False, "error": "no_session"}
        decision = await self.limiter.check(conversation=session_id, address=self.addresses.get(sid))
        if not decision.allowed:  # the widget keeps the message and sends it again a little later
            if await self.limiter.first_notice(session_id):
                await self._say(sid, rate_limited_notice())
            return {"ok": False, "error": "rate_limited", "retry_after": round(decision.retry_after, 1)}
        data = data if isinstance(data, dict) else {}
        inbound = read_message(data.get("message"), self.settings.max_message_chars)
        if inbound.text is None:
            await self._say(sid, inbound.reply)
            if inbound.refused == "too_long":
                return {"ok": False, "error": "too_long"}
            return {"ok": True, "refused": inbound.refused}  # answered; nothing for the widget to re-send
        client_id = clean_client_id(data.get("client_id"))
        if client_id and self.recent.seen(session_id, client_id):
            return {"ok": True, "duplicate": True}
        shown_as = data.get("shown_as")
        metadata = shown_as_metadata(inbound.text, clean_text(shown_as) if isinstance(shown_as, str) else None)
        echo = {"text": metadata.get("shown_as", inbound.text)}
        await self.sio.emit("user_echo", echo, room=session_id, skip_sid=sid, namespace=self.channel.namespace)
        return await self._deliver(sid, session_id, inbound.text, client_id, metadata)

    async def _deliver(
        self, sid: str, session_id: str, text: str, client_id: Optional[str], metadata: Dict[str, Any]
    ) -> Dict[str, Any]:
        output = SocketIOOutput(self.sio, self.channel.bot_message_evt)
        message = UserMessage(
            text, output, session_id, input_channel=self.channel.name(), message_id=client_id, metadata=metadata
        )
        try:
            await self.on_new_message(message)
        except Exception:  # the parent still gets an answer; the details go to the log
            logger.exception("Handling a web chat message failed.")
            if client_id:
                self.recent.forget(session_id, client_id)  # the widget's re-send must run
            await self._say(sid, technical_trouble_notice())
            return {"ok": False, "error": "server"}
        return {"ok": True}

    async def history(self, session_id: str) -> List[Dict[str, Any]]:
        """The conversation so far, read from the tracker store of the Rasa agent serving this channel."""
        agent = rasa_agent(self.app)
        if agent is None or agent.tracker_store is None:
            return []
        try:
            tracker = await whole_session_reader(agent.tracker_store)(session_id)
        except Exception:  # history is a convenience; the conversation itself goes on
            logger.exception("Could not read the history of a web chat conversation.")
            return []
        return history_from_events(e.as_dict() for e in tracker.events) if tracker else []
