"""Shared fixtures: a keyword tracker factory, the built knowledge base, free ports."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Tracker

from bot.knowledge.build import write_database
from bot.knowledge.store import KnowledgeBase, get_knowledge_base
from bot.knowledge.validate import load_knowledge
from bot.settings import PROJECT_ROOT, get_settings


@pytest.fixture(scope="session")
def kb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's knowledge, built into a throwaway database file."""
    db = tmp_path_factory.mktemp("kb") / "knowledge.db"
    write_database(load_knowledge(PROJECT_ROOT / "knowledge"), db, stamp="tests")
    return db


@pytest.fixture(scope="session")
def kb(kb_path: Path) -> KnowledgeBase:
    """The project's knowledge base, loaded."""
    return KnowledgeBase(kb_path)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch, kb_path: Path) -> Iterator[None]:
    """Point the settings (and the cached knowledge base) at the test knowledge base."""
    monkeypatch.setenv("KNOWLEDGE_DB", str(kb_path))
    get_settings.cache_clear()
    get_knowledge_base.cache_clear()
    yield
    get_settings.cache_clear()
    get_knowledge_base.cache_clear()


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """Build a rasa_sdk Tracker from keywords: slots, intent, entities, text, events, active_loop."""

    def factory(
        *,
        slots: Optional[Dict[str, Any]] = None,
        intent: str = "inform",
        confidence: float = 0.9,
        entities: Optional[List[Dict[str, Any]]] = None,
        text: str = "",
        events: Optional[List[Dict[str, Any]]] = None,
        active_loop: Optional[str] = None,
        sender_id: str = "test-user",
    ) -> Tracker:
        latest = {"intent": {"name": intent, "confidence": confidence}, "entities": entities or [], "text": text}
        return Tracker(
            sender_id=sender_id,
            slots=dict(slots or {}),
            latest_message=latest,
            events=list(events or []),
            paused=False,
            followup_action=None,
            active_loop={"name": active_loop} if active_loop else {},
            latest_action_name="action_listen",
        )

    return factory


@pytest.fixture
def free_port() -> Callable[[], int]:
    """Return a function giving an unused localhost TCP port."""

    def pick() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    return pick


def model_path() -> Path:
    """The model `make train` produced (tests never retrain)."""
    return PROJECT_ROOT / "models" / "caregiver.tar.gz"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (skips with a reason when missing; fails under CI).

    Module-scoped: Playwright's sync API keeps an event loop running while it is open, which async
    tests in other modules must not meet.
    """
    from tests.browser import chromium_browser

    yield from chromium_browser()


@pytest.fixture(scope="module")
def fake() -> Iterator[Any]:
    """Fake Telegram and Twilio APIs (tests.fake_platforms), one per test module."""
    from tests.fake_platforms import FakePlatforms

    platforms = FakePlatforms()
    yield platforms
    platforms.stop()


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Action server, Rasa and the web server on free ports, shared by the web chat tests."""
    from tests.servers import MODEL, Services

    if not MODEL.exists():
        pytest.skip("no trained model: run `make train` (make test does)")
    running = Services(tmp_path_factory.mktemp("web"), web=True)
    try:
        yield running.start()
    finally:
        running.stop()
