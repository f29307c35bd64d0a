"""Logs carry no parent text, identifiers or secrets (bot/privacy/logs.py, configs/logging.yml).

Unit tests for the filter, then one real stack (action server, Rasa, web server, Telegram and WhatsApp
against fake platform APIs) fed identifiers through every channel, including slash commands and an
action server that dies mid-conversation; afterwards no file the processes wrote contains any of them.
"""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
from typing import Iterator, List

import httpx
import pytest

from bot.privacy.logs import MAX_MESSAGE_CHARS, RedactingFilter, install, scrub_message, strip_secrets
from bot.settings import PROJECT_ROOT
from tests.fake_platforms import FakePlatforms
from tests.servers import TOKEN, Services
from tests.test_messaging_channels import AUTH, TG_SECRET, TG_TOKEN, telegram, tg_text, whatsapp
from tests.test_webchat_channel import SocketChat

LOGGING_CONFIG = PROJECT_ROOT / "configs" / "logging.yml"
PHONE, EMAIL = "07700 900123", "jane.doe@example.org"
WHATSAPP_SENDER = "whatsapp:+447700900987"
SEEDED = [
    f"/ please call me on {PHONE} or {EMAIL}",
    f"my email is {EMAIL}",
    "call +44 7700 900123",
    "my baby is having a seizure, call me 07700900123",
    '/greet{"email": "jane.doe@example.org", "phone": "07700 900123"}',
    '/inform@0.9{"text": "jane.doe@example.org"}',
]
IDENTIFIERS = [
    PHONE,
    "07700900123",
    "7700 900123",
    "7700900123",
    "900123",
    EMAIL,
    "jane.doe",
    "example.org",
    "447700900987",
    "7700900987",
    TG_TOKEN,
    TG_TOKEN.split(":")[1],
    TOKEN,
    TG_SECRET,
    AUTH,
]
FORBIDDEN = [*IDENTIFIERS, "having a seizure", "crawls backwards"]  # in logs, no parent's words either


# ---- the filter ----


@pytest.mark.parametrize(
    "message, gone, kept",
    [
        (f"text from {EMAIL}, {PHONE}", [EMAIL, PHONE], ["text from [email], [number]"]),
        (
            'HTTP Request: POST https://api.telegram.org/bot123456:AAH-secret_x/sendMessage "HTTP/1.1 200 OK"',
            ["123456:AAH-secret_x", "AAH-secret_x"],
            ["https://api.telegram.org/bot[secret]/sendMessage", "200 OK"],
        ),
        ("GET /conversations/x/tracker?token=e2e-secret-token&x=1 200", ["e2e-secret-token"], ["?token=[secret]&x=1 200"]),
        (
            "headers: {'Authorization': 'Basic QUMxMTE6dHdpbGlv', 'X-Twilio-Signature': 'abc+/='}",
            ["QUMx", "abc+"],
            ["'Authorization': '[secret]'"],
        ),
        (
            f"Failed to parse arguments in line '/ please call me on {PHONE}'. Expected the intent to be one of",
            ["please call", PHONE],
            ["could not read a message starting with '/'"],
        ),
        (
            "Failed to execute custom action 'action_x': 500, Internal Server Error, "
            'body=\'{"error": "boom", "request_body": {"tracker": {"latest_message": {"text": "my baby is ill"}}}}\'',
            ["my baby is ill", "request_body"],
            ["Failed to execute custom action 'action_x': 500, Internal Server Error,", "[withheld]"],
        ),
    ],
)
def test_messages_are_scrubbed(message: str, gone: List[str], kept: List[str]) -> None:
    clean = scrub_message(message)
    assert not [g for g in gone if g in clean], clean
    assert all(k in clean for k in kept), clean


def test_structlog_events_keep_their_name_and_withhold_text() -> None:
    event = {"user_text": "/ my baby is having a seizure", "event": "message.parsing.failed", "level": "warning"}
    clean = json.loads(scrub_message(json.dumps(event)))
    assert clean == {"user_text": "[withheld]", "event": "message.parsing.failed", "level": "warning"}
    entities = json.dumps({"event": "processor.message.parse", "parse_data_text": "hi", "parse_data_intent": {"name": "greet"}})
    assert json.loads(scrub_message(entities)) == {
        "event": "processor.message.parse",
        "parse_data_text": "[withheld]",
        "parse_data_intent": {"name": "greet"},
    }
    console = "2024-01-01 [warning  ] \x1b[1mmessage.parsing.failed\x1b[0m \x1b[36muser_text\x1b[0m=/ my baby is ill"
    assert "my baby" not in scrub_message(console) and "message.parsing.failed" in scrub_message(console)


def test_long_messages_are_cut_after_redaction() -> None:
    clean = scrub_message("x" * 2000 + f" {EMAIL}")
    assert len(clean) < MAX_MESSAGE_CHARS + 60 and "more characters cut" in clean
    assert EMAIL not in scrub_message("y" * (MAX_MESSAGE_CHARS - 5) + f" {EMAIL}")  # never half an identifier


def test_strip_secrets_leaves_ordinary_text() -> None:
    text = "Loaded model in 2.5 s; 12:30 /both/paths?page=2 tokens=3"
    assert strip_secrets(text) == text


