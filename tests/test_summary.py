"""Saying back what was understood, what a correction changed, and what happens to facts told after the questions."""

from __future__ import annotations

from typing import Any, Dict

from bot.knowledge.store import KnowledgeBase
from bot.nlu.observations import default_catalogue
from bot.nlu.understand import understand
from bot.triage.advice import compose_advice, signs_from
from bot.triage.conversation import after_questions
from bot.triage.dialogue import Change
from bot.triage.summary import changed_line, summary_line


def answers(kb: KnowledgeBase, **given: Any) -> Dict[str, Any]:
    known: Dict[str, Any] = {slot: None for slot in kb.questions}
    known.update(given)
    return known


def test_summary_says_back_every_fact_and_the_described_signs(kb: KnowledgeBase) -> None:
    observed = [default_catalogue().observations[o] for o in ("hand_fisted",)]
    line = summary_line(
        answers(kb, age_months=19, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=0, uses_both_sides="no"),
        kb.questions,
        observed,
    )
    assert line is not None
    assert line.startswith("From what you've told me: 19 months, born on time")
    assert "pulls up to stand" in line and "doesn't stand" in line
    assert observed[0].say_back in line  # the parent's own description, not just "favours one side"
    assert line.endswith("If I got something wrong, just tell me and I'll update it.")  # invites a correction


def test_nothing_known_means_no_summary(kb: KnowledgeBase) -> None:
    assert summary_line(answers(kb), kb.questions) is None


def test_changed_line_names_old_and_new(kb: KnowledgeBase) -> None:
    text = changed_line([Change("age_months", 11.0, 17.0), Change("weeks_early", None, 7.0)], kb.questions)
    assert "17 months (instead of 11 months)" in text and "born 7 weeks early" in text


def test_a_correction_after_the_advice_gives_it_again(kb: KnowledgeBase) -> None:
    reply = after_questions(
        understand("sorry, he's 17 months not 11"), answers(kb, age_months=11), kb.questions, [], [], advised=True
    )
    assert reply.advise_again and reply.updates == {"age_months": 17.0}
    assert reply.lead is not None and "17 months (instead of 11 months)" in reply.lead


def test_a_new_sign_after_the_advice_gives_it_again(kb: KnowledgeBase) -> None:
    reply = after_questions(
        understand("oh and he keeps his right hand in a fist"), answers(kb, age_months=11), kb.questions, [], [], advised=True
    )
    assert reply.advise_again and "hand_fisted" in reply.observed


def test_a_fact_before_any_topic_is_kept_and_the_topic_asked(kb: KnowledgeBase) -> None:
    reply = after_questions(understand("she's 14 months"), answers(kb), kb.questions, [], [], advised=False)
    assert not reply.advise_again and reply.updates == {"age_months": 14.0}
    assert "14 months" in reply.messages[0].text and "What would you like to know" in reply.messages[0].text


def test_repeat_after_the_questions_resends_the_last_messages(kb: KnowledgeBase) -> None:
    last = [{"text": "This is general information, not a diagnosis.", "buttons": []}]
    reply = after_questions(understand("can you say that again?"), answers(kb), kb.questions, [], last, advised=True)
    assert [m.text for m in reply.messages] == ["This is general information, not a diagnosis."]
    assert not reply.advise_again


def test_a_sign_the_topic_rule_already_covers_is_not_said_twice(kb: KnowledgeBase) -> None:
    signs = signs_from(default_catalogue(), ["one_side_favoured"])
    advice = compose_advice(kb.topic("late_walking"), answers(kb, age_months=15, uses_both_sides="no"), signs=signs)
    text = "\n".join(m.text for m in advice.messages)
    assert advice.referral == "provider"
    assert default_catalogue().observations["one_side_favoured"].say not in text  # the topic's own rule says it
    assert "observation:one_side_favoured" in advice.rule_ids


def test_a_sign_raises_the_referral_in_any_topic(kb: KnowledgeBase) -> None:
    signs = signs_from(default_catalogue(), ["stiff_scissoring_legs"])
    advice = compose_advice(
        kb.topic("crawling_backward"),
        answers(kb, age_months=8, weeks_early=0, alternating_crawl="yes", uses_both_sides="yes"),
        signs=signs,
    )
    assert advice.referral == "provider"
    assert default_catalogue().observations["stiff_scissoring_legs"].say in "\n".join(m.text for m in advice.messages)
