"""The safety net (knowledge/safety_net.yml): child-level checks evaluated in every topic. Parse and check it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

from bot.contract import REFERRAL_LEVELS
from bot.knowledge.documents import (
    Condition,
    KnowledgeError,
    LineDict,
    Question,
    Source,
    load_yaml,
    parse_conditions,
    parse_sources,
)
from bot.knowledge.milestones import MilestoneTable

CHECK_ANSWERS = ("yes", "no")  # the value that crosses: a milestone not reached ("no") or a sign seen ("yes")


@dataclass(frozen=True)
class Check:
    """One child-level check: `slot` answered `crosses` at `months` (corrected age) or older calls for `referral`."""

    id: str
    slot: str
    crosses: str
    months: float
    referral: str
    say: str
    unsure: str
    sources: Tuple[Source, ...]
    when: Tuple[Condition, ...] = ()
    milestone: Optional[str] = None
    ask: bool = False
    implies: Tuple[str, ...] = ()
    line: int = 0

    @property
    def conditions(self) -> Tuple[Condition, ...]:
        """Everything the check needs, in the rule syntax: the crossing answer, the age and the extra conditions."""
        age = (Condition("corrected_age_months", "gte", self.months),) if self.months > 0 else ()
        return (Condition(self.slot, "eq", self.crosses), *age, *self.when)


@dataclass(frozen=True)
class SafetyNet:
    """All checks, and what each topic's subject already tells about the child (used only for asking)."""

    checks: Tuple[Check, ...]
    topics_tell: Dict[str, Dict[str, str]] = field(default_factory=dict)
    sources: Tuple[Source, ...] = ()

    def slots(self) -> Tuple[str, ...]:
        """Every question a check reads."""
        return tuple(dict.fromkeys(c.slot for c in self.checks))


