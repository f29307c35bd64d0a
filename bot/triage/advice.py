"""Compose tailored advice for a topic from the caregiver's answers: why, what to try, when to get help, sources."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.contract import OBSERVATION_PREFIX
from bot.knowledge.documents import Rule, Source, Topic
from bot.nlu.observations import ObservationCatalogue
from bot.triage.age import AgeUsed, describe_months
from bot.triage.rules import Decision, decide, higher

OLDEST_COVERED_MONTHS = 36.0

REFERRAL_LINES = {
    "provider": (
        "**My suggestion: talk to your child's doctor, nurse or health visitor about this** — not as an "
        "emergency, but soon, so someone can look at how your child moves."
    ),
    "none": (
        "From what you've told me, nothing points to needing a check right now. Keep an eye on progress, "
        "and trust your instinct: if you are worried, it is always fine to ask your provider."
    ),
    "urgent": "**Please get medical help now.** In an emergency, call your local emergency number.",
}
# When this question alone would not be urgent but something earlier in the conversation was.
URGENT_EARLIER_LINE = (
    "**What you told me earlier still needs medical help now**, if your child has not been seen since. "
    "In an emergency, call your local emergency number."
)


def carried_referral(own: str, previous_referral: Optional[str]) -> Tuple[str, str]:
    """The referral and its closing line: an emergency earlier in the conversation is never downgraded."""
    if previous_referral == "urgent" and own != "urgent":
        return "urgent", URGENT_EARLIER_LINE
    return own, REFERRAL_LINES[own]


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
    age: AgeUsed
    messages: Tuple[Message, ...]
    sources: Tuple[Source, ...] = field(default=())


def describe_age(age: AgeUsed) -> Optional[str]:
    """A sentence saying which age the advice used, e.g. corrected for prematurity."""
    if age.actual_months is None:
        return None
    actual = describe_months(age.actual_months)
    if age.corrected and age.months is not None:
        return (
            f"I used a corrected age of **{describe_months(age.months)}** (your child is {actual} old and was born "
            f"about {age.weeks_early:g} weeks early; for babies born more than 3 weeks early, milestones are "
            "judged by corrected age until about 2 years)."
        )
    return f"I used your child's age: **{actual}**."


def _compact(text: str) -> str:
    """One chat bubble per message: channels split text on blank lines, so keep single line breaks only."""
    return re.sub(r"\n\s*\n+", "\n", text.strip())


def sources_text(sources: Tuple[Source, ...]) -> str:
    """A Markdown list of sources: title and link."""
    return "**Sources**\n" + "\n".join(f"- [{s.title}]({s.url})" for s in sources)


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
        messages.append(Message(f"{changed} Here is my advice again, for what you've told me now."))
    if summary:
        messages.append(Message(summary))
    intro = f"Thanks — here is what I can tell you about **{topic.title.lower()}**."
    age_line = describe_age(decision.age)
    if age_line:
        intro += " " + age_line
    if decision.age.actual_months is not None and decision.age.actual_months > OLDEST_COVERED_MONTHS:
        intro += (
            " My information is about babies and toddlers up to about 3 years, so please check with your "
            "child's doctor about an older child."
        )
    messages.append(Message(intro))
    covered = [c.slot for rule in decision.rules if rule.referral != "none" for c in rule.conditions]
    tailored = [rule.say for rule in shown_rules(decision.rules, referral)] + list(signs.beyond(covered))
    messages.append(Message(_compact("\n\n".join(["**For your child**", *tailored, referral_line]))))
    for key in ("why", "try", "when"):
        section = topic.section(key)
        if section:
            messages.append(Message(_compact(f"**{section.heading}**\n{section.body}")))
    messages.append(Message(sources_text(merge_sources(topic.sources, signs.sources))))
    messages.append(Message("This is general information, not a diagnosis. Is there anything else you'd like to ask?"))
    return Advice(
        topic_id=topic.id,
        referral=referral,
        rule_ids=tuple(rule.id for rule in decision.rules) + signs.rule_ids,
        age=decision.age,
        messages=tuple(messages),
        sources=topic.sources,
    )
