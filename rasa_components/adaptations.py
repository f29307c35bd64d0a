"""Every way the project depends on Rasa 3.6.21's internals, in one place, checked against that version.

Two kinds:
- patches, replaced on Rasa's classes by `install()`, which the Rasa process runs once at start-up (its one
  start-up point is `python -m rasa_components.run`, the command bot/serve.py's rasa_command builds):
    1. RemoteAction._validate_action_result: one compiled JSON-schema validator (validate_action_result);
    2. RemoteAction.run and FormAction.run: a custom action that fails is reported as an event (signalling_run);
    3. EndpointConfig.session: connections to the action server are kept alive between calls (kept_session);
- reliances: our own classes built on Rasa's private methods or attributes, listed in RELIANCES and read
  through the accessors below (rasa_agent, sanic_request) rather than at each use.
Nothing runs at import. tests/test_adaptations.py pins the Rasa source and signatures each entry was checked
against, so an upgrade of Rasa fails there first; install() refuses any Rasa version but RASA_VERSION.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple

from bot.contract import ACTION_FAILED_SLOT

if TYPE_CHECKING:
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"


@dataclass(frozen=True)
class Reliance:
    """A class of ours that builds on Rasa internals (nothing is patched): where, on what, and why."""

    where: str
    relies_on: Tuple[str, ...]
    why: str


RELIANCES = (
    Reliance(
        "rasa_components.tracker_store.RedactingSQLTrackerStore",
        (
            "SQLTrackerStore.save (re-implemented: same rows, with the event data redacted first)",
            "SQLTrackerStore._additional_events(session, tracker)",
            "SQLTrackerStore.session_scope()",
            "SQLTrackerStore.SQLEvent",
            "TrackerStore.stream_events(tracker)",
            "MessageProcessor saves the tracker object retrieve() returned (an attribute set there counts the events "
            "already stored; without it, save falls back to _additional_events)",
            "SQLTrackerStore._event_query(session, sender_id, fetch_events_from_all_sessions) and SQLEvent.id ascending "
            "in the order events were written",
            "SQLTrackerStore.engine and .sessionmaker, set in __init__ and used by session_scope (replaced for SQLite)",
            "DialogueStateTracker.copy() and from_events() replay events through update(); Slot.has_been_set; "
            "TrackerActiveLoop.rejected; SessionStarted resets the tracker (rasa_components/tracker_window.py)",
        ),
        "Rasa's save writes event.as_dict() as it is; personal identifiers must be redacted before they reach the "
        "database, a turn must be kept in memory while the database is down, and a turn must not cost more as the "
        "conversation grows: the conversation is held cut to its last turns and read incrementally (see those modules).",
    ),
    Reliance(
        "rasa_components.webchat and rasa_components.messaging (rasa_agent below)",
        (
            "app.ctx.agent, set by rasa.core.run.load_agent_on_start",
            "Agent.tracker_store",
            "FailSafeTrackerStore._tracker_store (whole_session_reader below)",
        ),
        "Rasa gives input channels no handle on the tracker store; resuming a web chat replays its history and a "
        "numbered reply on a messaging platform is mapped to the last quick replies, both read from the store.",
    ),
    Reliance(
        "rasa_components.webchat (sanic_request below)",
        ("environ['sanic.request'], set by python-engineio's sanic driver (translate_request)",),
        "That driver's environ says REMOTE_ADDR=127.0.0.1 for everyone; the per-address rate limit needs the "
        "peer's real address and X-Forwarded-For, which only the Sanic request has.",
    ),
    Reliance(
        "rasa_components.webchat.OriginCheckedBlueprint",
        ("SocketBlueprint(sio, socketio_path, *args)", "SocketBlueprint.ctx.socketio_path", "SocketBlueprint.register"),
        "The origin check must see the socket.io path Rasa mounts the server on.",
    ),
    Reliance(
        "rasa_components.rest.TokenRestInput.on_message_wrapper",
        (
            "RestInput.stream_response calls self.on_message_wrapper(on_new_message, text, queue, sender, channel, "
            "metadata) and streams the queue until it holds 'DONE'",
        ),
        "Rasa's wrapper never puts 'DONE' when handling fails, so a streaming client would wait forever; ours "
        "sends the technical-trouble reply and always ends the stream.",
    ),
    Reliance(
        "rasa_components.slash_commands.SlashCommandsAsText",
        ("RegexMessageHandler.process, run last in every NLU graph, reads the message's TEXT as the pipeline left it",),
        'A message starting with "/" must not replace what the red-flag rules found: dropping the slash from TEXT '
        "first means the handler never sees a command.",
    ),
    Reliance(
        "rasa_components.intent_classifier.TfidfLogisticRegressionClassifier",
        ("LogisticRegressionClassifier._create_X(messages)", "LogisticRegressionClassifier._create_training_matrix"),
        "The features are TF-IDF weighted between Rasa's feature extraction and its scikit-learn classifier.",
    ),
    Reliance(
        "rasa_components.lock_store.AtomicRedisLockStore",
        (
            "LockStore.lock (re-implemented: the same steps, plus a heartbeat task) / _acquire_lock / cleanup call "
            "issue_ticket, update_lock, get_lock and cleanup",
            "RedisLockStore's key layout and TicketLock's JSON format (dumps / from_dict); Ticket.expires",
        ),
        "Rasa's Redis lock changes a conversation's ticket queue by GET then SET (RasaHQ/rasa#9213): two replicas can "
        "take the same ticket and process one conversation at once. The same changes run as Redis transactions. A "
        "ticket's fixed 60 s lifetime let a killed replica block a conversation and fail its next message: tickets "
        "are kept alive by a heartbeat instead.",
    ),
)


# ---------------------------------------------------------------------------------------------------------------
# Accessors for what the reliances read


def rasa_agent(app: Any) -> Any:
    """Rasa's agent serving `app`, or None before it is loaded (rasa.core.run.load_agent_on_start sets app.ctx.agent)."""
    return getattr(getattr(app, "ctx", None), "agent", None)


