"""The decision logic as one Markdown document for clinical review: `make rules-report` writes reports/rules.md.

Everything comes from the validated knowledge (bot.knowledge.validate.load_knowledge), so the report shows
exactly what the build checked and the assistant uses: the follow-up questions, each topic's questions and
rules, the safety net's checks, the milestone thresholds, the observations that carry a referral and the red
flags. The output is deterministic (no dates, no commit): regenerating without a knowledge change gives the same
bytes, and tests/test_rules_report.py fails when the committed report is stale.

    python -m bot.knowledge.report [--out reports/rules.md]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.knowledge.documents import Condition, Question, Source, Topic
from bot.knowledge.validate import DERIVED, Knowledge, load_knowledge

DEFAULT_OUT = Path("reports/rules.md")

# How a slot reads in a condition; any other slot reads as its name with spaces ("pulls to stand").
SLOT_WORDS = {
    "corrected_age_months": "corrected age",
    "age_months": "actual age (not corrected)",
    "weeks_early": "weeks born early",
    "stands_alone_seconds": "stands alone for (seconds)",
}
OPERATOR_WORDS = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}
VALUE_WORDS = {"yes": "yes", "no": "no", "unsure": "not sure"}
UNITS = {"months": "months", "weeks_early": "weeks", "seconds": "seconds"}
TYPE_WORDS = {
    "months": "age in months",
    "weeks_early": "weeks born early (0 = on time)",
    "seconds": "seconds",
    "yes_no_unsure": "yes / no / not sure",
}
REFERRAL_WORDS = {"none": "none", "provider": "**provider**", "urgent": "**URGENT**"}


@dataclass(frozen=True)
class Precedence:
    """A red flag's place when several fire: the lowest priority's message is shown; an override hides a flag."""

    priority: Optional[int] = None
    overrides: Tuple[str, ...] = ()


# ------------------------------------------------------------------ plain words


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def slot_words(slot: str) -> str:
    """How a question slot reads in plain words."""
    return SLOT_WORDS.get(slot, slot.replace("_", " "))


def _value(value: Any, qtype: Optional[str]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        unit = UNITS.get(qtype or "")
        return f"{_number(value)} {unit}" if unit else _number(value)
    return VALUE_WORDS.get(str(value), str(value))


def _qtype(slot: str, questions: Mapping[str, Question]) -> Optional[str]:
    question = questions.get(DERIVED.get(slot, slot))
    return question.type if question else None


def _test(condition: Condition, questions: Mapping[str, Question]) -> str:
    """The test without its slot: "≥ 12 months", "= no", "is one of no, not sure", "is not known"."""
    qtype = _qtype(condition.slot, questions)
    if condition.op == "known":
        return "is known" if condition.value else "is not known (not answered)"
    if condition.op == "in":
        values = condition.value if isinstance(condition.value, (list, tuple)) else [condition.value]
        return "= " + " or ".join(_value(v, qtype) for v in values)
    return f"{OPERATOR_WORDS.get(condition.op, condition.op)} {_value(condition.value, qtype)}"


def conditions_words(conditions: Sequence[Condition], questions: Mapping[str, Question]) -> str:
    """Conditions in plain words: "corrected age ≥ 12 months and pulls to stand = no" (several tests on one slot
    share its name: "corrected age ≥ 12 months and < 18 months")."""
    if not conditions:
        return "always (no conditions)"
    parts: List[str] = []
    previous = None
    for condition in conditions:
        test = _test(condition, questions)
        parts.append(test if condition.slot == previous else f"{slot_words(condition.slot)} {test}")
        previous = condition.slot
    return " and ".join(parts)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return _one_line(text).replace("|", "\\|")


def _link(source: Source) -> str:
    return f"`{source.key}` [{_one_line(source.title)}]({source.url})"


def _sources(sources: Iterable[Source]) -> str:
    return "; ".join(_link(s) for s in sources) or "none"


def _quote(text: str) -> str:
    return f"“{_one_line(text)}”"


# ------------------------------------------------------------------ sections


def _header(knowledge: Knowledge) -> List[str]:
    topics = knowledge.topics.values()
    net = knowledge.safety_net
    observations = knowledge.observations.observations.values() if knowledge.observations else ()
    counts = [
        f"{len(knowledge.topics)} topics with {sum(len(t.rules) for t in topics)} rules",
        f"{len(knowledge.questions)} follow-up questions",
        f"{len(net.checks) if net else 0} safety-net checks",
        f"{len(knowledge.milestones.milestones) if knowledge.milestones else 0} milestones",
        f"{sum(1 for o in observations if o.referral)} observations that carry a referral",
        f"{len(knowledge.red_flags)} red flags",
    ]
    return [
        "# Decision logic for clinical review",
        "",
        "> Generated by `make rules-report` (`python -m bot.knowledge.report`) from the files in `knowledge/`, as "
        "validated by the knowledge build. Do not edit this file by hand: change `knowledge/` and run "
        "`make rules-report`. A test fails when this file is out of date.",
        "",
        "In this report: " + ", ".join(counts) + ".",
        "",
        "Contents: [How the decision works](#how-the-decision-works) · [Follow-up questions](#follow-up-questions) · "
        "[Topics](#topics) · [Safety net](#safety-net) · [Milestone thresholds](#milestone-thresholds) · "
        "[Observations](#observations) · [Red flags](#red-flags)",
        "",
    ]


INTRO = """## How the decision works

