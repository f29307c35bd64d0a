"""The short answer: every topic, at every referral level, over many sets of answers (tests/tools/advice_lengths.py
scenarios), opens with at most 120 words and stays within 250 words with its sources; the rest of the topic's
content stays one tap away."""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Set, Tuple

import pytest

from bot.knowledge.store import KnowledgeBase
from bot.nlu.observations import default_catalogue
from bot.triage.advice import word_count
from bot.triage.respond import Outcome
from tests.tools.advice_lengths import Scenario, outcome_of, scenarios


@pytest.fixture(scope="module")
def advised(kb: KnowledgeBase) -> List[Tuple[Scenario, Outcome]]:
    catalogue = default_catalogue()
    return [(scenario, outcome_of(scenario, kb, catalogue)) for scenario in scenarios(kb, catalogue)]


def test_the_words_a_parent_reads_are_counted_without_addresses() -> None:
    assert word_count("**Sources**\n- [Delay in walking](https://patient.info/doctor/delay-in-walking)") == 4
    assert word_count("Isn't walking by 18 months, e.g. 17.5 months") == 8


def test_every_topic_is_measured_at_every_referral_level(advised: List[Tuple[Scenario, Outcome]]) -> None:
    levels: Dict[str, Set[str]] = defaultdict(set)
    for scenario, outcome in advised:
        levels[scenario.topic].add(str(outcome.referral))
    assert len(levels) == 10
    assert all(found == {"none", "provider", "urgent"} for found in levels.values()), dict(levels)


def test_the_first_message_is_at_most_120_words_and_the_answer_at_most_250(advised: List[Tuple[Scenario, Outcome]]) -> None:
    too_long = []
    for scenario, outcome in advised:
        first = word_count(outcome.messages[0].text)
        total = sum(word_count(m.text) for m in outcome.messages)
        if first > 120 or total > 250:
            too_long.append(f"{scenario.topic} / {scenario.name}: first {first}, total {total}")
    assert len(advised) > 200
    assert not too_long, "\n".join(too_long[:10])


def test_the_answer_opens_with_the_verdict_and_ends_with_was_this_helpful(advised: List[Tuple[Scenario, Outcome]]) -> None:
    opening = {
        "none": "**From what you've told me, this looks on track.**",
        "provider": "**This is worth raising with your child's doctor, nurse or health visitor soon**",
        "urgent": "**What you told me earlier still needs medical help now**",
    }
    for scenario, outcome in advised:
        assert outcome.messages[0].text.startswith(opening[str(outcome.referral)]), scenario
        closing = outcome.messages[-1]
        assert closing.text.endswith("Was this helpful?")
        payloads = [b["payload"] for b in closing.buttons]
        assert payloads[:2] == ["Yes, this was helpful", "No, this wasn't helpful"]
        assert ("Make a summary for my appointment" in payloads) is (outcome.referral != "none")


def test_the_reason_for_a_referral_is_always_in_the_first_message(
    advised: List[Tuple[Scenario, Outcome]], kb: KnowledgeBase
) -> None:
    for scenario, outcome in advised:
        if outcome.referral != "provider":
            continue
        reasons = [r.say for r in kb.topics[scenario.topic].rules if r.id in outcome.rule_ids and r.referral == "provider"]
        if reasons:
            assert any(reason in outcome.messages[0].text for reason in reasons), scenario


def test_only_the_sources_behind_the_short_answer_are_listed(advised: List[Tuple[Scenario, Outcome]], kb: KnowledgeBase) -> None:
    for scenario, outcome in advised:
        topic = kb.topics[scenario.topic]
        listed = [m.text for m in outcome.messages if m.text.startswith("**Sources**")]
        if len(outcome.messages[0].text.splitlines()) == 1:  # the verdict alone (an earlier emergency): no sources
            assert not listed and outcome.referral == "urgent", scenario
            continue
        assert len(listed) == 1 and listed[0].count("](") >= 1
        assert listed[0].count("](") < len(topic.sources)
        steps = [topic.sources[[s.key for s in topic.sources].index(k)] for k in topic.first_steps[0].sources]
        if outcome.referral != "urgent":  # things to try come with their sources
            assert all(f"]({s.url})" in listed[0] for s in steps), scenario


def test_everything_left_out_is_one_tap_away(advised: List[Tuple[Scenario, Outcome]], kb: KnowledgeBase) -> None:
    for scenario, outcome in advised:
        topic = kb.topics[scenario.topic]
        parts = {part: "\n".join(m.text for m in messages) for part, messages in outcome.parts.items()}
        assert set(parts) == {"try", "why", "when", "sources"}
        for key in ("try", "why", "when"):
            section = topic.section(key)
            assert section is not None
            assert section.body.splitlines()[0] in parts[key]
        assert all(f"]({s.url})" in parts["sources"] for s in topic.sources)
        shown = outcome.messages[0].text + parts["when"]
        for rule in topic.rules:
            if rule.id in outcome.rule_ids and (outcome.referral == "none" or rule.referral != "none" or rule.always_shown):
                assert rule.say in shown, (scenario, rule.id)


def test_things_to_try_come_first_unless_it_is_urgent(advised: List[Tuple[Scenario, Outcome]]) -> None:
    least = {"none": 2, "provider": 1}
    for scenario, outcome in advised:
        steps = [line for line in outcome.messages[0].text.splitlines() if line.startswith("- ")]
        if outcome.referral == "urgent":
            assert not steps, scenario  # an emergency says only what to do now
        else:
            assert least[str(outcome.referral)] <= len(steps) <= 3, scenario