@pytest.fixture
def isolated_logging() -> Iterator[io.StringIO]:
    """The root logger with one stream handler for the test, restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    root.handlers = [logging.StreamHandler(stream)]
    root.setLevel(logging.INFO)
    yield stream
    for name in ("rasa", "sanic.access", "httpx"):
        logger = logging.getLogger(name)
        logger.filters = [f for f in logger.filters if not isinstance(f, RedactingFilter)]
        logger.handlers = [h for h in logger.handlers if not getattr(h, "test_handler", False)]
    logging.captureWarnings(False)
    root.handlers, root.level = saved


def test_install_covers_child_loggers_own_handlers_tracebacks_and_warnings(isolated_logging: io.StringIO) -> None:
    access_stream = io.StringIO()
    access_handler = logging.StreamHandler(access_stream)
    access_handler.test_handler = True  # type: ignore[attr-defined]
    logging.getLogger("sanic.access").addHandler(access_handler)
    install(loggers=("rasa", "sanic.access", "httpx"))
    install(loggers=("rasa", "sanic.access", "httpx"))  # twice: still one filter each
    assert sum(isinstance(f, RedactingFilter) for f in logging.getLogger().handlers[0].filters) == 1

    logging.getLogger("rasa.core.processor").warning("parent said %s", EMAIL)  # a child logger: root handler
    logging.getLogger("sanic.access").info("POST /webhooks/rest/webhook?token=%s 200", TOKEN)  # its own handler
    logging.getLogger("httpx").info("HTTP Request: POST http://x/bot%s/sendMessage", TG_TOKEN)
    try:
        raise ValueError(f'no such user {PHONE}: body=\'{{"text": "my baby is ill"}}\'')
    except ValueError:
        logging.getLogger("rasa_sdk.endpoint").exception("Exception occurred during execution of request")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"Failed to parse arguments in line '/ call {PHONE}'.", UserWarning, stacklevel=1)

    written = isolated_logging.getvalue() + access_stream.getvalue()
    assert "parent said [email]" in written and "token=[secret] 200" in written and "/bot[secret]/sendMessage" in written
    assert "Traceback" in written and "ValueError: no such user [number]: body= [withheld]" in written
    assert "could not read a message starting with '/'" in written
    assert not [f for f in FORBIDDEN if f in written], written


# ---- a real stack ----


@pytest.fixture(scope="module")
def fake(platforms: FakePlatforms) -> FakePlatforms:
    """The fake platforms the limits stack sends to (conftest)."""
    return platforms


@pytest.fixture(scope="module")
def logged_stack(limits_stack: Services) -> Services:
    """The session's limits stack (conftest), logging at INFO; this test stops it, so it runs after the others on it."""
    return limits_stack.ensure_running()


def rest(stack: Services, sender: str, text: str) -> httpx.Response:
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    return httpx.post(url, params={"token": TOKEN}, json={"sender": sender, "message": text}, timeout=60)


@pytest.mark.stack_last
async def test_no_identifier_reaches_any_log(logged_stack: Services, fake: FakePlatforms) -> None:
    stack = logged_stack
    for text in SEEDED:
        assert rest(stack, "log-privacy-rest", text).status_code == 200
    assert (
        httpx.get(f"{stack.rasa_url}/conversations/log-privacy-rest/tracker", params={"token": TOKEN}, timeout=30).status_code
        == 200
    )
    for text in SEEDED:  # the HTTP API parses text as given: Rasa's slash handler sees these and warns
        parsed = httpx.post(f"{stack.rasa_url}/model/parse", params={"token": TOKEN}, json={"text": text}, timeout=60)
        assert parsed.status_code == 200

    chat = SocketChat(stack)
    await chat.start()
    for text in SEEDED[:4]:
        ack, _ = await chat.say(text)
        assert ack["ok"] is True
    await chat.stop()

    for text in SEEDED:
        assert telegram(stack, tg_text(731942, text)).status_code == 200
        assert whatsapp(stack, WHATSAPP_SENDER, text).status_code == 200
    assert fake.sent(lambda c: "/sendMessage" in c["path"]) and fake.sent(lambda c: "Messages.json" in c["path"])

    # The action server dies mid-conversation: Rasa's failure path logs; then it comes back.
    rest(stack, "log-privacy-failure", f"my 10 month old crawls backwards, mail {EMAIL}")
    stack.stop_action()
    rest(stack, "log-privacy-failure", f"no, on time. call {PHONE}")
    rest(stack, "log-privacy-failure", f"my baby is having a seizure, call me 07700900123 or {EMAIL}")
    stack.start_action()
    assert rest(stack, "log-privacy-failure", f"she crawls backwards, {EMAIL}").status_code == 200
    stack.stop()  # every process flushes and closes its log

    logs = sorted(path for path in stack.logs.rglob("*") if path.is_file() and path.suffix == ".log")
    assert {p.name for p in logs} >= {"actions.log", "web.log", f"rasa-{stack.rasa_ports[0]}.log"}
    leaks = []
    for path in stack.logs.rglob("*"):
        if path.is_file():
            content = path.read_bytes().decode("utf-8", "replace")
            forbidden = FORBIDDEN if path.suffix == ".log" else IDENTIFIERS  # the tracker store keeps parents' words
            leaks += [f"{path.name}: {secret!r}" for secret in forbidden if secret in content]
            leaks += [f"{path.name}: {m!r}" for m in re.findall(r"\d[\d ().-]{5,}\d", content) if _looks_like_seeded(m)]
    assert not leaks, leaks
    rasa_log = next(p for p in logs if p.name.startswith("rasa-")).read_text("utf-8", "replace")
    assert "Starting Rasa server" in rasa_log and "Loading model" in rasa_log  # Rasa's INFO progress still shows


def _looks_like_seeded(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return any(seeded in digits for seeded in ("7700900123", "7700900987"))
