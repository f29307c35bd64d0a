"""Evaluate how well the assistant understands parents, from the outside, against the real servers.

Two labelled sets (tests/conversations/):
  answers.yml    one reply to one follow-up question each: the conversation is put in the state of asking
                 that question (events posted to the tracker), the reply is sent over the REST channel, and
                 the slots are read back (value, "not sure", re-ask, urgent, observations);
  dialogues.yml  whole conversations: an opening, a scripted reply to each question the assistant may ask,
                 messages after the advice (corrections...), then the referral, topic, slots and
                 observations at the end, and every question asked although the parent had already told.

Usage:
  python -m tests.tools.eval_conversations [--gate] [--only answers|dialogues] [--id ID ...]
         [--rasa-url URL --token TOKEN | --project-root DIR [--model PATH]] [--concurrency N] [--report NAME]

Without --rasa-url it starts the action and Rasa servers itself (tests.servers.Services), from this
project or from --project-root (e.g. a git worktree of an older commit, to measure a baseline).
Writes reports/<NAME>.md and reports/<NAME>.json (NAME default: conversations). Exit status: 0, or with
--gate 1 when urgent recall is below 100 % or a question was asked after the parent had told the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import httpx
import yaml

from bot.settings import PROJECT_ROOT

CONVERSATIONS_DIR = PROJECT_ROOT / "tests" / "conversations"
ANSWERS_FILE = CONVERSATIONS_DIR / "answers.yml"
DIALOGUES_FILE = CONVERSATIONS_DIR / "dialogues.yml"
KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
REPORTS_DIR = PROJECT_ROOT / "reports"

TOPICS = (
    "crawling_backward",
    "bottom_scooting",
    "late_walking",
    "army_crawling",
    "not_crawling",
    "standing_alone",
    "tummy_time",
    "hip_health",
    "preterm_age",
    "toe_walking",
)


@lru_cache(maxsize=1)
def _observations() -> Dict[str, Any]:
    """id -> definition, from knowledge/observations.yml (the one place observations are defined)."""
    data = yaml.safe_load((PROJECT_ROOT / "knowledge" / "observations.yml").read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in data["observations"]}


def observation_ids() -> Tuple[str, ...]:
    """Every observation id the knowledge defines."""
    return tuple(_observations())


def provider_signs() -> Tuple[str, ...]:
    """Observations that are a sign to see a provider in every topic: a conversation describing one is referred."""
    return tuple(o for o, entry in _observations().items() if entry.get("referral") == "provider")


KINDS = ("plain", "descriptive", "hedge", "typo", "non_native", "unsure", "warning", "number_words", "near_miss")
CLASSES = (
    "plain",
    "facts_in_passing",
    "observation",
    "correction",
    "correction_after_advice",
    "urgent",
    "near_miss",
    "descriptive",
    "milestone",
    "non_native",
    "safety_net",
    "emergency_outside",
)
# Classes whose dialogues may stay outside every topic (expect.topic optional): a milestone question, an emergency,
# or a message about an emergency outside our topics (a swallowed battery, a burn...) and its near misses.
TOPICLESS_CLASSES = ("milestone", "emergency_outside")
REFERRALS = (None, "none", "provider", "urgent")
MILESTONE_QUESTIONS = ("age_months", "weeks_early")  # what a milestone question ("when do babies walk?") asks
# The topic an answer is evaluated in when it names none: one whose questions include the slot.
DEFAULT_TOPIC = {
    "age_months": "late_walking",
    "weeks_early": "preterm_age",
    "hips_checked": "hip_health",
    "alternating_crawl": "crawling_backward",
    "bears_weight": "bottom_scooting",
    "pulls_to_stand": "standing_alone",
    "stands_alone_seconds": "standing_alone",
    "uses_both_sides": "late_walking",
    "sits_alone": "not_crawling",
    "gets_around": "not_crawling",
    "lifts_head": "tummy_time",
    "rolls_over": "tummy_time",
    "breech": "hip_health",
    "hip_family_history": "hip_health",
    "hip_signs": "hip_health",
    "standing_time_growing": "standing_alone",
    "toe_walking_one_side": "toe_walking",
    "w_sitting": "hip_health",
    # asked in any topic by the safety net (issue 12), when the child's age or risk factors make them worth asking
    "walks_alone": "standing_alone",
    "hips_imaged": "hip_health",
}
UNSCRIPTED_REPLY = "not sure"
MAX_TURNS = 30  # per dialogue, all messages included
MAX_SAME_QUESTION = 3  # the same question asked this often in a row: the dialogue is stuck
HTTP_TIMEOUT = 90.0


# ---------------------------------------------------------------------------------------------- knowledge


def load_question_types(knowledge_dir: Path = KNOWLEDGE_DIR) -> Dict[str, str]:
    """slot -> answer type (months | weeks_early | seconds | yes_no_unsure), from knowledge/questions.yml."""
    data = yaml.safe_load((knowledge_dir / "questions.yml").read_text(encoding="utf-8"))
    return {slot: spec["type"] for slot, spec in data["questions"].items()}


def load_topic_questions(knowledge_dir: Path = KNOWLEDGE_DIR) -> Dict[str, Tuple[str, ...]]:
    """topic id -> the questions its document may ask (front matter `questions:`)."""
    topics: Dict[str, Tuple[str, ...]] = {}
    for path in sorted((knowledge_dir / "topics").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        parts = text.split("\n---", 1)
        front = yaml.safe_load(parts[0].lstrip("-\n")) if text.startswith("---") else {}
        topics[front["id"]] = tuple(front.get("questions") or ())
    return topics


@lru_cache(maxsize=1)
def safety_net_questions(knowledge_dir: Path = KNOWLEDGE_DIR) -> Tuple[str, ...]:
    """The questions the safety net may add to any topic (knowledge/safety_net.yml, checks with `ask: true`)."""
    data = yaml.safe_load((knowledge_dir / "safety_net.yml").read_text(encoding="utf-8"))
    return tuple(dict.fromkeys(c["slot"] for c in data.get("checks") or () if c.get("ask") is True))


def questions_of(topic_questions: Mapping[str, Sequence[str]], dialogue: Mapping[str, Any]) -> Tuple[str, ...]:
    """The questions a dialogue may be asked: its topic's, or a milestone question's (the age, born early?)."""
    if "milestone" in (dialogue.get("classes") or ()):
        return MILESTONE_QUESTIONS
    topic = (dialogue.get("expect") or {}).get("topic")
    return tuple(topic_questions.get(topic, ())) if topic else ()


# ------------------------------------------------------------------------------------------- the labelled sets


def load_answers(path: Path = ANSWERS_FILE) -> List[Dict[str, Any]]:
    """The labelled answers, each with an id (`id`, or a-<n>-<question> from its position)."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["answers"]
    for n, item in enumerate(items, 1):
        item.setdefault("id", f"a{n:03d}-{item.get('question')}")
    return items


