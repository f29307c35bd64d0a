"""`make load`: the closed-loop load generator, simulated parents in one asyncio process.

Each parent runs scripted conversations back to back with no think time (closed loop): a fresh conversation id
per conversation, the next message as soon as the last one is answered. Even-numbered parents talk over REST
(one shared aiohttp session, connections reused), odd-numbered ones over the widget's socket.io channel
(one WebSocket each, kept open; a new server-issued session per conversation). A message's latency runs from sending it to
the last bot message of its reply. Errors: HTTP errors, timeouts, lost connections, a message without any reply, the
channel's technical-trouble reply (Rasa failed on the message) or a socket.io acknowledgement that is not ok.
"""

from __future__ import annotations

import asyncio
import resource
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence

import aiohttp
from socketio import packet as sio_packet

from bot.channels.inbound import technical_trouble_notice
from tests.tools.load_store import Sent

REST, SOCKETIO = "REST", "socket.io"
RETRY_PAUSE = 0.2  # seconds a parent waits after a message failed at once, as a person would before trying again


@dataclass(frozen=True)
class Target:
    """A Rasa server to load: where it is, its token, the Origin socket.io needs (None: REST only), the scripts."""

    rasa_url: str
    token: Optional[str]
    origin: Optional[str]
    scripts: Sequence[Sequence[str]]
    timeout: float = 30.0


@dataclass(frozen=True)
class Sample:
    """One message: when it was sent and answered (time.monotonic), over which channel, and its error if any."""

    started: float
    finished: float
    channel: str
    error: Optional[str] = None
    sender: str = ""  # the conversation ("" when a new one could not be opened)


@dataclass
class Recorder:
    """Every message sent during a run, and per conversation what was sent (for the tracker-store check)."""

    samples: List[Sample] = field(default_factory=list)
    conversations: Dict[str, Sent] = field(default_factory=dict)

    def record(self, sender: str, text: str, sample: Sample) -> None:
        """Keep one message's outcome."""
        self.samples.append(sample)
        self.conversations.setdefault(sender, Sent()).add(text, sample.error is None)


class Parent(Protocol):
    """One simulated parent on one channel."""

    channel: str

    async def new_conversation(self) -> str: ...

    async def say(self, text: str) -> float: ...

    async def close(self) -> None: ...


class MessageError(Exception):
    """A message that did not get its reply; the text is the error's kind."""


class RestParent:
    """A parent on the REST channel; sender ids are chosen by the client."""

    channel = REST

    def __init__(self, target: Target, session: aiohttp.ClientSession) -> None:
        self.target, self.session = target, session
        self.url = f"{target.rasa_url}/webhooks/rest/webhook"
        self.params = {"token": target.token} if target.token else {}
        self.sender = ""
        self.trouble = technical_trouble_notice()

    async def new_conversation(self) -> str:
        self.sender = f"load-{uuid.uuid4().hex[:16]}"
        return self.sender

    async def say(self, text: str) -> float:
        """Send one message; return when its reply arrived (time.monotonic)."""
        body = {"sender": self.sender, "message": text}
        try:
            async with self.session.post(self.url, params=self.params, json=body, timeout=self.target.timeout) as response:
                if response.status != 200:
                    raise MessageError(f"HTTP {response.status}")
                replies = await response.json()
        except asyncio.TimeoutError as error:
            raise MessageError("timeout") from error
        except aiohttp.ClientError as error:
            raise MessageError("connection") from error
        if not replies:
            raise MessageError("no reply")
        if any(reply.get("text") == self.trouble for reply in replies):
            raise MessageError("technical-trouble reply")  # the channel's answer when Rasa failed on the message
        return time.monotonic()

    async def close(self) -> None:
        return None


