"""Observations: what a parent describes about the child, as data, detected deterministically.

"He always reaches with his left and keeps the right hand in a fist" answers "does he use both sides
evenly?" with "no" even though the parent never said "no". knowledge/observations.yml lists such
descriptions: each observation says which follow-up questions it answers (slot -> value), whether the sign
alone calls for a provider in every topic, and which topic an opening about it should start. Its
`patterns` use the red-flag pattern language (see bot/nlu/red_flags.py) and run on the same engine, with
`drop_past=True` so a past that is over ("she used to keep her fist closed") is not an observation.

The knowledge build (bot/knowledge/validate.py) checks the file against the questions, topics and sources
with file:line errors. This module never imports rasa, and nothing heavy (yaml, spaCy) at import time: the
catalogue is parsed on first use and its detector is compiled on the first `detect`.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bot.knowledge.documents import LineDict, Source
    from bot.nlu.red_flags import RedFlagDetector

KIND = "observation"  # names the definitions in the engine's error messages
OBSERVATION_REFERRALS = ("provider",)  # urgent signs are red flags; without a referral an observation refers nobody
OBSERVATION_KEYS = ("id", "label", "say_back", "answers", "referral", "say", "sources", "routes_to", "about_family", "patterns")


@dataclass(frozen=True)
class Observation:
    """Something a parent may describe, and what it tells us."""

    id: str
    label: str  # short, for the support dashboard
    say_back: str  # fits "From what you told me: <age>, <say_back>, ..." (lower case, no full stop)
    answers: Mapping[str, Any] = field(hash=False)  # follow-up question slot -> the value this description gives it
    referral: Optional[str]  # the level this sign alone calls for in every topic ("provider"), or None
    say: Optional[str]  # the advice sentence(s) when `referral` is set
    sources: Tuple[str, ...]  # source keys (the catalogue's `sources`)
    routes_to: Tuple[str, ...]  # topic ids an opening describing only this sign should start
    about_family: bool = False  # describes the child's family ("my husband had clicky hips"): read in text about others


@dataclass(frozen=True)
class ObservationHit:
    """One observation found in a message: its id and the describing text (character offsets)."""

    observation_id: str
    start: int
    end: int
    text: str


class ObservationCatalogue:
    """The observations of knowledge/observations.yml, their sources, and a lazily built detector."""

    def __init__(
        self,
        observations: Mapping[str, Observation],
        sources: Sequence[Source],
        definitions: Sequence[Mapping[str, Any]],
        detector: Optional[RedFlagDetector] = None,
    ) -> None:
        self.observations: Dict[str, Observation] = dict(observations)
        self.sources: Tuple[Source, ...] = tuple(sources)
        self._definitions = [{"id": d["id"], "patterns": d["patterns"]} for d in definitions]
        self._detector = detector
        self._lock = threading.Lock()

    def detector(self) -> RedFlagDetector:
        """The compiled detector (built once, on first use); invalid patterns raise ValueError."""
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    self._detector = compile_detector(self._definitions)
        return self._detector

    def detect(self, text: str) -> List[ObservationHit]:
        """Observations described in `text`: at most one hit per observation, ordered by where they start."""
        if not text or text.isspace():
            return []
        return [ObservationHit(h.flag_id, h.start, h.end, h.text) for h in self.detector().detect(text)]

    def source(self, key: str) -> Source:
        """The source with this key."""
        return next(s for s in self.sources if s.key == key)


@dataclass(frozen=True)
class ObservationEntry:
    """One parsed observation with its patterns and the source lines of its fields."""

    observation: Observation
    patterns: Any
    line: int
    lines: Dict[str, int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ObservationFile:
    """knowledge/observations.yml, parsed."""

    path: Path
    sources: Tuple[Source, ...]
    entries: Tuple[ObservationEntry, ...]


def _about_family(item: Any, path: Path, what: str) -> bool:
    from bot.knowledge.documents import KnowledgeError

    value = item.get("about_family", False)
    if not isinstance(value, bool):
        raise KnowledgeError(path, item.line_of("about_family"), f"{what}: 'about_family' is true or false")
    return value


def _text_list(raw: Any, path: Path, line: int, what: str) -> Tuple[str, ...]:
    """A list of non-empty strings (a single string counts as a list of one)."""
    from bot.knowledge.documents import KnowledgeError

    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise KnowledgeError(path, line, f"{what} must be a list of names")
    return tuple(i.strip() for i in items)


def parse_observations(path: Path) -> ObservationFile:
    """Parse observations.yml with the checks that need no other file; errors are KnowledgeErrors (file:line).

    Checks: ids unique, known keys, referral "provider" with `say` and `sources`, source keys listed and every
    listed source cited, say_back lower-case without a full stop. Slots, values, topics and patterns need
    the other knowledge files and are checked by bot/knowledge/validate.py.
    """
    from bot.knowledge.documents import KnowledgeError, LineDict, load_yaml, parse_sources

    data = load_yaml(path.read_text(encoding="utf-8"), path)
    if not isinstance(data, LineDict):
        raise KnowledgeError(path, 1, "expected a mapping with 'sources' and 'observations'")
    sources = parse_sources(data.get("sources"), path, data.line_of("sources"), "observations file")
    raw = data.get("observations")
    if not isinstance(raw, list) or not raw:
        raise KnowledgeError(path, data.line_of("observations"), "'observations' must be a non-empty list")
    known = {s.key for s in sources}
    entries: List[ObservationEntry] = []
    seen: Dict[str, int] = {}
    for item in raw:
        if not isinstance(item, LineDict):
            raise KnowledgeError(path, data.line_of("observations"), "each observation must be a mapping")
        entries.append(_parse_entry(item, path, known, seen))
    cited = {key for entry in entries for key in entry.observation.sources}
    for source in sources:
        if source.key not in cited:
            raw_sources = data.get("sources") or []
            line = next((s.line_of("key") for s in raw_sources if isinstance(s, LineDict) and str(s.get("key")) == source.key), 1)
            raise KnowledgeError(path, line, f"source '{source.key}' is not cited by any observation (remove it or cite it)")
    return ObservationFile(path=path, sources=sources, entries=tuple(entries))


def _parse_entry(item: LineDict, path: Path, known: Set[str], seen: Dict[str, int]) -> ObservationEntry:
    """One observation of the file, checked on its own (`seen`: the ids so far, with their lines)."""
    from bot.knowledge.documents import KnowledgeError, LineDict

    obs_id = str(item.get("id") or "").strip()
    if not obs_id:
        raise KnowledgeError(path, item.line, "an observation is missing 'id'")
    what = f"observation '{obs_id}'"
    if obs_id in seen:
        raise KnowledgeError(path, item.line_of("id"), f"{what} is defined twice (first at line {seen[obs_id]})")
    seen[obs_id] = item.line
    unknown = sorted(str(k) for k in item if k not in OBSERVATION_KEYS)
    if unknown:
        raise KnowledgeError(
            path,
            item.line_of(unknown[0]),
            f"{what}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(OBSERVATION_KEYS)})",
        )
    answers = item.get("answers") or {}
    if not isinstance(answers, dict):
        raise KnowledgeError(path, item.line_of("answers"), f"{what}: 'answers' must map a question slot to a value")
    referral, say, obs_sources = _referral(item, path, what)
    if not answers and referral is None:
        raise KnowledgeError(path, item.line, f"{what} neither answers a question nor carries a referral")
    for key in obs_sources:
        if key not in known:
            raise KnowledgeError(
                path, item.line_of("sources"), f"{what}: unknown source '{key}' (list it under the top-level sources)"
            )
    say_back = _required_text(item, "say_back", path, what)
    if say_back[:1] != say_back[:1].lower() or say_back.endswith("."):
        raise KnowledgeError(
            path, item.line_of("say_back"), f"{what}: say_back continues a sentence: start lower-case, no full stop"
        )
    patterns = item.get("patterns")
    if not isinstance(patterns, dict) or not patterns:
        raise KnowledgeError(path, item.line_of("patterns"), f"{what}: 'patterns' must be a mapping")
    observation = Observation(
        id=obs_id,
        label=_required_text(item, "label", path, what),
        say_back=say_back,
        answers={str(slot): value for slot, value in answers.items()},
        referral=referral,
        say=say,
        sources=obs_sources,
        routes_to=_text_list(item.get("routes_to"), path, item.line_of("routes_to"), f"{what}: 'routes_to'"),
        about_family=_about_family(item, path, what),
    )
    lines = {key: item.line_of(key) for key in OBSERVATION_KEYS}
    lines.update({f"answers.{slot}": answers.line_of(str(slot)) for slot in answers} if isinstance(answers, LineDict) else {})
    return ObservationEntry(observation=observation, patterns=patterns, line=item.line, lines=lines)


def _referral(item: LineDict, path: Path, what: str) -> Tuple[Optional[str], Optional[str], Tuple[str, ...]]:
    """The observation's referral, advice and source keys: a referral is "provider" and needs both."""
    from bot.knowledge.documents import KnowledgeError

    referral = item.get("referral")
    say = str(item.get("say") or "").strip() or None
    obs_sources = _text_list(item.get("sources"), path, item.line_of("sources"), f"{what}: 'sources'")
    if referral is not None:
        if referral not in OBSERVATION_REFERRALS:
            hint = " (urgent signs belong in red_flags.yml)" if referral == "urgent" else ""
            raise KnowledgeError(
                path,
                item.line_of("referral"),
                f"{what}: referral '{referral}' is not one of {', '.join(OBSERVATION_REFERRALS)}{hint}",
            )
        if say is None:
            raise KnowledgeError(path, item.line_of("referral"), f"{what}: referral '{referral}' needs 'say' (the advice)")
        if not obs_sources:
            raise KnowledgeError(path, item.line_of("referral"), f"{what}: referral '{referral}' needs 'sources' (source keys)")
    elif say is not None:
        raise KnowledgeError(path, item.line_of("say"), f"{what}: 'say' is only used with a referral")
    return str(referral) if referral is not None else None, say, obs_sources