def load_dialogues(path: Path = DIALOGUES_FILE) -> List[Dict[str, Any]]:
    """The scripted dialogues."""
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["dialogues"])


def validate_sets(
    answers: Sequence[Mapping[str, Any]],
    dialogues: Sequence[Mapping[str, Any]],
    question_types: Mapping[str, str],
    topic_questions: Mapping[str, Sequence[str]],
) -> List[str]:
    """Problems in the labelled sets (empty when they are usable)."""
    problems: List[str] = []
    seen: Counter = Counter(a["id"] for a in answers)
    problems += [f"answer id {i!r} used {n} times" for i, n in seen.items() if n > 1]
    for a in answers:
        where = f"answer {a['id']}"
        q = a.get("question")
        if q not in question_types:
            problems.append(f"{where}: unknown question {q!r}")
            continue
        if not isinstance(a.get("text"), str) or not a["text"].strip():
            problems.append(f"{where}: no text")
        if a.get("kind") not in KINDS:
            problems.append(f"{where}: unknown kind {a.get('kind')!r}")
        topic = a.get("topic") or DEFAULT_TOPIC.get(q)
        if topic not in topic_questions or (q not in topic_questions[topic] and q not in safety_net_questions()):
            problems.append(f"{where}: topic {topic!r} does not ask {q}")
        expect = a.get("expect") or {}
        keys = set(expect)
        if len(keys) != 1 or not keys <= {"value", "unknown", "reask", "urgent"}:
            problems.append(f"{where}: expect must be exactly one of value/unknown/reask/urgent, got {expect!r}")
        elif "value" in expect:
            problems += [f"{where}: {p}" for p in _value_problems(q, expect["value"], question_types)]
        for slot, value in (a.get("known") or {}).items():
            if slot not in question_types:
                problems.append(f"{where}: unknown known slot {slot!r}")
            else:
                problems += [f"{where}: known {p}" for p in _value_problems(slot, value, question_types)]
        problems += [f"{where}: unknown observation {o!r}" for o in a.get("observations") or () if o not in observation_ids()]
        if a.get("kind") == "unsure" and "unknown" not in expect and "reask" not in expect:
            problems.append(f"{where}: kind unsure should expect unknown (or reask)")
        if a.get("kind") == "near_miss" and "urgent" in expect:
            problems.append(f"{where}: a near miss cannot expect urgent")
        if "narrowed" in a and not isinstance(a["narrowed"], bool):
            problems.append(f"{where}: narrowed must be true or false")
    ids: Counter = Counter(d.get("id") for d in dialogues)
    problems += [f"dialogue id {i!r} used {n} times" for i, n in ids.items() if n > 1]
    for d in dialogues:
        where = f"dialogue {d.get('id')}"
        if not d.get("id"):
            problems.append(f"{where}: no id")
        classes = d.get("classes") or []
        problems += [f"{where}: unknown class {c!r}" for c in classes if c not in CLASSES]
        if not isinstance(d.get("opening"), str) or not d["opening"].strip():
            problems.append(f"{where}: no opening")
        expect = d.get("expect") or {}
        unknown_keys = set(expect) - {"referral", "topic", "slots", "observations", "not_asked"}
        if unknown_keys:
            problems.append(f"{where}: unknown expect keys {sorted(unknown_keys)}")
        if "referral" not in expect or expect["referral"] not in REFERRALS:
            problems.append(f"{where}: expect.referral must be one of none/provider/urgent (or null)")
        topic = expect.get("topic")
        if topic is not None and topic not in topic_questions:
            problems.append(f"{where}: unknown topic {topic!r}")
        if topic is None and not set(TOPICLESS_CLASSES) & set(classes) and expect.get("referral") != "urgent":
            problems.append(f"{where}: expect.topic is required (except for milestone, emergency_outside or urgent dialogues)")
        replies = d.get("replies") or {}
        problems += [f"{where}: reply to unknown question {q!r}" for q in replies if q not in question_types]
        problems += [f"{where}: reply to {q} is not text" for q, r in replies.items() if not isinstance(r, str)]
        not_asked = expect.get("not_asked") or []
        problems += [f"{where}: not_asked names unknown question {q!r}" for q in not_asked if q not in question_types]
        missing = [q for q in questions_of(topic_questions, d) if q not in replies and q not in not_asked]
        if missing:
            problems.append(f"{where}: no reply for {missing}")
        for slot, value in (expect.get("slots") or {}).items():
            if slot in question_types:
                problems += [f"{where}: slot {p}" for p in _value_problems(slot, value, question_types)]
            elif slot not in ("topic", "referral"):
                problems.append(f"{where}: unknown slot {slot!r}")
        problems += [
            f"{where}: unknown observation {o!r}" for o in expect.get("observations") or () if o not in observation_ids()
        ]
        if not all(isinstance(m, str) for m in d.get("after") or []):
            problems.append(f"{where}: `after` must be a list of messages")
        if "urgent" in classes and expect.get("referral") != "urgent":
            problems.append(f"{where}: class urgent but referral {expect.get('referral')!r}")
        if "near_miss" in classes and expect.get("referral") == "urgent":
            problems.append(f"{where}: a near miss cannot expect urgent")
        signs = [o for o in expect.get("observations") or () if o in provider_signs()]
        if signs and expect.get("referral") in (None, "none"):
            problems.append(f"{where}: provider sign {signs} but referral {expect.get('referral')!r}")
    return problems


