"""Compose tailored advice for a topic from the caregiver's answers: why, what to try, when to get help, sources."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.contract import OBSERVATION_PREFIX, REFERRAL_LEVELS
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
    parts: Mapping[str, Tuple[Message, ...]] = field(default_factory=dict)  # MORE_PARTS -> messages


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


def sources_text(sources: Sequence[Source], heading: str = "") -> str:
    """A Markdown list of sources: title and link."""
    return (heading or say("advice.sources")) + "\n" + "\n".join(f"- [{s.title}]({s.url})" for s in sources)


@dataclass(frozen=True)
class Point:
    """One tailored sentence of the advice: its referral level, the sources it rests on, the answers it speaks to."""

    text: str
    referral: str
    sources: Tuple[Source, ...] = ()
    slots: Tuple[str, ...] = ()
    always_shown: bool = False


@dataclass(frozen=True)
class Signs:
    """Observations described in the conversation that are signs in every topic, with their advice and sources."""

    referral: str
    rule_ids: Tuple[str, ...]
    points: Tuple[Point, ...] = ()

    @property
    def lines(self) -> Tuple[str, ...]:
        """The advice sentences."""
        return tuple(p.text for p in self.points)

    @property
    def sources(self) -> Tuple[Source, ...]:
        """The sources behind the sentences, each once."""
        return merge_sources(*(p.sources for p in self.points))

    def plus(self, other: Signs) -> Signs:
        """Both sets of signs: the higher referral, every rule id, each sentence once. A sentence of `other` about
        questions a sentence here already speaks to is left out (the description says it in its own words)."""
        points = list(self.points)
        spoken = {slot for point in points for slot in point.slots}
        for point in other.points:
            if point.text not in self.lines and not (point.slots and set(point.slots) <= spoken):
                points.append(point)
        return Signs(higher(self.referral, other.referral), self.rule_ids + other.rule_ids, tuple(points))

    def beyond(self, covered: Sequence[str]) -> Tuple[Point, ...]:
        """The points a topic's own rules don't already make: a sign whose answer a matched rule used is covered."""
        return tuple(p for p in self.points if not (p.slots and set(p.slots) <= set(covered)))


def signs_from(catalogue: Optional[ObservationCatalogue], observed: Sequence[str]) -> Signs:
    """The referral, advice sentences and sources that the observed signs call for, whatever the topic."""
    referral, ids, points = "none", [], []  # type: Tuple[str, List[str], List[Point]]
    for obs_id in dict.fromkeys(observed):
        observation = catalogue.observations.get(obs_id) if catalogue else None
        if catalogue is None or observation is None or not observation.referral:
            continue
        referral = higher(referral, observation.referral)
        ids.append(OBSERVATION_PREFIX + observation.id)
        if observation.say and observation.say not in (p.text for p in points):
            sources = tuple(catalogue.source(key) for key in observation.sources)
            points.append(Point(observation.say, observation.referral, sources, tuple(observation.answers)))
    return Signs(referral, tuple(ids), tuple(points))


def merge_sources(*groups: Sequence[Source]) -> Tuple[Source, ...]:
    """Sources in order, each address once."""
    seen: Dict[str, Source] = {}
    for group in groups:
        for source in group:
            seen.setdefault(source.url, source)
    return tuple(seen.values())


SHORT_WORDS = 120  # the first message of the advice: verdict, what matters for this child, what to try, when to check
MORE_PARTS = ("try", "why", "when", "sources")  # the rest of the advice, one tap away, in this order
_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+(?:['’.,-][0-9A-Za-z\u00C0-\u024F]+)*")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def word_count(text: str) -> int:
    """Words as a parent reads them: a Markdown link counts its title, not its address."""
    return len(_WORD.findall(_LINK.sub(r"\1", text)))


def shown_rules(rules: Sequence[Rule], referral: str) -> Tuple[Rule, ...]:
    """One message per situation: once a provider or urgent referral applies, reassurance written for "none" is not
    shown (a rule marked always_shown, such as "ask for a hip check at the next visit", still is)."""
    if referral == "none":
        return tuple(rules)
    return tuple(rule for rule in rules if rule.referral != "none" or rule.always_shown)


def topic_sources(topic: Topic, keys: Sequence[str]) -> Tuple[Source, ...]:
    """The topic's sources with these keys, in the order given."""
    by_key = {s.key: s for s in topic.sources}
    return tuple(by_key[key] for key in keys if key in by_key)


