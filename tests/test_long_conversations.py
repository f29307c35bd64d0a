"""Cutting the tracker Rasa works on to the last turns changes nothing the parent sees.

Two Rasa servers on one action server and one tracker store: one works on the last turn only (TRACKER_WINDOW_TURNS=1,
the smallest window, so the most cuts), the other on whole conversations (a window larger than any conversation here).
Every dialogue of the conversation evaluation set and the benchmark's scripted conversations (an emergency, "start
over", topic changes) run back to back in long conversations, the same messages to both; every reply and every slot
must be the same at every turn.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest

from tests.servers import TOKEN, Services
from tests.tools.benchmark import CONVERSATIONS
from tests.tools.eval_conversations import load_dialogues

WINDOWS = ("1", "100000")
DIALOGUES_PER_CONVERSATION = 25
MAX_REPLIES = 12  # per dialogue, as the evaluation


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    stack = Services(
        tmp_path_factory.mktemp("window"),
        env={"RATE_LIMIT_PER_CONVERSATION": "100000/60", "RATE_LIMIT_PER_ADDRESS": "100000/60"},
        replicas=2,
        replica_env=[{"TRACKER_WINDOW_TURNS": turns} for turns in WINDOWS],
    )
    try:
        yield stack.start()
    finally:
        stack.stop()


Turn = Tuple[List[Dict[str, Any]], Dict[str, Any]]


def say(client: httpx.Client, port: int, sender: str, text: str) -> Turn:
    base = f"http://127.0.0.1:{port}"
    reply = client.post(f"{base}/webhooks/rest/webhook", params={"token": TOKEN}, json={"sender": sender, "message": text})
    reply.raise_for_status()
    tracker = client.get(f"{base}/conversations/{sender}/tracker", params={"token": TOKEN})
    tracker.raise_for_status()
    messages = [{key: value for key, value in message.items() if key != "recipient_id"} for message in reply.json()]
    return messages, tracker.json()["slots"]


def scripts() -> List[List[Dict[str, Any]]]:
    """Long conversations: evaluation dialogues back to back, then the benchmark's scripted conversations."""
    dialogues = load_dialogues()
    chunks = [dialogues[i : i + DIALOGUES_PER_CONVERSATION] for i in range(0, len(dialogues), DIALOGUES_PER_CONVERSATION)]
    scripted = [{"opening": text, "replies": {}} for conversation in CONVERSATIONS for text in conversation]
    return [*chunks, scripted * 3]


def test_a_one_turn_window_answers_exactly_as_the_whole_conversation(replicas: Services) -> None:
    cut, whole = replicas.rasa_ports
    turns, differences = 0, []
    with httpx.Client(timeout=60) as client:
        for script in scripts():
            sender = uuid.uuid4().hex
            for dialogue in script:
                text, asked = dialogue["opening"], set()
                for _ in range(MAX_REPLIES):
                    got, expected = say(client, cut, sender + "-cut", text), say(client, whole, sender + "-whole", text)
                    turns += 1
                    if got != expected:
                        differences.append((dialogue.get("id"), text, got, expected))
                    question = expected[1].get("requested_slot")
                    replies = dialogue.get("replies") or {}
                    if question not in replies or question in asked:
                        break
                    asked.add(question)
                    text = replies[question]
    assert turns > 300
    assert not differences, f"{len(differences)} of {turns} turns differ; first: {differences[0]}"