def _value_problems(slot: str, value: Any, question_types: Mapping[str, str]) -> List[str]:
    kind = question_types[slot]
    if kind == "yes_no_unsure":
        return [] if value in ("yes", "no", "unsure") else [f"{slot}: {value!r} is not yes/no/unsure"]
    return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else [f"{slot}: {value!r} is not a number"]


# ------------------------------------------------------------------------------------------------ comparing


def value_matches(kind: str, expected: Any, got: Any) -> bool:
    """Expected slot value against the tracker's, with the tolerance of the answer type."""
    if got is None:
        return expected is None
    if kind == "yes_no_unsure":
        return str(got).strip().lower() == str(expected).strip().lower()
    try:
        got_f, exp_f = float(got), float(expected)
    except (TypeError, ValueError):
        return False
    if kind == "months":
        return abs(got_f - exp_f) <= max(0.5, 0.05 * abs(exp_f))
    if kind == "seconds":
        return abs(got_f - exp_f) <= max(1.0, 0.2 * abs(exp_f))
    if kind == "weeks_early":
        return abs(got_f - exp_f) <= 0.6
    return got_f == exp_f


def shorten(text: str, limit: int = 160) -> str:
    """One line, at most `limit` characters."""
    flat = re.sub(r"\s+", " ", text or "").strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -------------------------------------------------------------------------------------------------- talking


