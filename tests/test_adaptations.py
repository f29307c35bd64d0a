"""rasa_components/adaptations.py: each adaptation of Rasa's internals does what it says, is undone after its test,
and is pinned to the Rasa 3.6.21 source it was checked against (an upgrade of Rasa fails here first)."""

from __future__ import annotations

import hashlib
import inspect
import socket
import sys
from typing import Any, Dict, Iterator, List

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from rasa_components import adaptations

VALID = {"events": [{"event": "slot", "name": "topic", "value": "late_walking"}], "responses": [{"text": "hi"}]}
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform]
slots:
  topic: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  action_failed: {type: text, influence_conversation: false, mappings: [{type: custom}]}
forms:
  triage_form: {required_slots: []}
actions: [action_give_advice, validate_triage_form]
"""
)


@pytest.fixture
def adapted() -> Iterator[None]:
    """The adaptations installed for one test, and Rasa's own methods back afterwards."""
    adaptations.install()
    yield
    adaptations.uninstall()
    assert not adaptations.installed()


def unreachable() -> EndpointConfig:
    """An action-server endpoint nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return EndpointConfig(f"http://127.0.0.1:{port}/webhook")


class FakeEndpoint:
    """Stands in for the action server's endpoint: answers with `answer`, or raises it."""

    def __init__(self, answer: Any) -> None:
        self.answer, self.url, self.kwargs = answer, "http://fake/webhook", {}

    async def request(self, **_: Any) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def tracker(*events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("parent", list(events), slots=DOMAIN.slots)


async def run(action: Any, on: DialogueStateTracker) -> List[Any]:
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    return list(await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), on, DOMAIN))


# ---- installing


def test_install_is_idempotent_and_uninstall_puts_rasa_back() -> None:
    run_method, validate = RemoteAction.run, RemoteAction._validate_action_result
    assert "run" not in vars(FormAction)  # Rasa's FormAction inherits LoopAction.run
    adaptations.install()
    try:
        patched = (RemoteAction.run, RemoteAction._validate_action_result, FormAction.run)
        adaptations.install()
        assert (RemoteAction.run, RemoteAction._validate_action_result, FormAction.run) == patched
        assert RemoteAction.run is not run_method and RemoteAction._validate_action_result is not validate
    finally:
        adaptations.uninstall()
    assert RemoteAction.run is run_method and RemoteAction._validate_action_result is validate
    assert "run" not in vars(FormAction)


def test_install_refuses_another_rasa_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa

    monkeypatch.setattr(rasa, "__version__", "3.6.22")
    with pytest.raises(RuntimeError, match="checked against Rasa 3.6.21, but Rasa 3.6.22 is installed"):
        adaptations.install()
    assert not adaptations.installed()


