"""Compose tailored advice for a topic from the caregiver's answers: why, what to try, when to get help, sources."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.contract import OBSERVATION_PREFIX
from bot.knowledge.documents import Rule, Source, Topic
from bot.knowledge.messages import say
from bot.nlu.observations import ObservationCatalogue
from bot.triage.age import AgeUsed, describe_months
from bot.triage.rules import Decision, decide, higher

OLDEST_COVERED_MONTHS = 36.0


def carried_referral(own: str, previous_referral: Optional[str]) -> Tuple[str, str]:
    """The referral and its closing line: an emergency earlier in the conversation is never downgraded."""
    if previous_referral == "urgent" and own != "urgent":
        return "urgent", say("advice.urgent_earlier")
    return own, say(f"advice.referral.{own}")


@dataclass(frozen=True)
class Message:
    """One chat message: Markdown text, optional quick-reply buttons."""

    text: str
    buttons: Tuple[Dict[str, str], ...] = ()


@dataclass(frozen=True)
class Advice:
    """Everything the assistant says when it gives advice, plus what goes in the tracker."""

    topic_id: str
    referral: str
    rule_ids: Tuple[str, ...]
    messages: Tuple[Message, ...]


def describe_age(age: AgeUsed) -> Optional[str]:
    """A sentence saying which age the advice used, e.g. corrected for prematurity."""
    if age.actual_months is None:
        return None
    actual = describe_months(age.actual_months)
    if age.corrected and age.months is not None and age.weeks_early is not None:
        return say("advice.age_corrected", corrected=describe_months(age.months), actual=actual, weeks_early=age.weeks_early)
    return say("advice.age_actual", age=actual)


def _compact(text: str) -> str:
    """One chat bubble per message: channels split text on blank lines, so keep single line breaks only."""
    return re.sub(r"\n\s*\n+", "\n", text.strip())


def sources_text(sources: Tuple[Source, ...]) -> str:
    """A Markdown list of sources: title and link."""
    return say("advice.sources") + "\n" + "\n".join(f"- [{s.title}]({s.url})" for s in sources)


@dataclass(frozen=True)
class Signs:
    """Observations described in the conversation that are signs in every topic, with their advice and sources."""

    referral: str
    rule_ids: Tuple[str, ...]
    lines: Tuple[str, ...]
    sources: Tuple[Source, ...]
    slots: Tuple[Tuple[str, ...], ...] = ()  # per line: the question slots the sign answers

    def plus(self, other: Signs) -> Signs:
        """Both sets of signs: the higher referral, every rule id, each sentence once. A sentence of `other` about
        questions a sentence here already speaks to is left out (the description says it in its own words)."""
        lines, slots = list(self.lines), list(self.slots or ((),) * len(self.lines))
        spoken = {slot for line_slots in slots for slot in line_slots}
        for line, line_slots in zip(other.lines, other.slots or ((),) * len(other.lines), strict=False):
            if line not in lines and not (line_slots and set(line_slots) <= spoken):
                lines.append(line)
                slots.append(line_slots)
        return Signs(
            higher(self.referral, other.referral),
            self.rule_ids + other.rule_ids,
            tuple(lines),
            self.sources + other.sources,
            tuple(slots),
        )

    def beyond(self, covered: Sequence[str]) -> Tuple[str, ...]:
        """The lines a topic's own rules don't already say: a sign whose answer a matched rule used is covered."""
        if not self.slots:
            return self.lines
        return tuple(
            line for line, slots in zip(self.lines, self.slots, strict=False) if not (slots and set(slots) <= set(covered))
        )


def signs_from(catalogue: Optional[ObservationCatalogue], observed: Sequence[str]) -> Signs:
    """The referral, advice sentences and sources that the observed signs call for, whatever the topic."""
    referral, ids, lines, sources, slots = "none", [], [], [], []
    for obs_id in dict.fromkeys(observed):
        observation = catalogue.observations.get(obs_id) if catalogue else None
        if observation is None or not observation.referral:
            continue
        referral = higher(referral, observation.referral)
        ids.append(OBSERVATION_PREFIX + observation.id)
        if observation.say and observation.say not in lines:
            lines.append(observation.say)
            slots.append(tuple(observation.answers))
        sources += [catalogue.source(key) for key in observation.sources]  # type: ignore[union-attr]
    return Signs(referral, tuple(ids), tuple(lines), tuple(sources), tuple(slots))


def merge_sources(*groups: Sequence[Source]) -> Tuple[Source, ...]:
    """Sources in order, each address once."""
    seen: Dict[str, Source] = {}
    for group in groups:
        for source in group:
            seen.setdefault(source.url, source)
    return tuple(seen.values())


def shown_rules(rules: Sequence[Rule], referral: str) -> Tuple[Rule, ...]:
    """One message per situation: once a provider or urgent referral applies, reassurance written for "none" is not
    shown (a rule marked always_shown, such as "ask for a hip check at the next visit", still is)."""
    if referral == "none":
        return tuple(rules)
    return tuple(rule for rule in rules if rule.referral != "none" or rule.always_shown)


def compose_advice(
    topic: Topic,
    answers: Mapping[str, Any],
    previous_referral: Optional[str] = None,
    signs: Optional[Signs] = None,
    summary: Optional[str] = None,
    changed: Optional[str] = None,
) -> Advice:
    """Decide the referral from the topic's rules and the observed signs, and build the advice messages.

    `summary` says back the facts used ("From what you've told me: ..."); `changed` opens advice given again
    after a correction ("Thanks — I've updated that: ...").
    """
    decision: Decision = decide(topic, answers)
    signs = signs or Signs("none", (), (), ())
    referral, referral_line = carried_referral(higher(decision.referral, signs.referral), previous_referral)
    messages: List[Message] = []
    if changed:
        messages.append(Message(f"{changed} {say('advice.again')}"))
    if summary:
        messages.append(Message(summary))
    older = decision.age.actual_months is not None and decision.age.actual_months > OLDEST_COVERED_MONTHS
    intro = [
        say("advice.intro", topic=topic.title.lower()),
        describe_age(decision.age),
        say("advice.older_child") if older else None,
    ]
    messages.append(Message(" ".join(line for line in intro if line)))
    covered = [c.slot for rule in decision.rules if rule.referral != "none" for c in rule.conditions]
    tailored = [rule.say for rule in shown_rules(decision.rules, referral)] + list(signs.beyond(covered))
    messages.append(Message(_compact("\n\n".join([say("advice.for_your_child"), *tailored, referral_line]))))
    for key in ("why", "try", "when"):
        section = topic.section(key)
        if section:
            messages.append(Message(_compact(f"**{section.heading}**\n{section.body}")))
    messages.append(Message(sources_text(merge_sources(topic.sources, signs.sources))))
    messages.append(Message(closing_line()))
    return Advice(
        topic_id=topic.id,
        referral=referral,
        rule_ids=tuple(rule.id for rule in decision.rules) + signs.rule_ids,
        messages=tuple(messages),
    )


def closing_line(more: str = "") -> str:
    """The line that ends every answer: "not a diagnosis", then `more` (else "anything else you'd like to ask?")."""
    return f"{say('advice.not_a_diagnosis')} {more or say('advice.anything_else')}"