The assistant gives one of three referral levels: **none** (general advice, keep an eye on it), **provider**
(talk to the child's doctor, nurse or health visitor soon, not as an emergency) and **urgent** (get medical help
now). Everything below is deterministic: the same facts always give the same level and the same sentences.

1. **Red flags, on every message.** Each message the parent writes is checked, whatever the topic and at any
   point in the conversation, by a deterministic pattern detector (`knowledge/red_flags.yml`), before and
   whatever the machine-learned intent classifier decides. A red flag is urgent: the assistant stops any
   questions and sends that flag's message. When several fire, a flag's `overrides` hide the flags it explains,
   and of the rest the one with the lowest `priority` number gives the message. (The intent classifier alone can
   also report an emergency, only when it is confident and the message doesn't tell of a past that was checked
   or has settled; it then gets the general red-flag message.)
2. **A topic's rules, on the parent's answers.** Each topic asks its follow-up questions in order (skipping what
   is already known). Every rule whose conditions all hold applies. An unanswered question never satisfies a
   condition (except "is not known"). Ages are compared as **corrected age**: for a baby born more than 3 weeks
   early and under 24 months, age minus the weeks born early; otherwise the actual age.
3. **The safety net, on every known fact, in every topic.** Child-level checks (`knowledge/safety_net.yml`) are
   evaluated on every fact known about the child (an answer given in any topic, the opening message, a
   description), in every topic and in milestone answers. A check fires when its question's answer is the one
   that crosses it at or above its corrected-age threshold (and its extra conditions hold); at most one check
   per question fires (the first in the file that applies). **"Not sure" is never read as "all fine":** a "not sure" answer
   at or past a check's threshold calls for **provider** ("worth checking") with that check's own "not sure"
   sentence. For some questions about warning signs, a first "not sure" gets a narrower, concrete question
   once (shown in the [questions table](#follow-up-questions)). After a topic's own questions, the assistant asks the one fact a check still needs (checks marked
   "asked"), only while nothing yet calls for a provider and only for the most advanced milestone the child's
   age makes worth asking.
4. **Observations: descriptions that are signs in every topic.** What the parent describes in their own words
   ("she always keeps her right hand in a fist") is detected deterministically and answers the follow-up
   questions it implies. An observation that carries a referral is a sign in every topic and in milestone
   answers: its referral applies and its sentence is shown.
5. **The most serious applies.** The referral given is the most serious of everything that applies: the topic's
   rules, the observations, the safety net (and, for a milestone question, the milestone's own verdict). **An
   urgent referral is never lowered**: once a red flag has fired, later advice in the same conversation stays
   urgent.
6. **One message per situation.** Once the referral is provider or urgent, rule sentences written for "none"
   (reassurance, tips) are not shown, unless the rule is marked `always_shown`. A sentence of an observation or
   of the safety net is left out when a topic rule at provider level that applies already used the same
   answers, and the same sentence is never shown twice. In a milestone answer, the milestone's own "within the
   usual range" is not shown beside a sign that calls for a provider.

Every piece of advice also shows the topic's general sections (why it happens, what you can try, when to talk
to a provider) and its sources, and says it is general information, not a diagnosis.

How to read the conditions: `=` / `≠` compare an answer; `<` `≤` `>` `≥` compare a number; "= no or not sure"
means either answer; "not sure" is the parent's "I'm not sure" answer; "is not known" means the question was not
answered.
"""


def _questions(knowledge: Knowledge) -> List[str]:
    asked_by: Dict[str, List[str]] = {}
    for topic in knowledge.topics.values():
        for slot in topic.questions:
            asked_by.setdefault(slot, []).append(topic.id)
    read_by: Dict[str, List[str]] = {}
    for check in knowledge.safety_net.checks if knowledge.safety_net else ():
        for slot in dict.fromkeys([check.slot, *(c.slot for c in check.when)]):
            read_by.setdefault(slot, []).append(check.id)
    lines = [
        "## Follow-up questions",
        "",
        'Defined once in `knowledge/questions.yml` and shared by every topic. "Asked by" lists the topics that ask '
        'it; "Safety net" lists the checks that read it (a check may also ask it, see [Safety net](#safety-net)).',
        "",
        "| Slot | Question | Answer | Asked by topics | Safety net |",
        "|---|---|---|---|---|",
    ]
    for slot, question in knowledge.questions.items():
        topics = ", ".join(asked_by.get(slot, ())) or "—"
        checks = ", ".join(read_by.get(slot, ())) or "—"
        ask = _cell(question.ask)
        clarify = question.clarify
        if clarify is not None and getattr(clarify, "on_unsure", False):
            ask += f"<br>“Not sure” first gets, once: {_cell(_quote(clarify.text))}"
        lines.append(f"| `{slot}` | {ask} | {TYPE_WORDS.get(question.type, question.type)} | {topics} | {checks} |")
    lines.append("")
    return lines


def _rule_sources(keys: Sequence[str], topic: Topic) -> str:
    if not keys:
        return "topic sources (" + ", ".join(f"`{s.key}`" for s in topic.sources) + ")"
    by_key = {s.key: s for s in topic.sources}
    return "; ".join(_link(by_key[k]) if k in by_key else f"`{k}`" for k in keys)


def _topic(topic: Topic, knowledge: Knowledge) -> List[str]:
    questions = knowledge.questions
    lines = [
        f"### {topic.title} (`{topic.id}`)",
        "",
        f"`knowledge/topics/{topic.path.name}` · {_one_line(topic.summary)}",
        "",
        "**Questions, in order:**",
        "",
    ]
    for number, slot in enumerate(topic.questions, start=1):
        question = questions.get(slot)
        lines.append(f"{number}. `{slot}`: {_one_line(question.ask) if question else '(unknown question)'}")
    if not topic.questions:
        lines.append("(none)")
    told = knowledge.safety_net.topics_tell.get(topic.id) if knowledge.safety_net else None
    if told:
        facts = ", ".join(f"{slot_words(slot)} = {_value(value, 'yes_no_unsure')}" for slot, value in told.items())
        lines += ["", f"The safety net takes this topic as telling: {facts} (for what to ask only, never as a fact)."]
    lines += ["", f"**Rules** ({len(topic.rules)}):", ""]
    for rule in topic.rules:
        shown = ""
        if rule.referral == "none":
            shown = (
                " · always shown, even beside a provider or urgent referral"
                if rule.always_shown
                else " · not shown once the referral is provider or urgent"
            )
        lines += [
            f"- **`{rule.id}`** → {REFERRAL_WORDS[rule.referral]}{shown}",
            f"  - When: {conditions_words(rule.conditions, questions)}",
            f"  - Says: {_quote(rule.say)}",
            f"  - Sources: {_rule_sources(rule.sources, topic)}",
        ]
    lines += ["", "**Topic sources:**", ""]
    lines += [f"- {_link(source)}" for source in topic.sources]
    lines.append("")
    return lines


def _topics(knowledge: Knowledge) -> List[str]:
    lines = [
        "## Topics",
        "",
        'Each topic document (`knowledge/topics/*.md`) lists its questions and its rules. Referral "none" rules '
        "are reassurance or tips; they are hidden once anything calls for a provider unless marked always shown.",
        "",
    ]
    for topic in knowledge.topics.values():
        lines += _topic(topic, knowledge)
    return lines


def _safety_net(knowledge: Knowledge) -> List[str]:
    net = knowledge.safety_net
    lines = ["## Safety net", ""]
    if net is None:
        return lines + ["No safety net is defined (`knowledge/safety_net.yml` is absent).", ""]
    milestones = knowledge.milestones
    lines += [
        "`knowledge/safety_net.yml`: checks evaluated on every known fact about the child, in every topic and in "
        "milestone answers. A check's threshold is corrected age; a milestone's threshold is that milestone's "
        'check-by age in the [milestone table](#milestone-thresholds). "Not sure" at or past the threshold calls '
        'for **provider** with the "if not sure" sentence. "Asked" checks are asked after a topic\'s own '
        "questions when the fact is unknown and the child is old enough (only while nothing else calls for a "
        'provider, and only the most advanced one); "implies" is for what to ask only, never a fact.',
        "",
    ]
    for check in net.checks:
        if check.milestone:
            milestone = milestones.get(check.milestone) if milestones else None
            name = milestone.name.lower() if milestone else check.milestone
            threshold = f"{_number(check.months)} months corrected age (check-by age of the milestone “{name}”)"
        elif check.months > 0:
            threshold = f"{_number(check.months)} months corrected age"
        else:
            threshold = "any age"
        question = knowledge.questions.get(check.slot)
        asks = f" · asked: {_quote(question.ask)}" if check.ask and question else ""
        lines += [
            f"- **`{check.id}`** → {REFERRAL_WORDS[check.referral]}{asks}",
            f"  - Fires when: {conditions_words(check.conditions, knowledge.questions)}",
            f"  - Threshold: {threshold}",
            f"  - Says: {_quote(check.say)}",
            f"  - If not sure ({slot_words(check.slot)} = not sure"
            + (f", at {_number(check.months)} months or older" if check.months > 0 else "")
            + (f", when {conditions_words(check.when, knowledge.questions)}" if check.when else "")
            + f") → **provider**: {_quote(check.unsure)}",
        ]
        if check.implies:
            lines.append(f"  - A “yes” also answers, for asking only: {', '.join(slot_words(s) for s in check.implies)}")
        lines.append(f"  - Sources: {_sources(check.sources)}")
    if net.topics_tell:
        lines += ["", "**What a topic already tells** (for what to ask only, never as a fact):", ""]
        for topic_id, facts in net.topics_tell.items():
            told = ", ".join(f"{slot_words(slot)} = {_value(value, 'yes_no_unsure')}" for slot, value in facts.items())
            lines.append(f"- `{topic_id}`: {told}")
    lines.append("")
    return lines


def _window(window: Any) -> str:
    if window is None:
        return "—"
    mean = f", mean {_number(window.mean)}" if window.mean is not None else ""
    source = f" (`{window.source}`)" if window.source else ""
    return f"{_number(window.start)}–{_number(window.end)}{mean}{source}"


def _milestones(knowledge: Knowledge) -> List[str]:
    table = knowledge.milestones
    lines = ["## Milestone thresholds", ""]
    if table is None:
        return lines + ["No milestone table is defined (`knowledge/milestones.yml` is absent).", ""]
    used: Dict[str, List[str]] = {}
    for check in knowledge.safety_net.checks if knowledge.safety_net else ():
        if check.milestone:
            used.setdefault(check.milestone, []).append(check.id)
    lines += [
        "`knowledge/milestones.yml`, in months (corrected age for babies born early). **Check by**: the age by which a "
        "child who isn't doing it should see a provider (one threshold per milestone, used by milestone answers and "
        'the safety net alike); "no fixed age" when no source gives one. **WHO**: the WHO Motor Development Study '
        "window (1st–99th percentile of healthy children). **Usual**: another published range where WHO has none. "
        "**CDC 2022**: the age by which 3 in 4 children do it on the CDC's 2022 checklists.",
        "",
        "| Milestone | Check by | WHO window | Usual | CDC 2022 | Safety-net checks | Topic |",
        "|---|---|---|---|---|---|---|",
    ]
    for milestone in table.milestones:
        if milestone.check_by is None:
            check_by = "no fixed age"
        else:
            note = f"; {milestone.check_note}" if milestone.check_note else ""
            check_by = f"**{_number(milestone.check_by)}** (`{milestone.check_source}`{note})"
        cdc = _number(milestone.cdc_months) if milestone.cdc_months is not None else "not listed"
        checks = ", ".join(f"`{c}`" for c in used.get(milestone.id, ())) or "—"
        lines.append(
            f"| {_cell(milestone.name)} (`{milestone.id}`) | {_cell(check_by)} | {_window(milestone.who)} | "
            f"{_window(milestone.usual)} | {cdc} | {checks} | `{milestone.topic}` |"
        )
    differ = [m for m in table.milestones if m.differ]
    if differ:
        lines += ["", "**Where sources differ:**", ""]
        lines += [f"- {m.name}: {_one_line(m.differ or '')}" for m in differ]
    lines += ["", "**Sources per milestone:**", ""]
    lines += [f"- {m.name}: {_sources(m.sources)}" for m in table.milestones]
    lines.append("")
    return lines


def _observations(knowledge: Knowledge) -> List[str]:
    catalogue = knowledge.observations
    lines = ["## Observations", ""]
    if catalogue is None:
        return lines + ["No observations are defined (`knowledge/observations.yml` is absent).", ""]
    observations = list(catalogue.observations.values())
    signs = [o for o in observations if o.referral]
    questions = knowledge.questions
    lines += [
        "`knowledge/observations.yml`: descriptions detected in what the parent writes. Each answers the follow-up "
        "questions listed; those below with a referral are signs in every topic and milestone answer.",
        "",
        "### Observations that carry a referral",
        "",
    ]
    for observation in signs:
        answers = conditions_words([Condition(s, "eq", v) for s, v in observation.answers.items()], questions)
        by_key = {s.key: s for s in catalogue.sources}
        cited = "; ".join(_link(by_key[k]) if k in by_key else f"`{k}`" for k in observation.sources) or "none"
        lines += [
            f"- **`{observation.id}`** ({_one_line(observation.label)}) → "
            f"{REFERRAL_WORDS.get(str(observation.referral), observation.referral)}",
            f"  - Answers: {answers if observation.answers else '—'}",
            f"  - Says: {_quote(observation.say or '')}",
            f"  - Sources: {cited}",
        ]
    if not signs:
        lines.append("(none)")
    others = [o for o in observations if not o.referral]
    lines += [
        "",
        "### Observations that only answer questions",
        "",
        "No referral of their own: they count through the topic rules and safety-net checks that read these answers.",
        "",
        "| Observation | Label | Answers |",
        "|---|---|---|",
    ]
    for observation in others:
        answers = conditions_words([Condition(s, "eq", v) for s, v in observation.answers.items()], questions)
        lines.append(f"| `{observation.id}` | {_cell(observation.label)} | {_cell(answers) if observation.answers else '—'} |")
    lines.append("")
    return lines


def _precedence(flag: Any, precedence: Mapping[str, Precedence]) -> Precedence:
    """The flag's priority and overrides: from the RedFlag object when it has them, else from `precedence`."""
    known = precedence.get(flag.id, Precedence())
    priority = getattr(flag, "priority", known.priority)
    overrides = getattr(flag, "overrides", known.overrides)
    return Precedence(priority=priority, overrides=tuple(overrides or ()))


def _red_flags(knowledge: Knowledge, precedence: Mapping[str, Precedence]) -> List[str]:
    lines = [
        "## Red flags",
        "",
        "`knowledge/red_flags.yml`: checked on every message by the deterministic detector. A red flag stops the "
        "questions and sends its message; the conversation's referral becomes urgent and is never lowered. When "
        "several fire, a flag hides the flags it **overrides**, and of those left the lowest **priority** number "
        "gives the message (1 = most immediate; a flag without a priority comes last).",
        "",
        f"Message for a red flag without its own: {_quote(knowledge.red_flags_default_message)}",
        "",
    ]
    overridden_by: Dict[str, List[str]] = {}
    for flag in knowledge.red_flags.values():
        for other in _precedence(flag, precedence).overrides:
            overridden_by.setdefault(other, []).append(flag.id)
    for flag in knowledge.red_flags.values():
        order = _precedence(flag, precedence)
        facts = [f"priority {order.priority}" if order.priority is not None else "no priority"]
        if order.overrides:
            facts.append("overrides " + ", ".join(f"`{o}`" for o in order.overrides))
        if flag.id in overridden_by:
            facts.append("overridden by " + ", ".join(f"`{o}`" for o in overridden_by[flag.id]))
        lines += [
            f"- **`{flag.id}`** ({_one_line(flag.label)}) → "
            f"{REFERRAL_WORDS.get(flag.referral, flag.referral)} · {' · '.join(facts)}",
            f"  - Message: {_quote(flag.message)}",
            f"  - Sources: {_sources(flag.sources)}",
        ]
    lines.append("")
    return lines


# ------------------------------------------------------------------ the report


def rules_report(knowledge: Knowledge, red_flag_precedence: Optional[Mapping[str, Precedence]] = None) -> str:
    """The whole decision logic as Markdown (deterministic: the same knowledge gives the same text).

    `red_flag_precedence` gives each red flag's priority and overrides when the RedFlag objects don't carry them
    (see `precedence_of`)."""
    sections = [
        _header(knowledge),
        INTRO.splitlines() + [""],
        _questions(knowledge),
        _topics(knowledge),
        _safety_net(knowledge),
        _milestones(knowledge),
        _observations(knowledge),
        _red_flags(knowledge, red_flag_precedence or {}),
    ]
    text = "\n".join(line.rstrip() for section in sections for line in section)
    return text.rstrip("\n") + "\n"


def precedence_of(red_flags_path: Path) -> Dict[str, Precedence]:
    """Each red flag's `priority` and `overrides`, as the run-time detector reads them from red_flags.yml (the
    detector checks them when it is built: unknown ids, a flag overriding itself and cycles are errors)."""
    import yaml

    data = yaml.load(red_flags_path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    found: Dict[str, Precedence] = {}
    for item in (data.get("red_flags") if isinstance(data, dict) else None) or []:
        if isinstance(item, dict) and item.get("id"):
            priority = item.get("priority")
            overrides = item.get("overrides") or ()
            found[str(item["id"])] = Precedence(
                priority=priority if isinstance(priority, int) and not isinstance(priority, bool) else None,
                overrides=tuple(str(o) for o in overrides) if isinstance(overrides, list) else (),
            )
    return found


def build_report(root: Path) -> str:
    """The report for the knowledge directory `root` (validated as the build does)."""
    return rules_report(load_knowledge(root), precedence_of(root / "red_flags.yml"))


def main(argv: Optional[List[str]] = None) -> int:
    """Write the report (default reports/rules.md); a knowledge error is printed with its file and line."""
    from bot.knowledge.documents import KnowledgeError
    from bot.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write it (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        text = build_report(get_settings().knowledge_dir)
    except KnowledgeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(text.encode("utf-8"))
    print(f"wrote {args.out} ({len(text.encode('utf-8')):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
