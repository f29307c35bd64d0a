"""Say back what was understood: a one-line summary of the facts the advice used, and what a correction changed.

Wording for yes/no answers comes from each question's `say_back` (knowledge/questions.yml) and each
observation's `say_back` (knowledge/observations.yml), so a clinician edits it as data.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Sequence

from bot.knowledge.documents import Question
from bot.triage.age import describe_months


def describe_value(question: Question, value: Any) -> Optional[str]:
    """How a parent would say one answer back ("17 months", "born 6 weeks early", "pulls up to stand")."""
    if value is None:
        return None
    if question.type == "months":
        return describe_months(float(value))
    if question.type == "weeks_early":
        weeks = float(value)
        if weeks <= 0:
            return "born on time"
        if weeks < 1:
            return "born a few days early"
        return f"born {weeks:g} week{'s' if weeks != 1 else ''} early"
    if question.type == "seconds":
        seconds = float(value)
        if seconds <= 0:
            return "doesn't stand alone yet"
        if seconds >= 60:
            return f"stands alone for about {seconds / 60:g} minute{'s' if seconds >= 120 else ''}"
        return f"stands alone for about {seconds:g} second{'s' if seconds != 1 else ''}"
    return question.say_back.get(str(value))


def _observation_phrases(slot: str, value: Any, observations: Sequence[Any]) -> List[str]:
    return [o.say_back for o in observations if o.answers.get(slot) == value]


def summary_line(
    answers: Mapping[str, Any], questions: Mapping[str, Question], observations: Sequence[Any] = ()
) -> Optional[str]:
    """ "From what you've told me: 19 months, born on time, pulls up, ..." — None when nothing is known."""
    parts: List[str] = []
    used = set()
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
    return "From what you've told me: " + ", ".join(parts) + ". If I got something wrong, just tell me and I'll update it."


def changed_line(changes: Iterable[Any], questions: Mapping[str, Question]) -> str:
    """ "Thanks — I've updated that: 17 months (not 11 months)." """
    items = []
    for change in changes:
        question = questions.get(change.slot)
        if question is None:
            continue
        new, old = describe_value(question, change.new), describe_value(question, change.old)
        if new:
            items.append(f"{new} (instead of {old})" if old and old != new else new)
    if not items:
        return "Thanks — I've updated that."
    return "Thanks — I've updated that: " + "; ".join(items) + "."
