"""Telegram and WhatsApp (Twilio) end to end: signed inbound webhooks into the real Rasa server, replies
recorded by fake platform APIs on loopback; forged, unsigned and replayed requests refused with nothing
stored; the platform failing, then recovering."""

from __future__ import annotations

import itertools
from typing import Any, Dict, List

import httpx
import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from tests.fake_platforms import AUTH, NUMBER, PUBLIC_URL, SID, TG_SECRET, TG_TOKEN, FakePlatforms, platform_env  # noqa: F401 - re-exported
from tests.servers import Services

_ids = itertools.count(1000)


@pytest.fixture(scope="module")
def fake(platforms: FakePlatforms) -> FakePlatforms:
    """The fake platforms of the shared stack (conftest): tests tell their calls apart by chat id and number."""
    return platforms


@pytest.fixture(scope="module")
def stack(shared_stack: Services) -> Services:
    """The session's shared stack (conftest), Telegram and WhatsApp on."""
    return shared_stack.ensure_running()


def stored(stack: Services) -> str:
    """Everything in the tracker store: conversation ids and event data."""
    engine = sa.create_engine(stack.env["TRACKER_DB_URL"])
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sender_id, data FROM events")).fetchall()
    engine.dispose()
    return "\n".join(f"{s} {d}" for s, d in rows)


# ---- Telegram ----


def telegram(stack: Services, update: Dict[str, Any], secret: str = TG_SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    return httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)


def tg_text(chat: int, text: str) -> Dict[str, Any]:
    return {"update_id": next(_ids), "message": {"message_id": next(_ids), "chat": {"id": chat, "type": "private"}, "text": text}}


def tg_tap(chat: int, data: str) -> Dict[str, Any]:
    return {"update_id": next(_ids), "callback_query": {"id": str(next(_ids)), "data": data, "message": {"chat": {"id": chat}}}}


def tg_replies(fake: FakePlatforms, chat: int, since: int) -> List[Dict[str, Any]]:
    return [c["body"] for c in fake.sent(lambda c: c["path"].endswith("/sendMessage") and c["body"]["chat_id"] == chat)][since:]