def _text(raw: LineDict, key: str, path: Path, what: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(path, raw.line_of(key), f"{what} needs '{key}' (a sentence)")
    return " ".join(value.split())


def parse_safety_net(
    path: Path,
    questions: Mapping[str, Question],
    milestones: Optional[MilestoneTable],
    topic_ids: Optional[Tuple[str, ...]] = None,
) -> SafetyNet:
    """Parse and check safety_net.yml against the questions, the milestone thresholds and (at build) the topic ids."""
    data = load_yaml(path.read_text(encoding="utf-8"), path)
    if not isinstance(data, LineDict) or not isinstance(data.get("checks"), list) or not data["checks"]:
        raise KnowledgeError(path, 1, "the safety net needs a 'checks' list")
    sources = parse_sources(data.get("sources"), path, data.line_of("sources"), "the safety net")
    keys = {s.key: s for s in sources}
    checks: List[Check] = []
    for raw in data["checks"]:
        if not isinstance(raw, LineDict):
            raise KnowledgeError(path, data.line_of("checks"), "each check is a mapping (id, slot, crosses, ...)")
        checks.append(_check(raw, path, questions, milestones, keys, {c.id for c in checks}))
    used = {s.key for c in checks for s in c.sources}
    unused = [key for key in keys if key not in used]
    if unused:
        raise KnowledgeError(path, data.line_of("sources"), f"source(s) never cited: {', '.join(unused)}")
    tell = _topics_tell(data.get("topics_tell") or {}, path, data.line_of("topics_tell"), questions, topic_ids)
    return SafetyNet(checks=tuple(checks), topics_tell=tell, sources=sources)


def _check(
    raw: LineDict,
    path: Path,
    questions: Mapping[str, Question],
    milestones: Optional[MilestoneTable],
    keys: Mapping[str, Source],
    seen: Set[str],
) -> Check:
    check_id = str(raw.get("id") or "").strip()
    if not check_id:
        raise KnowledgeError(path, raw.line, "a check needs an 'id'")
    what = f"check '{check_id}'"
    if check_id in seen:
        raise KnowledgeError(path, raw.line_of("id"), f"{what}: id is used twice")
    slot = str(raw.get("slot") or "")
    if slot not in questions or questions[slot].type != "yes_no_unsure":
        raise KnowledgeError(path, raw.line_of("slot"), f"{what}: 'slot' must be a yes/no/unsure question, not {slot!r}")
    crosses = raw.get("crosses")
    if crosses not in CHECK_ANSWERS:
        raise KnowledgeError(path, raw.line_of("crosses"), f'{what}: \'crosses\' is "yes" or "no" (quoted), not {crosses!r}')
    referral = raw.get("referral")
    if referral not in REFERRAL_LEVELS[1:]:
        raise KnowledgeError(path, raw.line_of("referral"), f"{what}: referral must be provider or urgent, not {referral!r}")
    months = _threshold(raw, path, what, milestones)
    when = parse_conditions(raw.get("when"), path, raw.line_of("when"), check_id)
    for condition in when:
        if condition.slot not in questions or condition.op != "eq" or questions[condition.slot].type != "yes_no_unsure":
            raise KnowledgeError(path, raw.line_of("when"), f"{what}: 'when' takes yes/no/unsure answers ({condition.slot!r})")
        if condition.value not in ("yes", "no", "unsure"):
            raise KnowledgeError(
                path, raw.line_of("when"), f"{what}: '{condition.slot}' can be yes, no or unsure, not {condition.value!r}"
            )
    implies = tuple(str(s) for s in raw.get("implies") or ())
    bad = [s for s in implies if s not in questions or questions[s].type != "yes_no_unsure"]
    if bad:
        raise KnowledgeError(path, raw.line_of("implies"), f"{what}: 'implies' names unknown yes/no questions: {', '.join(bad)}")
    cited = raw.get("sources")
    if not isinstance(cited, list) or not cited:
        raise KnowledgeError(path, raw.line_of("sources"), f"{what} needs sources (keys from the file's sources list)")
    unknown = [str(k) for k in cited if k not in keys]
    if unknown:
        raise KnowledgeError(path, raw.line_of("sources"), f"{what}: unknown source key(s) {', '.join(unknown)}")
    ask = raw.get("ask", False)
    if not isinstance(ask, bool):
        raise KnowledgeError(path, raw.line_of("ask"), f"{what}: 'ask' is true or false")
    return Check(
        id=check_id,
        slot=slot,
        crosses=str(crosses),
        months=months,
        referral=str(referral),
        say=_text(raw, "say", path, what),
        unsure=_text(raw, "unsure", path, what),
        sources=tuple(keys[k] for k in cited),
        when=when,
        milestone=str(raw["milestone"]) if raw.get("milestone") else None,
        ask=ask,
        implies=implies,
        line=raw.line,
    )


def _threshold(raw: LineDict, path: Path, what: str, milestones: Optional[MilestoneTable]) -> float:
    """The age from which the check applies: its milestone's check_by (one threshold per milestone) or from_months."""
    if ("milestone" in raw) == ("from_months" in raw):
        raise KnowledgeError(path, raw.line, f"{what} needs exactly one of 'milestone' (its check_by age) or 'from_months'")
    if "from_months" in raw:
        value = raw["from_months"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 48:
            raise KnowledgeError(path, raw.line_of("from_months"), f"{what}: from_months is a number of months (0 = any age)")
        return float(value)
    milestone = milestones.get(str(raw["milestone"])) if milestones else None
    if milestone is None:
        raise KnowledgeError(
            path, raw.line_of("milestone"), f"{what}: unknown milestone {raw['milestone']!r} (knowledge/milestones.yml)"
        )
    if milestone.check_by is None:
        raise KnowledgeError(
            path,
            raw.line_of("milestone"),
            f"{what}: milestone '{milestone.id}' has no check_by age in milestones.yml to use as the threshold",
        )
    return float(milestone.check_by)


def _topics_tell(
    raw: Any, path: Path, line: int, questions: Mapping[str, Question], topic_ids: Optional[Tuple[str, ...]]
) -> Dict[str, Dict[str, str]]:
    if not isinstance(raw, dict):
        raise KnowledgeError(path, line, "'topics_tell' maps a topic id to {question: answer}")
    tell: Dict[str, Dict[str, str]] = {}
    for topic_id, facts in raw.items():
        where = raw.line_of(topic_id) if isinstance(raw, LineDict) else line
        if topic_ids is not None and topic_id not in topic_ids:
            raise KnowledgeError(path, where, f"topics_tell: unknown topic '{topic_id}'")
        if not isinstance(facts, dict):
            raise KnowledgeError(path, where, f"topics_tell: '{topic_id}' maps questions to answers")
        for slot, value in facts.items():
            if slot not in questions or questions[slot].type != "yes_no_unsure" or value not in ("yes", "no"):
                raise KnowledgeError(
                    path, where, f"topics_tell: '{topic_id}': {slot!r}: {value!r} is not a yes/no answer to a question"
                )
        tell[str(topic_id)] = {str(k): str(v) for k, v in facts.items()}
    return tell
