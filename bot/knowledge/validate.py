"""Check the parsed knowledge as a whole: slots, value types, unreachable and contradictory rules."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

from bot.knowledge.consistency import check_coverage, check_reassurance, check_thresholds
from bot.knowledge.documents import (
    SECTION_KEYS,
    Condition,
    KnowledgeError,
    Question,
    RedFlag,
    Rule,
    Topic,
    parse_questions,
    parse_red_flags,
    parse_topic,
)
from bot.knowledge.messages import FOLDER as MESSAGES_FOLDER
from bot.knowledge.messages import Catalogue, get_catalogue, load_catalogue
from bot.knowledge.milestones import MilestoneTable, parse_milestones
from bot.knowledge.safety_net import SafetyNet, parse_safety_net
from bot.nlu.observations import ObservationCatalogue, ObservationFile, compile_detector, parse_observations
from bot.triage.age import CORRECT_UNTIL_MONTHS

DERIVED = {"corrected_age_months": "age_months"}
NUMERIC_TYPES = {"months", "weeks_early", "seconds"}
CHOICES = {"yes_no_unsure": ("yes", "no", "unsure")}


@dataclass(frozen=True)
class Knowledge:
    """Everything in knowledge/, parsed and validated."""

    questions: Dict[str, Question]
    topics: Dict[str, Topic]
    red_flags: Dict[str, RedFlag]
    red_flags_default_message: str
    milestones: Optional[MilestoneTable] = None
    observations: Optional[ObservationCatalogue] = None  # observations.yml, with its detector already compiled
    safety_net: Optional[SafetyNet] = None  # safety_net.yml: child-level checks evaluated in every topic
    messages: Optional[Catalogue] = None  # messages/*.yml: the assistant's sentences (None: the folder has none)


def load_knowledge(root: Path) -> Knowledge:
    """Parse and validate knowledge/ (questions.yml, topics/*.md, red_flags.yml, milestones.yml, observations.yml)."""
    questions = parse_questions(root / "questions.yml")
    topic_paths = sorted((root / "topics").glob("*.md"))
    if not topic_paths:
        raise KnowledgeError(root / "topics", 0, "no topic documents found")
    topics: Dict[str, Topic] = {}
    intents: Dict[str, str] = {}
    for path in topic_paths:
        topic = parse_topic(path)
        check_topic(topic, questions)
        if topic.id in topics:
            raise KnowledgeError(
                path, topic.lines["id"], f"topic id '{topic.id}' is already used by {topics[topic.id].path.name}"
            )
        if topic.intent in intents:
            raise KnowledgeError(
                path, topic.lines["intent"], f"intent '{topic.intent}' is already used by topic '{intents[topic.intent]}'"
            )
        topics[topic.id], intents[topic.intent] = topic, topic.id
    red_flags, default_message = parse_red_flags(root / "red_flags.yml")
    messages = load_catalogue(root / MESSAGES_FOLDER) if (root / MESSAGES_FOLDER).is_dir() else None
    get_help_now = (messages or get_catalogue()).say("advice.get_help_now")
    topics = {topic_id: with_get_help_now(topic, red_flags, get_help_now) for topic_id, topic in topics.items()}
    milestones = None
    if (root / "milestones.yml").exists():
        milestones = parse_milestones(root / "milestones.yml", topics)
        if milestones.intent in intents:
            raise KnowledgeError(
                root / "milestones.yml",
                1,
                f"intent '{milestones.intent}' is already used by topic '{intents[milestones.intent]}'",
            )
    observations = None
    if (root / "observations.yml").exists():
        observations = check_observations(parse_observations(root / "observations.yml"), questions, topics)
    safety_net = None
    if (root / "safety_net.yml").exists():
        safety_net = parse_safety_net(root / "safety_net.yml", questions, milestones, tuple(topics))
    for topic in topics.values():
        check_coverage(topic, questions, safety_net)
        check_reassurance(topic)
        check_thresholds(topic, safety_net)
    return Knowledge(
        safety_net=safety_net,
        questions=questions,
        topics=topics,
        red_flags=red_flags,
        red_flags_default_message=default_message,
        milestones=milestones,
        observations=observations,
        messages=messages,
    )


def with_get_help_now(topic: Topic, red_flags: Dict[str, RedFlag], heading: str) -> Topic:
    """The topic with its "Get help now" list (`heading`, then the signpost of each red flag it names: one wording
    for each emergency)."""
    if not topic.get_help_now:
        return topic
    unknown = [f for f in topic.get_help_now if f not in red_flags]
    if unknown:
        raise KnowledgeError(
            topic.path, topic.lines.get("get_help_now", 1), f"get_help_now: unknown red flag(s) {', '.join(unknown)}"
        )
    when = topic.section("when")
    assert when is not None  # check_topic requires it
    listed = "\n".join(f"- {red_flags[f].signpost}" for f in topic.get_help_now)
    body = f"{when.body.rstrip()}\n\n{heading}\n{listed}"
    sections = tuple(replace(s, body=body) if s.key == "when" else s for s in topic.sections)
    return replace(topic, sections=sections)


def check_observations(parsed: ObservationFile, questions: Dict[str, Question], topics: Dict[str, Topic]) -> ObservationCatalogue:
    """Check observations against the questions and topics, compile their patterns; the catalogue keeps the detector."""
    path = parsed.path
    for entry in parsed.entries:
        observation = entry.observation
        what = f"observation '{observation.id}'"
        for slot, value in observation.answers.items():
            line = entry.lines.get(f"answers.{slot}", entry.lines["answers"])
            if slot not in questions:
                raise KnowledgeError(path, line, f"{what} answers unknown question '{slot}' (defined: {', '.join(questions)})")
            qtype = questions[slot].type
            if qtype in NUMERIC_TYPES:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise KnowledgeError(path, line, f"{what}: '{slot}' is a number ({qtype}), not {value!r}")
            elif value not in CHOICES[qtype]:
                raise KnowledgeError(
                    path, line, f"{what}: '{slot}' can be {', '.join(repr(c) for c in CHOICES[qtype])} (quoted), not {value!r}"
                )
        for topic_id in observation.routes_to:
            if topic_id not in topics:
                raise KnowledgeError(
                    path, entry.lines["routes_to"], f"{what} routes to unknown topic '{topic_id}' (defined: {', '.join(topics)})"
                )
    definitions = [{"id": e.observation.id, "patterns": e.patterns} for e in parsed.entries]
    try:
        detector = compile_detector(definitions)
    except ValueError as error:
        named = re.match(r"observation '([^']+)'", str(error))
        failed = next((e for e in parsed.entries if named and e.observation.id == named.group(1)), None)
        line = failed.lines["patterns"] if failed is not None else parsed.entries[0].line
        raise KnowledgeError(path, line, f"invalid patterns: {error}") from error
    return ObservationCatalogue(
        {e.observation.id: e.observation for e in parsed.entries}, parsed.sources, definitions, detector=detector
    )


def check_topic(topic: Topic, questions: Dict[str, Question]) -> None:
    """Raise KnowledgeError for the first problem in one topic document."""
    path = topic.path
    if path.stem != topic.id:
        raise KnowledgeError(path, topic.lines["id"], f"topic id '{topic.id}' must match the file name '{path.stem}.md'")
    if not topic.intent.startswith("ask_"):
        raise KnowledgeError(path, topic.lines["intent"], f"intent '{topic.intent}' must be named ask_<something>")
    for slot in topic.questions:
        if slot not in questions:
            raise KnowledgeError(path, topic.lines["questions"], f"unknown question '{slot}' (defined: {', '.join(questions)})")
    missing = [heading for heading, key in SECTION_KEYS.items() if topic.section(key) is None]
    if missing:
        raise KnowledgeError(path, 1, f"missing section(s): {', '.join(m.capitalize() for m in missing)}")
    if not topic.rules:
        raise KnowledgeError(path, topic.lines["rules"], "a topic needs at least one rule")
    seen: Dict[str, Rule] = {}
    for rule in topic.rules:
        if rule.id in seen:
            raise KnowledgeError(path, rule.line, f"rule id '{rule.id}' is used twice")
        for condition in rule.conditions:
            _check_condition(condition, rule, topic, questions)
        unknown = [key for key in rule.sources if key not in {s.key for s in topic.sources}]
        if unknown:
            raise KnowledgeError(
                path, rule.line, f"rule '{rule.id}' cites source(s) the topic doesn't list: {', '.join(unknown)}"
            )
        _check_satisfiable(rule, topic, questions)
        seen[rule.id] = rule
    _check_contradictions(topic)
    _check_short_sources(topic)


def _check_short_sources(topic: Topic) -> None:
    """The short answer's sentences and each body section cite only sources the topic lists."""
    listed = {s.key for s in topic.sources}
    lines = [(f"first step '{step.say[:40]}'", step.sources, step.line) for step in topic.first_steps]
    if topic.check_again:
        lines.append(("check_again", topic.check_again.sources, topic.check_again.line))
    lines += [
        (f"section_sources.{key}", keys, topic.lines.get("section_sources", 1)) for key, keys in topic.section_sources.items()
    ]
    for what, keys, line in lines:
        unknown = [key for key in keys if key not in listed]
        if unknown:
            raise KnowledgeError(topic.path, line, f"{what} cites source(s) the topic doesn't list: {', '.join(unknown)}")


def _slot_type(slot: str, questions: Dict[str, Question]) -> str:
    return questions[DERIVED.get(slot, slot)].type


def _check_condition(condition: Condition, rule: Rule, topic: Topic, questions: Dict[str, Question]) -> None:
    path, slot = topic.path, condition.slot
    base = DERIVED.get(slot, slot)
    if base not in questions:
        raise KnowledgeError(path, rule.line, f"rule '{rule.id}' uses unknown slot '{slot}'")
    if base not in topic.questions:
        raise KnowledgeError(
            path,
            rule.line,
            f"rule '{rule.id}' is unreachable: it needs '{base}', which this topic never asks (add it to questions)",
        )
    qtype = _slot_type(slot, questions)
    values = condition.value if condition.op == "in" else [condition.value]
    if (
        slot == "age_months"
        and condition.op in ("lt", "lte", "gt", "gte", "eq")
        and _below(condition.value, CORRECT_UNTIL_MONTHS)
    ):
        raise KnowledgeError(
            path,
            rule.line,
            f"rule '{rule.id}': judge ages under {CORRECT_UNTIL_MONTHS:g} months by corrected_age_months, not age_months "
            "(babies born more than 3 weeks early are compared by corrected age)",
        )
    if condition.op == "in" and not isinstance(condition.value, list):
        raise KnowledgeError(path, rule.line, f"rule '{rule.id}': 'in' needs a list for '{slot}'")
    if condition.op == "known":
        if not isinstance(condition.value, bool):
            raise KnowledgeError(path, rule.line, f"rule '{rule.id}': 'known' takes true or false for '{slot}'")
        return
    for value in values:
        if qtype in NUMERIC_TYPES:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise KnowledgeError(path, rule.line, f"rule '{rule.id}': '{slot}' is a number ({qtype}), not {value!r}")
        else:
            if condition.op in ("lt", "lte", "gt", "gte"):
                raise KnowledgeError(path, rule.line, f"rule '{rule.id}': '{slot}' is a choice; '{condition.op}' needs a number")
            if value not in CHOICES[qtype]:
                raise KnowledgeError(
                    path, rule.line, f"rule '{rule.id}': '{slot}' can be {', '.join(CHOICES[qtype])}, not {value!r}"
                )


def _below(value: object, limit: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value < limit


def _check_satisfiable(rule: Rule, topic: Topic, questions: Dict[str, Question]) -> None:
    """A rule whose conditions on one slot exclude each other can never fire."""
    by_slot: Dict[str, List[Condition]] = {}
    for condition in rule.conditions:
        by_slot.setdefault(condition.slot, []).append(condition)
    for slot, conditions in by_slot.items():
        if not _satisfiable(conditions, _slot_type(slot, questions)):
            described = " and ".join(f"{c.op} {c.value!r}" for c in conditions)
            raise KnowledgeError(topic.path, rule.line, f"rule '{rule.id}' is unreachable: '{slot}' cannot be {described}")


def _satisfiable(conditions: Iterable[Condition], qtype: str) -> bool:
    conditions = list(conditions)
    if any(c.op == "known" and c.value is False for c in conditions):
        return all(c.op == "known" and c.value is False for c in conditions)
    if qtype not in NUMERIC_TYPES:
        allowed = set(CHOICES[qtype])
        for c in conditions:
            if c.op == "eq":
                allowed &= {c.value}
            elif c.op == "in":
                allowed &= set(c.value)
            elif c.op == "ne":
                allowed -= {c.value}
        return bool(allowed)
    low: Tuple[float, bool] = (-math.inf, True)  # (bound, inclusive)
    high: Tuple[float, bool] = (math.inf, True)
    points = None
    excluded = set()
    for c in conditions:
        if c.op in ("gt", "gte"):
            low = max(low, (c.value, c.op == "gte"), key=lambda b: (b[0], not b[1]))
        elif c.op in ("lt", "lte"):
            high = min(high, (c.value, c.op == "lte"), key=lambda b: (b[0], b[1]))
        elif c.op == "eq":
            points = {c.value} if points is None else points & {c.value}
        elif c.op == "in":
            points = set(c.value) if points is None else points & set(c.value)
        elif c.op == "ne":
            excluded.add(c.value)

    def inside(x: float) -> bool:
        above = x > low[0] or (x == low[0] and low[1])
        below = x < high[0] or (x == high[0] and high[1])
        return above and below and x not in excluded

    if points is not None:
        return any(inside(x) for x in points)
    if low[0] > high[0]:
        return False
    if low[0] == high[0]:
        return low[1] and high[1] and low[0] not in excluded
    return True


def _check_contradictions(topic: Topic) -> None:
    """Two rules with the same conditions must not disagree (or repeat each other)."""
    by_conditions: Dict[FrozenSet[Tuple[str, str, str]], Rule] = {}
    for rule in topic.rules:
        key = frozenset((c.slot, c.op, repr(c.value)) for c in rule.conditions)
        if key in by_conditions:
            other = by_conditions[key]
            verb = "contradicts" if other.referral != rule.referral else "repeats the conditions of"
            raise KnowledgeError(
                topic.path,
                rule.line,
                f"rule '{rule.id}' {verb} rule '{other.id}' (line {other.line}): same conditions"
                + (f", referral '{rule.referral}' vs '{other.referral}'" if other.referral != rule.referral else ""),
            )
        by_conditions[key] = rule