def test_telegram_conversation_with_keyboards_and_a_tap(stack: Services, fake: FakePlatforms) -> None:
    chat = 555001
    assert telegram(stack, tg_text(chat, "my 9 month old crawls backwards")).status_code == 200
    replies = tg_replies(fake, chat, 0)
    telegram_calls = fake.sent(lambda c: not c["path"].startswith("/2010-04-01/"))  # all but Twilio's (shared fake)
    assert telegram_calls and all(c["path"].startswith(f"/bot{TG_TOKEN}/") for c in telegram_calls)
    question = replies[-1]
    assert "born early" in question["text"]
    keyboard = question["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["No, on time", "4 weeks early", "8 weeks early", "Not sure"]
    done = len(replies)
    assert telegram(stack, tg_tap(chat, keyboard[0][0]["callback_data"])).status_code == 200  # a tap answers
    assert fake.sent(lambda c: c["path"].endswith("/answerCallbackQuery"))
    assert "opposite arm and leg" in tg_replies(fake, chat, done)[-1]["text"]
    telegram(stack, tg_text(chat, "yes"))
    telegram(stack, tg_text(chat, "yes"))
    assert "sit steadily" in tg_replies(fake, chat, 0)[-1]["text"]  # at 9 months the safety net asks about sitting
    done = len(tg_replies(fake, chat, 0))
    telegram(stack, tg_text(chat, "yes"))
    advice = "\n".join(r["text"] for r in tg_replies(fake, chat, done))
    assert "Sources" in advice and "](https://" in advice  # source links kept
    assert all(len(r["text"]) <= 4096 for r in tg_replies(fake, chat, 0))
    assert str(chat) not in stored(stack).split(" ")[0]
    assert '"input_channel": "telegram"' in stored(stack)


def test_telegram_refuses_forged_unsigned_and_replayed_updates(stack: Services, fake: FakePlatforms) -> None:
    before, calls = stored(stack), len(fake.sent())
    update = tg_text(555002, "my 10 month old crawls backwards")
    assert telegram(stack, {"not": "an update"}).status_code == 400
    assert telegram(stack, update, secret="").status_code == 403
    assert telegram(stack, update, secret="wrong-secret").status_code == 403
    assert telegram(stack, update).status_code == 200
    after_real = stored(stack)
    assert telegram(stack, update).status_code == 403  # the same update again: a replay
    assert stored(stack) == after_real != before
    forged = tg_text(555003, "hello")
    assert telegram(stack, forged, secret="nope").status_code == 403
    assert stored(stack) == after_real and len(fake.sent()) > calls


# ---- WhatsApp through Twilio ----


def whatsapp(
    stack: Services, phone: str, body: str, sign_with: str = AUTH, url: str = PUBLIC_URL, sid: str = ""
) -> httpx.Response:
    form = {
        "MessageSid": sid or f"SM{next(_ids):032d}",
        "AccountSid": SID,
        "From": phone,
        "To": NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    headers = {"X-Twilio-Signature": RequestValidator(sign_with).compute_signature(url, form)} if sign_with else {}
    return httpx.post(f"{stack.rasa_url}/webhooks/whatsapp/webhook", data=form, headers=headers, timeout=60)


def wa_replies(fake: FakePlatforms, phone: str, since: int = 0) -> List[str]:
    return [c["body"]["Body"] for c in fake.sent(lambda c: c["path"].endswith("/Messages.json") and c["body"]["To"] == phone)][
        since:
    ]


def test_whatsapp_conversation_with_numbered_options(stack: Services, fake: FakePlatforms) -> None:
    phone = "whatsapp:+447700900123"
    response = whatsapp(stack, phone, "she scoots on her bottom and she is 14 months")
    assert response.status_code == 200 and "<Response>" in response.text
    calls = fake.sent(lambda c: c["path"].endswith("/Messages.json"))
    assert calls[-1]["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json" and calls[-1]["body"]["From"] == NUMBER
    assert calls[-1]["auth"].startswith("Basic ")
    question = wa_replies(fake, phone)[-1]
    assert "born early" in question and "1. No, on time" in question and "“option 2”" in question
    seen = len(wa_replies(fake, phone))
    whatsapp(stack, phone, "option 1")  # picks "No, on time" (a bare "1" would mean 1 week here)
    next_question = wa_replies(fake, phone, seen)[-1]
    assert "born early" not in next_question and "1. Yes" in next_question and "Reply with a number" in next_question
    seen = len(wa_replies(fake, phone))
    whatsapp(stack, phone, "1")  # a number picks a yes/no option
    after_number = wa_replies(fake, phone, seen)[-1]
    assert after_number != next_question
    seen = len(wa_replies(fake, phone))
    whatsapp(stack, phone, "no")  # the option's words answer too
    assert wa_replies(fake, phone, seen)
    for answer in ("not sure", "no", "no", "no"):
        whatsapp(stack, phone, answer)
    everything = wa_replies(fake, phone)
    assert any("Sources" in r for r in everything) and any("https://" in r for r in everything)
    assert all(len(r) <= 1600 for r in everything)
    data = stored(stack)
    assert "7700900123" not in data and "447700" not in data  # the number appears nowhere in the store
    assert '"input_channel": "whatsapp"' in data


def test_whatsapp_refuses_unsigned_forged_and_replayed_requests(stack: Services, fake: FakePlatforms) -> None:
    phone = "whatsapp:+447700900456"
    before = stored(stack)
    assert whatsapp(stack, phone, "hello", sign_with="").status_code == 403
    assert whatsapp(stack, phone, "hello", sign_with="not-the-auth-token").status_code == 403
    assert (
        whatsapp(stack, phone, "hello", url=f"{stack.rasa_url}/webhooks/whatsapp/webhook").status_code == 403
    )  # not the public URL
    assert stored(stack) == before and wa_replies(fake, phone) == []
    assert whatsapp(stack, phone, "hello", sid="SM" + "7" * 32).status_code == 200
    after = stored(stack)
    assert whatsapp(stack, phone, "hello", sid="SM" + "7" * 32).status_code == 403  # replayed
    assert stored(stack) == after


def test_platform_failures_are_retried_until_it_recovers(stack: Services, fake: FakePlatforms) -> None:
    phone, chat = "whatsapp:+447700900789", 555004
    fake.failures.extend([503, 503])
    assert whatsapp(stack, phone, "my 15 month old isn't walking").status_code == 200
    assert wa_replies(fake, phone), "the reply arrived after two 503s"
    fake.failures.extend([429])
    telegram(stack, tg_text(chat, "hello"))
    assert tg_replies(fake, chat, 0), "the reply arrived after a 429 with retry_after"
    other = tg_text(555005, "my baby crawls backwards")  # other conversations keep being served
    assert telegram(stack, other).status_code == 200 and tg_replies(fake, 555005, 0)


def test_replays_are_refused_after_a_restart(stack: Services) -> None:
    phone, sid = "whatsapp:+447700900999", "SM" + "8" * 32
    assert whatsapp(stack, phone, "hi", sid=sid).status_code == 200
    update = tg_text(555006, "hi")
    assert telegram(stack, update).status_code == 200
    stack.stop_rasa()
    stack.start_rasa()
    before = stored(stack)
    assert whatsapp(stack, phone, "hi", sid=sid).status_code == 403
    assert telegram(stack, update).status_code == 403
    assert stored(stack) == before


def test_channels_without_credentials_are_off(replica_stack: Services) -> None:
    # The replica stack's second Rasa runs without the Telegram and Twilio credentials (conftest CHANNELS_OFF).
    replica_stack.ensure_running()
    off = f"http://127.0.0.1:{replica_stack.rasa_ports[1]}"
    assert "TELEGRAM_TOKEN" not in {k for k, v in replica_stack.replica_env[1].items() if v}
    assert httpx.post(f"{off}/webhooks/telegram/webhook", json={"update_id": 1}, timeout=10).status_code == 404
    assert httpx.post(f"{off}/webhooks/whatsapp/webhook", data={"Body": "x"}, timeout=10).status_code == 404
