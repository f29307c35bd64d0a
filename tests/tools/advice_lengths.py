"""How long the advice is, per topic and referral level: `python -m tests.tools.advice_lengths`.

The advice is composed in-process (bot.triage.respond.advise, no server) for many sets of answers per topic:
every question answered plainly, each rule's conditions met (the rest answered plainly), every question answered
"not sure", every question answered with its warning value, and signs described in passing (each observation
with a referral). Words are counted as a parent reads them: a Markdown link counts its title, not its address.
The same scenarios drive tests/test_advice_length.py, so the limits there hold for all of them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from bot.knowledge.documents import Condition, Question, Topic
from bot.knowledge.store import KnowledgeBase, get_knowledge_base
from bot.nlu.observations import ObservationCatalogue, default_catalogue
from bot.triage.respond import Outcome, advise
from bot.triage.rules import condition_holds, facts_from_answers

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+(?:['’.,-][0-9A-Za-z\u00C0-\u024F]+)*")
PLAIN_AGES = (9.0, 12.0, 6.0, 15.0, 20.0, 4.0, 30.0)


def words(text: str) -> int:
    """Words a parent reads: link titles count, addresses and Markdown marks don't."""
    return len(_WORD.findall(_LINK.sub(r"\1", text)))


def links(text: str) -> int:
    """Markdown links in a text."""
    return len(_LINK.findall(text))


@dataclass(frozen=True)
class Scenario:
    """Answers and described signs for one topic, and what they are meant to show."""

    topic: str
    name: str
    answers: Mapping[str, Any]
    observed: Tuple[str, ...] = ()
    previous_referral: Optional[str] = None


def _plain_value(question: Question) -> Any:
    if question.type == "weeks_early":
        return 0.0
    if question.type == "seconds":
        return 30.0
    if question.type == "months":
        return None
    return question.all_clear


def _warning_value(question: Question) -> Any:
    if question.type == "weeks_early":
        return 10.0
    if question.type == "seconds":
        return 0.0
    if question.type == "months":
        return None
    return {"yes": "no", "no": "yes"}.get(question.all_clear, "unsure")


def _satisfying(condition: Condition) -> Any:
    value = condition.value
    if condition.op in ("eq", "gte", "lte"):
        return value
    if condition.op == "in":
        return value[0]
    if condition.op == "gt":
        return value + 1
    if condition.op == "lt":
        return max(value - 1, 0)
    if condition.op == "ne":
        return "unsure" if value != "unsure" else "yes"
    if condition.op == "known":
        return "yes" if value else None
    return value


def _meet(topic: Topic, conditions: Sequence[Condition], base: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    answers = dict(base)
    for condition in conditions:
        slot = "age_months" if condition.slot == "corrected_age_months" else condition.slot
        value = _satisfying(condition)
        if slot == "age_months" and condition.slot == "corrected_age_months":
            answers["weeks_early"] = 0.0
        answers[slot] = value
    facts, _ = facts_from_answers(answers)
    return answers if all(condition_holds(c, facts) for c in conditions) else None


def _with_age(topic: Topic, answers: Dict[str, Any], kb: KnowledgeBase) -> Dict[str, Any]:
    """A plain age for the topic: the first of PLAIN_AGES at which nothing calls for a check."""
    for age in PLAIN_AGES:
        trial = {**answers, "age_months": age}
        outcome = advise(topic.id, kb.topics, kb.questions, None, None, trial, safety_net=kb.safety_net)
        if outcome is not None and outcome.referral == "none":
            return trial
    return {**answers, "age_months": PLAIN_AGES[0]}


def scenarios(kb: KnowledgeBase, catalogue: Optional[ObservationCatalogue]) -> Iterator[Scenario]:
    """Every scenario for every topic (see the module docstring)."""
    for topic in kb.topics.values():
        asked = [kb.questions[q] for q in topic.questions if q in kb.questions]
        plain = _with_age(topic, {q.slot: _plain_value(q) for q in asked}, kb)
        yield Scenario(topic.id, "plain", plain)
        yield Scenario(topic.id, "emergency earlier", plain, previous_referral="urgent")
        yield Scenario(topic.id, "not sure", {**plain, **{q.slot: "unsure" for q in asked if q.type == "yes_no_unsure"}})
        yield Scenario(topic.id, "warnings", {**plain, **{q.slot: _warning_value(q) for q in asked if q.type != "months"}})
        for rule in topic.rules:
            met = _meet(topic, rule.conditions, plain)
            if met is not None:
                yield Scenario(topic.id, f"rule {rule.id}", met)
        for observation in catalogue.observations.values() if catalogue else ():
            if observation.referral in ("provider", "urgent"):
                yield Scenario(topic.id, f"described {observation.id}", plain, (observation.id,))


def outcome_of(scenario: Scenario, kb: KnowledgeBase, catalogue: Optional[ObservationCatalogue]) -> Outcome:
    """The advice a scenario gets."""
    outcome = advise(
        scenario.topic,
        kb.topics,
        kb.questions,
        kb.milestones,
        catalogue,
        scenario.answers,
        observed=scenario.observed,
        previous_referral=scenario.previous_referral,
        safety_net=kb.safety_net,
    )
    assert outcome is not None, scenario
    return outcome


def measure(outcome: Outcome) -> Dict[str, int]:
    """Messages, words (all, first message), characters and links of a reply."""
    texts = [m.text for m in outcome.messages]
    return {
        "messages": len(texts),
        "words": sum(words(t) for t in texts),
        "first_words": max((words(t) for t in texts[:1]), default=0),
        "chars": sum(len(t) for t in texts),
        "links": sum(links(t) for t in texts),
    }


def table(rows: List[Tuple[str, str, Dict[str, int], int]]) -> str:
    """Per topic and referral level: the largest reply among the scenarios (and how many scenarios)."""
    grouped: Dict[Tuple[str, str], List[Dict[str, int]]] = {}
    for topic, referral, figures, _ in rows:
        grouped.setdefault((topic, referral), []).append(figures)
    out = ["| topic | referral | scenarios | words (max) | words (median) | first message (max) | messages | links (max) |"]
    out.append("|---|---|---|---|---|---|---|---|")
    for (topic, referral), figures in sorted(grouped.items()):
        all_words = sorted(f["words"] for f in figures)
        out.append(
            f"| {topic} | {referral} | {len(figures)} | {all_words[-1]} | {all_words[len(all_words) // 2]} | "
            f"{max(f['first_words'] for f in figures)} | {max(f['messages'] for f in figures)} | "
            f"{max(f['links'] for f in figures)} |"
        )
    return "\n".join(out)


def main(argv: Sequence[str] = ()) -> int:
    """Print the table."""
    kb = get_knowledge_base()
    catalogue = default_catalogue()
    rows = []
    for scenario in scenarios(kb, catalogue):
        outcome = outcome_of(scenario, kb, catalogue)
        rows.append((scenario.topic, str(outcome.referral), measure(outcome), 0))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