def whole_session_reader(store: Any) -> Any:
    """The coroutine function that reads a conversation's whole current session (not cut to its last turns) from the
    agent's tracker store: Rasa wraps the configured store in a FailSafeTrackerStore (its `_tracker_store`)."""
    inner = getattr(store, "_tracker_store", store)
    return getattr(inner, "retrieve_whole_session", store.retrieve)


def sanic_request(environ: Mapping[str, Any]) -> Any:
    """The Sanic request behind a socket.io connection (python-engineio's sanic driver), or None."""
    return environ.get("sanic.request")


# ---------------------------------------------------------------------------------------------------------------
# Patch 1: FAST_VALIDATION (validate_action_result)


@lru_cache(maxsize=1)
def _compiled_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every response
    return cls(schema)


def validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
    """Patch 1, FAST_VALIDATION: RemoteAction._validate_action_result (checked against Rasa 3.6.21).

    What Rasa does: jsonschema.validate(result, action_response_format_spec()), which also checks the schema itself
    against the JSON-Schema meta-schema on every call.
    What we change: a valid response passes one validator compiled once (~0.1 ms); a response it rejects is handed
    to Rasa's own method, so the error raised (jsonschema.ValidationError with Rasa's message) is unchanged.
    Why: the per-call meta-schema check costs about 20 ms per action-server response on a 2-core machine, the
    largest part of a form turn's latency (make bench).
    """
    from jsonschema.exceptions import best_match

    if best_match(_compiled_validator().iter_errors(result)) is None:
        return True
    return bool(_originals[("RemoteAction", "_validate_action_result")](self, result))  # raises with Rasa's message


# ---------------------------------------------------------------------------------------------------------------
# Patch 2: FAILURE_SIGNAL (signalling_run)

_in_form: ContextVar[bool] = ContextVar("caregiver_running_a_form", default=False)


def failure_events(action_name: str) -> List[Event]:
    """The explicit signal that `action_name` could not run: action_failed=<its name>."""
    from rasa.shared.core.events import SlotSet

    return [SlotSet(ACTION_FAILED_SLOT, action_name)]


def _recovered(tracker: DialogueStateTracker) -> List[Event]:
    """action_failed=None when a custom action works again after a failure (a model without the slot: nothing)."""
    from rasa.shared.core.events import SlotSet

    slot = tracker.slots.get(ACTION_FAILED_SLOT)
    return [SlotSet(ACTION_FAILED_SLOT, None)] if slot is not None and slot.value is not None else []


def signalling_run(key: Tuple[str, str], inside_form: bool) -> Callable[..., Any]:
    """Patch 2, FAILURE_SIGNAL: RemoteAction.run and FormAction.run (LoopAction.run), checked against Rasa 3.6.21.

    What Rasa does: when the action server cannot be reached, errors, or answers something invalid, RemoteAction.run
    raises; MessageProcessor._run_action catches any exception, logs it and records the action with no events at
    all, which is also what a custom action that legitimately returns nothing looks like.
    What we change: the same failure returns one event, SlotSet(action_failed, <action or form name>)
    (bot.contract.ACTION_FAILED_SLOT, unfeaturized in domain/core.yml); the next custom action or form that
    succeeds sets it back to None. A form's validation action still raises inside the form, so the form's run
    fails as a whole: nothing of that turn is applied and the form stays active, to resume when the server is back.
    ActionExecutionRejection is not a failure and is raised as before.
    Why: SafetyPolicy must tell the caregiver when an answer could not be given (utter_technical_trouble), and
    only then: it keys on this event instead of guessing from "no events".
    """
    from rasa.core.actions.action import ActionExecutionRejection

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: DialogueStateTracker, domain: Any) -> List[Event]:
        original = _originals[key]
        if _in_form.get():  # a form's validation action: the form reports the failure under its own name
            return list(await original(self, output_channel, nlg, tracker, domain))
        token = _in_form.set(inside_form)
        try:
            events = list(await original(self, output_channel, nlg, tracker, domain))
        except ActionExecutionRejection:
            raise  # not a failure: Rasa lets another policy predict
        except Exception as error:  # noqa: BLE001 - Rasa's processor would catch it and log no events at all
            logger.error("The custom action %s failed (%s); reporting %s.", self.name(), type(error).__name__, ACTION_FAILED_SLOT)
            return failure_events(self.name())
        finally:
            _in_form.reset(token)
        return events + _recovered(tracker)

    return run


