"""The milestone table (knowledge/milestones.yml): parse and check it, and find the milestone a question names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from bot.knowledge.documents import KnowledgeError, LineDict, Source, load_yaml, parse_sources, regex_list


@dataclass(frozen=True)
class Window:
    """An age range in months, optionally with a mean (WHO) or the source that gives it."""

    start: float
    end: float
    mean: Optional[float] = None
    source: Optional[str] = None


@dataclass(frozen=True)
class Milestone:
    """One row of the milestone table."""

    id: str
    name: str
    doing: str
    example: str
    topic: str
    words: Tuple[str, ...]
    who: Optional[Window]
    usual: Optional[Window]
    cdc_months: Optional[float]
    cdc_says: Optional[str]
    check_by: Optional[float]
    check_source: Optional[str]
    check_note: Optional[str]
    differ: Optional[str]
    sources: Tuple[Source, ...]
    line: int = 0

    @property
    def window(self) -> Optional[Window]:
        """The usual range to compare with: WHO's when it has one, otherwise the other published range."""
        return self.who or self.usual


@dataclass(frozen=True)
class MilestoneTable:
    """All milestones, in matching order, the intent that asks about them, and the overview's sources."""

    intent: str
    milestones: Tuple[Milestone, ...]
    sources: Tuple[Source, ...]

    def get(self, milestone_id: Optional[str]) -> Optional[Milestone]:
        """The milestone with this id, if any."""
        return next((m for m in self.milestones if m.id == milestone_id), None)


def _number(raw: Any, path: Path, line: int, what: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw <= 48:
        raise KnowledgeError(path, line, f"{what} must be a number of months between 0 and 48, not {raw!r}")
    return float(raw)


def _window(raw: Any, path: Path, line: int, what: str, keys: Dict[str, Source]) -> Optional[Window]:
    if raw is None:
        return None
    if not isinstance(raw, dict) or "from" not in raw or "to" not in raw:
        raise KnowledgeError(path, line, f"{what} needs 'from' and 'to' (months)")
    start, end = _number(raw["from"], path, line, f"{what} 'from'"), _number(raw["to"], path, line, f"{what} 'to'")
    mean = _number(raw["mean"], path, line, f"{what} 'mean'") if raw.get("mean") is not None else None
    if start >= end or (mean is not None and not start <= mean <= end):
        raise KnowledgeError(path, line, f"{what}: expected from < mean < to, got {start:g}, {mean}, {end:g}")
    source = raw.get("source")
    if source is not None and source not in keys:
        raise KnowledgeError(path, line, f"{what}: unknown source key '{source}'")
    return Window(start=start, end=end, mean=mean, source=source)


def _words(raw: Any, path: Path, line: int, what: str) -> Tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise KnowledgeError(path, line, f"{what} needs 'words': a list of patterns that name it")
    return regex_list(raw, path, line, what)


def parse_milestones(path: Path, topic_ids: Iterable[str]) -> MilestoneTable:
    """Parse and check knowledge/milestones.yml against the known topics."""
    data = load_yaml(path.read_text(encoding="utf-8"), path)
    if not isinstance(data, LineDict):
        raise KnowledgeError(path, 1, "the milestone file must be a mapping with intent, sources and milestones")
    intent = str(data.get("intent") or "")
    if not intent.startswith("ask_"):
        raise KnowledgeError(path, data.line_of("intent"), f"intent '{intent}' must be named ask_<something>")
    keys = _sources(data, path)
    topics = set(topic_ids)
    milestones: List[Milestone] = []
    for raw in data.get("milestones") or []:
        if not isinstance(raw, LineDict):
            raise KnowledgeError(path, data.line_of("milestones"), "each milestone must be a mapping")
        milestones.append(_milestone(raw, path, keys, topics, {m.id for m in milestones}))
    if not milestones:
        raise KnowledgeError(path, data.line_of("milestones"), "no milestones defined")
    overview = data.get("overview_sources") or []
    unknown = [key for key in overview if key not in keys]
    if not overview or unknown:
        raise KnowledgeError(
            path, data.line_of("overview_sources"), f"overview_sources must list known source keys (unknown: {unknown})"
        )
    used = set(overview) | {s.key for m in milestones for s in m.sources}
    unused = [key for key in keys if key not in used]
    if unused:
        raise KnowledgeError(path, data.line_of("sources"), f"source(s) never cited: {', '.join(unused)}")
    return MilestoneTable(intent=intent, milestones=tuple(milestones), sources=tuple(keys[key] for key in overview))


def _sources(data: LineDict, path: Path) -> Dict[str, Source]:
    """The file's `sources` (key -> {title, url}), checked like any other source list."""
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, LineDict) or not raw_sources:
        raise KnowledgeError(path, data.line_of("sources"), "'sources' must map keys to {title, url}")
    listed = []
    for key, value in raw_sources.items():
        item = LineDict({"key": key, **value}) if isinstance(value, dict) else value
        if isinstance(item, LineDict):
            item.line, item.key_lines = raw_sources.line_of(key), {}
        listed.append(item)
    return {s.key: s for s in parse_sources(listed, path, data.line_of("sources"), "milestone sources")}


