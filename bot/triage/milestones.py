"""Answer "when do babies usually ...?" from the milestone table, compared with the child's corrected age when known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from bot.contract import MILESTONE_PREFIX
from bot.knowledge.documents import Source
from bot.knowledge.milestones import Milestone, MilestoneTable
from bot.triage.advice import Message, Signs, carried_referral, describe_age, merge_sources, sources_text
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
        return MilestoneSubject(
            id=MILESTONE_PREFIX + OVERVIEW, title="the usual ages for sitting, crawling, standing and walking"
        )
    return MilestoneSubject(id=MILESTONE_PREFIX + milestone.id, title=f"when babies usually {milestone.doing}")


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
    return f"{value:g} months"


def usual_lines(milestone: Milestone) -> List[str]:
    """What the sources say: the usual window, the CDC 2022 age, and when to talk to a provider."""
    lines = []
    if milestone.who:
        who = milestone.who
        lines.append(
            f"In the WHO study of healthy children in five countries, babies first managed this anywhere between "
            f"{who.start:g} and {who.end:g} months, {who.mean:g} months on average."
        )
    elif milestone.usual:
        lines.append(f"It usually happens between {milestone.usual.start:g} and {milestone.usual.end:g} months.")
    if milestone.cdc_months is not None:
        says = milestone.cdc_says or f"{milestone.doing} by {_months(milestone.cdc_months)}"
        lines.append(f"The CDC's 2022 checklists expect at least 3 in 4 children to {says}.")
    if milestone.check_by is None:
        lines.append(
            "Our sources give no fixed age by which this on its own calls for a check. If your child doesn't "
            f"{milestone.doing} yet, mention it at the next check-up, or sooner if you're worried or other skills are late too."
        )
        return lines
    note = f" ({milestone.check_note})" if milestone.check_note else ""
    lines.append(f"Talk to a provider if your child doesn't {milestone.doing} by {_months(milestone.check_by)}{note}.")
    return lines


def verdict(milestone: Milestone, months: float, not_yet: bool, corrected: bool) -> Tuple[str, str]:
    """One sentence comparing the child's age with the milestone, and the referral level it implies."""
    age = describe_months(months) + (" corrected age" if corrected else "")
    window = milestone.window
    if milestone.check_by is not None and months >= milestone.check_by:
        if not_yet:
            return (
                f"At {age}, most children {milestone.doing}. As yours doesn't yet, please ask a provider to take a look; "
                "it's often nothing serious, and it's always better to check early.",
                "provider",
            )
        return (
            f"At {age}, most children {milestone.doing}. If yours doesn't yet, raise it with a provider now rather than waiting.",
            "none",
        )
    if window and months < window.start:
        return (
            f"At {age}, it's early for this: the first healthy babies usually start at around {_months(window.start)}, "
            "so not yet is exactly what to expect.",
            "none",
        )
    if milestone.check_by is None:
        # no source gives an age to see a provider about this milestone alone: say so, and what the CDC expects
        if milestone.cdc_months is not None and months >= milestone.cdc_months:
            return (
                f"At {age}, your child is past the age by which 3 in 4 children do this on the CDC's checklist. "
                "There's no fixed age at which this alone calls for a check, but if yours doesn't "
                f"{milestone.doing} yet, mention it at the next check-up, or sooner if you're worried.",
                "none",
            )
        cdc = (
            f" The CDC's checklist expects 3 in 4 children to manage it by {_months(milestone.cdc_months)}."
            if milestone.cdc_months is not None
            else ""
        )
        return (
            f"At {age}, your child is within the usual range: some children {milestone.doing} already and others "
            f"don't yet.{cdc} There's no fixed age at which this alone calls for a check.",
            "none",
        )
    if milestone.cdc_months is not None and months >= milestone.cdc_months:
        return (
            f"At {age}, your child is past the age by which 3 in 4 children do this on the CDC's checklist, but "
            f"within the usual range: it only counts as late after {_months(milestone.check_by)}. If yours doesn't "
            f"{milestone.doing} yet, mention it at the next check-up, or sooner if you're worried.",
            "none",
        )
    return (
        f"At {age}, your child is within the usual range: some children {milestone.doing} already and others don't yet. "
        f"It's only worth a check if it hasn't happened by {_months(milestone.check_by)}.",
        "none",
    )


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
                lines.append(f"- **{m.name}**: {m.who.start:g} to {m.who.end:g} months, {m.who.mean:g} on average (WHO)")
            elif m.usual:
                lines.append(f"- **{m.name}**: usually {m.usual.start:g} to {m.usual.end:g} months")
            else:
                lines.append(f"- **{m.name}**: by {_months(m.cdc_months or m.check_by or 0)} for 3 in 4 babies (CDC 2022)")
        return lines
    groups: Dict[str, List[str]] = {"done": [], "now": [], "later": []}
    for m in ordered:
        groups[stage(m, months)].append(m.name.lower())
    labels = {"done": "Most children already manage", "now": "Many are learning around now", "later": "Still to come"}
    return [f"- **{labels[key]}:** {', '.join(names)}" for key, names in groups.items() if names]


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
    months = age.months
    messages: List[Message] = [Message(summary)] if summary else []
    referral: Optional[str] = None
    heading = milestone.name.lower() if milestone else "the main movement milestones"
    intro = f"Here's what's usual for **{heading}**."
    age_line = describe_age(age)
    if age_line:
        intro += " " + age_line
    if months is not None and age.weeks_early is None and (age.actual_months or 0) < CORRECT_UNTIL_MONTHS:
        intro += " If your child was born more than 3 weeks early, compare by corrected age (age minus the weeks early) instead."
    messages.append(Message(intro))
    if milestone is None:
        title = f"**Around {describe_months(months)}**" if months is not None else "**The usual order and ages**"
        messages.append(Message("\n".join([title, *overview_lines(table, months)])))
        if signs and signs.lines:  # what the parent told us about the child counts here too
            referral, closing = carried_referral(signs.referral, previous_referral)
            messages.append(Message("\n".join(["**For your child**", *signs.lines, closing])))
        messages.append(Message('Ask me about any of them, for example "when do babies usually pull up?", for more detail.'))
        sources = table.sources
    else:
        body = ["**What's usual**", *(f"- {line}" for line in usual_lines(milestone))]
        if milestone.differ:
            body.append(f"**Where sources differ:** {milestone.differ}")
        messages.append(Message("\n".join(body)))
        if months is not None or (signs and signs.lines):
            lines = []
            if months is not None:
                sentence, referral = verdict(milestone, months, not_yet, age.corrected)
                lines.append(sentence)
            if signs and signs.lines:
                if referral == "none" and signs.referral != "none":
                    lines = []  # one message per situation: no "within the usual range" beside a reason to see someone
                referral = higher(referral or "none", signs.referral)
                lines += list(signs.lines)
            referral, closing = carried_referral(referral or "none", previous_referral)
            messages.append(Message("\n".join(["**For your child**", *lines, closing])))
        else:
            messages.append(
                Message(
                    f'If you\'d like me to compare with your child, ask again with their age, for example "{milestone.example}".'
                )
            )
        sources = milestone.sources
    if signs:
        sources = merge_sources(sources, signs.sources)
    messages.append(Message(sources_text(sources)))
    closing = "This is general information, not a diagnosis. Is there anything else you'd like to ask?"
    buttons: Tuple[dict, ...] = ()
    if milestone is not None and topic_title:
        closing = f"This is general information, not a diagnosis. I can also tell you more about **{topic_title.lower()}**."
        buttons = ({"title": topic_title, "payload": f"Tell me about {topic_title.lower()}"},)
    messages.append(Message(closing, buttons))
    return MilestoneAnswer(
        milestone_id=milestone.id if milestone else OVERVIEW,
        referral=referral,
        age=age,
        messages=tuple(messages),
        sources=sources,
        topic=milestone.topic if milestone else None,
    )


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
