"""Say back what was understood: a one-line summary of the facts the advice used, and what a correction changed.

Wording for yes/no answers comes from each question's `say_back` (knowledge/questions.yml) and each
observation's `say_back` (knowledge/observations.yml), so a clinician edits it as data.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Sequence, Set

from bot.knowledge.documents import Question
from bot.knowledge.messages import say
from bot.triage.age import describe_months, plural


def describe_value(question: Question, value: Any) -> Optional[str]:
    """How a parent would say one answer back ("17 months", "born 6 weeks early", "pulls up to stand")."""
    if value is None:
        return None
    if question.type == "months":
        return describe_months(float(value))
    if question.type == "weeks_early":
        weeks = float(value)
        if weeks <= 0:
            return say("summary.born_on_time")
        if weeks < 1:
            return say("summary.born_days_early")
        return say(f"summary.born_weeks_early.{plural(weeks)}", weeks=weeks)
    if question.type == "seconds":
        seconds = float(value)
        if seconds <= 0:
            return say("summary.not_standing_alone")
        if seconds >= 60:
            return say(f"summary.stands_alone_minutes.{plural(seconds / 60)}", minutes=seconds / 60)
        return say(f"summary.stands_alone_seconds.{plural(seconds)}", seconds=seconds)
    return question.say_back.get(str(value))


def _observation_phrases(slot: str, value: Any, observations: Sequence[Any]) -> List[str]:
    return [o.say_back for o in observations if o.answers.get(slot) == value]


def summary_line(
    answers: Mapping[str, Any], questions: Mapping[str, Question], observations: Sequence[Any] = ()
) -> Optional[str]:
    """ "From what you've told me: 19 months, born on time, pulls up, ..." — None when nothing is known."""
    parts: List[str] = []
    used: Set[str] = set()
    for slot, question in questions.items():
        value = answers.get(slot)
        if value is None:
            continue
        described = _observation_phrases(slot, value, observations)
        if described:
            used.update(o.id for o in observations if o.answers.get(slot) == value)
            parts.extend(described)
            continue
        phrase = describe_value(question, value)
        if phrase:
            parts.append(phrase)
    parts += [o.say_back for o in observations if o.id not in used and not o.answers]
    parts = list(dict.fromkeys(p for p in parts if p))
    if not parts:
        return None
    return say("summary.told_me", facts=", ".join(parts))


def changed_line(changes: Iterable[Any], questions: Mapping[str, Question]) -> str:
    """ "Thanks — I've updated that: 17 months (not 11 months)." """
    items = []
    for change in changes:
        question = questions.get(change.slot)
        if question is None:
            continue
        new, old = describe_value(question, change.new), describe_value(question, change.old)
        if new:
            items.append(say("summary.instead_of", new=new, old=old) if old and old != new else new)
    if not items:
        return say("summary.updated")
    return say("summary.updated_facts", facts="; ".join(items))