def _required_text(item: Any, key: str, path: Path, what: str) -> str:
    from bot.knowledge.documents import KnowledgeError

    value = str(item.get(key) or "").strip()
    if not value:
        raise KnowledgeError(path, item.line, f"{what} is missing '{key}'")
    return value


def compile_detector(definitions: Sequence[Mapping[str, Any]]) -> RedFlagDetector:
    """Compile observation definitions (id + patterns) with the red-flag engine, dropping the past that is over."""
    from bot.nlu.red_flags import RedFlagDetector

    return RedFlagDetector.from_definitions([dict(d) for d in definitions], drop_past=True, kind=KIND)


def default_path() -> Path:
    """knowledge/observations.yml, from settings (KNOWLEDGE_DIR), never the working directory."""
    from bot.settings import get_settings

    return get_settings().knowledge_dir / "observations.yml"


def load_observations(path: Optional[Path] = None) -> ObservationCatalogue:
    """Parse observations.yml (default: the knowledge dir's); shape errors raise KnowledgeError with file:line."""
    parsed = parse_observations(Path(path) if path is not None else default_path())
    return ObservationCatalogue(
        {p.observation.id: p.observation for p in parsed.entries},
        parsed.sources,
        [{"id": p.observation.id, "patterns": p.patterns} for p in parsed.entries],
    )


@functools.cache
def default_catalogue() -> ObservationCatalogue:
    """The project's observation catalogue, loaded once."""
    return load_observations()
