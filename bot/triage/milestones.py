"""Answer "when do babies usually ...?" from the milestone table, compared with the child's corrected age when known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from bot.contract import MILESTONE_PREFIX
from bot.knowledge.documents import Source
from bot.knowledge.messages import say
from bot.knowledge.milestones import Milestone, MilestoneTable
from bot.triage.advice import (
    MORE_PARTS,
    Message,
    Signs,
    carried_referral,
    describe_age,
    merge_sources,
    more_buttons,
    sources_text,
)
from bot.triage.age import CORRECT_UNTIL_MONTHS, AgeUsed, age_for_rules, describe_months
from bot.triage.rules import higher

OVERVIEW = "overview"


@dataclass(frozen=True)
class MilestoneSubject:
    """A milestone question, seen by the follow-up question plan like a topic: ask the age, then 'born early?'."""

    id: str
    title: str
    questions: Tuple[str, ...] = ("age_months", "weeks_early")
    uses_age: bool = True
    general_option: bool = True


def subject_for(milestone: Optional[Milestone]) -> MilestoneSubject:
    """The question plan for a milestone (None: milestones in general, e.g. 'what should a 9 month old do?')."""
    if milestone is None:
        return MilestoneSubject(id=MILESTONE_PREFIX + OVERVIEW, title=say("milestone.overview_title"))
    return MilestoneSubject(id=MILESTONE_PREFIX + milestone.id, title=say("milestone.subject_title", doing=milestone.doing))


def is_milestone_subject(subject_id: Optional[str]) -> bool:
    """Whether a triage subject id is a milestone question rather than a topic."""
    return bool(subject_id) and str(subject_id).startswith(MILESTONE_PREFIX)


def milestone_id_of(subject_id: str) -> str:
    """The milestone id in a milestone subject id ('overview' for milestones in general)."""
    return subject_id[len(MILESTONE_PREFIX) :]


@dataclass(frozen=True)
class MilestoneAnswer:
    """The reply to a milestone question; referral is None when no child was assessed (no age given)."""

    milestone_id: str
    referral: Optional[str]
    age: AgeUsed
    messages: Tuple[Message, ...]
    sources: Tuple[Source, ...]
    topic: Optional[str] = None


def _months(value: float) -> str:
    return say("milestone.months", n=value)


def usual_lines(milestone: Milestone) -> List[str]:
    """What the sources say: the usual window, the CDC 2022 age, and when to talk to a provider."""
    lines = []
    if milestone.who:
        who = milestone.who
        lines.append(say("milestone.usual.who", start=who.start, end=who.end, mean=who.mean))
    elif milestone.usual:
        lines.append(say("milestone.usual.range", start=milestone.usual.start, end=milestone.usual.end))
    if milestone.cdc_months is not None:
        says = milestone.cdc_says or say(
            "milestone.usual.cdc_default", doing=milestone.doing, months=_months(milestone.cdc_months)
        )
        lines.append(say("milestone.usual.cdc", says=says))
    if milestone.check_by is None:
        lines.append(say("milestone.usual.no_fixed_age", doing=milestone.doing))
        return lines
    note = f" ({milestone.check_note})" if milestone.check_note else ""
    lines.append(say("milestone.usual.talk_to_provider", doing=milestone.doing, months=_months(milestone.check_by), note=note))
    return lines


def verdict(milestone: Milestone, months: float, not_yet: bool, corrected: bool) -> Tuple[str, str]:
    """One sentence comparing the child's age with the milestone, and the referral level it implies."""
    age = describe_months(months)
    age = say("milestone.corrected_age", age=age) if corrected else age
    doing, window, check_by = milestone.doing, milestone.window, milestone.check_by
    past_cdc = milestone.cdc_months is not None and months >= milestone.cdc_months
    if check_by is not None and months >= check_by:
        if not_yet:
            return say("milestone.verdict.late_not_yet", age=age, doing=doing), "provider"
        return say("milestone.verdict.late", age=age, doing=doing), "none"
    if window and months < window.start:
        return say("milestone.verdict.early", age=age, start=_months(window.start)), "none"
    if check_by is None:
        # no source gives an age to see a provider about this milestone alone: say so, and what the CDC expects
        if past_cdc:
            return say("milestone.verdict.past_cdc_no_check", age=age, doing=doing), "none"
        lines = [say("milestone.verdict.within_no_check", age=age, doing=doing)]
        if milestone.cdc_months is not None:
            lines.append(say("milestone.verdict.cdc_expects", months=_months(milestone.cdc_months)))
        return " ".join([*lines, say("milestone.verdict.no_check_age")]), "none"
    if past_cdc:
        return say("milestone.verdict.past_cdc", age=age, doing=doing, check_by=_months(check_by)), "none"
    return say("milestone.verdict.within", age=age, doing=doing, check_by=_months(check_by)), "none"