class SocketParent:
    """A parent on the widget's socket.io channel over a WebSocket, as the widget prefers.

    python-engineio's own WebSocket transport needs aiohttp >= 3.10 (Rasa 3.6 pins 3.9), so this speaks Engine.IO 4 /
    Socket.IO 5 over aiohttp's WebSocket itself, with python-socketio's packet codec: answer pings, events, acks.
    """

    channel = SOCKETIO

    def __init__(self, target: Target, session: aiohttp.ClientSession) -> None:
        self.target, self.http = target, session
        self.ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self.reader: Optional[asyncio.Task[None]] = None
        self.acks: Dict[int, asyncio.Future[Any]] = {}
        self.states: asyncio.Queue[Dict[str, Any]] = asyncio.Queue()
        self.next_id, self.replies, self.last_reply = 0, 0, 0.0
        self.session: Dict[str, Any] = {}

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Dispatch what the server sends until the socket closes; pending calls then fail."""
        try:
            async for message in ws:  # WebSocket pings are answered by aiohttp (autoping)
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                if message.data == "2":  # Engine.IO ping
                    await ws.send_str("3")
                elif message.data.startswith("4"):
                    self._dispatch(sio_packet.Packet(encoded_packet=message.data[1:]))
        finally:
            await ws.close()
            for future in self.acks.values():
                if not future.done():
                    future.set_exception(MessageError("connection"))
            self.acks.clear()

    def _dispatch(self, packet: sio_packet.Packet) -> None:
        if packet.packet_type == sio_packet.ACK and packet.id in self.acks:
            future = self.acks.pop(packet.id)
            if not future.done():
                future.set_result(packet.data[0] if packet.data else None)
        elif packet.packet_type == sio_packet.EVENT and packet.data:
            if packet.data[0] == "bot_uttered":
                self.replies, self.last_reply = self.replies + 1, time.monotonic()
            elif packet.data[0] == "session_state":
                self.states.put_nowait(packet.data[1])

    async def _send(self, *data: Any, ack: bool = False) -> Any:
        """Emit an event; with ack=True wait for the server's acknowledgement and return it."""
        assert self.ws is not None
        self.next_id += 1
        ident = self.next_id
        packet = sio_packet.Packet(sio_packet.EVENT, data=list(data), id=ident if ack else None)
        if not ack:
            await self.ws.send_str("4" + str(packet.encode()))
            return None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks[ident] = future
        try:
            await self.ws.send_str("4" + str(packet.encode()))
            return await asyncio.wait_for(future, self.target.timeout)
        finally:
            self.acks.pop(ident, None)

    async def _session(self, request: Dict[str, Any]) -> None:
        while not self.states.empty():  # a late answer to an earlier request that timed out
            self.states.get_nowait()
        await self._send("session_request", request)
        state = await asyncio.wait_for(self.states.get(), self.target.timeout)
        self.session = {"session_id": state["session_id"], "session_token": state["session_token"]}

    async def _connect(self) -> None:
        """Open the socket and join the default namespace; resume the current session if there is one (as the widget does)."""
        await self.close()
        url = self.target.rasa_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        headers = {"Origin": self.target.origin} if self.target.origin else {}
        ws = await self.http.ws_connect(url, headers=headers, timeout=10)
        try:
            opened, joined = (await ws.receive_str(timeout=10)), None
            if opened.startswith("0"):
                await ws.send_str("40")
                joined = await ws.receive_str(timeout=10)
        except TypeError:  # a close or an error frame instead of text
            joined = None
        if not joined or not joined.startswith("40"):
            await ws.close()
            raise MessageError("connection")
        self.ws, self.reader = ws, asyncio.create_task(self._read(ws))
        if self.session:
            await self._session(self.session)

    async def _ensure(self) -> None:
        if self.ws is None or self.ws.closed:
            await self._connect()

    async def new_conversation(self) -> str:
        """Ask the server for a new session; its id is the conversation id."""
        try:
            await self._ensure()
            await self._session({})
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            await self.close()
            raise MessageError("connection") from error
        return str(self.session["session_id"])

    async def say(self, text: str) -> float:
        """Send one message; return when its last bot message arrived (the ack follows it)."""
        try:
            await self._ensure()
            self.replies = 0
            ack = await self._send("user_uttered", {"message": text, "client_id": uuid.uuid4().hex}, ack=True)
        except asyncio.TimeoutError as error:
            raise MessageError("timeout") from error
        except (aiohttp.ClientError, OSError) as error:
            await self.close()
            raise MessageError("connection") from error
        if not isinstance(ack, dict) or not ack.get("ok"):
            raise MessageError(f"refused ({ack.get('error') if isinstance(ack, dict) else ack})")
        if not self.replies:
            raise MessageError("no reply")
        return self.last_reply

    async def close(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None and not ws.closed:
            await ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
            self.reader = None


async def converse(parent: Parent, index: int, target: Target, running: Callable[[], bool], recorder: Recorder) -> None:
    """One parent's closed loop: scripted conversations one after another while `running()`."""
    number = 0
    while running():
        script = target.scripts[(index + number) % len(target.scripts)]
        number += 1
        try:
            sender = await parent.new_conversation()
        except MessageError as error:
            now = time.monotonic()
            recorder.samples.append(Sample(now, now, parent.channel, str(error)))
            await asyncio.sleep(RETRY_PAUSE)  # the server is unreachable: don't spin
            continue
        for text in script:
            if not running():
                return
            started = time.monotonic()
            try:
                finished, error = await parent.say(text), None
            except MessageError as failure:
                finished, error = time.monotonic(), str(failure)
            recorder.record(sender, text, Sample(started, finished, parent.channel, error, sender))
            if error and finished - started < RETRY_PAUSE:  # refused at once (nothing listening): don't spin
                await asyncio.sleep(RETRY_PAUSE)


async def run_load(target: Target, parents: int, running: Callable[[], bool], socketio_share: bool = True) -> Recorder:
    """`parents` parents in a closed loop until `running()` is false; half on socket.io when target.origin is set."""
    recorder = Recorder()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        crowd: List[Parent] = [
            SocketParent(target, session) if socketio_share and target.origin and i % 2 else RestParent(target, session)
            for i in range(parents)
        ]
        try:
            await asyncio.gather(*(converse(p, i, target, running, recorder) for i, p in enumerate(crowd)))
        finally:
            await asyncio.gather(*(p.close() for p in crowd))
    return recorder


def cpu_seconds() -> float:
    """CPU time (user + system) this process has used: the load generator's own cost."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_for(target: Target, parents: int, seconds: float) -> Recorder:
    """run_load for a fixed wall-clock window."""
    deadline = time.monotonic() + seconds
    return await run_load(target, parents, lambda: time.monotonic() < deadline)
