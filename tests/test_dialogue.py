"""The follow-up question plan: only the questions that matter, re-asks, skips, interruptions."""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest

from bot.knowledge.store import KnowledgeBase
from bot.triage import dialogue
from bot.triage.dialogue import TriageState


def empty(kb: KnowledgeBase, **given: Any) -> Dict[str, Any]:
    answers: Dict[str, Any] = {slot: None for slot in kb.questions}
    answers.update(given)
    return answers


def test_start_skips_questions_already_answered(kb: KnowledgeBase) -> None:
    turn = dialogue.start(kb.topic("late_walking"), kb.questions, empty(kb, age_months=12), TriageState())
    assert turn.next_slot == "weeks_early"  # age from the first message is never asked again
    assert turn.state.topic == "late_walking"
    assert "I can help with **not walking yet**" in turn.messages[0].text  # the topic's own title
    assert turn.messages[-1].text == kb.questions["weeks_early"].ask


def test_born_early_not_asked_past_two_years(kb: KnowledgeBase) -> None:
    turn = dialogue.start(kb.topic("late_walking"), kb.questions, empty(kb, age_months=30), TriageState())
    assert turn.next_slot == "pulls_to_stand"


def test_only_the_topics_questions_are_asked(kb: KnowledgeBase) -> None:
    topic = kb.topic("crawling_backward")
    answers = empty(kb)
    state = TriageState()
    asked = []
    turn = dialogue.start(topic, kb.questions, answers, state)
    replies = {"age_months": "ten and a half months", "weeks_early": "no", "alternating_crawl": "yes", "uses_both_sides": "yes"}
    while turn.next_slot:
        asked.append(turn.next_slot)
        answers.update(turn.answers)
        turn = dialogue.handle_reply(topic, kb.questions, turn.next_slot, "inform", replies[turn.next_slot], answers, turn.state)
    answers.update(turn.answers)
    assert asked == ["age_months", "weeks_early", "alternating_crawl", "uses_both_sides"]
    assert answers["age_months"] == 10.5 and answers["alternating_crawl"] == "yes"


def test_unusable_answer_is_reasked_once_then_skipped(kb: KnowledgeBase) -> None:
    topic = kb.topic("late_walking")
    state = TriageState(topic="late_walking")
    first = dialogue.handle_reply(topic, kb.questions, "stands_alone_seconds", "inform", "purple", empty(kb), state)
    assert first.next_slot == "stands_alone_seconds"
    assert "For example" in first.messages[0].text
    second = dialogue.handle_reply(topic, kb.questions, "stands_alone_seconds", "inform", "purple", empty(kb), first.state)
    assert "stands_alone_seconds" in second.state.skipped
    assert second.next_slot != "stands_alone_seconds"
    assert second.answers == {}


def test_not_sure_is_unknown_without_reask(kb: KnowledgeBase) -> None:
    topic = kb.topic("late_walking")
    turn = dialogue.handle_reply(
        topic, kb.questions, "age_months", "inform", "not sure", empty(kb), TriageState(topic="late_walking")
    )
    # without an age there is no corrected age to work out, so "born early?" is not asked either
    assert "age_months" in turn.state.skipped and turn.next_slot == "pulls_to_stand"


def test_born_early_asked_only_where_age_matters(kb: KnowledgeBase) -> None:
    hips = kb.topic("hip_health")  # no rule depends on age
    assert not any(c.slot == "corrected_age_months" for r in hips.rules for c in r.conditions)
    assert dialogue.next_question(hips, empty(kb, age_months=5), TriageState()) != "weeks_early"
    walking = kb.topic("late_walking")
    assert dialogue.next_question(walking, empty(kb, age_months=14), TriageState()) == "weeks_early"
    assert dialogue.next_question(walking, empty(kb, age_months=26), TriageState()) == "pulls_to_stand"


def test_yes_means_born_early_and_asks_how_many_weeks(kb: KnowledgeBase) -> None:
    topic = kb.topic("late_walking")
    turn = dialogue.handle_reply(
        topic, kb.questions, "weeks_early", "inform", "yes", empty(kb, age_months=14), TriageState(topic="late_walking")
    )
    assert turn.next_slot == "weeks_early" and "how many weeks" in turn.messages[0].text.lower()
    done = dialogue.handle_reply(
        topic, kb.questions, "weeks_early", "inform", "6 weeks early", empty(kb, age_months=14), turn.state
    )
    assert done.answers == {"weeks_early": 6.0}


