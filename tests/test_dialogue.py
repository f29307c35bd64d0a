"""The follow-up question plan: only the questions that matter, re-asks, skips, interruptions."""

from __future__ import annotations

from typing import Any, Dict

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
    assert "late" in turn.messages[0].text.lower() or "walk" in turn.messages[0].text.lower()
    assert turn.messages[-1].text == kb.question("weeks_early").ask


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
    turn = dialogue.handle_reply(topic, kb.questions, "age_months", "inform", "not sure", empty(kb), TriageState(topic="late_walking"))
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
    turn = dialogue.handle_reply(topic, kb.questions, "weeks_early", "inform", "yes", empty(kb, age_months=14), TriageState(topic="late_walking"))
    assert turn.next_slot == "weeks_early" and "how many weeks" in turn.messages[0].text.lower()
    done = dialogue.handle_reply(topic, kb.questions, "weeks_early", "inform", "6 weeks early", empty(kb, age_months=14), turn.state)
    assert done.answers == {"weeks_early": 6.0}


def test_why_do_you_ask_explains_and_repeats(kb: KnowledgeBase) -> None:
    topic = kb.topic("bottom_scooting")
    turn = dialogue.handle_reply(topic, kb.questions, "hips_checked", "ask_why", "why do you ask?", empty(kb), TriageState(topic="bottom_scooting"))
    assert turn.messages[0].text == kb.question("hips_checked").why
    assert kb.question("hips_checked").ask in turn.messages[1].text
    assert turn.next_slot == "hips_checked" and turn.answers == {}


def test_request_for_a_person_is_recorded_and_form_continues(kb: KnowledgeBase) -> None:
    topic = kb.topic("bottom_scooting")
    turn = dialogue.handle_reply(topic, kb.questions, "age_months", "request_human", "can I talk to a person", empty(kb), TriageState(topic="bottom_scooting"))
    assert turn.human_requested and turn.next_slot == "age_months"
    assert "support team" in turn.messages[0].text


def test_switching_topic_keeps_known_answers(kb: KnowledgeBase) -> None:
    state = TriageState(topic="crawling_backward", skipped=("alternating_crawl",))
    turn = dialogue.start(kb.topic("bottom_scooting"), kb.questions, empty(kb, age_months=11, weeks_early=0), state)
    assert "instead" in turn.messages[0].text
    assert turn.state.topic == "bottom_scooting" and turn.state.skipped == ()
    assert turn.next_slot == "uses_both_sides"


def test_goodbye_stops_the_questions(kb: KnowledgeBase) -> None:
    turn = dialogue.handle_reply(kb.topic("late_walking"), kb.questions, "age_months", "goodbye", "bye", empty(kb), TriageState(topic="late_walking"))
    assert turn.next_slot is None and turn.state.stopped


def test_state_round_trips_and_tolerates_garbage() -> None:
    state = TriageState(topic="x", skipped=("a",), failures=(("b", 1),), stopped=True)
    assert TriageState.from_dict(state.to_dict()) == state
    assert TriageState.from_dict("nonsense") == TriageState()
    assert TriageState.from_dict(None) == TriageState()


def test_facts_said_in_passing_are_not_asked_again(kb: KnowledgeBase) -> None:
    topic = kb.topic("late_walking")
    turn = dialogue.start(topic, kb.questions, empty(kb, age_months=16), TriageState(), text="my 16 month old was born 6 weeks early")
    assert turn.answers == {"weeks_early": 6.0} and turn.next_slot == "pulls_to_stand"
    reply = dialogue.handle_reply(
        topic, kb.questions, "pulls_to_stand", "inform", "yes, and she stands for a couple of seconds", empty(kb, age_months=16, weeks_early=0), turn.state
    )
    assert reply.answers == {"pulls_to_stand": "yes", "stands_alone_seconds": 2.0}
    assert reply.next_slot == "uses_both_sides"


def test_durations_not_about_standing_are_ignored(kb: KnowledgeBase) -> None:
    topic = kb.topic("late_walking")
    reply = dialogue.handle_reply(
        topic, kb.questions, "pulls_to_stand", "inform", "yes, for about 5 minutes a day of tummy time", empty(kb, age_months=16, weeks_early=0), TriageState(topic="late_walking")
    )
    assert "stands_alone_seconds" not in reply.answers