def test_the_rasa_process_starts_through_the_adaptations(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.__main__

    from rasa_components import run as entry

    seen: Dict[str, Any] = {}
    monkeypatch.setattr(rasa.__main__, "main", lambda: seen.update(installed=adaptations.installed(), argv=list(sys.argv)))
    monkeypatch.setattr(sys, "argv", ["ignored"])
    try:
        entry.main(["run", "--enable-api"])
    finally:
        adaptations.uninstall()
    assert seen == {"installed": True, "argv": ["rasa", "run", "--enable-api"]}


def test_the_launcher_and_the_tests_start_rasa_through_that_entry(tmp_path: Any) -> None:
    from bot.serve import rasa_command

    command = rasa_command(5005, tmp_path / "model.tar.gz", "token")
    assert command[0].endswith("python") and command[1:4] == ["-m", "rasa_components.run", "run"]


# ---- FAST_VALIDATION


def test_a_valid_response_passes_without_rasa_checking_the_schema_each_time(
    adapted: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jsonschema

    def per_call_check(*_: Any, **__: Any) -> None:
        raise AssertionError("jsonschema.validate was called")

    monkeypatch.setattr(jsonschema, "validate", per_call_check)  # what Rasa's own method calls
    assert RemoteAction("action_give_advice", None)._validate_action_result(VALID) is True


@pytest.mark.parametrize(
    "bad",
    [
        {"events": [{"name": "topic"}], "responses": []},  # an event without its type
        {"events": "not a list", "responses": []},
        {"events": [], "responses": "nope"},
    ],
)
def test_an_invalid_response_is_rejected_with_rasas_own_error(adapted: None, bad: Dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        RemoteAction("action_give_advice", None)._validate_action_result(bad)


# ---- FAILURE_SIGNAL


async def test_without_the_adaptation_rasa_raises_when_the_action_server_is_down() -> None:
    with pytest.raises(RasaException, match="Couldn't connect"):
        await run(RemoteAction("action_give_advice", unreachable()), tracker())


async def test_an_action_server_that_is_down_is_reported_as_action_failed(adapted: None) -> None:
    events = await run(RemoteAction("action_give_advice", unreachable()), tracker())
    assert events == [SlotSet("action_failed", "action_give_advice")]


async def test_an_invalid_action_server_answer_is_reported_as_action_failed(adapted: None) -> None:
    events = await run(RemoteAction("action_give_advice", FakeEndpoint({"events": "nope"})), tracker())
    assert events == [SlotSet("action_failed", "action_give_advice")]


async def test_the_next_success_resets_action_failed(adapted: None) -> None:
    after_failure = tracker(SlotSet("action_failed", "action_give_advice"))
    events = await run(RemoteAction("action_give_advice", FakeEndpoint(VALID)), after_failure)
    assert SlotSet("topic", "late_walking") in events and events[-1] == SlotSet("action_failed", None)
    assert SlotSet("action_failed", None) not in await run(RemoteAction("action_give_advice", FakeEndpoint(VALID)), tracker())


async def test_an_action_returning_nothing_is_not_a_failure(adapted: None) -> None:
    assert await run(RemoteAction("action_give_advice", FakeEndpoint({"events": [], "responses": []})), tracker()) == []


async def test_a_rejection_is_still_raised(adapted: None) -> None:
    rejection = ActionExecutionRejection("action_give_advice")
    with pytest.raises(ActionExecutionRejection):
        await run(RemoteAction("action_give_advice", FakeEndpoint(rejection)), tracker())


async def test_a_form_whose_validation_fails_is_reported_and_stays_as_it_was(
    adapted: None, caplog: pytest.LogCaptureFixture
) -> None:
    asked = tracker(
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "inform", "confidence": 1.0}),
        ActionExecuted("triage_form"),
        ActiveLoop("triage_form"),
        SlotSet("requested_slot", "age_months"),
        ActionExecuted("action_listen"),
        UserUttered("she is 11 months", {"name": "inform", "confidence": 1.0}),
    )
    assert await run(FormAction("triage_form", unreachable()), asked) == [SlotSet("action_failed", "triage_form")]
    assert "The custom action triage_form failed (RasaException)" in caplog.text  # its validation could not connect
    starting = tracker(ActionExecuted("action_listen"), UserUttered("hi", {"name": "inform", "confidence": 1.0}))
    assert await run(FormAction("triage_form", unreachable()), starting) == [SlotSet("action_failed", "triage_form")]


async def test_a_form_that_works_again_asks_what_its_validation_action_says(adapted: None) -> None:
    after_failure = tracker(
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "inform", "confidence": 1.0}),
        ActionExecuted("triage_form"),
        ActiveLoop("triage_form"),
        SlotSet("requested_slot", "age_months"),
        SlotSet("action_failed", "triage_form"),
        ActionExecuted("action_listen"),
        UserUttered("she is 11 months", {"name": "inform", "confidence": 1.0}),
    )
    answer = {
        "events": [
            {"event": "slot", "name": "topic", "value": "late_walking"},
            {"event": "slot", "name": "requested_slot", "value": "weeks_early"},
        ]
    }
    events = await run(FormAction("triage_form", FakeEndpoint({**answer, "responses": []})), after_failure)
    assert events == [SlotSet("topic", "late_walking"), SlotSet("requested_slot", "weeks_early"), SlotSet("action_failed", None)]