def test_why_do_you_ask_explains_and_repeats(kb: KnowledgeBase) -> None:
    topic = kb.topic("bottom_scooting")
    turn = dialogue.handle_reply(
        topic, kb.questions, "hips_checked", "ask_why", "why do you ask?", empty(kb), TriageState(topic="bottom_scooting")
    )
    assert turn.messages[0].text == kb.questions["hips_checked"].why
    assert kb.questions["hips_checked"].ask in turn.messages[1].text
    assert turn.next_slot == "hips_checked" and turn.answers == {}


def test_request_for_a_person_is_recorded_and_form_continues(kb: KnowledgeBase) -> None:
    topic = kb.topic("bottom_scooting")
    turn = dialogue.handle_reply(
        topic,
        kb.questions,
        "age_months",
        "request_human",
        "can I talk to a person",
        empty(kb),
        TriageState(topic="bottom_scooting"),
    )
    assert turn.human_requested and turn.next_slot == "age_months"
    assert "support team" in turn.messages[0].text


def test_switching_topic_keeps_known_answers(kb: KnowledgeBase) -> None:
    state = TriageState(topic="crawling_backward", skipped=("alternating_crawl",))
    turn = dialogue.start(kb.topic("bottom_scooting"), kb.questions, empty(kb, age_months=11, weeks_early=0), state)
    assert "let's look at **bottom scooting (shuffling)** instead" in turn.messages[0].text  # the new topic, by title
    assert turn.state.topic == "bottom_scooting" and turn.state.skipped == ()
    assert turn.next_slot == "uses_both_sides"


def test_goodbye_stops_the_questions(kb: KnowledgeBase) -> None:
    turn = dialogue.handle_reply(
        kb.topic("late_walking"), kb.questions, "age_months", "goodbye", "bye", empty(kb), TriageState(topic="late_walking")
    )
    assert turn.next_slot is None and turn.state.stopped


def test_state_round_trips_and_tolerates_garbage() -> None:
    state = TriageState(topic="x", skipped=("a",), failures=(("b", 1),), stopped=True)
    assert TriageState.from_dict(state.to_dict()) == state
    assert TriageState.from_dict("nonsense") == TriageState()
    assert TriageState.from_dict(None) == TriageState()


def test_facts_said_in_passing_are_not_asked_again(kb: KnowledgeBase) -> None:
    topic = kb.topic("late_walking")
    turn = dialogue.start(
        topic, kb.questions, empty(kb, age_months=16), TriageState(), text="my 16 month old was born 6 weeks early"
    )
    assert turn.answers == {"weeks_early": 6.0} and turn.next_slot == "pulls_to_stand"
    reply = dialogue.handle_reply(
        topic,
        kb.questions,
        "pulls_to_stand",
        "inform",
        "yes, and she stands for a couple of seconds",
        empty(kb, age_months=16, weeks_early=0),
        turn.state,
    )
    assert reply.answers == {"pulls_to_stand": "yes", "stands_alone_seconds": 2.0}
    assert reply.next_slot == "uses_both_sides"


def test_durations_not_about_standing_are_ignored(kb: KnowledgeBase) -> None:
    topic = kb.topic("late_walking")
    reply = dialogue.handle_reply(
        topic,
        kb.questions,
        "pulls_to_stand",
        "inform",
        "yes, for about 5 minutes a day of tummy time",
        empty(kb, age_months=16, weeks_early=0),
        TriageState(topic="late_walking"),
    )
    assert "stands_alone_seconds" not in reply.answers


# --------------------------------------------------------------------------- answers read by what they say (issue 11)


def reply(kb: KnowledgeBase, topic_id: str, slot: str, text: str, intent: str = "inform", **given: Any) -> dialogue.Turn:
    return dialogue.handle_reply(
        kb.topic(topic_id), kb.questions, slot, intent, text, empty(kb, **given), TriageState(topic=topic_id)
    )


def test_a_description_answers_by_its_content(kb: KnowledgeBase) -> None:
    turn = reply(
        kb,
        "late_walking",
        "uses_both_sides",
        "he always reaches with his left, the right hand stays tucked in a fist",
        age_months=15,
    )
    assert turn.answers["uses_both_sides"] == "no"  # "always" is not a yes here


