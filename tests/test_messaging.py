"""Messaging-platform logic without Rasa: ids, splitting, numbered options, keyboards, replays, retries."""

from __future__ import annotations

from pathlib import Path
from typing import List

import httpx
import pytest

from bot.channels.messaging import (
    conversation_id,
    match_option,
    numbered_options,
    post_with_retries,
    split_message,
    telegram_keyboard,
)
from bot.channels.replays import ReplayGuard

BUTTONS = [
    {"title": "No, on time", "payload": "No, born on time"},
    {"title": "4 weeks early", "payload": "4 weeks early"},
    {"title": "Not sure", "payload": "Not sure"},
]


def test_conversation_ids_are_stable_and_hide_the_number() -> None:
    first = conversation_id(b"s", "whatsapp", "whatsapp:+447700900123")
    assert first == conversation_id(b"s", "whatsapp", "whatsapp:+447700900123") and first.startswith("whatsapp-")
    assert "7700900123" not in first and first != conversation_id(b"other", "whatsapp", "whatsapp:+447700900123")
    assert first != conversation_id(b"s", "telegram", "whatsapp:+447700900123")


@pytest.mark.parametrize("limit", [50, 200, 1600, 4096])
def test_split_keeps_everything_within_the_limit(limit: int) -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "Some sentence about crawling. " * (i % 7 + 1) for i in range(40)) + " " + "x" * 120
    parts = split_message(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_split_prefers_paragraphs_then_sentences() -> None:
    assert split_message("First part.\n\nSecond part.", 20) == ["First part.", "Second part."]
    assert split_message("One sentence here. Another one there.", 25) == ["One sentence here.", "Another one there."]
    assert split_message("short", 10) == ["short"] and split_message("   ", 10) == []


YES_NO = [{"title": "Yes", "payload": "Yes"}, {"title": "No", "payload": "No"}, {"title": "Not sure", "payload": "Not sure"}]


def test_numbered_options_and_replies() -> None:
    text = numbered_options("Has a doctor checked the hips?", YES_NO)
    assert text.endswith("Reply with a number or the words:\n1. Yes\n2. No\n3. Not sure")
    for reply, payload in (
        ("2", "No"),
        (" 1. ", "Yes"),
        ("option 3", "Not sure"),
        ("#3", "Not sure"),
        ("not sure", "Not sure"),
        ("YES", "Yes"),
    ):
        assert match_option(reply, YES_NO) == payload
    for reply in ("4", "0", "maybe", ""):
        assert match_option(reply, YES_NO) is None
    assert match_option("1", []) is None


def test_bare_numbers_stay_answers_when_options_hold_numbers() -> None:
    assert "“option 2”" in numbered_options("Was your child born early?", BUTTONS)
    assert match_option("2", BUTTONS) is None  # "2" may mean 2 weeks early: left for the question to read
    assert match_option("option 2", BUTTONS) == "4 weeks early" and match_option("#1", BUTTONS) == "No, born on time"
    assert match_option("4 weeks early", BUTTONS) == "4 weeks early"


def test_telegram_keyboard_fits_callback_limits() -> None:
    keyboard = telegram_keyboard(BUTTONS + [{"title": "t" * 100, "payload": "é" * 60}])
    assert keyboard["inline_keyboard"][0] == [{"text": "No, on time", "callback_data": "No, born on time"}]
    assert all(len(row[0]["callback_data"].encode()) <= 64 for row in keyboard["inline_keyboard"])


def test_replays_are_refused_across_restarts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    guard = ReplayGuard(url)
    assert guard.first_time("whatsapp", "SM1") and not guard.first_time("whatsapp", "SM1")
    assert guard.first_time("telegram", "SM1")  # ids are per platform
    assert not ReplayGuard(url).first_time("whatsapp", "SM1")  # a restarted server still knows it


async def test_retries_on_5xx_429_and_timeouts_then_succeeds() -> None:
    answers: List[object] = [
        httpx.ConnectTimeout("slow"),
        httpx.Response(503),
        httpx.Response(429, headers={"retry-after": "0"}),
        httpx.Response(200, json={"ok": True}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        response = await post_with_retries(client, "http://platform/send", json={}, base_delay=0.01)
    assert response.status_code == 200 and answers == []


async def test_gives_up_after_the_last_attempt_and_does_not_retry_4xx() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503 if len(calls) < 10 else 200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        assert (await post_with_retries(client, "http://p/x", attempts=3, base_delay=0.01)).status_code == 503
        assert len(calls) == 3
        bad = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(400)))
        assert (await post_with_retries(bad, "http://p/x", base_delay=0.01)).status_code == 400
        await bad.aclose()
