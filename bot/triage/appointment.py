"""A summary to take to the appointment: the facts given, why a provider was advised, and the sources behind that.

Pure composition. A `Record` is what the advice rested on, as ids and typed values only (the subject, the typed
answers, the observation ids, the referral, the rule ids behind it, the red flag): never the parent's words and
never an identifier, so it can travel inside a signed link (bot/privacy/summary_links.py). `compose` turns a record
into a `Summary` with the knowledge base's wording; bot/triage/appointment_text.py and the web page render it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from bot.contract import (
    AGE_SLOT,
    MILESTONE_PREFIX,
    OBSERVATION_PREFIX,
    PROVIDER,
    SAFETY_PREFIX,
    UNSURE_SUFFIX,
    URGENT,
    WEEKS_EARLY_SLOT,
)
from bot.knowledge.documents import Question, Source, Topic
from bot.knowledge.messages import say
from bot.knowledge.milestones import MilestoneTable
from bot.knowledge.safety_net import SafetyNet
from bot.nlu.observations import ObservationCatalogue
from bot.triage.advice import merge_sources
from bot.triage.age import AgeUsed, age_for_rules, describe_months
from bot.triage.milestones import OVERVIEW, verdict
from bot.triage.safety_net import Hit
from bot.triage.summary import describe_value

ID = re.compile(r"[a-z0-9_][a-z0-9_:.-]{0,79}\Z")  # topic, rule, observation, safety and red-flag ids
WORDS = ("yes", "no", "unsure")  # the only text an answer can hold (yes_no_unsure questions)
WORTH_A_SUMMARY = (PROVIDER, URGENT)
Value = Union[float, str]


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ID.match(value))


def _valid_value(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value) and -1000 <= value <= 100000
    return value in WORDS


@dataclass(frozen=True)
class Record:
    """What one piece of advice rested on: ids and typed values only (no free text, no identifier)."""

    subject: Optional[str]  # a topic id, "milestone:<id>", or None (a red flag with no topic)
    referral: str
    answers: Tuple[Tuple[str, Value], ...] = ()  # (slot, typed value), known answers only
    observed: Tuple[str, ...] = ()
    rules: Tuple[str, ...] = ()  # the `advice_rules` slot: topic rule ids, observation:, safety:, milestone: ids
    not_yet: bool = False  # a milestone question said the child isn't doing it yet
    red_flag: Optional[str] = None
    made_at: int = 0  # Unix seconds

    def to_dict(self) -> Dict[str, Any]:
        """A compact form for a signed link (short keys; empty parts left out)."""
        data: Dict[str, Any] = {"r": self.referral, "t": self.made_at}
        optional = {
            "s": self.subject,
            "a": dict(self.answers),
            "o": list(self.observed),
            "k": list(self.rules),
            "n": 1 if self.not_yet else 0,
            "f": self.red_flag,
        }
        data.update({key: value for key, value in optional.items() if value})
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Record:
        """The record in `to_dict` form; ValueError when any part is not an id or a typed value."""
        if not isinstance(data, dict) or data.get("r") not in WORTH_A_SUMMARY or not isinstance(data.get("t"), int):
            raise ValueError("not a summary record")
        answers, observed, rules = data.get("a", {}), data.get("o", []), data.get("k", [])
        subject, red_flag = data.get("s"), data.get("f")
        if not (isinstance(answers, dict) and isinstance(observed, list) and isinstance(rules, list)):
            raise ValueError("not a summary record")
        if not all(_valid_id(k) and _valid_value(v) for k, v in answers.items()):
            raise ValueError("an answer is not a typed value")
        if not all(map(_valid_id, [*observed, *rules])) or any(v is not None and not _valid_id(v) for v in (subject, red_flag)):
            raise ValueError("an id is not an id")
        return cls(
            subject, data["r"], tuple(answers.items()), tuple(observed), tuple(rules), data.get("n") == 1, red_flag, data["t"]
        )


def record_of(
    subject: Optional[str],
    referral: str,
    answers: Mapping[str, Any],
    observed: Sequence[str] = (),
    rules: Sequence[str] = (),
    not_yet: bool = False,
    red_flag: Optional[str] = None,
    made_at: float = 0.0,
) -> Record:
    """A record from what an action read, keeping only ids and typed values (anything else is left out)."""
    return Record(
        subject=subject if _valid_id(subject) else None,
        referral=referral,
        answers=tuple((k, float(v) if isinstance(v, int) else v) for k, v in answers.items() if _valid_id(k) and _valid_value(v)),
        observed=tuple(dict.fromkeys(o for o in observed if _valid_id(o))),
        rules=tuple(dict.fromkeys(r for r in rules if _valid_id(r))),
        not_yet=bool(not_yet),
        red_flag=red_flag if _valid_id(red_flag) else None,
        made_at=int(made_at),
    )


@dataclass(frozen=True)
class Library:
    """The parts of the knowledge base a summary reads (red flags: the red_flags.yml definitions by id)."""

    topics: Mapping[str, Topic]
    questions: Mapping[str, Question]
    milestones: Optional[MilestoneTable] = None
    safety_net: Optional[SafetyNet] = None
    catalogue: Optional[ObservationCatalogue] = None
    red_flags: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Fact:
    """One fact given: a label (or the question asked) and the answer said back."""

    label: str
    value: str


@dataclass(frozen=True)
class Reason:
    """A sentence behind the advice, the level it calls for, and its sources."""

    text: str
    level: str
    sources: Tuple[Source, ...] = ()


@dataclass(frozen=True)
class Summary:
    """Everything the summary shows, in the knowledge base's wording."""

    title: str
    referral: str
    made_at: int
    facts: Tuple[Fact, ...]
    described: Tuple[str, ...]
    reasons: Tuple[str, ...]
    sources: Tuple[Source, ...]


