"""Read a caregiver message once: the facts it states, with their spans, and what the parent wants to do.

`understand(text)` runs the number parsers (ages, durations, weeks early, with past ages marked) and the
observation patterns (knowledge/observations.yml), and spots corrections ("sorry, I meant 17 months") and
conversation repairs ("can you say that again?", "skip that one", "forget it"). The result travels in the
NLU parse data (`understanding`), so the form interprets facts against the pending question instead of
re-reading the text. Only ids, values and character offsets are kept: never the parent's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from bot.contract import FALLBACK_INTENT, OBSERVATION_PREFIX, OUT_OF_SCOPE_INTENT
from bot.nlu.observations import ObservationCatalogue, default_catalogue
from bot.nlu.parsers import AGE, DURATION, WEEKS_EARLY, EntityMatch, extract_entities

PARSE_KEY = "understanding"  # where the result travels in Rasa's parse data
# Facts are read from the start of a message only: a parent's message is far shorter, and a huge one must not
# hold up everyone else (the red-flag rules still read all of it).
MAX_UNDERSTOOD_CHARS = 5000
REPEAT, SKIP, CANCEL, CLARIFY = "repeat", "skip", "cancel", "clarify"
STANDING_SLOT = "stands_alone_seconds"


@dataclass(frozen=True)
class Fact:
    """A value for a follow-up question's slot that the message states, where it says so, and how it was read."""

    slot: str
    value: Any
    start: int
    end: int
    source: str  # "age" | "weeks_early" | "duration" | "observation:<id>"
    warning: bool = False  # from an observation that is a sign to see a provider: it wins over reassurance

    def to_dict(self) -> Dict[str, Any]:
        """JSON-friendly form."""
        data = {"slot": self.slot, "value": self.value, "start": self.start, "end": self.end, "source": self.source}
        if self.warning:
            data["warning"] = True
        return data


@dataclass(frozen=True)
class Understanding:
    """Everything one message says: facts, observations (ids with spans), a correction, a repair request."""

    facts: Tuple[Fact, ...] = ()
    observations: Tuple[Tuple[str, int, int], ...] = ()  # (observation id, start, end)
    past_ages: Tuple[float, ...] = ()  # ages that describe a past moment ("scanned at 6 weeks"), never the current age
    correction: bool = False  # the parent corrects something said before
    repair: Optional[str] = None  # repeat | skip | cancel | clarify
    suggested_topic: Optional[str] = None  # the topic an observation points to (for an opening that only describes a sign)
    others: Tuple[Tuple[int, int], ...] = ()  # spans about someone else ("my sister's baby was born at 26 weeks")
    routed: bool = False  # the intent was set from the observations, not by the classifier
    entities: Tuple[EntityMatch, ...] = field(default=(), compare=False)  # not serialised: they travel as Rasa entities

    @property
    def observation_ids(self) -> Tuple[str, ...]:
        """Observation ids in order of appearance, without repeats."""
        return tuple(dict.fromkeys(obs for obs, _, _ in self.observations))

    def facts_for(self, slot: str) -> List[Fact]:
        """The facts about one slot, in text order."""
        return [f for f in self.facts if f.slot == slot]

    def value_for(self, slot: str) -> Any:
        """The one value the message states for a slot: a warning sign wins, else the last statement; None if none."""
        found = self.facts_for(slot)
        if not found:
            return None
        warnings = [f for f in found if f.warning]
        return (warnings or found)[-1].value

    def stated(self) -> Dict[str, Any]:
        """Every slot the message states, with its one value (see value_for)."""
        return {slot: self.value_for(slot) for slot in dict.fromkeys(f.slot for f in self.facts)}

    def to_dict(self) -> Dict[str, Any]:
        """JSON-friendly form for the parse data and the tracker store; empty parts are left out (every event is
        stored and re-read with the whole conversation, so most messages add only `{"facts": []}`)."""
        data: Dict[str, Any] = {
            "facts": [f.to_dict() for f in self.facts],
            "observations": [{"id": obs, "start": s, "end": e} for obs, s, e in self.observations],
            "past_ages": list(self.past_ages),
            "correction": self.correction,
            "repair": self.repair,
            "suggested_topic": self.suggested_topic,
            "routed": self.routed,
            "others": [list(span) for span in self.others],
        }
        return {key: value for key, value in data.items() if value or key == "facts"}

    def own_text(self, text: str) -> str:
        """The message with the parts about someone else blanked out (same length, so offsets still hold)."""
        for start, end in self.others:
            text = text[:start] + " " * (end - start) + text[end:]
        return text

    def as_routed(self) -> Understanding:
        """The same understanding, marked as having chosen the intent."""
        return replace(self, routed=True)

    @classmethod
    def from_dict(cls, data: Any) -> Optional[Understanding]:
        """Rebuild from parse data; None when absent or malformed (the caller then reads the text itself)."""
        if not isinstance(data, Mapping):
            return None
        try:
            facts = tuple(
                Fact(str(f["slot"]), f["value"], int(f["start"]), int(f["end"]), str(f["source"]), bool(f.get("warning")))
                for f in data.get("facts") or ()
            )
            observations = tuple((str(o["id"]), int(o["start"]), int(o["end"])) for o in data.get("observations") or ())
            past = tuple(float(a) for a in data.get("past_ages") or ())
            others = tuple((int(s), int(e)) for s, e in data.get("others") or ())
        except (KeyError, TypeError, ValueError):
            return None
        repair = data.get("repair")
        suggested = data.get("suggested_topic")
        return cls(
            facts=facts,
            observations=observations,
            past_ages=past,
            correction=bool(data.get("correction")),
            repair=repair if repair in (REPEAT, SKIP, CANCEL, CLARIFY) else None,
            suggested_topic=suggested if isinstance(suggested, str) else None,
            routed=bool(data.get("routed")),
            others=others,
        )


