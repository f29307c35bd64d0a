"""End to end: the real action server and Rasa server on free ports, whole conversations over REST.

Uses the model `make train` produced; the tracker store is a throwaway SQLite file.
"""

from __future__ import annotations

from typing import Callable

import httpx
import pytest

from tests.servers import TOKEN, Chat, Services


@pytest.fixture(scope="module")
def services(shared_stack: Services) -> Services:
    """The session's shared stack (conftest): every test talks as a new parent."""
    return shared_stack.ensure_running()


@pytest.fixture
def chat(services: Services) -> Callable[[], Chat]:
    return lambda: Chat(services)


def test_http_api_requires_the_token(services: Services) -> None:
    url = f"http://127.0.0.1:{services.rasa_ports[0]}/conversations/someone/tracker"
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
    assert advice.startswith("**This is worth raising with your child's doctor, nurse or health visitor soon**")
    assert "Meanwhile, you can try" in advice and "**Sources**" in advice and "](http" in advice
    assert "What you can try" not in advice and "Was this helpful?" in advice
    more = parent.says("What else can I try?")  # the quick reply's payload
    assert "**What you can try**" in more and parent.slots()["advised"]["part"] == "try"
    assert "Why it happens" in parent.says("why does this happen")  # typed, not tapped
    assert "glad it helped" in parent.says("Yes, this was helpful")
    assert parent.slots()["feedback"] == {
        "kind": "vote",
        "helpful": True,
        "subject": "crawling_backward",
        "referral": "provider",
        "part": "why",
    }
    summary = parent.says("Make a summary for my appointment")
    assert "/summary/" in summary and parent.slots()["referral"] == "provider"


