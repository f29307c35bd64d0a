"""Logs carry no parent text, no identifiers and no secrets: a logging filter that rewrites every record.

Each record's message is formatted once (`record.getMessage()`), then rewritten and stored back with no
arguments; an attached traceback or stack is formatted and rewritten the same way. Rewriting:
  - records known to carry a parent's words become a fixed sentence naming the event (Rasa's warning about
    a message starting with "/", which quotes the whole message);
  - structlog events (Rasa renders them as JSON, or as `key=value` pairs on a terminal) keep their event
    name and keys, with the values of text-bearing keys (Rasa's own list of keys to anonymize, plus
    trackers, events, slots, request bodies) withheld;
  - in any other text, from a text-bearing key (`"text":`, `body='`, ...) to the end of its line is
    withheld: trackers and request bodies that Rasa and rasa_sdk echo when an action fails;
  - secrets are stripped: `token=` (and similar) query values, the Telegram bot token in API URLs,
    Authorization, X-Twilio-Signature and X-Telegram-Bot-Api-Secret-Token values;
  - identifiers are redacted (bot.privacy.redact) and each message is cut to MAX_MESSAGE_CHARS.

Two ways in, one per kind of process:
  - `install()`, called once at start-up by our own entry points (web server, action server);
  - configs/logging.yml, a logging dictConfig for `rasa run --logging-config-file` and rasa_sdk's
    `--logging-config_file`: its root handler carries `RedactingFilter`, and its `privacy` filter is made by
    `installed_filter()`, which runs `install()` (the config file is the start-up point of those processes).

Filters set on a logger see only records logged on that very logger, not on its children; records of
child loggers reach the root logger's handlers. So the filter goes on every root handler (which
coloredlogs keeps when it replaces a handler), and on the loggers that get handlers of their own
(Sanic's) or that log secrets and text themselves (rasa, rasa_sdk, httpx, ...).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, Iterable, Optional

from bot.privacy.redact import redact_text

MAX_MESSAGE_CHARS = 500
MAX_TRACE_CHARS = 8000
WITHHELD = "[withheld]"
SECRET = "[secret]"
SCRUBBED = "_privacy_scrubbed"  # set on a record once rewritten: a record may pass several filters

LOGGERS = (
    "rasa",
    "rasa_sdk",
    "sanic.root",
    "sanic.error",
    "sanic.access",
    "sanic.server",
    "httpx",
    "httpcore",
    "aiohttp",
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.server",
    "urllib3",
    "socketio",
    "socketio.server",
    "engineio",
    "engineio.server",
    "py.warnings",
)

# Keys whose values are a parent's words or carry them: rasa.utils.log_utils._anonymizer's list, plus
# whole trackers, events, slots and request bodies.
TEXT_KEYS = frozenset(
    """text response_text user_text slot_values parse_data_text parse_data_entities prediction_events
    tracker_latest_message prefilled_slots message response slot_candidates rasa_event rasa_events
    tracker_states current_states old_states successes current_entity next_entity states entity token_text
    user_message json_message tracker events latest_message slots body request_body payload metadata
    entities value sender_id sender shown_as history""".split()
)
_KEY_ALTERNATION = "|".join(sorted(TEXT_KEYS, key=len, reverse=True))
# A text-bearing key in free text: "text": / 'text': / text=' / body=" ... (the value follows).
TEXT_KEY_IN_LINE = re.compile(rf"""(?:["'](?:{_KEY_ALTERNATION})["']\s*:|\b(?:{_KEY_ALTERNATION})=(?=["'{{\[]))""")
# structlog's console rendering: "event_name   key=value key=value" (colours optional).
CONSOLE_TEXT_KEY = re.compile(rf"(?:^|\s)(?:\x1b\[[0-9;]*m)*(?:{_KEY_ALTERNATION})(?:\x1b\[[0-9;]*m)*=")
SLASH_WARNING = re.compile(r"Failed to parse arguments in line")
SLASH_NOTICE = "Rasa could not read a message starting with '/' as a command (the message is withheld)."

SECRETS = (
    # the Telegram bot token inside API URLs, and anything shaped like one
    (re.compile(r"/bot\d+:[^/\s\"']+"), "/bot" + SECRET),
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{8,}"), SECRET),
    # query or form values: ?token=..., &auth_token=..., session_token=..., password=...
    (
        re.compile(r"(?i)\b((?:[a-z_]*token|secret|signature|password|api_?key|sig)=)[^&\s\"'#,;)]+"),
        r"\1" + SECRET,
    ),
    # header values, as "Name: value", "'Name': 'value'" or "Name=value"
    (
        re.compile(
            r"(?i)\b(authorization|proxy-authorization|x-twilio-signature|x-telegram-bot-api-secret-token|cookie)"
            r"([\"']?\s*[:=]\s*[\"']?)[^\"'\n,}]+"
        ),
        r"\1\2" + SECRET,
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + SECRET),
)


def strip_secrets(text: str) -> str:
    """text with tokens, signatures and authorization values replaced by "[secret]"."""
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _withhold_value(key: str, value: Any) -> Any:
    if key in TEXT_KEYS:
        return WITHHELD
    if isinstance(value, str):
        return redact_text(strip_secrets(value))
    if isinstance(value, (dict, list)):
        return WITHHELD if TEXT_KEY_IN_LINE.search(json.dumps(value, default=str)) else value
    return value


def _structlog_json(message: str) -> Optional[str]:
    """A structlog JSON event with text-bearing values withheld, or None if message is not one."""
    stripped = message.strip()
    if not (stripped.startswith("{") and stripped.endswith("}") and '"event"' in stripped):
        return None
    try:
        event = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(event, dict) or "event" not in event:
        return None
    clean: Dict[str, Any] = {key: _withhold_value(key, value) for key, value in event.items()}
    return json.dumps(clean, default=str)


def _withhold_in_lines(text: str) -> str:
    """text with each line cut at its first text-bearing key (JSON, repr or structlog console form)."""
    lines = []
    for line in text.split("\n"):
        found = TEXT_KEY_IN_LINE.search(line) or CONSOLE_TEXT_KEY.search(line)
        lines.append(line[: found.end()] + f" {WITHHELD}" if found else line)
    return "\n".join(lines)


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… [{len(text) - limit} more characters cut]"


# Where servers listen is not about anyone: kept, where any other IP address is redacted.
SERVER_ADDRESSES = re.compile(r"(?<![\d.])(?:127\.0\.0\.1|0\.0\.0\.0)(?![\d.])")


def _redact_keeping_server_addresses(text: str) -> str:
    pieces = SERVER_ADDRESSES.split(text)
    addresses = SERVER_ADDRESSES.findall(text)
    out = [redact_text(pieces[0])]
    for address, piece in zip(addresses, pieces[1:], strict=False):
        out += [address, redact_text(piece)]
    return "".join(out)


def scrub_message(message: str) -> str:
    """A log message without parent text, identifiers or secrets, at most MAX_MESSAGE_CHARS long (plus a note)."""
    if SLASH_WARNING.search(message):
        return SLASH_NOTICE
    structured = _structlog_json(message)
    if structured is not None:
        message = structured
    else:
        message = _withhold_in_lines(message)
    return _bounded(_redact_keeping_server_addresses(strip_secrets(message)), MAX_MESSAGE_CHARS)


def scrub_trace(text: str) -> str:
    """A formatted traceback or stack with the same rewriting, each line bounded, the whole bounded."""
    lines = [_bounded(line, MAX_MESSAGE_CHARS) for line in _withhold_in_lines(strip_secrets(text)).split("\n")]
    return _bounded(_redact_keeping_server_addresses("\n".join(lines)), MAX_TRACE_CHARS)


def scrub_record(record: logging.LogRecord) -> None:
    """Rewrite record in place: message formatted and scrubbed, args cleared, traceback and stack scrubbed."""
    if getattr(record, SCRUBBED, False):
        return
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a record whose args don't fit its format string
        message = f"{record.msg!s} (unformattable arguments withheld)"
    record.msg, record.args = scrub_message(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub_trace(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub_trace(record.stack_info)
    setattr(record, SCRUBBED, True)


class RedactingFilter(logging.Filter):
    """A logging filter that lets every record through, rewritten by scrub_record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record (see the module docstring); never drops it."""
        scrub_record(record)
        return True


_FILTER = RedactingFilter()


def _add_once(owner: Any, log_filter: logging.Filter) -> None:
    if not any(isinstance(existing, RedactingFilter) for existing in owner.filters):
        owner.addFilter(log_filter)


def install(loggers: Iterable[str] = LOGGERS) -> RedactingFilter:
    """Make this process's logs private: call once at start-up, after its logging handlers exist.

    Puts the filter on every handler of the root logger and on `loggers`, routes warnings
    (`warnings.warn`, which Rasa uses for messages that quote parents) into logging, and routes structlog
    through the standard library (unless something configured it already). A root logger without handlers
    gets a stderr handler at INFO: records would otherwise reach logging.lastResort, which no filter sees.
    Safe to call again.
    """
    logging.captureWarnings(True)
    root = logging.getLogger()
    if not root.handlers:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s  - %(message)s"))
        root.addHandler(console)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        _add_once(handler, _FILTER)
    for name in loggers:
        logger = logging.getLogger(name)
        _add_once(logger, _FILTER)
        for handler in logger.handlers:
            _add_once(handler, _FILTER)
    _route_structlog()
    return _FILTER


def installed_filter() -> RedactingFilter:
    """For logging dictConfig files (configs/logging.yml): run install() and return the filter."""
    return install()


def _route_structlog() -> None:
    """Send structlog's events through standard logging (and so through the filter) if nobody configured it."""
    try:
        import structlog
    except ImportError:
        return
    if structlog.is_configured():
        return
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.processors.add_log_level,
            structlog.processors.JSONRenderer(default=str),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