def offer_button() -> Dict[str, str]:
    """The quick reply that asks for the summary (the advice's closing message carries it)."""
    return {"title": say("appointment.offer.title"), "payload": say("appointment.offer.payload")}


def worth_a_summary(referral: Any) -> bool:
    """Whether advice at this level comes with the offer of a summary (talk to a provider, or get help now)."""
    return referral in WORTH_A_SUMMARY


def title_of(subject: Optional[str], library: Library) -> str:
    """The topic's title, the milestone's name, or a general title."""
    topic = library.topics.get(subject or "")
    if topic is not None:
        return topic.title
    if subject and subject.startswith(MILESTONE_PREFIX) and library.milestones:
        milestone = library.milestones.get(subject[len(MILESTONE_PREFIX) :])
        if milestone is not None:
            return milestone.name
        if subject == MILESTONE_PREFIX + OVERVIEW:
            return say("appointment.title.milestones")
    return say("appointment.title.general")


def facts_of(
    answers: Mapping[str, Value], questions: Mapping[str, Question], age: AgeUsed, order: Sequence[str] = ()
) -> Tuple[Fact, ...]:
    """The age (and corrected age when it was used), then every other answer under the question it answers: the
    subject's own questions first (in `order`), then the rest in the questions' order."""
    facts: List[Fact] = []
    done = {AGE_SLOT}
    if age.actual_months is not None:
        facts.append(Fact(say("appointment.fact.age"), describe_months(age.actual_months)))
    if age.corrected and age.months is not None:
        corrected = say("appointment.fact.corrected_value", age=describe_months(age.months), weeks=age.weeks_early)
        facts.append(Fact(say("appointment.fact.corrected_age"), corrected))
        done.add(WEEKS_EARLY_SLOT)  # the corrected age says how early
    for slot in dict.fromkeys([*order, *questions]):
        value, question = answers.get(slot), questions.get(slot)
        if slot in done or value is None or question is None:
            continue
        said = describe_value(question, value) or say(
            f"appointment.answer.{value}" if value in WORDS else "appointment.answer.given"
        )
        facts.append(Fact(question.ask, said))
    return tuple(facts)


def _milestone_reason(milestone_id: str, library: Library, age: AgeUsed, not_yet: bool) -> Optional[Reason]:
    milestone = library.milestones.get(milestone_id) if library.milestones else None
    if milestone is None or age.months is None:
        return None
    text, level = verdict(milestone, age.months, not_yet, age.corrected)
    checked = tuple(s for s in milestone.sources if s.key == milestone.check_source)
    return Reason(text, level, checked or milestone.sources)


def _observation_reason(observation_id: str, library: Library) -> Optional[Reason]:
    catalogue = library.catalogue
    observation = catalogue.observations.get(observation_id) if catalogue else None
    if catalogue is None or observation is None or not observation.referral or not observation.say:
        return None
    return Reason(observation.say, observation.referral, tuple(catalogue.source(k) for k in observation.sources))