# ---- KEEP_ALIVE


class CountingServer:
    """A real HTTP server on loopback that answers every POST with {} and records each client connection."""

    def __init__(self) -> None:
        self.peers: List[Any] = []
        self.runner: Any = None
        self.port = 0

    async def start(self, port: int = 0) -> str:
        from aiohttp import web

        async def answer(request: Any) -> Any:
            self.peers.append(request.transport.get_extra_info("peername"))
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", answer)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}/webhook"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def calls(endpoint: EndpointConfig, n: int) -> None:
    for _ in range(n):
        assert await endpoint.request(json={"next_action": "x"}, method="post") == {"events": [], "responses": []}


async def test_calls_to_the_action_server_share_one_connection(adapted: None) -> None:
    server = CountingServer()
    endpoint = EndpointConfig(await server.start())
    try:
        await calls(endpoint, 5)
        assert len(server.peers) == 5 and len(set(server.peers)) == 1
    finally:
        await server.stop()


async def test_without_the_adaptation_each_call_opens_a_connection() -> None:
    server = CountingServer()
    endpoint = EndpointConfig(await server.start())
    try:
        await calls(endpoint, 5)
        assert len(set(server.peers)) == 5
    finally:
        await server.stop()


async def test_a_restarted_action_server_is_reached_again(adapted: None) -> None:
    server = CountingServer()
    endpoint = EndpointConfig(await server.start())
    await calls(endpoint, 2)
    await server.stop()
    again = CountingServer()
    await again.start(server.port)
    try:
        await calls(endpoint, 2)  # the closed connection is not reused
        assert len(again.peers) == 2
    finally:
        await again.stop()


# ---- the Rasa 3.6.21 source each adaptation and reliance was checked against


