"""Actions through the tracker factory: thin adapters between the tracker and the bot core."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionGiveAdvice
from actions.after_advice import ActionFeedback, ActionMoreDetail
from actions.facts import ActionUpdateFacts
from actions.fallback import ActionHandleOutOfScope, ActionSuggestTopic
from actions.triage_form import ValidateTriageForm

pytestmark = pytest.mark.usefixtures("settings_env")


def slots_set(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def run(action: Any, tracker: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


async def test_form_activation_asks_first_missing_question(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker(
        slots={"topic": "bottom_scooting", "age_months": 11.0},
        intent="ask_bottom_scooting",
        text="my 11 month old bum shuffles",
        active_loop="triage_form",
    )
    messages, events = await run(ValidateTriageForm(), tracker)
    slots = slots_set(events)
    assert slots["requested_slot"] == "weeks_early"
    assert slots["triage_state"]["topic"] == "bottom_scooting"
    assert messages[-1]["buttons"] and "born early" in messages[-1]["text"]


async def test_form_reply_sets_the_answer_and_moves_on(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker(
        slots={
            "topic": "late_walking",
            "age_months": 14.0,
            "requested_slot": "weeks_early",
            "triage_state": {"topic": "late_walking"},
        },
        intent="inform",
        text="she was born at 34 weeks",
        active_loop="triage_form",
    )
    messages, events = await run(ValidateTriageForm(), tracker)
    slots = slots_set(events)
    assert slots["weeks_early"] == pytest.approx(6)
    assert slots["requested_slot"] == "pulls_to_stand"


async def test_form_records_request_for_a_person(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker(
        slots={"topic": "late_walking", "requested_slot": "age_months", "triage_state": {"topic": "late_walking"}},
        intent="request_human",
        text="I want to talk to a human",
        active_loop="triage_form",
    )
    messages, events = await run(ValidateTriageForm(), tracker)
    slots = slots_set(events)
    assert slots["human_requested"] is True and slots["requested_slot"] == "age_months"
    assert "support team" in messages[0]["text"]


LATE_WALKING = {
    "topic": "late_walking",
    "age_months": 20.0,
    "weeks_early": 0.0,
    "pulls_to_stand": "yes",
    "stands_alone_seconds": 5.0,
    "uses_both_sides": "yes",
    "hips_checked": "yes",
}


async def test_advice_sets_referral_rules_and_cites_sources(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker(slots=LATE_WALKING)
    messages, events = await run(ActionGiveAdvice(), tracker)
    slots = slots_set(events)
    assert slots["referral"] == "provider"
    assert "not_walking_by_18_months" in slots["advice_rules"]
    assert messages[0]["text"].startswith("**This is worth raising with your child's doctor, nurse or health visitor soon**")
    assert "By 18 months corrected age most children walk on their own" in messages[0]["text"]
    text = "\n".join(m["text"] for m in messages)
    assert "**Sources**" in text and "](https://patient.info/doctor/delay-in-walking)" in text
    assert "What you can try" not in text  # the whole section is one tap away
    assert [b["title"] for b in messages[-1]["buttons"]] == [
        "👍 Yes, helpful",
        "👎 Not really",
        "What else can I try?",
        "Why does this happen?",
        "When should I worry?",
        "All sources",
        "Summary for my appointment",
    ]
    assert slots["advised"] == {"subject": "late_walking", "not_yet": False, "part": "advice"}


ADVISED_LATE_WALKING = {
    **LATE_WALKING,
    "referral": "provider",
    "advised": {"subject": "late_walking", "not_yet": False, "part": "advice"},
}


@pytest.mark.parametrize(
    "intent, heading, button_left_out",
    [
        ("ask_more_try", "**What you can try**", "What else can I try?"),
        ("ask_more_why", "**Why it happens**", "Why does this happen?"),
        ("ask_more_when", "**When to talk to a provider**", "When should I worry?"),
        ("ask_more_sources", "**All sources for this topic**", "All sources"),
    ],
)
async def test_the_rest_of_the_advice_comes_one_part_at_a_time(
    make_tracker: Callable[..., Tracker], intent: str, heading: str, button_left_out: str
) -> None:
    messages, events = await run(ActionMoreDetail(), make_tracker(slots=ADVISED_LATE_WALKING, intent=intent, text="more"))
    assert heading in messages[0]["text"]
    titles = [b["title"] for b in messages[-1]["buttons"]]
    assert button_left_out not in titles and "👍 Yes, helpful" in titles and "Summary for my appointment" in titles
    assert slots_set(events)["advised"]["part"] == intent.rsplit("_", 1)[1]


async def test_the_full_try_section_and_its_own_sources_are_one_tap_away(make_tracker: Callable[..., Tracker]) -> None:
    messages, _ = await run(ActionMoreDetail(), make_tracker(slots=ADVISED_LATE_WALKING, intent="ask_more_try"))
    assert "**Corner pat-a-cake.**" in messages[0]["text"]  # a tip the short answer has no room for
    assert "Baby Walkers: Important Safety Information" in messages[1]["text"]
    assert "WHO Motor Development Study" not in messages[1]["text"]  # cited by "Why it happens", not by this part


async def test_more_before_any_advice_says_what_it_needs(make_tracker: Callable[..., Tracker]) -> None:
    messages, events = await run(ActionMoreDetail(), make_tracker(intent="ask_more_why", text="why does this happen"))
    assert "once I've answered your question" in messages[0]["text"] and events == []


ASKED_FEEDBACK = [
    {
        "event": "bot",
        "text": "This is general information, not a diagnosis. Was this helpful?",
        "data": {"buttons": [{"title": "👍 Yes, helpful", "payload": "Yes, this was helpful"}]},
    },
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "..."},
]


@pytest.mark.parametrize("intent, helpful", [("feedback_helpful", True), ("feedback_unhelpful", False)])
async def test_a_vote_is_stored_with_what_it_is_about(make_tracker: Callable[..., Tracker], intent: str, helpful: bool) -> None:
    messages, events = await run(ActionFeedback(), make_tracker(slots=ADVISED_LATE_WALKING, intent=intent))
    assert slots_set(events)["feedback"] == {
        "kind": "vote",
        "helpful": helpful,
        "subject": "late_walking",
        "referral": "provider",
        "part": "advice",
    }
    assert ("glad it helped" in messages[0]["text"]) is helpful
    assert ("What was missing" in messages[0]["text"]) is not helpful


AFTER_NO = [
    {"event": "action", "name": "action_feedback"},
    {"event": "bot", "text": "Thanks for telling me. What was missing or unclear?"},
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "..."},
]
NO_VOTE = {"kind": "vote", "helpful": False, "subject": "late_walking", "referral": "provider", "part": "advice"}


@pytest.mark.parametrize("action", [ActionSuggestTopic(), ActionHandleOutOfScope(), ActionUpdateFacts()])
async def test_the_answer_to_what_was_missing_is_kept_whichever_way_it_was_read(
    make_tracker: Callable[..., Tracker], action: Any
) -> None:
    text = "I wanted to know which shoes to buy"
    tracker = make_tracker(slots={**ADVISED_LATE_WALKING, "feedback": NO_VOTE}, text=text, events=AFTER_NO)
    messages, events = await run(action, tracker)
    stored = dict(NO_VOTE, kind="comment", text=text)
    del stored["helpful"]
    assert slots_set(events)["feedback"] == stored
    assert "passed that on to the team" in messages[0]["text"]


async def test_a_later_message_is_not_taken_for_a_comment(make_tracker: Callable[..., Tracker]) -> None:
    events_then = [{"event": "action", "name": "action_suggest_topic"}, *AFTER_NO[1:]]
    tracker = make_tracker(slots={**ADVISED_LATE_WALKING, "feedback": NO_VOTE}, text="what about shoes", events=events_then)
    messages, events = await run(ActionSuggestTopic(), tracker)
    assert "feedback" not in slots_set(events) and "passed that on" not in messages[0]["text"]


async def test_a_health_worry_after_what_was_missing_still_gets_the_emergency_line(
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(slots={**ADVISED_LATE_WALKING, "feedback": NO_VOTE}, text="he has a rash and fever", events=AFTER_NO)
    messages, events = await run(ActionHandleOutOfScope(), tracker)
    assert "feedback" not in slots_set(events) and messages[0]["response"] == "utter_out_of_scope_health"


@pytest.mark.parametrize("text, helpful", [("yes", True), ("yeah it did", True), ("no", False), ("not really", False)])
async def test_a_typed_yes_or_no_to_was_this_helpful_is_the_vote(
    make_tracker: Callable[..., Tracker], text: str, helpful: bool
) -> None:
    tracker = make_tracker(slots=ADVISED_LATE_WALKING, text=text, events=ASKED_FEEDBACK)
    _, events = await run(ActionUpdateFacts(), tracker)
    assert slots_set(events)["feedback"]["helpful"] is helpful


async def test_advice_never_downgrades_an_earlier_emergency(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker(slots={"topic": "crawling_backward", "age_months": 8.0, "referral": "urgent"})
    _, events = await run(ActionGiveAdvice(), tracker)
    assert slots_set(events)["referral"] == "urgent"


async def test_advice_after_goodbye_only_resets(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker(slots={"topic": "crawling_backward", "triage_state": {"topic": "crawling_backward", "stopped": True}})
    messages, events = await run(ActionGiveAdvice(), tracker)
    assert messages == [] and "referral" not in slots_set(events)


async def test_suggest_topic_offers_matches_from_full_text_search(make_tracker: Callable[..., Tracker]) -> None:
    messages, _ = await run(ActionSuggestTopic(), make_tracker(intent="nlu_fallback", text="shuffling hips hypermobility"))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles[0] == "Bottom scooting (shuffling)"  # the best match first (the topic's title), then weaker ones
    assert titles[-1] == "Something else"


async def test_suggest_topic_without_match_explains_scope(make_tracker: Callable[..., Tracker]) -> None:
    messages, _ = await run(ActionSuggestTopic(), make_tracker(intent="nlu_fallback", text="qwerty zzzz"))
    assert messages[0]["response"] == "utter_default"


async def test_out_of_scope_clears_the_topic(make_tracker: Callable[..., Tracker]) -> None:
    messages, events = await run(ActionHandleOutOfScope(), make_tracker(slots={"topic": "late_walking"}, intent="out_of_scope"))
    assert messages[0]["response"] == "utter_out_of_scope"
    assert slots_set(events) == {"topic": None}


async def test_milestone_question_starts_the_questions(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker(
        slots={"age_months": 10.0},
        intent="ask_milestone",
        active_loop="triage_form",
        text="is it normal that my 10 month old doesn't pull up yet?",
    )
    messages, events = await run(ValidateTriageForm(), tracker)
    slots = slots_set(events)
    assert slots["requested_slot"] == "weeks_early"
    assert slots["triage_state"]["topic"] == "milestone:pulls_to_stand" and slots["triage_state"]["not_yet"] is True
    assert "topic" not in slots  # set with the answer, from the milestone's topic
    assert "pull themselves up to standing" in messages[0]["text"]


async def test_milestone_answer_sets_referral_and_topic(make_tracker: Callable[..., Tracker]) -> None:
    state = {"topic": "milestone:pulls_to_stand", "not_yet": True}
    tracker = make_tracker(slots={"age_months": 13.0, "weeks_early": 0.0, "triage_state": state}, intent="inform", text="no")
    messages, events = await run(ActionGiveAdvice(), tracker)
    slots = slots_set(events)
    assert slots["referral"] == "provider" and slots["topic"] == "standing_alone"
    assert slots["advice_rules"] == ["milestone:pulls_to_stand"] and slots["triage_state"]["topic"] is None
    text = "\n".join(m["text"] for m in messages)
    assert "**Sources**" in text and "helpmegrowvc.org" in text and "At 13 months" in text


async def test_general_milestone_answer_leaves_referral_unset(make_tracker: Callable[..., Tracker]) -> None:
    state = {"topic": "milestone:walks", "skipped": ["age_months"]}
    tracker = make_tracker(slots={"triage_state": state}, intent="inform", text="just in general")
    messages, events = await run(ActionGiveAdvice(), tracker)
    slots = slots_set(events)
    assert "referral" not in slots and slots["topic"] == "late_walking"
    assert "8.2 and 17.6 months" in "\n".join(m["text"] for m in messages)


async def test_a_reply_classified_as_another_topic_stays_an_answer(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker(
        slots={
            "topic": "standing_alone",
            "age_months": 14.0,
            "weeks_early": 0.0,
            "requested_slot": "pulls_to_stand",
            "triage_state": {"topic": "late_walking"},
        },
        intent="ask_standing_alone",
        text="yes, she stands for ages holding my fingers",
        active_loop="triage_form",
    )
    messages, events = await run(ValidateTriageForm(), tracker)
    slots = slots_set(events)
    assert slots["pulls_to_stand"] == "yes" and slots["topic"] == "late_walking"
    assert slots["requested_slot"] == "stands_alone_seconds"


@pytest.mark.parametrize("referral, kept", [("urgent", "urgent"), ("provider", None), (None, None), ({"x": 1}, None)])
async def test_start_over_resets_but_keeps_an_urgent_referral(
    make_tracker: Callable[..., Tracker], referral: Any, kept: Any
) -> None:
    from actions.start_over import ActionStartOver

    tracker = make_tracker(
        slots={"referral": referral, "topic": "late_walking", "age_months": 14.0}, intent="restart", text="start over"
    )
    messages, events = await run(ActionStartOver(), tracker)
    assert [m["response"] for m in messages] == ["utter_restart"]
    assert events[0]["event"] == "restart"
    assert slots_set(events[1:]) == {"referral": kept}


@pytest.mark.parametrize("text", ["no, sorry, she's 13 months", "no she was born at 30 weeks", "yes but he drags one leg"])
async def test_a_correction_after_was_this_helpful_is_a_correction_not_a_vote(
    make_tracker: Callable[..., Tracker], text: str
) -> None:
    tracker = make_tracker(slots=ADVISED_LATE_WALKING, text=text, events=ASKED_FEEDBACK)
    _, events = await run(ActionUpdateFacts(), tracker)
    slots = slots_set(events)
    assert "feedback" not in slots
    assert {"age_months", "weeks_early", "observations"} & set(slots)
