"""Shared fixtures: a keyword tracker factory, the built knowledge base, free ports, and the server stacks.

Server stacks (tests/servers.py) are started once per test session and worker, and shared by every test that
only talks to them (each test uses its own conversation ids):
- `shared_stack` (alias `web_stack`): action server, one Rasa and the web server, with Telegram and WhatsApp on
  against fake platforms (`platforms`) and the fuzz tests' rate limits;
- `replica_stack`: the launcher with RASA_REPLICAS=2: two Rasa replicas behind HAProxy on PostgreSQL and Redis
  reached through cuttable forwarders (`outages`), the messaging channels off;
- `limits_stack`: low rate limits and a trusted proxy, logging at INFO (channel hardening, then log privacy);
- `web_server`: the web server alone, for tests that never need Rasa.
The launcher tests start their own (`python -m bot.serve`, killed and restarted). With pytest-xdist, `--dist loadgroup` (make test) keeps each shared stack's tests on one worker:
pytest_collection_modifyitems groups them by the stack they use, and every other module stays whole.
`make test-fast` (--fast) runs only the tests marked in_process here (no server process, no browser), and not
the modules that import Rasa itself.
"""

from __future__ import annotations

import ast
import os
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
    """Fake Telegram and Twilio APIs (tests.fake_platforms), one per test module with its own stack."""
    from tests.fake_platforms import FakePlatforms

    platforms = FakePlatforms()
    yield platforms
    platforms.stop()


@pytest.fixture(scope="session")
def platforms() -> Iterator[Any]:
    """The fake Telegram and Twilio APIs the shared stacks send to (modules on them use it as `fake`)."""
    from tests.fake_platforms import FakePlatforms

    running = FakePlatforms()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory: pytest.TempPathFactory, platforms: Any) -> Iterator[Any]:
    """Action server, one Rasa and the web server, shared by every test that only talks to them; its only rate limit
    is CONVERSATION_LIMIT per conversation, for every address (the fuzz tests' burst trips it)."""
    from tests.fake_platforms import platform_env
    from tests.servers import CONVERSATION_LIMIT, Services

    limits = {
        "RATE_LIMIT_PER_CONVERSATION": "{}/{}".format(*CONVERSATION_LIMIT),
        "RATE_LIMIT_PER_ADDRESS": "0",
        "RATE_LIMIT_PER_PLATFORM": "0",
        "RATE_LIMIT_EXEMPT": "",
    }
    running = Services(tmp_path_factory.mktemp("shared"), env={**platform_env(platforms), **limits}, web=True)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="session")