def typical_age(milestone: Milestone) -> float:
    """A single age to order milestones by: WHO mean, else the start of the usual range, else the CDC age."""
    if milestone.who and milestone.who.mean is not None:
        return milestone.who.mean
    if milestone.usual:
        return milestone.usual.start
    if milestone.cdc_months is not None:
        return milestone.cdc_months
    return milestone.check_by if milestone.check_by is not None else 0.0


def stage(milestone: Milestone, months: float) -> str:
    """'done' (most children manage it), 'now' (many are learning it) or 'later' at this age."""
    past_check = milestone.check_by is not None and months >= milestone.check_by
    if past_check or (milestone.cdc_months is not None and months >= milestone.cdc_months):
        return "done"
    if milestone.who and milestone.who.mean is not None:
        if months > milestone.who.mean + 1.5:
            return "done"
        return "now" if months >= milestone.who.mean - 1.5 else "later"
    window = milestone.window
    return "now" if window and months >= window.start else "later"


def overview_lines(table: MilestoneTable, months: Optional[float]) -> List[str]:
    """All milestones in the usual order: their usual ages, or where a child of `months` stands with each."""
    ordered = sorted(table.milestones, key=typical_age)
    if months is None:
        lines = []
        for m in ordered:
            if m.who:
                lines.append(say("milestone.overview.who", name=m.name, start=m.who.start, end=m.who.end, mean=m.who.mean))
            elif m.usual:
                lines.append(say("milestone.overview.range", name=m.name, start=m.usual.start, end=m.usual.end))
            else:
                lines.append(say("milestone.overview.cdc", name=m.name, months=_months(m.cdc_months or m.check_by or 0)))
        return lines
    groups: Dict[str, List[str]] = {"done": [], "now": [], "later": []}
    for m in ordered:
        groups[stage(m, months)].append(m.name.lower())
    return [
        say("milestone.overview.stage", label=say(f"milestone.overview.{key}"), names=", ".join(names))
        for key, names in groups.items()
        if names
    ]


def compose_milestone_answer(
    table: MilestoneTable,
    milestone: Optional[Milestone],
    answers: Mapping[str, Any],
    not_yet: bool = False,
    topic_title: Optional[str] = None,
    previous_referral: Optional[str] = None,
    signs: Optional[Signs] = None,
    summary: Optional[str] = None,
) -> MilestoneAnswer:
    """The reply to a milestone question (or to 'what should my baby be doing?' when milestone is None).

    Signs the parent described (observations that call for a provider) are advised on whatever the question.
    """
    age = age_for_rules(answers.get("age_months"), answers.get("weeks_early"))
    signs = signs or Signs("none", ())
    messages: List[Message] = [Message(summary)] if summary else []
    messages.append(Message(_intro(milestone, age)))
    if milestone is None:
        referral, body = _overview(table, age.months, signs, previous_referral)
        sources = table.sources
    else:
        referral, body = _about(milestone, age, not_yet, signs, previous_referral)
        sources = milestone.sources
    sources = merge_sources(sources, signs.sources)
    messages += [*body, Message(sources_text(sources))]
    buttons = more_buttons(exclude=MORE_PARTS)  # was this helpful?
    if milestone is not None and topic_title:
        button = {"title": topic_title, "payload": tell_me_about(topic_title)}
        text = f"{say('advice.closing')} {say('milestone.more_about', topic=topic_title.lower())}"
        messages.append(Message(text, (*buttons, button)))
    else:
        messages.append(Message(say("advice.closing"), buttons))
    return MilestoneAnswer(
        milestone_id=milestone.id if milestone else OVERVIEW,
        referral=referral,
        age=age,
        messages=tuple(messages),
        sources=sources,
        topic=milestone.topic if milestone else None,
    )