def test_late_walking_with_corrected_age_none(chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("my daughter is 19 months and still not walking")
    parent.says("she was born at 32 weeks")  # 8 weeks early -> corrected about 17 months
    parent.says("yes")  # pulls to stand
    parent.says("about 10 secs")
    parent.says("yes")  # both sides
    parent.says("the doctor checks them every visit")
    parent.says("no")  # breech
    advice = parent.says("no")  # hip problems in the family
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
    assert "go to the emergency department now" in reply  # the fever_no_weight message, not any "now" ("know")
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
        assert "call your local emergency number now" in urgent  # the seizure message, without the action server
        assert parent.slots()["referral"] == "urgent"
    finally:
        services.start_action()
    # back up: the conversation can carry on
    assert parent.says("why does my baby scoot on his bottom")


def test_born_early_in_two_steps_keeps_the_age(chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("my 10 month old keeps crawling backwards??")
    detail = parent.says("yes she was a bit early")
    assert "how many weeks" in detail.lower()
    parent.says("5 weeks")  # "5 weeks" would read as an age outside the form: it must not replace 10 months
    slots = parent.slots()
    assert slots["age_months"] == pytest.approx(10) and slots["weeks_early"] == pytest.approx(5)


def test_start_over_clears_the_conversation(chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("my 14 month old bottom shuffles")
    assert "start again" in parent.says("start over").lower()
    slots = parent.slots()
    assert slots["topic"] is None and slots["age_months"] is None and slots["requested_slot"] is None


def test_question_outside_the_topics_clears_the_topic(chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("my 8 month old crawls backwards")
    for reply in ("no", "yes", "yes"):
        parent.says(reply)
    assert parent.slots()["topic"] == "crawling_backward"
    assert "can't help" in parent.says("how do I get her to sleep through the night?").lower()
    assert parent.slots()["topic"] is None


def test_identifiers_are_redacted_in_the_tracker_store(services: Services) -> None:
    import sqlalchemy as sa

    parent = Chat(services)
    parent.says("my 10 month old crawls backwards, email me at jane.doe@example.org or call 07700 900123")
    assert parent.slots()["age_months"] == pytest.approx(10)  # the assistant still understood the message
    engine = sa.create_engine(services.env["TRACKER_DB_URL"])
    with engine.connect() as connection:
        rows = [r[0] for r in connection.execute(sa.text("SELECT data FROM events WHERE sender_id = :s"), {"s": parent.sender})]
    stored = "\n".join(rows)
    assert "[email]" in stored and "[number]" in stored
    assert "jane.doe" not in stored and "900123" not in stored and "07700" not in stored


# --------------------------------------------------------------------------- every repair case (issue 11)

OPENING = "my 15 month old isn't walking yet"


def _at_question(chat: Callable[[], Chat], slot: str) -> Chat:
    parent = chat()
    parent.says(OPENING)
    replies = {"weeks_early": "no, on time", "pulls_to_stand": "yes", "stands_alone_seconds": "a few seconds"}
    while parent.slots()["requested_slot"] != slot:
        parent.says(replies[parent.slots()["requested_slot"]])
    return parent


def test_repair_correction(chat: Callable[[], Chat]) -> None:
    parent = _at_question(chat, "pulls_to_stand")
    said = parent.says("sorry, I meant 17 months")
    slots = parent.slots()
    assert slots["age_months"] == pytest.approx(17) and slots["requested_slot"] == "pulls_to_stand"
    assert "17 months" in said


def test_repair_clarification(chat: Callable[[], Chat]) -> None:
    parent = _at_question(chat, "pulls_to_stand")
    said = parent.says("what do you mean?")
    assert "For example" in said and parent.slots()["requested_slot"] == "pulls_to_stand"


def test_repair_skip(chat: Callable[[], Chat]) -> None:
    parent = _at_question(chat, "pulls_to_stand")
    parent.says("skip that one")
    slots = parent.slots()
    assert slots["pulls_to_stand"] is None and slots["requested_slot"] == "stands_alone_seconds"


def test_repair_cancel(chat: Callable[[], Chat]) -> None:
    parent = _at_question(chat, "pulls_to_stand")
    said = parent.says("forget it, different question")
    assert "ask instead" in said and parent.slots()["requested_slot"] is None
    parent.says("why does my baby crawl backwards")  # a new question starts its own questions; known answers are kept
    slots = parent.slots()
    assert slots["topic"] == "crawling_backward" and slots["requested_slot"] == "alternating_crawl"


def test_repair_repeat(chat: Callable[[], Chat]) -> None:
    parent = _at_question(chat, "pulls_to_stand")
    said = parent.says("can you say that again?")
    assert "pull up to standing" in said and parent.slots()["requested_slot"] == "pulls_to_stand"


def test_repair_chit_chat_and_cannot_handle(chat: Callable[[], Chat]) -> None:
    parent = _at_question(chat, "pulls_to_stand")
    said = parent.says("what's the best brand of nappies?")
    assert "pull up to standing" in said and parent.slots()["requested_slot"] == "pulls_to_stand"
    assert parent.says("yes") and parent.slots()["pulls_to_stand"] == "yes"


def test_repair_hand_off(chat: Callable[[], Chat]) -> None:
    parent = _at_question(chat, "pulls_to_stand")
    said = parent.says("can I talk to a real person please")
    slots = parent.slots()
    assert "support team" in said and slots["human_requested"] is True and slots["requested_slot"] == "pulls_to_stand"


def test_repeat_after_the_advice_sends_the_last_messages_again(chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("why does my baby crawl backwards")
    for reply in ("9 months", "no", "yes", "yes", "yes"):  # the last: sits alone (the safety net asks it at 9 months)
        last = parent.says(reply)
    again = parent.says("sorry, can you repeat that?")
    assert again.splitlines()[-1] == last.splitlines()[-1]


def test_a_slash_command_cannot_skip_a_red_flag(chat: Callable[[], Chat]) -> None:
    parent = chat()
    reply = parent.says("/ask_hip_health@1 my baby is having a seizure")
    assert "A seizure (fit) needs urgent help" in reply
    slots = parent.slots()
    assert slots["referral"] == "urgent" and slots["red_flag"] == "seizure"
    assert slots["requested_slot"] is None and slots["topic"] is None


def test_a_slash_command_cannot_inject_entities(chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says('/greet{"red_flag": {"x": 1}, "age": [1, 2]}')
    parent.says('/ask_late_walking{"age": {"x": 1}}')
    slots = parent.slots()
    assert slots["red_flag"] is None and slots["age_months"] is None and slots["referral"] is None


@pytest.mark.parametrize("lowering", ["/back", "start over", "my 10 month old crawls backwards"])
def test_an_urgent_referral_is_never_lowered(chat: Callable[[], Chat], lowering: str) -> None:
    parent = chat()
    parent.says("my baby had a seizure")
    assert parent.slots()["referral"] == "urgent"
    parent.says(lowering)
    parent.says("my 10 month old crawls backwards")
    assert parent.slots()["referral"] == "urgent"


def test_an_injected_event_cannot_lower_an_urgent_referral(services: Services, chat: Callable[[], Chat]) -> None:
    parent = chat()
    parent.says("he's not breathing properly")
    url = f"{services.rasa_url}/conversations/{parent.sender}/tracker/events"
    response = httpx.post(url, params={"token": TOKEN}, json=[{"event": "slot", "name": "referral", "value": "none"}], timeout=30)
    assert response.status_code == 200 and parent.slots()["referral"] == "none"
    parent.says("hello")
    assert parent.slots()["referral"] == "urgent"