def _milestone(raw: LineDict, path: Path, keys: Dict[str, Source], topics: Set[str], defined: Set[str]) -> Milestone:
    """One row of the table, checked against the file's sources, the known topics and the ids `defined` before it."""
    milestone_id = str(raw.get("id") or "")
    what = f"milestone '{milestone_id}'"
    for key in ("id", "name", "doing", "example", "topic", "sources"):
        if raw.get(key) in (None, "", []):
            raise KnowledgeError(path, raw.line, f"{what} is missing '{key}'")
    if milestone_id in defined:
        raise KnowledgeError(path, raw.line, f"{what} is defined twice")
    if raw["topic"] not in topics:
        raise KnowledgeError(path, raw.line_of("topic"), f"{what}: unknown topic '{raw['topic']}'")
    # check_by is optional: leave it out when no source gives an age by which to see a provider
    check = raw.get("check_by")
    if check is not None and (not isinstance(check, dict) or check.get("source") not in keys):
        raise KnowledgeError(path, raw.line_of("check_by"), f"{what}: check_by needs months and a known source key")
    cdc = raw.get("cdc_2022")
    if cdc is not None and not isinstance(cdc, dict):
        raise KnowledgeError(path, raw.line_of("cdc_2022"), f"{what}: cdc_2022 needs months")
    unknown = [key for key in raw["sources"] if key not in keys]
    if unknown:
        raise KnowledgeError(path, raw.line_of("sources"), f"{what}: unknown source key(s) {', '.join(map(str, unknown))}")
    who = _window(raw.get("who"), path, raw.line_of("who"), f"{what} who", keys)
    usual = _window(raw.get("usual"), path, raw.line_of("usual"), f"{what} usual", keys)
    if who is None and usual is None and cdc is None:
        raise KnowledgeError(path, raw.line, f"{what} needs at least one of who, usual or cdc_2022")
    return Milestone(
        id=milestone_id,
        name=str(raw["name"]).strip(),
        doing=str(raw["doing"]).strip(),
        example=str(raw["example"]).strip(),
        topic=str(raw["topic"]),
        words=_words(raw.get("words"), path, raw.line_of("words"), what),
        who=who,
        usual=usual,
        cdc_months=_number(cdc["months"], path, raw.line_of("cdc_2022"), f"{what} cdc_2022") if cdc else None,
        cdc_says=str(cdc["says"]).strip() if cdc and cdc.get("says") else None,
        check_by=_number(check.get("months"), path, raw.line_of("check_by"), f"{what} check_by") if check else None,
        check_source=str(check["source"]) if check else None,
        check_note=str(check["note"]).strip() if check and check.get("note") else None,
        differ=str(raw["differ"]).strip() if raw.get("differ") else None,
        sources=tuple(keys[key] for key in raw["sources"]),
        line=raw.line,
    )


# ------------------------------------------------------------------ finding the milestone a question names

_NEGATION = re.compile(
    r"\b(?:not|never|no|none|unable|cannot|"
    r"(?:can|does|do|did|is|isn|has|have|hasn|haven|won|wont|doesn|dont|didn|aren|cant)(?:'t|t|nt| not))\b"
)


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])(?:" + pattern + r")(?![a-z])")


def _normalise(text: str) -> str:
    return re.sub(r"[’`]", "'", (text or "").lower())


def find_milestone(table: MilestoneTable, text: str) -> Optional[Milestone]:
    """The milestone a question names: the one right after a negation ("doesn't pull up"), else the first in the table."""
    lowered = _normalise(text)
    found = []
    for order, milestone in enumerate(table.milestones):
        starts = [m.start() for pattern in milestone.words for m in _compiled(pattern).finditer(lowered)]
        if starts:
            found.append((order, min(starts), milestone))
    if not found:
        return None
    negations = [m.end() for m in _NEGATION.finditer(lowered)]
    after_negation = [
        (start - max(n for n in negations if n <= start), order, m)
        for order, start, m in found
        if any(n <= start for n in negations)
    ]
    if after_negation:
        return min(after_negation, key=lambda item: (item[0], item[1]))[2]
    return min(found, key=lambda item: item[0])[2]


def says_not_yet(text: str) -> bool:
    """True when the question says the child isn't doing it yet ("doesn't pull up", "can't sit", "not walking")."""
    return bool(_NEGATION.search(_normalise(text)))