def tell_me_about(topic_title: str) -> str:
    """The payload of a button that asks about a topic ("Tell me about not walking yet")."""
    return say("topics.tell_me_about", topic=topic_title.lower())


def _intro(milestone: Optional[Milestone], age: AgeUsed) -> str:
    """ "Here's what's usual for ...", the age used, and a reminder about corrected age when it may matter."""
    heading = milestone.name.lower() if milestone else say("milestone.main_milestones")
    lines = [say("milestone.intro", heading=heading), describe_age(age)]
    if age.months is not None and age.weeks_early is None and (age.actual_months or 0) < CORRECT_UNTIL_MONTHS:
        lines.append(say("milestone.compare_corrected"))
    return " ".join(line for line in lines if line)


def _overview(
    table: MilestoneTable, months: Optional[float], signs: Signs, previous_referral: Optional[str]
) -> Tuple[Optional[str], List[Message]]:
    """Every milestone (where a child of `months` stands with each), and the signs described: referral, messages."""
    title = say("milestone.overview.around", age=describe_months(months)) if months is not None else None
    messages = [Message("\n".join([title or say("milestone.overview.usual_order"), *overview_lines(table, months)]))]
    referral: Optional[str] = None
    if signs.lines:  # what the parent told us about the child counts here too
        referral, closing = carried_referral(signs.referral, previous_referral)
        messages.append(Message("\n".join([say("advice.for_your_child"), *signs.lines, closing])))
    messages.append(Message(say("milestone.overview.ask_more")))
    return referral, messages


def _about(
    milestone: Milestone, age: AgeUsed, not_yet: bool, signs: Signs, previous_referral: Optional[str]
) -> Tuple[Optional[str], List[Message]]:
    """What's usual for one milestone, and where this child stands (when the age or signs are known)."""
    body = [say("milestone.usual.heading"), *(f"- {line}" for line in usual_lines(milestone))]
    if milestone.differ:
        body.append(say("milestone.usual.differ", differ=milestone.differ))
    messages = [Message("\n".join(body))]
    if age.months is None and not signs.lines:
        messages.append(Message(say("milestone.compare_offer", example=milestone.example)))
        return None, messages
    lines: List[str] = []
    referral: Optional[str] = None
    if age.months is not None:
        sentence, referral = verdict(milestone, age.months, not_yet, age.corrected)
        lines.append(sentence)
    if signs.lines:
        if referral == "none" and signs.referral != "none":
            lines = []  # one message per situation: no "within the usual range" beside a reason to see someone
        referral = higher(referral or "none", signs.referral)
        lines += list(signs.lines)
    referral, closing = carried_referral(referral or "none", previous_referral)
    messages.append(Message("\n".join([say("advice.for_your_child"), *lines, closing])))
    return referral, messages


def answer_subject(
    table: MilestoneTable,
    topic_titles: Mapping[str, str],
    subject_id: str,
    answers: Mapping[str, Any],
    not_yet: bool = False,
    previous_referral: Optional[str] = None,
    signs: Optional[Signs] = None,
    summary: Optional[str] = None,
) -> MilestoneAnswer:
    """The answer once a milestone subject's questions are done (subject_id as kept in the triage state)."""
    milestone = table.get(milestone_id_of(subject_id))
    return compose_milestone_answer(
        table,
        milestone,
        answers,
        not_yet=not_yet,
        topic_title=topic_titles.get(milestone.topic) if milestone else None,
        previous_referral=previous_referral,
        signs=signs,
        summary=summary,
    )