def ranked_points(topic: Topic, decision: Decision, signs: Signs, referral: str) -> Tuple[Point, ...]:
    """What this child's answers and signs call for, most important first: the sentences at the referral level
    (the reason for it), then those marked always shown, then the rest."""
    covered = [c.slot for rule in decision.rules if rule.referral != "none" for c in rule.conditions]
    points = [
        Point(rule.say, rule.referral, topic_sources(topic, rule.sources), (), rule.always_shown)
        for rule in shown_rules(decision.rules, referral)
    ] + list(signs.beyond(covered))
    rank = {REFERRAL_LEVELS[-1 - i]: i for i in range(len(REFERRAL_LEVELS))}
    return tuple(sorted(points, key=lambda p: (p.referral != referral, not p.always_shown, rank[p.referral])))


@dataclass(frozen=True)
class ShortAnswer:
    """The advice's first message, and the tailored points that did not fit in it."""

    text: str
    sources: Tuple[Source, ...]
    left_out: Tuple[Point, ...]


def short_answer(topic: Topic, points: Sequence[Point], referral: str, verdict: str) -> ShortAnswer:
    """Verdict, the points that fit, two or three things to try and when to check again, in SHORT_WORDS words.

    The reason for the referral always comes; an urgent answer says nothing else. Points that don't fit are kept
    for "When should I worry?"."""
    steps = [] if referral == "urgent" else list(topic.first_steps)
    check: Optional[str] = None
    if referral == "none" and topic.check_again:
        check = say("advice.check_again", text=topic.check_again.say)
    elif referral == "provider":
        check = say("advice.until_then")
    heading = say("advice.try_first" if referral == "none" else "advice.meanwhile")

    def compose(chosen: Sequence[Point], n_steps: int) -> str:
        lines = [verdict, *(p.text for p in chosen)]
        if n_steps:
            lines += [heading, *(f"- {step.say}" for step in steps[:n_steps])]
        return "\n".join(lines + ([check] if check else []))

    chosen: List[Point] = list(points[:1])
    n_steps = min(2, len(steps))
    while n_steps > 1 and word_count(compose(chosen, n_steps)) > SHORT_WORDS:  # a long reason: fewer things to try
        n_steps -= 1
    if referral != "none" and word_count(compose(chosen, n_steps)) > SHORT_WORDS:
        check = None
    for point in points[1:]:
        if word_count(compose([*chosen, point], n_steps)) <= SHORT_WORDS:
            chosen.append(point)
    if len(steps) > n_steps and word_count(compose(chosen, n_steps + 1)) <= SHORT_WORDS:
        n_steps += 1
    sources = [p.sources for p in chosen] + [topic_sources(topic, step.sources) for step in steps[:n_steps]]
    if check and topic.check_again and referral == "none":
        sources.append(topic_sources(topic, topic.check_again.sources))
    left_out = tuple(p for p in points if p not in chosen)
    return ShortAnswer(compose(chosen, n_steps), merge_sources(*sources), left_out)


def verdict_line(referral: str, previous_referral: Optional[str], age: AgeUsed, older: bool) -> Tuple[str, str]:
    """The referral (an earlier emergency is never downgraded) and the advice's opening: verdict, age used."""
    referral, _ = carried_referral(referral, previous_referral)
    earlier = referral == "urgent" and previous_referral == "urgent"
    parts = [say("advice.urgent_earlier") if earlier else say(f"advice.verdict.{referral}")]
    if age.actual_months is not None and age.months is not None:
        if age.corrected and age.weeks_early is not None:
            parts.append(say("advice.age_short_corrected", corrected=describe_months(age.months)))
        else:
            parts.append(say("advice.age_short", age=describe_months(age.actual_months)))
    if older:
        parts.append(say("advice.older_child"))
    return referral, " ".join(parts)


