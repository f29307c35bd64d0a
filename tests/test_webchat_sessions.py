"""Web chat session logic without Rasa: ids, tokens, secrets, origins, limits, duplicates, history."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.channels.inbound import too_long_notice
from bot.channels.webchat import (
    RecentIds,
    clean_client_id,
    history_from_events,
    new_session_id,
    origin_allowed,
    session_token,
    shown_as_metadata,
    verify_session,
)
from bot.runtime_secrets import load_or_create_secret

SECRET = b"test-secret"
DAY = 86400.0


def test_session_ids_carry_128_random_bits() -> None:
    ids = {new_session_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_tokens_verify_only_for_their_own_id_and_secret() -> None:
    session = new_session_id()
    token = session_token(SECRET, session)
    assert verify_session(SECRET, session, token, DAY)
    assert not verify_session(SECRET, new_session_id(), token, DAY)
    assert not verify_session(b"other-secret", session, token, DAY)
    assert not verify_session(SECRET, session, token[:-1] + ("0" if token[-1] != "0" else "1"), DAY)


def test_tokens_expire_and_their_time_cannot_be_changed() -> None:
    session = new_session_id()
    issued = 1_800_000_000
    token = session_token(SECRET, session, issued)
    assert verify_session(SECRET, session, token, 30 * DAY, now=issued + 29 * DAY)
    assert not verify_session(SECRET, session, token, 30 * DAY, now=issued + 31 * DAY)
    assert not verify_session(SECRET, session, token, 30 * DAY, now=issued - DAY)  # issued in the future
    forged = f"{issued + 20 * 86400:x}." + token.split(".")[1]  # a later time, the old signature
    assert not verify_session(SECRET, session, forged, 30 * DAY, now=issued + 31 * DAY)
    legacy = token.split(".")[1]  # the pre-expiry format (a bare HMAC of the id) never verifies
    assert not verify_session(SECRET, session, legacy, 30 * DAY, now=issued)


@pytest.mark.parametrize("session, token", [(None, None), ("abc", "abc"), (123, "x"), ("g" * 32, "0" * 64), ("A" * 32, None)])
def test_malformed_ids_and_tokens_never_verify(session: object, token: object) -> None:
    assert not verify_session(SECRET, session, token, DAY)


def test_the_secret_is_created_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "webchat_secret"
    first = load_or_create_secret(None, path)
    assert len(first) == 64 and load_or_create_secret(None, path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["webchat_secret"]  # no temporary file left behind
    assert load_or_create_secret("x" * 40, path) == b"x" * 40


def test_short_or_empty_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shorter than 32"):
        load_or_create_secret("short", tmp_path / "unused")
    empty = tmp_path / "webchat_secret"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="shorter than 32"):
        load_or_create_secret(None, empty)


@pytest.mark.parametrize(
    "origin, allowed, expected",
    [
        ("http://localhost:8000", ("http://localhost:8000",), True),
        ("http://localhost:8000/", ("http://localhost:8000",), True),
        ("https://clinic.example", ("http://localhost:8000",), False),
        ("http://localhost:8001", ("http://localhost:8000",), False),
        ("https://anything.example", ("*",), True),
        (None, ("http://localhost:8000",), True),  # not a browser
        ("null", ("http://localhost:8000",), False),  # sandboxed or file:// pages
    ],
)
def test_origin_allowed(origin: object, allowed: tuple, expected: bool) -> None:
    assert origin_allowed(origin, allowed) is expected


@pytest.mark.parametrize(
    "value, expected", [("a1b2c3d4", "a1b2c3d4"), ("short", None), ("x" * 65, None), ("bad id!!", None), (42, None)]
)
def test_client_ids(value: object, expected: object) -> None:
    assert clean_client_id(value) == expected


def test_too_long_notice() -> None:
    assert too_long_notice("x" * 1000, 1000) is None
    notice = too_long_notice("x" * 1500, 1000)
    assert "1,500" in notice and "1,000" in notice and "shorter" in notice


def test_recent_ids_remember_per_conversation_and_forget_the_oldest() -> None:
    recent = RecentIds(per_session=2, sessions=2)
    assert not recent.seen("a", "m1") and recent.seen("a", "m1")
    assert not recent.seen("b", "m1")  # ids are per conversation
    recent.seen("a", "m2")
    recent.seen("a", "m3")  # m1 falls out
    assert not recent.seen("a", "m1")
    recent.seen("c", "m1")  # a third conversation pushes out the least recent one ("b")
    assert not recent.seen("b", "m1")
    recent.forget("b", "m1")  # its processing failed: the re-send must run
    assert not recent.seen("b", "m1")


def test_history_mirrors_what_the_channel_sent() -> None:
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "user", "text": "old question", "message_id": "m0"},
        {"event": "restart"},
        {"event": "user", "text": "my baby crawls backwards", "message_id": "m1"},
        {"event": "bot", "text": "I can help.\n\nHow old is your child?", "data": {}},
        {"event": "slot", "name": "topic", "value": "crawling_backward"},
        {"event": "bot", "text": "Was your child born early?", "data": {"buttons": [{"title": "No", "payload": "No"}]}},
        {"event": "user", "text": "No, born on time", "metadata": {"shown_as": "No, on time", "model_id": "x"}},
    ]
    assert history_from_events(events) == [
        {"sender": "user", "text": "my baby crawls backwards", "id": "m1"},
        {"sender": "bot", "text": "I can help."},
        {"sender": "bot", "text": "How old is your child?"},
        {"sender": "bot", "text": "Was your child born early?", "quick_replies": [{"title": "No", "payload": "No"}]},
        {"sender": "user", "text": "No, on time"},  # the button title the parent tapped
    ]
    assert len(history_from_events([{"event": "user", "text": str(i)} for i in range(500)], limit=300)) == 300


@pytest.mark.parametrize(
    "text, shown, expected",
    [
        ("No, born on time", "No, on time", {"shown_as": "No, on time"}),
        ("Yes", "Yes", {}),
        ("Yes", None, {}),
        ("Yes", "x" * 201, {}),
        ("Yes", 5, {}),
    ],
)
def test_shown_as_metadata(text: str, shown: object, expected: dict) -> None:
    assert shown_as_metadata(text, shown) == expected


def test_the_messaging_secret_starts_as_the_web_chat_secret_and_then_rotates_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Conversation ids of Telegram/WhatsApp users survive the new secret, and a later WEBCHAT_SECRET change."""
    from bot.runtime_secrets import messaging_secret
    from bot.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ENV_FILE", str(tmp_path / "no.env"))
    monkeypatch.delenv("WEBCHAT_SECRET", raising=False)
    monkeypatch.delenv("MESSAGING_SECRET", raising=False)
    get_settings.cache_clear()
    try:
        webchat = load_or_create_secret(None, tmp_path / "webchat_secret")
        assert messaging_secret(get_settings()) == webchat
        monkeypatch.setenv("WEBCHAT_SECRET", "r" * 40)  # the web-chat secret is rotated
        get_settings.cache_clear()
        assert messaging_secret(get_settings()) == webchat  # messaging ids keep their secret
        assert stat.S_IMODE((tmp_path / "messaging_secret").stat().st_mode) == 0o600
    finally:
        get_settings.cache_clear()
