"""The widget's socket.io channel on a real Rasa server, spoken to by a Python socket.io client.

Checks the hardening over Rasa's own channel: server-issued ids, signed resume, no joining or
writing into another conversation, origin check, length limit, duplicate re-sends, history.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, List, Optional, Tuple

import httpx
import pytest
import socketio

from tests.servers import TOKEN, Services


class SocketChat:
    """One browser tab, as the widget talks: session_request, then user_uttered with an ack."""

    def __init__(self, stack: Services, origin: Optional[str] = "default") -> None:
        self.url = stack.rasa_url
        self.origin = stack.web_url if origin == "default" else origin
        self.client = socketio.AsyncClient(reconnection=False)
        self.bot: asyncio.Queue[Dict[str, Any]] = asyncio.Queue()
        self.echo: asyncio.Queue[Dict[str, Any]] = asyncio.Queue()
        self.states: asyncio.Queue[Dict[str, Any]] = asyncio.Queue()
        self.client.on("bot_uttered", self.bot.put_nowait)
        self.client.on("user_echo", self.echo.put_nowait)
        self.client.on("session_state", self.states.put_nowait)

    async def start(self, session: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        headers = {"Origin": self.origin} if self.origin else {}
        await self.client.connect(self.url, headers=headers, transports=["polling"])
        await self.client.emit("session_request", session or {})
        return await asyncio.wait_for(self.states.get(), 20)

    async def say(self, text: str, client_id: Optional[str] = None, **extra: Any) -> Tuple[Dict[str, Any], List[str]]:
        payload = {"message": text, "client_id": client_id or uuid.uuid4().hex, **extra}
        ack = await self.client.call("user_uttered", payload, timeout=60)
        replies = []
        while not self.bot.empty():
            replies.append(self.bot.get_nowait().get("text", ""))
        return ack, replies

    async def stop(self) -> None:
        """Leave: the server forgets this socket; don't wait out the pending long-poll (up to 25 s)."""
        for namespace in self.client.namespaces:
            await self.client._send_packet(self.client.packet_class(socketio.packet.DISCONNECT, namespace=namespace))
        await self.client.eio.disconnect(abort=True)


def tracker(stack: Services, session_id: str) -> Dict[str, Any]:
    response = httpx.get(f"{stack.rasa_url}/conversations/{session_id}/tracker", params={"token": TOKEN}, timeout=30)
    response.raise_for_status()
    return response.json()


def user_texts(stack: Services, session_id: str) -> List[str]:
    return [e["text"] for e in tracker(stack, session_id)["events"] if e["event"] == "user"]


async def test_sessions_are_issued_by_the_server_and_resume_only_with_their_token(web_stack: Services) -> None:
    first, second = SocketChat(web_stack), SocketChat(web_stack)
    state = await first.start({"session_id": "my-own-choice"})
    other = await second.start()
    assert state["session_id"] != "my-own-choice" and len(state["session_id"]) == 32
    assert int(state["session_id"], 16) >= 0 and state["session_id"] != other["session_id"]
    assert state["resumed"] is False and state["history"] == [] and len(state["session_token"].split(".")[1]) == 64
    ack, replies = await first.say("my 10 month old crawls backwards")
    assert ack == {"ok": True} and any("born early" in r for r in replies)
    await first.stop()
    await second.stop()

    again = SocketChat(web_stack)
    resumed = await again.start({"session_id": state["session_id"], "session_token": state["session_token"]})
    assert resumed["resumed"] is True and resumed["session_id"] == state["session_id"]
    history = resumed["history"]
    assert history[0]["sender"] == "user" and history[0]["text"] == "my 10 month old crawls backwards"
    assert any(m["sender"] == "bot" and "born early" in m["text"] for m in history)
    assert history[-1]["quick_replies"][0]["title"] == "No, on time"  # the pending question's buttons
    ack, _ = await again.say("No, born on time", shown_as="No, on time")  # a tapped button
    assert ack == {"ok": True}
    await again.stop()
    later = await SocketChat(web_stack).start({"session_id": state["session_id"], "session_token": state["session_token"]})
    assert [m["text"] for m in later["history"] if m["sender"] == "user"][-1] == "No, on time"


async def test_an_id_without_its_token_opens_a_new_empty_conversation(web_stack: Services) -> None:
    owner = SocketChat(web_stack)
    state = await owner.start()
    await owner.say("she scoots on her bottom and she is 13 months")
    for forged in ({"session_id": state["session_id"]}, {"session_id": state["session_id"], "session_token": "f" * 64}):
        intruder = SocketChat(web_stack)
        got = await intruder.start(forged)
        assert got["session_id"] != state["session_id"] and got["resumed"] is False and got["history"] == []
        # Naming the victim's conversation inside a message does not route it there either.
        ack, _ = await intruder.say("what did she say?", session_id=state["session_id"])
        assert ack["ok"] is True
        await intruder.stop()
    assert "what did she say?" not in user_texts(web_stack, state["session_id"])
    assert owner.bot.empty()  # the owner never receives the intruders' replies
    await owner.stop()