class Client:
    """Talks to one Rasa server: REST channel, tracker, events."""

    def __init__(self, http: httpx.AsyncClient, rasa_url: str, token: str) -> None:
        self.http = http
        self.url = rasa_url.rstrip("/")
        self.token = token

    async def say(self, sender: str, text: str) -> List[str]:
        """Send a message; the reply texts."""
        response = await self.http.post(
            f"{self.url}/webhooks/rest/webhook", params={"token": self.token}, json={"sender": sender, "message": text}
        )
        response.raise_for_status()
        return [m.get("text") or "" for m in response.json()]

    async def slots(self, sender: str) -> Dict[str, Any]:
        """The conversation's slots now."""
        response = await self.http.get(f"{self.url}/conversations/{sender}/tracker", params={"token": self.token})
        response.raise_for_status()
        return response.json().get("slots") or {}

    async def post_events(self, sender: str, events: List[Dict[str, Any]]) -> None:
        """Append events to the conversation's tracker."""
        response = await self.http.post(
            f"{self.url}/conversations/{sender}/tracker/events", params={"token": self.token}, json=events
        )
        response.raise_for_status()

    async def ask_state(self, sender: str, topic: str, question: str, known: Mapping[str, Any], narrowed: bool = False) -> None:
        """Put a fresh conversation in the state of asking `question` within `topic` (the triage form active);
        `narrowed`: the question has already had one reply it could not record ("not sure" to a warning sign gets a
        narrower question once), so this reply is the answer to the narrower question."""
        # The first post opens the session (action_session_start). Rasa stamps posted events when it reads the
        # request, before the session starts, and then reads back only events stamped after the session start,
        # so the state is posted again once the session exists.
        await self.post_events(sender, [{"event": "slot", "name": "topic", "value": topic}])
        events: List[Dict[str, Any]] = [
            {"event": "slot", "name": "topic", "value": topic},
            {
                "event": "slot",
                "name": "triage_state",
                "value": {"topic": topic, **({"failures": {question: 1}} if narrowed else {})},
            },
        ]
        events += [{"event": "slot", "name": slot, "value": value} for slot, value in known.items()]
        events += [
            {"event": "active_loop", "name": "triage_form"},
            {"event": "slot", "name": "requested_slot", "value": question},
        ]
        await self.post_events(sender, events)