def _safety_reason(rule_id: str, library: Library) -> Optional[Reason]:
    check_id, unsure = rule_id[len(SAFETY_PREFIX) :], rule_id.endswith(UNSURE_SUFFIX)
    check_id = check_id[: -len(UNSURE_SUFFIX)] if unsure else check_id
    check = next((c for c in library.safety_net.checks if c.id == check_id), None) if library.safety_net else None
    if check is None:
        return None
    hit = Hit(check, unsure)
    return Reason(hit.say, hit.referral, check.sources)


def _topic_reason(rule_id: str, topic: Optional[Topic]) -> Optional[Reason]:
    rule = next((r for r in topic.rules if r.id == rule_id), None) if topic else None
    if topic is None or rule is None:
        return None
    by_key = {s.key: s for s in topic.sources}
    cited = tuple(by_key[key] for key in rule.sources if key in by_key)
    return Reason(rule.say, rule.referral, cited or topic.sources)


def _red_flag_reason(flag_id: Optional[str], library: Library) -> Optional[Reason]:
    flag = library.red_flags.get(flag_id or "")
    if not flag or not flag.get("signpost"):
        return None
    sources = tuple(
        Source(str(s["key"]), str(s["title"]), str(s["url"])) for s in flag.get("sources") or () if isinstance(s, dict)
    )
    return Reason(say("appointment.reason.red_flag", sign=str(flag["signpost"]).strip()), URGENT, sources)


def reason_of(rule_id: str, record: Record, library: Library, age: AgeUsed) -> Optional[Reason]:
    """The sentence, level and sources behind one recorded rule id (None when the knowledge base no longer has it)."""
    if rule_id.startswith(MILESTONE_PREFIX):
        return _milestone_reason(rule_id[len(MILESTONE_PREFIX) :], library, age, record.not_yet)
    if rule_id.startswith(OBSERVATION_PREFIX):
        return _observation_reason(rule_id[len(OBSERVATION_PREFIX) :], library)
    if rule_id.startswith(SAFETY_PREFIX):
        return _safety_reason(rule_id, library)
    return _topic_reason(rule_id, library.topics.get(record.subject or ""))


def reasons_of(record: Record, library: Library, age: AgeUsed) -> Tuple[Reason, ...]:
    """The reasons at the level of the referral given. An urgent referral carried from earlier in the conversation
    says so, then gives the reasons for a provider; a level with no reason left gets a general sentence."""
    found = [reason_of(rule_id, record, library, age) for rule_id in record.rules]
    found.append(_red_flag_reason(record.red_flag, library))
    known = [reason for reason in found if reason is not None]
    chosen = [reason for reason in known if reason.level == record.referral]
    if not chosen and record.referral == URGENT:
        chosen = [Reason(say("appointment.reason.urgent_earlier"), URGENT)] + [r for r in known if r.level == PROVIDER]
    unique = {reason.text: reason for reason in chosen}
    return tuple(unique.values()) or (Reason(say(f"appointment.reason.general.{record.referral}"), record.referral),)


def _questions_of(subject: Optional[str], library: Library) -> Tuple[str, ...]:
    topic = library.topics.get(subject or "")
    return topic.questions if topic else ()


def compose(record: Record, library: Library) -> Summary:
    """The summary of one piece of advice: title, facts, what the parent described, reasons and their sources."""
    answers = dict(record.answers)
    weeks = answers.get(WEEKS_EARLY_SLOT)
    months = answers.get(AGE_SLOT)
    age = age_for_rules(float(months) if isinstance(months, float) else None, float(weeks) if isinstance(weeks, float) else None)
    catalogue = library.catalogue
    described = [catalogue.observations[o].say_back for o in record.observed if catalogue and o in catalogue.observations]
    reasons = reasons_of(record, library, age)
    return Summary(
        title=title_of(record.subject, library),
        referral=record.referral,
        made_at=record.made_at,
        facts=facts_of(answers, library.questions, age, _questions_of(record.subject, library)),
        described=tuple(dict.fromkeys(d for d in described if d)),
        reasons=tuple(r.text for r in reasons),
        sources=merge_sources(*(r.sources for r in reasons)),
    )