# --------------------------------------------------------------------------- corrections and repairs

_CORRECTION_CUES = (
    r"sorry",
    r"soz",
    r"actually",
    r"actualy",
    r"i meant",
    r"i mean",
    r"meant to (?:say|write|type)",
    r"no wait",
    r"wait",
    r"oops",
    r"whoops",
    r"correction",
    r"to correct",
    r"let me correct",
    r"my mistake",
    r"my bad",
    r"typo",
    r"i was wrong",
    r"i got (?:that|it) wrong",
    r"wrong answer",
    r"scratch that",
    r"not \d+(?:\.\d+)?(?: (?:months?|mo|weeks?|wks?|years?|yrs?|seconds?|secs?))?(?: but| ,|,| -|$)",
    r"i said .{1,40} but",
    r"i should have said",
    r"should say",
    r"change (?:that|it|the age|her age|his age)",
    r"update (?:that|it|the age|her age|his age)",
)
_REPAIRS = {
    REPEAT: (
        r"(?:can|could|would) you (?:please )?(?:say|ask|repeat|write|send) (?:that|it|the question|this)(?: again| once more)?",
        r"(?:please )?(?:say|ask) (?:that|it|the question) again",
        r"repeat (?:that|it|the question|please|yourself)",
        r"(?:please )?repeat",
        r"(?:come again|say again|pardon|sorry what|what was the question|what did you (?:ask|say))",
        r"i (?:missed|didn't (?:see|get|catch)) (?:that|it|the question|what you (?:said|asked))",
        r"what was (?:that|it) again",
        r"again please",
    ),
    SKIP: (
        r"skip(?: (?:that|this|it))?(?: (?:one|question|bit))?",
        r"next question",
        r"(?:move|go) on",
        r"pass",
        r"i'?d rather not (?:say|answer|tell)",
        r"(?:prefer|rather) not to (?:say|answer)",
        r"don't want to (?:say|answer)",
        r"leave (?:that|this|it) (?:one )?out",
        r"(?:let's |lets )?(?:leave|drop) (?:that|this) (?:one|question)",
        r"no comment",
    ),
    CANCEL: (
        r"forget (?:it|that|this|about it)",
        r"never ?mind",
        r"nvm",
        r"cancel(?: (?:that|this|it|the questions))?",
        r"stop (?:the|these|your|asking) (?:questions|me questions|questions please)",
        r"stop asking(?: me)?(?: questions)?",
        r"i (?:have|want to ask|'ve got) a different question",
        r"different question",
        r"something else instead",
        r"ask (?:something|about something) else",
        r"change (?:the )?(?:subject|topic)",
    ),
    CLARIFY: (
        r"what do you mean(?: by (?:that|this|it))?",
        r"what does (?:that|this|it) mean",
        r"i don't understand (?:the|your|that|this) question",
        r"(?:don't|dont|do not) understand(?: the question)?",
        r"what do you mean by",
        r"meaning\?",
        r"(?:can|could) you explain(?: (?:that|this|the question))?",
        r"in what way",
    ),
}
# A repair request is a short message about the conversation, not a description of the child: only these
# words may come before it, and only a few words after it.
_REPAIR_LEAD = frozenset(
    "sorry ok okay um uh erm hmm oh ah please just so and but can we could we let's lets i think actually "
    "well yeah yes no nah , ? thanks thank you lol haha".split()
)
_MAX_WORDS_AFTER_REPAIR = 4


