"""End to end: the real action server and Rasa server on free ports, whole conversations over REST.

Uses the model `make train` produced; the tracker store is a throwaway SQLite file.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import httpx
import pytest

from bot.serve import action_command, rasa_command, service_env, wait_until_up
from bot.settings import PROJECT_ROOT
from tests.conftest import model_path

pytestmark = pytest.mark.skipif(not model_path().exists(), reason="no trained model: run `make train` (make test does)")

TOKEN = "e2e-secret-token"


class Services:
    """The two servers, started as real processes."""

    def __init__(self, rasa_port: int, action_port: int, tmp: Path) -> None:
        self.rasa_port, self.action_port = rasa_port, action_port
        self.env = service_env(
            {
                "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
                "TRACKER_DB_DIALECT": "sqlite",
                "TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.db'}",
                "KNOWLEDGE_DB": str(PROJECT_ROOT / "build" / "knowledge.db"),
            }
        )
        self.logs = tmp
        self.action: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None

    def _spawn(self, command: List[str], name: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_action(self) -> None:
        self.action = self._spawn(action_command(self.action_port), "actions")
        wait_until_up(f"http://127.0.0.1:{self.action_port}/health", 60, self.action)

    def stop_action(self) -> None:
        if self.action and self.action.poll() is None:
            self.action.terminate()
            self.action.wait(timeout=20)

    def start_rasa(self) -> None:
        self.rasa = self._spawn(rasa_command(self.rasa_port, model_path(), TOKEN), "rasa")
        wait_until_up(f"http://127.0.0.1:{self.rasa_port}/", 180, self.rasa)

    def stop(self) -> None:
        self.stop_action()
        if self.rasa and self.rasa.poll() is None:
            self.rasa.terminate()
            self.rasa.wait(timeout=30)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    import socket

    def port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    running = Services(port(), port(), tmp_path_factory.mktemp("e2e"))
    try:
        running.start_action()
        running.start_rasa()
        yield running
    finally:
        running.stop()


class Chat:
    """One caregiver talking over the REST channel."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.sender = f"parent-{uuid.uuid4().hex[:12]}"
        self.base = f"http://127.0.0.1:{services.rasa_port}"

    def say(self, text: str) -> List[Dict[str, Any]]:
        response = httpx.post(f"{self.base}/webhooks/rest/webhook", json={"sender": self.sender, "message": text}, timeout=30)
        response.raise_for_status()
        return response.json()

    def says(self, text: str) -> str:
        """Send a message; return all reply texts joined (there must be at least one)."""
        replies = self.say(text)
        assert replies, f"no reply to {text!r}"
        return "\n".join(r.get("text", "") for r in replies)

    def slots(self) -> Dict[str, Any]:
        response = httpx.get(f"{self.base}/conversations/{self.sender}/tracker", params={"token": TOKEN}, timeout=30)
        response.raise_for_status()
        return response.json()["slots"]


@pytest.fixture
def chat(services: Services) -> Callable[[], Chat]:
    return lambda: Chat(services)


def test_http_api_requires_the_token(services: Services) -> None:
    url = f"http://127.0.0.1:{services.rasa_port}/conversations/someone/tracker"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, params={"token": TOKEN}, timeout=10).status_code == 200


def test_crawling_backward_provider(chat: Callable[[], Chat]) -> None:
    parent = chat()
    first = parent.says("my 13 month old only crawls backwards, is that normal?")
    assert "born early" in first.lower()  # age was given: the first question is about prematurity
    assert parent.slots()["topic"] == "crawling_backward"
    assert parent.slots()["age_months"] == pytest.approx(13)
    parent.says("no she was on time")
    parent.says("no")  # alternating crawl
    advice = parent.says("yes")  # uses both sides
    slots = parent.slots()
    assert slots["referral"] == "provider"
    assert "no_alternating_crawl_by_12_months" in slots["advice_rules"]
    assert "What you can try" in advice and "Sources" in advice and "](http" in advice


def test_late_walking_with_corrected_age_none(chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("my daughter is 19 months and still not walking")
    parent.says("she was born at 32 weeks")  # 8 weeks early -> corrected about 17 months
    parent.says("yes")  # pulls to stand
    parent.says("about 10 secs")
    parent.says("yes")  # both sides
    advice = parent.says("the doctor checks them every visit")
    slots = parent.slots()
    assert slots["weeks_early"] == pytest.approx(8)
    assert slots["stands_alone_seconds"] == pytest.approx(10)
    assert slots["referral"] == "none"
    assert "corrected age" in advice


def test_reask_then_unknown_and_why(chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("she scoots around on her bottom instead of crawling")
    why = parent.says("why do you ask?")
    assert "age" in why.lower()
    reask = parent.says("banana")
    assert "For example" in reask
    parent.says("banana")  # second unusable answer: treated as unknown, moves on
    assert parent.slots()["age_months"] is None
    assert parent.slots()["requested_slot"] != "age_months"


def test_red_flag_escalates_at_any_point(chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("why is my baby crawling backwards")
    reply = parent.says("he has a high fever and won't put weight on his leg")
    assert "now" in reply.lower()
    slots = parent.slots()
    assert slots["referral"] == "urgent" and slots["red_flag"] == "fever_no_weight"
    assert slots["requested_slot"] is None


def test_out_of_scope_keeps_topic_null(chat: Callable[[], Chat]) -> None:
    parent = chat()
    reply = parent.says("what's a good recipe for banana bread?")
    assert "can't help" in reply.lower()
    assert parent.slots()["topic"] is None


def test_empty_and_huge_messages_get_a_reply(chat: Callable[[], Chat]) -> None:
    parent = chat()
    assert parent.says("   ")
    assert parent.says("crawl " * 5000)


def test_action_server_down_mid_conversation(services: Services, chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("my 11 month old bottom shuffles")
    services.stop_action()
    try:
        reply = parent.says("no she was on time")
        assert "technical problem" in reply.lower()
        urgent = parent.says("she had a seizure")
        assert "now" in urgent.lower()
        assert parent.slots()["referral"] == "urgent"
    finally:
        services.start_action()
    # back up: the conversation can carry on
    assert parent.says("why does my baby scoot on his bottom")