async def test_start_over_revokes_the_old_token(web_stack: Services) -> None:
    tab = SocketChat(web_stack)
    state = await tab.start()
    await tab.say("my 10 month old crawls backwards")
    old = {"session_id": state["session_id"], "session_token": state["session_token"]}
    await tab.client.emit("session_request", {**old, "revoke": True})  # the widget's "Start over"
    fresh = await asyncio.wait_for(tab.states.get(), 20)
    assert fresh["session_id"] != state["session_id"] and fresh["resumed"] is False
    await tab.stop()
    # The revocation is in the shared database: the old token no longer opens the conversation anywhere.
    late = SocketChat(web_stack)
    again = await late.start(old)
    assert again["resumed"] is False and again["session_id"] != state["session_id"] and again["history"] == []
    await late.stop()
    # A forged revocation (no valid token) revokes nothing.
    owner = SocketChat(web_stack)
    mine = await owner.start()
    await owner.stop()
    prank = SocketChat(web_stack)
    await prank.start({"session_id": mine["session_id"], "session_token": "1." + "f" * 64, "revoke": True})
    await prank.stop()
    returning = SocketChat(web_stack)
    back = await returning.start({"session_id": mine["session_id"], "session_token": mine["session_token"]})
    assert back["resumed"] is True
    await returning.stop()


async def test_messages_before_a_session_are_refused(web_stack: Services) -> None:
    chat = SocketChat(web_stack)
    await chat.client.connect(web_stack.rasa_url, headers={"Origin": web_stack.web_url}, transports=["polling"], wait_timeout=10)
    assert await chat.client.call("user_uttered", {"message": "hello"}, timeout=20) == {"ok": False, "error": "no_session"}
    await chat.stop()


async def test_pages_from_other_origins_are_refused(web_stack: Services) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await SocketChat(web_stack, origin="https://evil.example").start()
    fine = SocketChat(web_stack, origin=None)  # not a browser: no Origin header
    assert (await fine.start())["session_id"]
    await fine.stop()


async def test_too_long_messages_get_a_friendly_notice_and_are_not_processed(web_stack: Services) -> None:
    chat = SocketChat(web_stack)
    state = await chat.start()
    ack, replies = await chat.say("x" * 1001)
    assert ack == {"ok": False, "error": "too_long"}
    assert "too long" in replies[0] and "1,000" in replies[0]
    assert user_texts(web_stack, state["session_id"]) == []
    ack, replies = await chat.say("my baby crawls backwards")  # the conversation goes on
    assert ack == {"ok": True} and replies
    await chat.stop()


async def test_a_resent_message_is_processed_once(web_stack: Services) -> None:
    chat = SocketChat(web_stack)
    state = await chat.start()
    ack, _ = await chat.say("my 12 month old isn't walking", client_id="resend-0001")
    assert ack == {"ok": True}
    ack, replies = await chat.say("my 12 month old isn't walking", client_id="resend-0001")
    assert ack == {"ok": True, "duplicate": True} and replies == []
    assert user_texts(web_stack, state["session_id"]) == ["my 12 month old isn't walking"]
    history = (await SocketChat(web_stack).start({"session_id": state["session_id"], "session_token": state["session_token"]}))[
        "history"
    ]
    assert history[0]["id"] == "resend-0001"  # the widget drops queued copies the server already has
    await chat.stop()


async def test_two_tabs_of_one_session_see_each_others_messages(web_stack: Services) -> None:
    first = SocketChat(web_stack)
    state = await first.start()
    second = SocketChat(web_stack)
    await second.start({"session_id": state["session_id"], "session_token": state["session_token"]})
    await first.say("my baby crawls backwards")
    assert (await asyncio.wait_for(second.echo.get(), 10))["text"] == "my baby crawls backwards"
    assert not second.bot.empty()  # and the assistant's replies
    await first.stop()
    await second.stop()


async def test_red_flags_escalate_over_the_widget_channel(web_stack: Services) -> None:
    chat = SocketChat(web_stack)
    state = await chat.start()
    await chat.say("my 9 month old crawls backwards")
    ack, replies = await chat.say("she just had a seizure")
    assert ack == {"ok": True} and any("emergency" in r.lower() for r in replies)
    assert tracker(web_stack, state["session_id"])["slots"]["referral"] == "urgent"
    await chat.stop()


def test_the_polling_handshake_checks_the_origin_and_sends_one_cors_header(web_stack: Services) -> None:
    url = f"{web_stack.rasa_url}/socket.io/"
    params = {"EIO": "4", "transport": "polling"}
    refused = httpx.get(url, params=params, headers={"Origin": "https://evil.example"}, timeout=10)
    assert refused.status_code == 403
    allowed = httpx.get(url, params=params, headers={"Origin": web_stack.web_url}, timeout=10)
    assert allowed.status_code == 200 and '"sid"' in allowed.text
    assert allowed.headers.get_list("access-control-allow-origin") == [web_stack.web_url]