def _source_hash(path: str) -> str:
    module_name, _, qualname = path.partition(":")
    target: Any = __import__(module_name, fromlist=["_"])
    for part in qualname.split("."):
        target = getattr(target, part)
    return hashlib.sha256(inspect.getsource(target).encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # KEEP_ALIVE
        ("rasa.utils.endpoints:EndpointConfig.session", "e55aa13d9d4fb4bc"),
        ("rasa.utils.endpoints:EndpointConfig.request", "ccdb778aed8208e2"),
        ("rasa.core.agent:_pull_model_and_fingerprint", "373d0bc12bb9a25c"),
        # FAST_VALIDATION
        ("rasa.core.actions.action:RemoteAction._validate_action_result", "f8cdb4be68123961"),
        ("rasa.core.actions.action:RemoteAction.action_response_format_spec", "091b74aa3738d126"),
        # FAILURE_SIGNAL: what raises, what would swallow it, and the form's run
        ("rasa.core.actions.action:RemoteAction.run", "ccabf6f1160d527a"),
        ("rasa.core.actions.loops:LoopAction.run", "3b5bf747e0d90c12"),
        ("rasa.core.processor:MessageProcessor._run_action", "6d383d0179ef1187"),
        # RELIANCES: the tracker store's save
        ("rasa.core.tracker_store:SQLTrackerStore.save", "57165e46eab3de08"),
        ("rasa.core.tracker_store:SQLTrackerStore._additional_events", "d22f99eb863acb07"),
        ("rasa.core.tracker_store:SQLTrackerStore.session_scope", "6775e1ede3ec8d2d"),
        ("rasa.core.tracker_store:SQLTrackerStore.stream_events", "efd3615f5340218a"),
        ("rasa.core.processor:MessageProcessor.get_tracker", "a62e1aad7734c717"),
        ("rasa.core.processor:MessageProcessor.save_tracker", "e4532dd4d2970f5d"),
        ("rasa.core.tracker_store:SQLTrackerStore._event_query", "cd44f7901b860bfd"),
        ("rasa.core.tracker_store:SQLTrackerStore.__init__", "64e704d159dfa35b"),
        ("rasa.core.tracker_store:SQLTrackerStore.retrieve", "0d99846daced97d3"),
        # RELIANCES: the tracker window (how trackers replay and what a session start resets)
        ("rasa.shared.core.trackers:DialogueStateTracker.copy", "dfa48dca9f355ad1"),
        ("rasa.shared.core.trackers:DialogueStateTracker.travel_back_in_time", "09d16f28f007492f"),
        ("rasa.shared.core.trackers:DialogueStateTracker.from_events", "820a9cbb7dd5ce34"),
        ("rasa.shared.core.events:SessionStarted.apply_to", "3194704944b4f945"),
        ("rasa.shared.core.trackers:DialogueStateTracker.change_loop_to", "d7ad788e9750bae4"),
        ("rasa.shared.core.trackers:DialogueStateTracker.reject_action", "d650eedddd2ab357"),
        # RELIANCES: the web chat (Rasa's agent on the app, the Sanic request in the socket's environ, the blueprint)
        ("rasa.core.run:load_agent_on_start", "b23e12447febeb64"),
        ("rasa.core.tracker_store:FailSafeTrackerStore.__init__", "a1d5d95d2f96830b"),
        ("engineio.async_drivers.sanic:translate_request", "8bb56691f71cfc2e"),
        ("rasa.core.channels.socketio:SocketBlueprint.__init__", "94295faa26593068"),
        ("rasa.core.channels.socketio:SocketBlueprint.register", "707dff87ab9fcb26"),
        # RELIANCES: the REST channel's streaming wrapper
        ("rasa.core.channels.rest:RestInput.stream_response", "1fe0bdd810046ffe"),
        ("rasa.core.channels.rest:RestInput.on_message_wrapper", "6f349398dc626764"),
        # RELIANCES: the atomic Redis lock store (which methods Rasa's lock() calls, the lock's format)
        ("rasa.core.lock_store:LockStore.lock", "8b9b716c031a3444"),
        ("rasa.core.lock_store:LockStore._acquire_lock", "ead2fff373291c24"),
        ("rasa.core.lock_store:LockStore.cleanup", "f2ba1745c8153f92"),
        ("rasa.core.lock_store:RedisLockStore.__init__", "829e898a8cddff8d"),
        ("rasa.core.lock:TicketLock.issue_ticket", "e657493ddd22ee74"),
        # RELIANCES: slash commands read as text
        ("rasa.nlu.classifiers.regex_message_handler:RegexMessageHandler.process", "c0b15285ba78223d"),
        # RELIANCES: the TF-IDF intent classifier
        ("rasa.nlu.classifiers.logistic_regression_classifier:LogisticRegressionClassifier._create_X", "6f50b5eef8a879c4"),
        (
            "rasa.nlu.classifiers.logistic_regression_classifier:LogisticRegressionClassifier._create_training_matrix",
            "8bb4f3f50fd794ed",
        ),
    ],
)
def test_the_rasa_source_each_adaptation_relies_on_is_unchanged(path: str, expected: str) -> None:
    assert _source_hash(path) == expected, f"{path} changed: re-check rasa_components/adaptations.py against it"


def test_what_the_reliances_read_is_where_they_read_it() -> None:
    import engineio.async_drivers.sanic as engineio_sanic
    import rasa.core.run
    from rasa.core.tracker_store import SQLTrackerStore

    assert "app.ctx.agent = await agent.load_agent(" in inspect.getsource(rasa.core.run.load_agent_on_start)
    assert "'sanic.request': request" in inspect.getsource(engineio_sanic.translate_request)
    assert SQLTrackerStore.SQLEvent.__tablename__ == "events"
    assert (
        str(inspect.signature(SQLTrackerStore._additional_events))
        == "(self, session: \"'Session'\", tracker: 'DialogueStateTracker') -> 'Iterator'"
    )
