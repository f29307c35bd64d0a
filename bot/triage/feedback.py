""" "Was this helpful?": the vote and the "what was missing?" comment, as the values stored with the conversation.

Each is the value of a `feedback` slot event (see the dashboard's feedback view, bot/review/): a vote
{"kind": "vote", "helpful": bool, "subject", "referral", "part"} or a comment {"kind": "comment", "text", ...}.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from bot.triage.answers import parse_yes_no

COMMENT_LIMIT = 1000  # characters of a comment kept (the rest is cut, said with an ellipsis)


def about(advised: Optional[Mapping[str, Any]], referral: Optional[str]) -> Dict[str, Any]:
    """What a vote or comment is about: the subject and part of the last answer given, and the referral."""
    advised = advised or {}
    part = advised.get("part")
    return {
        "subject": advised.get("subject") if isinstance(advised.get("subject"), str) else None,
        "referral": referral if isinstance(referral, str) else None,
        "part": part if isinstance(part, str) else "advice",
    }


def vote(helpful: bool, advised: Optional[Mapping[str, Any]], referral: Optional[str]) -> Dict[str, Any]:
    """The stored value of a vote."""
    return {"kind": "vote", "helpful": helpful, **about(advised, referral)}


def comment(text: str, advised: Optional[Mapping[str, Any]], referral: Optional[str]) -> Dict[str, Any]:
    """The stored value of a "what was missing?" comment (at most COMMENT_LIMIT characters)."""
    text = " ".join(text.split())
    if len(text) > COMMENT_LIMIT:
        text = text[: COMMENT_LIMIT - 1] + "…"
    return {"kind": "comment", "text": text, **about(advised, referral)}


VOTE_WORDS = 5  # "yes it did", "not really, no": a longer reply says something else


def vote_in_reply(text: str, states_something: bool) -> Optional[bool]:
    """A plain "yes" / "no" typed in answer to "Was this helpful?"; None when the reply says something else: a fact
    or a correction ("no, she's 13 months") is read as that, never as a vote."""
    if states_something or len(text.split()) > VOTE_WORDS:
        return None
    return {"yes": True, "no": False}.get(parse_yes_no(text) or "")


def awaits_comment(last_feedback: Any) -> bool:
    """After an unhelpful vote the assistant asked what was missing."""
    return isinstance(last_feedback, dict) and last_feedback.get("kind") == "vote" and last_feedback.get("helpful") is False