def new_sender(prefix: str) -> str:
    """A fresh conversation id."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", prefix)[:40]
    return f"eval-{safe}-{uuid.uuid4().hex[:10]}"


def observations_of(slots: Mapping[str, Any]) -> List[str]:
    """The `observations` slot as a list of ids (empty when the slot is missing)."""
    value = slots.get("observations")
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or ()]


@dataclass
class Outcome:
    """The result of one labelled answer or dialogue."""

    id: str
    set: str  # answers | dialogues
    groups: List[str]  # kind (answers) or classes (dialogues)
    checks: Dict[str, bool] = field(default_factory=dict)  # check name -> passed
    expected: Dict[str, Any] = field(default_factory=dict)
    got: Dict[str, Any] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)
    last_reply: str = ""
    reasks_after_told: List[str] = field(default_factory=list)
    unscripted: List[str] = field(default_factory=list)
    urgent_expected: bool = False
    urgent_got: bool = False
    near_miss: bool = False
    error: Optional[str] = None

    @property
    def passed(self) -> bool:
        """Every check passed, nothing unscripted, nothing re-asked, no error."""
        return self.error is None and all(self.checks.values()) and not self.unscripted and not self.reasks_after_told


async def run_answer(client: Client, item: Mapping[str, Any], question_types: Mapping[str, str]) -> Outcome:
    """One labelled answer: ask its question in a fresh conversation, send the text, read the slots back."""
    question = item["question"]
    kind = question_types[question]
    topic = item.get("topic") or DEFAULT_TOPIC[question]
    expect = item.get("expect") or {}
    outcome = Outcome(
        id=item["id"],
        set="answers",
        groups=[item.get("kind", "plain")],
        expected={"question": question, **expect},
        urgent_expected=bool(expect.get("urgent")),
        near_miss=item.get("kind") == "near_miss",
    )
    sender = new_sender(item["id"])
    try:
        await client.ask_state(sender, topic, question, item.get("known") or {}, bool(item.get("narrowed")))
        replies = await client.say(sender, item["text"])
        slots = await client.slots(sender)
    except (httpx.HTTPError, OSError) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
        outcome.checks["answer"] = False
        return outcome
    got_value, requested, referral = slots.get(question), slots.get("requested_slot"), slots.get("referral")
    seen = observations_of(slots)
    outcome.got = {"value": got_value, "requested_slot": requested, "referral": referral, "observations": seen}
    outcome.last_reply = shorten(" ".join(replies))
    outcome.urgent_got = referral == "urgent"
    if "value" in expect:
        ok = value_matches(kind, expect["value"], got_value)
    elif expect.get("unknown"):
        if kind == "yes_no_unsure":
            ok = got_value == "unsure" and requested != question
        else:
            ok = got_value in (None, "unsure") and requested != question
    elif expect.get("reask"):
        ok = requested == question and got_value is None
    elif expect.get("urgent"):
        ok = referral == "urgent"
    else:
        ok = False
    outcome.checks["answer"] = ok
    if item.get("observations"):
        outcome.checks["observations"] = all(o in seen for o in item["observations"])
        outcome.expected["observations"] = list(item["observations"])
    if outcome.near_miss:
        outcome.checks["not_urgent"] = referral != "urgent"
    return outcome


async def run_dialogue(client: Client, dialogue: Mapping[str, Any], question_types: Mapping[str, str]) -> Outcome:
    """One scripted dialogue: the opening, a reply to every question asked, the `after` messages, then checks."""
    expect = dialogue.get("expect") or {}
    classes = list(dialogue.get("classes") or [])
    outcome = Outcome(
        id=dialogue["id"],
        set="dialogues",
        groups=classes,
        expected=dict(expect),
        urgent_expected=expect.get("referral") == "urgent",
        near_miss="near_miss" in classes,
    )
    replies: Mapping[str, str] = dialogue.get("replies") or {}
    not_asked = set(expect.get("not_asked") or ())
    sender = new_sender(dialogue["id"])
    turns = 0
    previous: Dict[str, Any] = {}
    last_text: List[str] = []
    asked: List[str] = []

    async def send(text: str) -> Dict[str, Any]:
        nonlocal turns, previous
        turns += 1
        said = await client.say(sender, text)
        if said:
            last_text[:] = said
        slots = await client.slots(sender)
        question = slots.get("requested_slot")
        if question:
            asked.append(question)
            told = previous.get(question) is not None or slots.get(question) is not None
            if question in not_asked or told:
                known = previous.get(question) if previous.get(question) is not None else slots.get(question)
                why = "listed in not_asked" if question in not_asked else f"already {known!r}"
                outcome.reasks_after_told.append(f"turn {turns}: asked {question} ({why})")
        previous = slots
        return slots

    async def answer_questions(slots: Dict[str, Any]) -> Dict[str, Any]:
        same = 0
        last_question = None
        while slots.get("requested_slot") and turns < MAX_TURNS:
            question = slots["requested_slot"]
            same = same + 1 if question == last_question else 1
            last_question = question
            if same > MAX_SAME_QUESTION:
                outcome.problems.append(f"stuck: {question} asked {same - 1} times in a row")
                break
            reply = replies.get(question)
            if reply is None:
                outcome.unscripted.append(question)
                reply = UNSCRIPTED_REPLY
            slots = await send(reply)
        return slots

    try:
        slots = await answer_questions(await send(dialogue["opening"]))
        for message in dialogue.get("after") or ():
            if turns >= MAX_TURNS:
                break
            slots = await answer_questions(await send(message))
    except (httpx.HTTPError, OSError) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
        outcome.checks["referral"] = False
        return outcome
    if slots.get("requested_slot"):
        outcome.problems.append(f"questions never ended (last asked: {slots['requested_slot']})")
    seen = observations_of(slots)
    outcome.got = {
        "referral": slots.get("referral"),
        "topic": slots.get("topic"),
        "observations": seen,
        "asked": asked,
        "slots": {s: slots.get(s) for s in (expect.get("slots") or {})},
    }
    outcome.last_reply = shorten(" ".join(last_text))
    outcome.urgent_got = slots.get("referral") == "urgent"
    outcome.checks["referral"] = slots.get("referral") == expect.get("referral")
    if "topic" in expect:
        outcome.checks["topic"] = slots.get("topic") == expect["topic"]
    if expect.get("slots"):
        outcome.checks["slots"] = all(
            value_matches(question_types.get(s, "exact"), v, slots.get(s)) for s, v in expect["slots"].items()
        )
    if expect.get("observations"):
        outcome.checks["observations"] = all(o in seen for o in expect["observations"])
    if outcome.near_miss:
        outcome.checks["not_urgent"] = slots.get("referral") != "urgent"
    if outcome.problems:
        outcome.checks["finished"] = False
    return outcome


async def run_all(
    rasa_url: str,
    token: str,
    answers: Sequence[Mapping[str, Any]],
    dialogues: Sequence[Mapping[str, Any]],
    question_types: Mapping[str, str],
    concurrency: int = 6,
) -> List[Outcome]:
    """Run every answer and dialogue, `concurrency` conversations at a time."""
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=limits) as http:
        client = Client(http, rasa_url, token)

        async def guarded(job: Any) -> Outcome:
            async with gate:
                return await job

        jobs = [run_answer(client, a, question_types) for a in answers]
        jobs += [run_dialogue(client, d, question_types) for d in dialogues]
        return list(await asyncio.gather(*(guarded(j) for j in jobs)))


# -------------------------------------------------------------------------------------------------- scoring


def _ratio(passed: int, total: int) -> Dict[str, Any]:
    return {"passed": passed, "total": total, "rate": round(passed / total, 4) if total else None}


def score(outcomes: Sequence[Outcome]) -> Dict[str, Any]:
    """The headline numbers, per class, with counts."""
    answers = [o for o in outcomes if o.set == "answers"]
    dialogues = [o for o in outcomes if o.set == "dialogues"]
    per_kind: Dict[str, List[Outcome]] = defaultdict(list)
    for o in answers:
        per_kind[o.groups[0]].append(o)
    per_question: Dict[str, List[Outcome]] = defaultdict(list)
    for o in answers:
        per_question[o.expected["question"]].append(o)
    per_class: Dict[str, List[Outcome]] = defaultdict(list)
    for o in dialogues:
        for c in o.groups:
            per_class[c].append(o)
    with_obs = [o for o in outcomes if "observations" in o.checks]
    corrections = [o for o in dialogues if {"correction", "correction_after_advice"} & set(o.groups)]
    corrections_scored = [o for o in corrections if "slots" in o.checks]
    urgent = [o for o in outcomes if o.urgent_expected]
    near = [o for o in outcomes if o.near_miss]
    reasks = sum(len(o.reasks_after_told) for o in dialogues)
    return {
        "answers": _ratio(sum(o.checks.get("answer", False) for o in answers), len(answers)),
        "answers_per_kind": {
            k: _ratio(sum(o.checks.get("answer", False) for o in v), len(v)) for k, v in sorted(per_kind.items())
        },
        "answers_per_question": {
            k: _ratio(sum(o.checks.get("answer", False) for o in v), len(v)) for k, v in sorted(per_question.items())
        },
        "observations": _ratio(sum(o.checks["observations"] for o in with_obs), len(with_obs)),
        "corrections": _ratio(sum(o.checks["slots"] and not o.error for o in corrections_scored), len(corrections_scored)),
        "reasks_after_told": reasks,
        "dialogues_with_reasks": sum(1 for o in dialogues if o.reasks_after_told),
        "unscripted_questions": sum(len(o.unscripted) for o in dialogues),
        "referral_multi_turn": _ratio(sum(o.checks.get("referral", False) for o in dialogues), len(dialogues)),
        "dialogues_fully_right": _ratio(sum(o.passed for o in dialogues), len(dialogues)),
        "dialogues_per_class": {k: _ratio(sum(o.passed for o in v), len(v)) for k, v in sorted(per_class.items())},
        "referral_per_class": {
            k: _ratio(sum(o.checks.get("referral", False) for o in v), len(v)) for k, v in sorted(per_class.items())
        },
        "urgent_recall": _ratio(sum(o.urgent_got for o in urgent), len(urgent)),
        "urgent_recall_answers": _ratio(
            sum(o.urgent_got for o in urgent if o.set == "answers"), sum(o.set == "answers" for o in urgent)
        ),
        "urgent_recall_dialogues": _ratio(
            sum(o.urgent_got for o in urgent if o.set == "dialogues"), sum(o.set == "dialogues" for o in urgent)
        ),
        "near_misses_not_urgent": _ratio(sum(not o.urgent_got for o in near), len(near)),
        "errors": sum(1 for o in outcomes if o.error),
    }


def gate_failures(numbers: Mapping[str, Any]) -> List[str]:
    """Why the gate fails: urgent recall below 100 %, or any question asked after the parent had told."""
    problems = []
    recall = numbers["urgent_recall"]
    if recall["total"] and recall["passed"] < recall["total"]:
        problems.append(f"urgent recall {recall['passed']}/{recall['total']}")
    if numbers["reasks_after_told"]:
        problems.append(f"{numbers['reasks_after_told']} re-asks after told")
    if numbers["errors"]:
        problems.append(f"{numbers['errors']} conversations failed with an error")
    return problems


def _pct(r: Mapping[str, Any]) -> str:
    return "n/a" if r["rate"] is None else f"{100 * r['rate']:.1f} % ({r['passed']}/{r['total']})"


def _failure_line(o: Outcome) -> str:
    failed = [name for name, ok in o.checks.items() if not ok]
    if o.unscripted:
        failed.append("unscripted question " + ", ".join(o.unscripted))
    if o.reasks_after_told:
        failed.append("re-ask after told: " + "; ".join(o.reasks_after_told))
    failed += o.problems
    if o.error:
        failed.append(f"error {o.error}")
    expected = json.dumps(o.expected, ensure_ascii=False, default=str)
    got = json.dumps(o.got, ensure_ascii=False, default=str)
    cell = lambda s: s.replace("|", "\\|")  # noqa: E731
    return f"| {o.id} | {cell('; '.join(failed))} | {cell(expected)} | {cell(got)} | {cell(o.last_reply)} |"


def render_markdown(numbers: Mapping[str, Any], outcomes: Sequence[Outcome], meta: Mapping[str, Any]) -> str:
    """reports/conversations.md."""
    lines = [
        "# Understanding parents: conversation evaluation",
        "",
        f"Run {meta['started']} against {meta['target']} ({meta['seconds']:.0f} s, {meta['concurrency']} at a time). "
        "Sets: tests/conversations/answers.yml and dialogues.yml. Made by `python -m tests.tools.eval_conversations`.",
        "",
        "| Measure | Result |",
        "|---|---|",
        f"| Answers understood (one reply to one question) | {_pct(numbers['answers'])} |",
        f"| Observations recorded | {_pct(numbers['observations'])} |",
        f"| Corrections (slot right after a correction) | {_pct(numbers['corrections'])} |",
        f"| Re-asks after told (count; gate: 0) | {numbers['reasks_after_told']} in {numbers['dialogues_with_reasks']} dialogues |",
        f"| Referral right (multi-turn dialogues) | {_pct(numbers['referral_multi_turn'])} |",
        f"| Urgent recall (gate: 100 %) | {_pct(numbers['urgent_recall'])} |",
        f"| &nbsp;&nbsp;in answers / in dialogues | {_pct(numbers['urgent_recall_answers'])} / {_pct(numbers['urgent_recall_dialogues'])} |",
        f"| Near misses not urgent | {_pct(numbers['near_misses_not_urgent'])} |",
        f"| Dialogues entirely right | {_pct(numbers['dialogues_fully_right'])} |",
        f"| Unscripted questions (asked, no reply written) | {numbers['unscripted_questions']} |",
        f"| Conversations failed with an error | {numbers['errors']} |",
        "",
        "## Answers per kind",
        "",
        "| Kind | Right |",
        "|---|---|",
        *(f"| {k} | {_pct(v)} |" for k, v in numbers["answers_per_kind"].items()),
        "",
        "## Answers per question",
        "",
        "| Question | Right |",
        "|---|---|",
        *(f"| {k} | {_pct(v)} |" for k, v in numbers["answers_per_question"].items()),
        "",
        "## Dialogues per class",
        "",
        "| Class | Entirely right | Referral right |",
        "|---|---|---|",
        *(f"| {k} | {_pct(v)} | {_pct(numbers['referral_per_class'][k])} |" for k, v in numbers["dialogues_per_class"].items()),
        "",
    ]
    gate = gate_failures(numbers)
    lines += [f"Gate: {'FAILS: ' + '; '.join(gate) if gate else 'passes'}.", ""]
    failures = [o for o in outcomes if not o.passed]
    lines += [f"## Failures ({len(failures)})", "", "| Id | What failed | Expected | Got | Last reply |", "|---|---|---|---|---|"]
    lines += [_failure_line(o) for o in sorted(failures, key=lambda o: (o.set, o.id))]
    return "\n".join(lines) + "\n"


def write_reports(
    numbers: Mapping[str, Any], outcomes: Sequence[Outcome], meta: Mapping[str, Any], name: str, out: Path
) -> Tuple[Path, Path]:
    """Write <out>/<name>.md and <out>/<name>.json."""
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / f"{name}.md", out / f"{name}.json"
    md.write_text(render_markdown(numbers, outcomes, meta), encoding="utf-8")
    failures = [
        {
            "id": o.id,
            "set": o.set,
            "groups": o.groups,
            "checks": o.checks,
            "expected": o.expected,
            "got": o.got,
            "unscripted": o.unscripted,
            "reasks_after_told": o.reasks_after_told,
            "problems": o.problems,
            "error": o.error,
            "last_reply": o.last_reply,
        }
        for o in outcomes
        if not o.passed
    ]
    js.write_text(
        json.dumps(
            {"meta": dict(meta), "numbers": numbers, "gate": gate_failures(numbers), "failures": failures}, indent=2, default=str
        ),
        encoding="utf-8",
    )
    return md, js


# ---------------------------------------------------------------------------------------------------- servers


def start_services(tmp: Path, project_root: Path, model: Path) -> Any:
    """The action and Rasa servers of `project_root` (tests.servers.Services, pointed at that tree)."""
    from tests import servers

    class TreeServices(servers.Services):
        """Services run from another source tree (e.g. a worktree of an older commit) with its own model."""

        def __init__(self) -> None:
            super().__init__(tmp)
            self.env["PYTHONPATH"] = str(project_root)
            self.env["KNOWLEDGE_DIR"] = str(project_root / "knowledge")
            self.env["KNOWLEDGE_DB"] = str(project_root / "build" / "knowledge.db")

        def _spawn(self, command: List[str], name: str) -> Any:
            import subprocess

            log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the process owns it
            return subprocess.Popen(command, cwd=project_root, env=self.env, stdout=log, stderr=subprocess.STDOUT)

        def start_rasa(self) -> None:
            from bot.serve import rasa_command, wait_until_up

            self.rasa = [self._spawn(rasa_command(p, model, servers.TOKEN, self.origins), f"rasa-{p}") for p in self.rasa_ports]
            for port, process in zip(self.rasa_ports, self.rasa, strict=False):
                wait_until_up(f"http://127.0.0.1:{port}/", 240, process)

    return TreeServices().start()


def evaluate(
    rasa_url: str,
    token: str,
    only: Optional[str] = None,
    ids: Iterable[str] = (),
    concurrency: int = 6,
    sets: Path = CONVERSATIONS_DIR,
) -> Tuple[Dict[str, Any], List[Outcome]]:
    """Run the evaluation against a running Rasa server; the numbers and every outcome."""
    question_types = load_question_types()
    answers = load_answers(sets / ANSWERS_FILE.name) if only in (None, "answers") else []
    dialogues = load_dialogues(sets / DIALOGUES_FILE.name) if only in (None, "dialogues") else []
    wanted = set(ids)
    if wanted:
        answers = [a for a in answers if a["id"] in wanted]
        dialogues = [d for d in dialogues if d["id"] in wanted]
    outcomes = asyncio.run(run_all(rasa_url, token, answers, dialogues, question_types, concurrency))
    return score(outcomes), outcomes


def main(argv: Optional[List[str]] = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-url", help="a running Rasa server (default: start the servers here)")
    parser.add_argument("--token", help="its auth token (with --rasa-url)")
    parser.add_argument("--project-root", type=Path, default=PROJECT_ROOT, help="source tree whose servers to start")
    parser.add_argument("--model", type=Path, help="model archive (default: <project-root>/models/caregiver.tar.gz)")
    parser.add_argument("--only", choices=["answers", "dialogues"])
    parser.add_argument("--id", action="append", default=[], help="run only this answer or dialogue id (repeatable)")
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--report", default="conversations", help="report name under reports/ (default: conversations)")
    parser.add_argument("--gate", action="store_true", help="exit 1 when urgent recall < 100 %% or re-asks after told > 0")
    parser.add_argument("--sets", type=Path, default=CONVERSATIONS_DIR, help="folder with answers.yml and dialogues.yml")
    args = parser.parse_args(argv)

    question_types = load_question_types()
    sets = args.sets.resolve()
    problems = validate_sets(
        load_answers(sets / ANSWERS_FILE.name), load_dialogues(sets / DIALOGUES_FILE.name), question_types, load_topic_questions()
    )
    if problems:
        print("The labelled sets have problems:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    clock = time.monotonic()
    services = None
    tmp = None
    try:
        if args.rasa_url:
            url, token, target = args.rasa_url, args.token or "", args.rasa_url
        else:
            root = args.project_root.resolve()
            model = (args.model or root / "models" / "caregiver.tar.gz").resolve()
            if not model.exists():
                print(f"No trained model at {model}: run `make train` first.", file=sys.stderr)
                return 2
            tmp = tempfile.TemporaryDirectory(prefix="eval-conversations-")
            print(f"Starting the servers of {root} ...", flush=True)
            services = start_services(Path(tmp.name), root, model)
            from tests.servers import TOKEN

            url, token, target = services.rasa_url, TOKEN, f"servers started from {root} (model {model})"
        run_clock = time.monotonic()
        numbers, outcomes = evaluate(url, token, args.only, args.id, args.concurrency, sets)
        run_seconds = time.monotonic() - run_clock
    finally:
        if services is not None:
            services.stop()
        if tmp is not None:
            tmp.cleanup()
    meta = {
        "started": started,
        "target": target,
        "seconds": time.monotonic() - clock,
        "run_seconds": run_seconds,
        "concurrency": args.concurrency,
        "only": args.only,
        "ids": args.id,
    }
    md, js = write_reports(numbers, outcomes, meta, args.report, REPORTS_DIR)
    print(render_summary(numbers, meta))
    print(f"Wrote {md} and {js}")
    failures = gate_failures(numbers)
    if args.gate and failures:
        print("Gate fails: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


def render_summary(numbers: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """A few lines for the terminal."""
    return "\n".join(
        [
            f"answers {_pct(numbers['answers'])}; observations {_pct(numbers['observations'])}; "
            f"corrections {_pct(numbers['corrections'])}",
            f"referral (multi-turn) {_pct(numbers['referral_multi_turn'])}; urgent recall {_pct(numbers['urgent_recall'])}; "
            f"near misses not urgent {_pct(numbers['near_misses_not_urgent'])}",
            f"re-asks after told {numbers['reasks_after_told']}; unscripted questions {numbers['unscripted_questions']}; "
            f"errors {numbers['errors']}; {meta['run_seconds']:.0f} s conversations, {meta['seconds']:.0f} s in all",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