def _normalise(text: str) -> str:
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?|[?,]", (text or "").lower().replace("’", "'"))
    return " ".join(words)


@cache
def _rx(patterns: Tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word alternation, compiled once."""
    return re.compile(r"(?<![a-z0-9'])(?:" + "|".join(patterns) + r")(?![a-z0-9'])")


def is_correction(text: str) -> bool:
    """Whether the message says it corrects something ("sorry, I meant 17 months", "he's 17 not 11")."""
    return bool(_rx(_CORRECTION_CUES).search(_normalise(text)))


def repair_request(text: str) -> Optional[str]:
    """repeat | skip | cancel | clarify when a short message asks that of the conversation, else None."""
    norm = _normalise(text)
    for kind in (CANCEL, SKIP, REPEAT, CLARIFY):
        for match in _rx(_REPAIRS[kind]).finditer(norm):
            before = norm[: match.start()].split()
            after = [w for w in norm[match.end() :].split() if w not in ("?", ",")]
            if all(w in _REPAIR_LEAD for w in before) and len(after) <= _MAX_WORDS_AFTER_REPAIR:
                return kind
    return None


# --------------------------------------------------------------------------- facts

_STANDING = re.compile(r"\bstand(s|ing)?\b|\bon (his|her|their) own\b|\blet(s)? go\b|\bunsupported\b|\balone\b", re.IGNORECASE)
_NEGATED_BEFORE = re.compile(r"(?:\bnot|n't|\bisn't|\bno)\s*(?:\w+\s+){0,1}$", re.IGNORECASE)


def _with_rejections(text: str, matches: Iterable[EntityMatch]) -> Iterable[EntityMatch]:
    """Mark amounts the parent says are wrong ("he's not 11 months, he's 17") with the role `rejected`."""
    for m in matches:
        if getattr(m, "role", None) is None and _NEGATED_BEFORE.search(text[max(0, m.start - 12) : m.start]):
            yield replace(m, role="rejected") if "role" in getattr(m, "__dataclass_fields__", {}) else m
        else:
            yield m


def _entity_facts(text: str, matches: Iterable[EntityMatch]) -> Tuple[List[Fact], List[float]]:
    facts: List[Fact] = []
    past: List[float] = []
    for m in matches:
        role = getattr(m, "role", None)
        if m.entity == AGE:
            if role is None:
                facts.append(Fact("age_months", float(m.value), m.start, m.end, AGE))
            elif role == "past":
                past.append(float(m.value))
        elif m.entity == WEEKS_EARLY and role is None:
            facts.append(Fact("weeks_early", float(m.value), m.start, m.end, WEEKS_EARLY))
        elif m.entity == DURATION and role is None and _STANDING.search(text):
            facts.append(Fact(STANDING_SLOT, float(m.value), m.start, m.end, DURATION))
    return facts, past


def _observation_facts(catalogue: ObservationCatalogue, hits: Iterable[Any]) -> List[Fact]:
    facts: List[Fact] = []
    for hit in hits:
        observation = catalogue.observations.get(hit.observation_id)
        if observation is None:
            continue
        for slot, value in observation.answers.items():
            facts.append(
                Fact(slot, value, hit.start, hit.end, f"{OBSERVATION_PREFIX}{observation.id}", observation.referral is not None)
            )
    return facts


def understand(text: str, catalogue: Optional[ObservationCatalogue] = None) -> Understanding:
    """Everything the message states, read once."""
    if not text or text.isspace():
        return Understanding()
    text = text[:MAX_UNDERSTOOD_CHARS]
    catalogue = catalogue or default_catalogue()
    others = about_someone_else(text)
    matches = tuple(_with_rejections(text, extract_entities(text)))
    facts, past = _entity_facts(text, [m for m in matches if not _inside(m.start, others)])
    hits = [
        h
        for h in catalogue.detect(text)
        if h.observation_id in catalogue.observations
        and (catalogue.observations[h.observation_id].about_family or not _inside(h.start, others))
    ]
    facts += _observation_facts(catalogue, hits)
    facts.sort(key=lambda f: (f.start, f.end))
    suggested = next((topic for hit in hits for topic in catalogue.observations[hit.observation_id].routes_to), None)
    return Understanding(
        facts=tuple(facts),
        observations=tuple((h.observation_id, h.start, h.end) for h in hits),
        past_ages=tuple(past),
        correction=is_correction(text),
        repair=repair_request(text),
        suggested_topic=suggested,
        others=others,
        entities=matches,
    )


# Someone other than the child: their ages, birth weeks and history are not the child's facts.
_OTHER_PERSON = re.compile(
    r"\b(?:(?:my|her|his|their|our|the|a) (?:(?:older|big|little|younger|eldest|other|first) )?"
    r"(?:sister|brother|sibling|cousin|nephew|niece|friend|neighbou?r|aunt|auntie|uncle|grandma|grandmother|grandad|"
    r"grandpa|grandfather|granny|nan|nanny|husband|partner|wife|one|son|daughter|kid|child|boy|girl|twin)s?(?:'s)?"
    r"(?: (?:baby|babies|boy|girl|son|daughter|kid|child|little one|lo))?"
    r"|\b(?:sister|brother|cousin|friend|neighbou?r)'s (?:baby|boy|girl|son|daughter|kid|child|little one|lo)"
    r"|\b(?:my|our) (?:first|eldest|oldest|firstborn|first born|other one|older one|first one|first child|eldest child))\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(
    r"[.;!?]|,(?! (?:who|which|that|whose) )|\b(?:but|though|although|whereas|whilst|while|and mine|mine)\b", re.IGNORECASE
)
# The child themself, even in the possessive ("my son's hips were checked").
_THE_CHILD = re.compile(
    r"\b(?:this one|mine|(?:my|our) (?:lo|little one|baby|son|daughter|boy|girl|kid|child|toddler)\b"
    r"|(?:my )?\d+ ?(?:month|mo|week|year)s? old)",
    re.IGNORECASE,
)


def about_someone_else(text: str) -> Tuple[Tuple[int, int], ...]:
    """Spans from a mention of another person ("my sister's baby", "her cousin", "the older one") to the end of
    that clause, where what is said is about them, not the child."""
    spans: List[Tuple[int, int]] = []
    for mention in _OTHER_PERSON.finditer(text):
        if _THE_CHILD.match(text, mention.start()):
            continue
        end_match = _CLAUSE_END.search(text, mention.end())
        end = end_match.start() if end_match else len(text)
        if spans and mention.start() < spans[-1][1]:
            continue
        spans.append((mention.start(), end))
    return tuple(spans)


def _inside(position: int, spans: Iterable[Tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def entity_dicts(understanding: Understanding) -> List[Dict[str, Any]]:
    """Rasa entities for the ages, durations and weeks early (with their role when not the current value)."""
    found = []
    for m in understanding.entities:
        entity = {"entity": m.entity, "start": m.start, "end": m.end, "value": round(m.value, 2), "confidence_entity": 1.0}
        if getattr(m, "role", None):
            entity["role"] = m.role
        found.append(entity)
    return found


# Intents after which a message that describes a sign is routed to the topic that covers it.
ROUTABLE_INTENTS = frozenset({"inform", FALLBACK_INTENT, OUT_OF_SCOPE_INTENT, "greet", "ask_capabilities"})
INFORM = "inform"


def routing_intent(
    understanding: Understanding, intent: Optional[str], ranking: List[str], topic_intents: Mapping[str, str]
) -> Optional[str]:
    """The intent this message should have instead of the classifier's, or None to keep it.

    A correction with a fact, or a repair request, is `inform` (the form or action_update_facts handles it). A
    message that describes an observation without asking about a topic starts the topic the observation points
    to (its `routes_to`, data), else the classifier's best-ranked topic: an opening made only of facts ("born 12
    weeks early, 11 months, can't sit by herself") is a concern that deserves advice, not "noted". Inside the
    questions a routed topic never interrupts (bot.triage.subjects).
    """
    if understanding.repair or (understanding.correction and understanding.facts):
        return INFORM if intent != INFORM else None
    if intent not in ROUTABLE_INTENTS or not understanding.observations:
        return None
    suggested = understanding.suggested_topic
    if suggested is not None and suggested in topic_intents:
        return topic_intents[suggested]
    by_intent = set(topic_intents.values())
    return next((name for name in ranking if name in by_intent), None)
