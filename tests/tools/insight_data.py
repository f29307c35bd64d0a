"""Conversations for the gaps and feedback views: messages the assistant could not handle (in themes, phrased several
ways), understood form replies below the confidence threshold, and "Was this helpful?" votes and comments, stored
as Rasa's SQLTrackerStore writes them (tests.tools.review_data.write)."""

from __future__ import annotations

import random
from typing import Any, Dict, Iterator, List, Optional, Tuple

from tests.tools.review_data import conversation

DAY = 86400.0
# Themes of messages the assistant could not handle, each phrased several ways (what the gaps view should group).
THEMES: Dict[str, Tuple[str, ...]] = {
    "sleep": (
        "can my baby sleep on her tummy",
        "is it ok for my baby to sleep on his tummy",
        "my baby sleeps on her tummy is that ok",
    ),
    "nappy": ("how do I change a nappy", "how to change a nappy", "how do you change a nappy properly"),
    "vegetables": ("she won't eat vegetables", "my son won't eat his vegetables", "he won't eat any vegetables"),
}
UNRELATED = ("what's the weather like in Paris tomorrow", "recommend a good pizza place near me")
COMMENTS = (
    "nothing about what to do if she also rolls only one way",
    "I wanted to know if special shoes would help",
    "too long, I needed a yes or no",
)


def user(text: str, intent: str, confidence: float, channel: str, at: float) -> Dict[str, Any]:
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "input_channel": channel,
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []},
    }


def action(name: str, at: float) -> Dict[str, Any]:
    return {"event": "action", "timestamp": at, "name": name}


def bot(text: str, at: float) -> Dict[str, Any]:
    return {"event": "bot", "timestamp": at, "text": text, "data": {}}


def slot(name: str, value: Any, at: float) -> Dict[str, Any]:
    return {"event": "slot", "timestamp": at, "name": name, "value": value}


def not_handled(text: str, channel: str, at: float, out_of_scope: bool = False) -> List[Dict[str, Any]]:
    """A message the assistant could not handle: its fallback (or out-of-scope) reply, then listening again."""
    reply = "action_handle_out_of_scope" if out_of_scope else "action_suggest_topic"
    return [
        action("action_session_start", at),
        {"event": "session_started", "timestamp": at},
        action("action_listen", at),
        user(text, "nlu_fallback", 0.2, channel, at + 1),
        action(reply, at + 1),
        bot("I'm not sure I understood. Did you mean one of these?", at + 1),
        action("action_listen", at + 1),
    ]


def vote(helpful: bool, subject: Optional[str], at: float, part: str = "advice", referral: str = "none") -> Dict[str, Any]:
    value = {"kind": "vote", "helpful": helpful, "subject": subject, "referral": referral, "part": part}
    return slot("feedback", value, at)


def comment(text: Any, subject: Optional[str], at: float) -> Dict[str, Any]:
    value = {"kind": "comment", "text": text, "subject": subject, "referral": "none", "part": "advice"}
    return slot("feedback", value, at)


def with_feedback(kind: str, rng: random.Random, at: float, channel: str, feedback: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """An ordinary conversation (tests.tools.review_data) with feedback events after its advice."""
    events = conversation(kind, at, rng, channel)
    end = max(e["timestamp"] for e in events) + 5
    return events + [{**event, "timestamp": end + i} for i, event in enumerate(feedback)]


def gap_conversations(now: float, channel: str = "rest") -> Iterator[Tuple[str, List[Dict[str, Any]]]]:
    """Each theme's phrasings (twice the first one), and the unrelated messages, spread over the last 5 days."""
    n = 0
    for theme, phrasings in THEMES.items():
        for i, text in enumerate((phrasings[0],) + phrasings):
            n += 1
            yield f"gap-{theme}-{i}", not_handled(text, channel, now - (n % 5 + 1) * DAY)
    for i, text in enumerate(UNRELATED):
        yield f"gap-unrelated-{i}", not_handled(text, channel, now - (i + 1) * DAY, out_of_scope=True)


def feedback_conversations(now: float, channel: str = "rest") -> Iterator[Tuple[str, List[Dict[str, Any]]]]:
    """Votes and comments: late_walking 3 helpful of 4 (one comment), bottom_scooting 1 of 3 (two comments), a
    milestone vote and one without a topic; 2, 9 and 10 days before now, so the weekly rates differ."""
    rng = random.Random(11)
    plan = [
        ("late_walking", True, 2), ("late_walking", True, 2), ("late_walking", True, 9), ("late_walking", False, 9),
        ("bottom_scooting", False, 2), ("bottom_scooting", False, 10), ("bottom_scooting", True, 9),
        ("milestone:walks", True, 2), (None, False, 2),
    ]  # fmt: skip
    comments = {3: COMMENTS[0], 4: COMMENTS[1], 5: COMMENTS[2]}
    for i, (subject, helpful, days_ago) in enumerate(plan):
        at = now - days_ago * DAY
        events = [vote(helpful, subject, at, part="try" if i % 2 else "advice")]
        if i in comments:
            events.append(comment(comments[i], subject, at))
        yield f"feedback-{i}", with_feedback("none", rng, at - 600, channel, events)