def test_none_standing_with_an_idiom_is_zero_seconds(kb: KnowledgeBase) -> None:
    turn = reply(kb, "late_walking", "stands_alone_seconds", "none, she sits back down the second I let go", age_months=15)
    assert turn.answers["stands_alone_seconds"] == 0.0


def test_a_correction_mid_questions_replaces_the_age_and_asks_again(kb: KnowledgeBase) -> None:
    turn = reply(kb, "late_walking", "weeks_early", "sorry, he's 17 months not 11", age_months=11)
    assert turn.answers == {"age_months": 17.0}  # not read as "no" to "born early?"
    assert turn.next_slot == "weeks_early"
    assert "17 months" in turn.messages[0].text and "11 months" in turn.messages[0].text
    assert turn.changes and turn.changes[0].slot == "age_months"


def test_facts_in_passing_fill_every_question_they_answer(kb: KnowledgeBase) -> None:
    text = "my 15 month old had his hips scanned at 6 weeks and they were fine, he doesn't pull up yet"
    turn = dialogue.start(kb.topic("late_walking"), kb.questions, empty(kb), TriageState(), text=text)
    assert turn.answers["age_months"] == 15.0 and turn.answers["hips_checked"] == "yes"
    assert turn.answers["pulls_to_stand"] == "no"
    assert turn.next_slot == "weeks_early"


@pytest.mark.parametrize(
    "text, next_slot, stopped",
    [
        ("can you say that again?", "uses_both_sides", False),
        ("skip that one", "hips_checked", False),
        ("forget it, different question", None, True),
    ],
)
def test_repair_requests_in_the_questions(kb: KnowledgeBase, text: str, next_slot: Optional[str], stopped: bool) -> None:
    turn = reply(
        kb, "late_walking", "uses_both_sides", text, age_months=15, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=5
    )
    assert turn.next_slot == next_slot and turn.state.stopped is stopped
    assert turn.answers == {}
    if next_slot == "uses_both_sides":
        assert kb.questions["uses_both_sides"].ask in turn.messages[-1].text


def test_an_unclear_description_gets_a_narrower_question(kb: KnowledgeBase) -> None:
    turn = reply(kb, "late_walking", "uses_both_sides", "hmm it's hard to explain, she's a funny little thing", age_months=15)
    question = kb.questions["uses_both_sides"]
    assert turn.next_slot == "uses_both_sides" and question.clarify is not None
    assert question.clarify.text in turn.messages[0].text
    assert [b["title"] for b in turn.messages[0].buttons] == [b["title"] for b in question.clarify.buttons]


def test_a_fact_that_is_not_the_answer_is_kept_and_the_question_asked_again(kb: KnowledgeBase) -> None:
    turn = reply(kb, "late_walking", "weeks_early", "she pulls herself up on the sofa all the time", age_months=14)
    assert turn.answers == {"pulls_to_stand": "yes"} and turn.next_slot == "weeks_early"
    assert "I've noted that" in turn.messages[0].text  # kept, and asked again (once: a second miss moves on)


def test_an_other_persons_facts_are_not_the_childs(kb: KnowledgeBase) -> None:
    turn = reply(kb, "late_walking", "weeks_early", "full term, my sister's baby was born at 26 weeks though", age_months=14)
    assert turn.answers == {"weeks_early": 0.0}
    opening = dialogue.start(
        kb.topic("late_walking"),
        kb.questions,
        empty(kb),
        TriageState(),
        text="my 15 month old isn't walking, her brother walked at 17 months",
    )
    assert opening.answers["age_months"] == 15.0


def test_a_lone_amount_answers_the_number_question_only(kb: KnowledgeBase) -> None:
    turn = reply(kb, "crawling_backward", "weeks_early", "5 weeks", age_months=10)
    assert turn.answers == {"weeks_early": 5.0}  # not also an age of 5 weeks


@pytest.mark.parametrize("text", ["ya", "seems even to me", "ya breach"])
def test_a_short_answer_taken_for_a_goodbye_is_still_an_answer(kb: KnowledgeBase, text: str) -> None:
    turn = reply(kb, "hip_health", "breech" if "breach" in text else "uses_both_sides", text, intent="goodbye")
    assert not turn.state.stopped and turn.answers


def test_a_real_goodbye_still_stops(kb: KnowledgeBase) -> None:
    assert reply(kb, "late_walking", "pulls_to_stand", "ok bye for now", intent="goodbye").state.stopped