def web_stack(shared_stack: Any) -> Any:
    """The shared stack, by the name the web chat tests use."""
    return shared_stack


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The web server alone (widget and demo pages): its pages name a Rasa URL where nothing listens."""
    from tests.servers import Services

    running = Services(tmp_path_factory.mktemp("web-only"), web=True)
    try:
        running.start_web()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def scale_database() -> Iterator[Optional[str]]:
    """A fresh PostgreSQL database for the replicas (dropped afterwards), or None when PostgreSQL or Redis is not
    reachable outside CI (the replicas then use SQLite and the scale tests skip)."""
    from tests.databases import PG_PORT, REDIS_PORT, postgres_database, reachable

    if not (reachable(PG_PORT) and reachable(REDIS_PORT)) and not os.environ.get("CI"):
        yield None
        return
    with postgres_database("caregiver_e2e") as url:
        yield url


@pytest.fixture(scope="session")
def outages() -> Iterator[Dict[str, Any]]:
    """Forwarders to PostgreSQL and Redis that a test can cut and restore."""
    from tests.databases import PG_HOST, PG_PORT, REDIS_PORT
    from tests.proxy import CuttableProxy

    proxies = {"postgres": CuttableProxy(PG_HOST, PG_PORT), "redis": CuttableProxy(PG_HOST, REDIS_PORT)}
    yield proxies
    for proxy in proxies.values():
        proxy.close()


CHANNELS = ("TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER")
CHANNELS_OFF = {name: "" for name in CHANNELS}


@pytest.fixture(scope="session")
def replica_stack(
    tmp_path_factory: pytest.TempPathFactory, scale_database: Optional[str], outages: Dict[str, Any]
) -> Iterator[Any]:
    """`python -m bot.serve` with RASA_REPLICAS=2 (tests/servers.py BalancedStack): two Rasa replicas, each with its own
    action server, behind HAProxy with configs/haproxy.cfg, sharing PostgreSQL (tracker store) and Redis (lock store)
    through `outages`; Telegram and WhatsApp off (no credentials). Skips (fails under CI) without PostgreSQL and Redis:
    the launcher refuses several replicas on SQLite."""
    from tests.databases import PG_HOST, PG_PORT, require
    from tests.servers import BalancedStack

    require("PostgreSQL", "Redis")
    assert scale_database
    env = {
        "TRACKER_DB_DIALECT": "postgresql",
        "TRACKER_DB_URL": scale_database.replace(f":{PG_PORT}/", f":{outages['postgres'].port}/"),
        "LOCK_STORE_TYPE": "redis",
        "LOCK_STORE_HOST": PG_HOST,
        "LOCK_STORE_PORT": str(outages["redis"].port),
        **CHANNELS_OFF,
    }
    running = BalancedStack(tmp_path_factory.mktemp("replicas"), env=env, replicas=2)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="session")
def limits_stack(tmp_path_factory: pytest.TempPathFactory, platforms: Any) -> Iterator[Any]:
    """Action server, Rasa and the web server with low rate limits (tests/servers.py PER_CONVERSATION, PER_ADDRESS)
    and 127.0.0.1 as a trusted proxy, logging at INFO: the channel hardening tests, then the log privacy test,
    which stops it and reads every log (pytest_collection_modifyitems runs it after the others)."""
    from tests.fake_platforms import platform_env
    from tests.servers import PER_ADDRESS, PER_CONVERSATION, TOKEN, Services

    env = {
        "RASA_TOKEN": TOKEN,
        "RATE_LIMIT_PER_CONVERSATION": f"{PER_CONVERSATION}/60",
        "RATE_LIMIT_PER_ADDRESS": f"{PER_ADDRESS}/60",
        "TRUSTED_PROXIES": "127.0.0.1",  # so tests can speak for other client addresses through X-Forwarded-For
        "LOG_LEVEL": "INFO",  # bot/serve.py: configs/logging.yml
        **platform_env(platforms),
    }
    running = Services(tmp_path_factory.mktemp("limits"), env=env, web=True)
    try:
        yield running.start()
    finally:
        running.stop()


# ------------------------------------------------------------------ grouping for xdist, and `make test-fast`

# The fixtures that start processes or a browser: a test using one is not in-process. (Module-level server
# fixtures of test_channel_hardening, test_launcher and the dashboard tests are named here too.)
SERVER_FIXTURES = {
    "shared_stack",
    "replica_stack",
    "limits_stack",
    "web_server",
    "browser",
    "fake",
    "launcher",
    "stack",
    "server",
    "servers",
}
# Modules whose tests start processes without a fixture (Rasa's command line); single tests that do are marked
# `servers` (test_channel_hardening's small Sanic servers).
SERVER_MODULES = {"test_conversations.py"}


# The stacks that must start once per session: their tests form one xdist group each. The shared stack starts
# once per worker instead, so that its modules spread over both workers.
SINGLE_STACKS = ("limits_stack", "replica_stack")
SERVER_GROUP, LAST_GROUP = "servers:", "servers-last:"


def in_process(item: pytest.Item) -> bool:
    """Whether a test starts no server process and no browser (make test-fast runs only these)."""
    module = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    names = set(getattr(item, "fixturenames", ()))
    return not item.get_closest_marker("servers") and not names & SERVER_FIXTURES and module not in SERVER_MODULES


def xdist_group(item: pytest.Item) -> str:
    """A test's xdist group: the single stack it uses; else its module, prefixed when it starts servers (and
    differently when it must come after the others on its worker's shared stack)."""
    names = getattr(item, "fixturenames", ())
    stack = next((name for name in SINGLE_STACKS if name in names), None)
    module = item.nodeid.split("::", 1)[0]
    if stack or in_process(item):
        return stack or module
    return (LAST_GROUP if item.get_closest_marker("stack_last") else SERVER_GROUP) + module


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="only the in-process tests, without the modules that import Rasa itself (make test-fast)",
    )


def imports_rasa(path: Path) -> bool:
    """Whether a test module imports Rasa or rasa_components anywhere (Rasa's import alone takes half a minute)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    return any(name == "rasa" or name.startswith(("rasa.", "rasa_components")) for name in names)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> Optional[bool]:
    """With --fast, the modules that import Rasa are not even collected."""
    if config.getoption("fast") and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return imports_rasa(collection_path) or None
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Group tests for xdist (before xdist reads the groups), put the tests that flood or stop a shared stack after
    the others on it, and mark the in-process tests for `make test-fast`."""
    last = [item for item in items if item.get_closest_marker("stack_last")]
    items[:] = [item for item in items if not item.get_closest_marker("stack_last")] + last
    for item in items:
        if not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(xdist_group(item)))
        if in_process(item):
            item.add_marker(pytest.mark.in_process)
    if config.getoption("fast"):
        config.hook.pytest_deselected(items=[item for item in items if not in_process(item)])
        items[:] = [item for item in items if in_process(item)]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a test skipped for want of the trained model fails (as a missing browser does)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined] - pluggy's hookwrapper result
    longrepr = report.longrepr
    if report.skipped and os.environ.get("CI") and isinstance(longrepr, tuple) and "make train" in str(longrepr[2]):
        report.outcome = "failed"
        report.longrepr = f"{longrepr[2]}; under CI=true a missing model fails: run `make train`"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With --dist loadgroup: the single stacks' groups go out first, then the other tests that start servers (those
    that flood or stop a shared stack after them), then the in-process ones, which fill the gaps (xdist's own order
    is by test count only)."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class StacksFirstScheduling(LoadGroupScheduling):  # type: ignore[misc] - xdist is untyped here
        def _assign_work_unit(self, node: Any) -> None:
            def rank(scope: str) -> int:
                prefixes = (SERVER_GROUP, LAST_GROUP)
                return 0 if scope in SINGLE_STACKS else next((1 + i for i, p in enumerate(prefixes) if scope.startswith(p)), 3)

            for scope in reversed(sorted(self.workqueue, key=rank)):  # stable: by test count within a rank
                self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return StacksFirstScheduling(config, log)