def more_buttons(exclude: Sequence[str] = (), summary_offer: bool = False) -> Tuple[Dict[str, str], ...]:
    """The closing quick replies: was this helpful (yes, no), the rest of the advice, the appointment summary."""
    buttons = [
        {"title": say(f"advice.feedback.{vote}.title"), "payload": say(f"advice.feedback.{vote}.payload")}
        for vote in ("helpful", "unhelpful")
    ]
    buttons += [
        {"title": say(f"advice.more.{part}.title"), "payload": say(f"advice.more.{part}.payload")}
        for part in MORE_PARTS
        if part not in exclude
    ]
    if summary_offer:
        buttons.append({"title": say("appointment.offer.title"), "payload": say("appointment.offer.payload")})
    return tuple(buttons)


def closing_message(exclude: Sequence[str] = (), summary_offer: bool = False, text: str = "") -> Message:
    """The message that ends every answer: "not a diagnosis", "was this helpful?", and the quick replies."""
    return Message(text or say("advice.closing"), more_buttons(exclude, summary_offer))


def more_detail(
    topic: Topic, part: str, left_out: Sequence[Point], extra_sources: Sequence[Source], referral: str
) -> Tuple[Message, ...]:
    """One part of the rest of the advice (MORE_PARTS): what else to try, why it happens, when to worry (with the
    points about this child the first message had no room for), or every source."""
    if part == "sources":
        body = sources_text(merge_sources(topic.sources, extra_sources), heading=say("advice.all_sources"))
        return (Message(body), closing_message((part,), referral != "none"))
    section = topic.section(part)
    assert section is not None  # the build requires every section
    lines = [f"**{section.heading}**", section.body]
    sources = topic_sources(topic, topic.section_sources.get(part, ()))
    if part == "when" and left_out:
        lines = [say("advice.also_for_your_child"), *(p.text for p in left_out), *lines]
        sources = merge_sources(*(p.sources for p in left_out), sources)
    return (
        Message(_compact("\n\n".join(lines))),
        Message(sources_text(sources)),
        closing_message((part,), referral != "none"),
    )


def compose_advice(
    topic: Topic,
    answers: Mapping[str, Any],
    previous_referral: Optional[str] = None,
    signs: Optional[Signs] = None,
    summary: Optional[str] = None,
    changed: Optional[str] = None,
) -> Advice:
    """Decide the referral from the topic's rules and the observed signs, and build the short answer: the verdict
    and what matters for this child first, the facts used and the sources behind those sentences, then "was this
    helpful?" and the rest of the advice as quick replies (`Advice.parts`).

    `summary` says back the facts used ("From what you've told me: ..."); `changed` opens advice given again
    after a correction ("Thanks — I've updated that: ...").
    """
    decision: Decision = decide(topic, answers)
    signs = signs or Signs("none", ())
    older = decision.age.actual_months is not None and decision.age.actual_months > OLDEST_COVERED_MONTHS
    referral, verdict = verdict_line(higher(decision.referral, signs.referral), previous_referral, decision.age, older)
    short = short_answer(topic, ranked_points(topic, decision, signs, referral), referral, verdict)
    messages: List[Message] = [Message(f"{changed} {say('advice.again')}")] if changed else []
    messages.append(Message(short.text))
    if summary:
        messages.append(Message(summary))
    if short.sources:  # an emergency raised earlier, with nothing about this topic to add, cites nothing here
        messages.append(Message(sources_text(short.sources)))
    messages.append(closing_message(summary_offer=referral != "none"))
    parts = {part: more_detail(topic, part, short.left_out, signs.sources, referral) for part in MORE_PARTS}
    return Advice(
        topic_id=topic.id,
        referral=referral,
        rule_ids=tuple(rule.id for rule in decision.rules) + signs.rule_ids,
        messages=tuple(messages),
        parts=parts,
    )