# ---------------------------------------------------------------------------------------------------------------
# Patch 3: KEEP_ALIVE (kept_session)

KEEPALIVE_SECONDS = 2.0  # under the action server's keep-alive (Sanic's KEEP_ALIVE_TIMEOUT, 5 s): it never closes first


class _KeptSession:
    """`async with` gives the endpoint's open session and leaves it open (aiohttp's own would close it)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_: object) -> None:
        return None


def kept_session(self: Any) -> Any:
    """Patch 3, KEEP_ALIVE: EndpointConfig.session (checked against Rasa 3.6.21).

    What Rasa does: EndpointConfig.request opens `async with self.session()`: a new aiohttp ClientSession, so a new
    TCP connection to the action server, for every call (two or three per message), closed after it.
    What we change: one session per endpoint and event loop, with the same headers, auth and timeout, whose
    connections are kept alive for KEEPALIVE_SECONDS between calls; a closed session or another loop gets a new one.
    Why: connecting and tearing down took about 5 % of the Rasa process's CPU per message (py-spy, make load), and as
    much again in the action server.
    """
    import asyncio

    import aiohttp

    loop = asyncio.get_running_loop()
    kept = getattr(self, "_caregiver_session", None)
    if kept is None or kept[0] is not loop or kept[1].closed:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=_request_timeout()),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        )
        kept = (loop, session)
        self._caregiver_session = kept
    return _KeptSession(kept[1])


def _request_timeout() -> float:
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    return float(DEFAULT_REQUEST_TIMEOUT)


# ---------------------------------------------------------------------------------------------------------------
# Installing

_originals: Dict[Tuple[str, str], Any] = {}  # Rasa's own methods while the patches are installed
_inherited: Dict[Tuple[str, str], bool] = {}


def _patches() -> Dict[Tuple[str, str], Tuple[type, Any]]:
    """(class name, attribute) -> (class, replacement)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.actions.forms import FormAction
    from rasa.utils.endpoints import EndpointConfig

    return {
        ("EndpointConfig", "session"): (EndpointConfig, kept_session),
        ("RemoteAction", "_validate_action_result"): (RemoteAction, validate_action_result),
        ("RemoteAction", "run"): (RemoteAction, signalling_run(("RemoteAction", "run"), inside_form=False)),
        ("FormAction", "run"): (FormAction, signalling_run(("FormAction", "run"), inside_form=True)),
    }


def check_version(version: Optional[str] = None) -> None:
    """Raise RuntimeError unless Rasa is the version every adaptation here was checked against."""
    if version is None:
        import rasa

        version = rasa.__version__
    if version != RASA_VERSION:
        raise RuntimeError(
            f"rasa_components.adaptations was checked against Rasa {RASA_VERSION}, but Rasa {version} is installed. "
            "Re-check each adaptation listed in rasa_components/adaptations.py against the new version (run "
            "tests/test_adaptations.py), then update RASA_VERSION."
        )


def installed() -> bool:
    """Whether install() has run (and uninstall() has not since)."""
    return bool(_originals)


def install() -> None:
    """Apply every patch (idempotent). Run once, at the Rasa process's start-up (rasa_components.run)."""
    check_version()
    if installed():
        return
    for (name, attribute), (owner, replacement) in _patches().items():
        _originals[(name, attribute)] = getattr(owner, attribute)
        _inherited[(name, attribute)] = attribute not in vars(owner)  # FormAction.run is LoopAction.run
        setattr(owner, attribute, replacement)
    logger.debug("Rasa adaptations installed: %s", ", ".join(f"{n}.{a}" for n, a in _originals))


def uninstall() -> None:
    """Put Rasa's own methods back (for tests)."""
    for (name, attribute), (owner, _) in _patches().items():
        if (name, attribute) not in _originals:
            continue
        if _inherited.pop((name, attribute)):
            delattr(owner, attribute)
        else:
            setattr(owner, attribute, _originals[(name, attribute)])
        del _originals[(name, attribute)]
