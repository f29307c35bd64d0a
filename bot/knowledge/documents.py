"""Parse the knowledge files (questions, topic documents, red flags) into plain objects with line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.contract import ANSWER_TYPES, REFERRAL_LEVELS

SECTION_KEYS = {
    "why it happens": "why",
    "what you can try": "try",
    "when to talk to a provider": "when",
}
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "known")


class KnowledgeError(Exception):
    """A knowledge file is invalid; the message names the file and line."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{_display(path)}:{line}: {message}")


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class LineDict(Dict[str, Any]):
    """A dict that remembers the source line of itself and of each key."""

    line: int = 0
    key_lines: Dict[str, int]

    def line_of(self, key: str) -> int:
        """Line of `key`, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


_FAST_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same safe loading, ~10x faster


class _LineLoader(_FAST_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """SafeLoader that builds LineDicts (1-based lines, shifted by `offset`)."""

    offset = 0

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        mapping = LineDict(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1 + self.offset
        mapping.key_lines = {str(key_node.value): key_node.start_mark.line + 1 + self.offset for key_node, _ in node.value}
        return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)


def load_yaml(text: str, path: Path, offset: int = 0) -> Any:
    """Parse YAML text, keeping line numbers; syntax errors become KnowledgeErrors."""
    loader_cls = type("_Loader", (_LineLoader,), {"offset": offset})
    try:
        return yaml.load(text, Loader=loader_cls)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        line = (error.problem_mark.line + 1 + offset) if error.problem_mark else offset + 1
        raise KnowledgeError(path, line, f"invalid YAML: {error.problem}") from error


@dataclass(frozen=True)
class Source:
    """A cited document."""

    key: str
    title: str
    url: str


@dataclass(frozen=True)
class Condition:
    """One test on an answer: `slot op value`."""

    slot: str
    op: str
    value: Any


@dataclass(frozen=True)
class Rule:
    """Conditions on answers -> referral level and a tailored sentence."""

    id: str
    conditions: Tuple[Condition, ...]
    referral: str
    say: str
    line: int
    always_shown: bool = False  # a level-"none" rule that still applies when a stricter referral is given
    sources: Tuple[str, ...] = ()  # keys of the topic's sources that this rule's sentence rests on


@dataclass(frozen=True)
class ShortLine:
    """A sentence of the short answer (a first thing to try, or when to check again) and the source keys it rests on."""

    say: str
    sources: Tuple[str, ...]
    line: int = 0


@dataclass(frozen=True)
class Section:
    """A body section of a topic document."""

    key: str
    heading: str
    body: str


@dataclass(frozen=True)
class Question:
    """A follow-up question, defined once for all topics."""

    slot: str
    type: str
    ask: str
    example: str
    why: str
    buttons: Tuple[Dict[str, str], ...] = ()
    all_clear: str = "yes"  # what "no problems" / "all fine" answers: "no" for a question about warning signs
    line: int = 0
    say_back: Dict[str, str] = field(default_factory=dict, compare=False)  # yes/no/unsure -> how the summary says it
    clarify: Optional[Clarify] = None  # the narrower follow-up asked when a reply can't be read
    reads: Dict[str, Tuple[str, ...]] = field(default_factory=dict, compare=False)  # value -> phrases that mean it here


@dataclass(frozen=True)
class Clarify:
    """A narrower follow-up question, with quick replies that always read as an answer."""

    text: str
    buttons: Tuple[Dict[str, str], ...] = ()
    on_unsure: bool = False  # also asked once when the parent answers "not sure" (questions about warning signs)


@dataclass(frozen=True)
class Topic:
    """A topic document: what it covers, which questions matter, and its rules."""

    id: str
    title: str
    intent: str
    summary: str
    sources: Tuple[Source, ...]
    questions: Tuple[str, ...]
    rules: Tuple[Rule, ...]
    sections: Tuple[Section, ...]
    path: Path
    lines: Dict[str, int] = field(default_factory=dict, compare=False)
    get_help_now: Tuple[str, ...] = ()  # red flag ids whose signposts make the "Get help now" list
    first_steps: Tuple[ShortLine, ...] = ()  # the two or three things to try first (short answer)
    check_again: Optional[ShortLine] = None  # when to look again if nothing needs a check now (short answer)
    section_sources: Dict[str, Tuple[str, ...]] = field(default_factory=dict, compare=False)  # section key -> keys

    def section(self, key: str) -> Optional[Section]:
        """The section with this key (why / try / when), if present."""
        return next((s for s in self.sections if s.key == key), None)

    @property
    def general_option(self) -> bool:
        """A topic is about one child: its age question offers no "Just in general" reply."""
        return False

    @property
    def uses_age(self) -> bool:
        """Whether any rule depends on the child's (corrected) age, so being born early can change the advice."""
        return any(c.slot == "corrected_age_months" for rule in self.rules for c in rule.conditions)


@dataclass(frozen=True)
class RedFlag:
    """A red flag that needs care now, with the message the parent gets."""

    id: str
    label: str
    referral: str
    message: str
    sources: Tuple[Source, ...]
    patterns: Any
    line: int = 0
    signpost: str = ""  # one line for a topic's generated "Get help now" list


def _require(data: LineDict, key: str, path: Path, what: str) -> Any:
    if not isinstance(data, dict) or key not in data or data[key] in (None, "", []):
        line = data.line if isinstance(data, LineDict) else 1
        raise KnowledgeError(path, line, f"{what} is missing '{key}'")
    return data[key]


def parse_sources(raw: Any, path: Path, line: int, owner: str) -> Tuple[Source, ...]:
    """Parse a `sources` list; each needs key, title and an http(s) url."""
    if not isinstance(raw, list) or not raw:
        raise KnowledgeError(path, line, f"{owner} has no sources: cite at least one (key, title, url)")
    sources: List[Source] = []
    for item in raw:
        where = item.line if isinstance(item, LineDict) else line
        if not isinstance(item, LineDict):
            raise KnowledgeError(path, where, f"{owner}: each source needs key, title and url")
        for key in ("key", "title", "url"):
            if not str(item.get(key) or "").strip():
                raise KnowledgeError(path, where, f"{owner}: source is missing '{key}'")
        if not re.match(r"^https?://\S+$", str(item["url"])):
            raise KnowledgeError(path, item.line_of("url"), f"{owner}: source url '{item['url']}' is not a web address")
        if any(s.key == str(item["key"]) for s in sources):
            raise KnowledgeError(path, item.line_of("key"), f"{owner}: source key '{item['key']}' is listed twice")
        sources.append(Source(key=str(item["key"]), title=str(item["title"]).strip(), url=str(item["url"]).strip()))
    return tuple(sources)


def parse_questions(path: Path) -> Dict[str, Question]:
    """Parse knowledge/questions.yml."""
    data = load_yaml(path.read_text(encoding="utf-8"), path)
    raw = _require(data, "questions", path, "questions file")
    if not isinstance(raw, LineDict):
        raise KnowledgeError(path, data.line_of("questions"), "'questions' must be a mapping of slot -> definition")
    questions = {}
    for slot, spec in raw.items():
        line = raw.line_of(slot)
        if not isinstance(spec, LineDict):
            raise KnowledgeError(path, line, f"question '{slot}' must be a mapping")
        qtype = _require(spec, "type", path, f"question '{slot}'")
        if qtype not in ANSWER_TYPES:
            raise KnowledgeError(
                path, spec.line_of("type"), f"question '{slot}' has unknown type '{qtype}' (use one of {', '.join(ANSWER_TYPES)})"
            )
        buttons = tuple({"title": str(b["title"]), "payload": str(b["payload"])} for b in spec.get("buttons") or [])
        all_clear = str(spec.get("all_clear", "yes"))
        if all_clear not in ("yes", "no") or (all_clear == "no" and qtype != "yes_no_unsure"):
            raise KnowledgeError(
                path, spec.line_of("all_clear"), f"question '{slot}': all_clear is yes or no, for yes_no_unsure questions only"
            )
        say_back = spec.get("say_back") or {}
        if not isinstance(say_back, dict) or not all(
            k in YES_NO_VALUES and isinstance(v, str) and v.strip() for k, v in say_back.items()
        ):
            raise KnowledgeError(
                path, spec.line_of("say_back"), f"question '{slot}': say_back maps yes / no / unsure to a phrase"
            )
        if say_back and qtype != "yes_no_unsure":
            raise KnowledgeError(
                path, spec.line_of("say_back"), f"question '{slot}': say_back is for yes_no_unsure questions only"
            )
        clarify = _parse_clarify(spec.get("clarify"), path, spec.line_of("clarify"), slot)
        reads = _parse_reads(spec.get("reads"), path, spec.line_of("reads"), slot, qtype)
        questions[slot] = Question(
            slot=slot,
            type=qtype,
            ask=str(_require(spec, "ask", path, f"question '{slot}'")).strip(),
            example=str(_require(spec, "example", path, f"question '{slot}'")).strip(),
            why=str(_require(spec, "why", path, f"question '{slot}'")).strip(),
            buttons=buttons,
            all_clear=all_clear,
            line=line,
            say_back={str(k): str(v).strip() for k, v in say_back.items()},
            clarify=clarify,
            reads=reads,
        )
    return questions


YES_NO_VALUES = ("yes", "no", "unsure")


def _parse_reads(raw: Any, path: Path, line: int, slot: str, qtype: str) -> Dict[str, Tuple[str, ...]]:
    """A question's `reads`: for each answer value, regular expressions (whole words, lower case) that mean it here."""
    if raw is None:
        return {}
    if qtype != "yes_no_unsure" or not isinstance(raw, dict):
        raise KnowledgeError(
            path, line, f"question '{slot}': reads maps yes / no / unsure to phrases, for yes_no_unsure questions only"
        )
    reads: Dict[str, Tuple[str, ...]] = {}
    for value, patterns in raw.items():
        where = raw.line_of(value) if isinstance(raw, LineDict) else line
        if value not in YES_NO_VALUES or not isinstance(patterns, list) or not patterns:
            raise KnowledgeError(
                path, where, f"question '{slot}': reads.{value} must be yes, no or unsure with a list of phrases"
            )
        reads[str(value)] = regex_list(patterns, path, where, f"question '{slot}': reads.{value}")
    return reads


def regex_list(raw: Any, path: Path, line: int, what: str) -> Tuple[str, ...]:
    """A list of regular expressions, each checked to compile (the error names file, line and pattern)."""
    for pattern in raw:
        try:
            re.compile(str(pattern))
        except re.error as error:
            raise KnowledgeError(
                path, line, f"{what}: pattern {pattern!r} is not a valid regular expression ({error})"
            ) from error
    return tuple(str(p) for p in raw)


def _parse_clarify(raw: Any, path: Path, line: int, slot: str) -> Optional[Clarify]:
    """A question's `clarify` block: `ask` and optional `buttons`."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not str(raw.get("ask") or "").strip():
        raise KnowledgeError(path, line, f"question '{slot}': clarify needs 'ask' (and optional 'buttons')")
    buttons = raw.get("buttons") or []
    if not isinstance(buttons, list) or not all(isinstance(b, dict) and b.get("title") and b.get("payload") for b in buttons):
        raise KnowledgeError(path, line, f"question '{slot}': clarify buttons need a title and a payload")
    on_unsure = raw.get("on_unsure", False)
    if not isinstance(on_unsure, bool):
        raise KnowledgeError(path, line, f"question '{slot}': clarify on_unsure is true or false")
    return Clarify(
        text=str(raw["ask"]).strip(),
        buttons=tuple({"title": str(b["title"]), "payload": str(b["payload"])} for b in buttons),
        on_unsure=on_unsure,
    )


def parse_conditions(when: Any, path: Path, line: int, rule_id: str) -> Tuple[Condition, ...]:
    if when is None:
        return ()
    if not isinstance(when, dict):
        raise KnowledgeError(path, line, f"rule '{rule_id}': 'when' must be a mapping of slot -> condition")
    conditions = []
    for slot, test in when.items():
        where = when.line_of(slot) if isinstance(when, LineDict) else line
        if isinstance(test, dict):
            for op, value in test.items():
                if op not in OPERATORS:
                    raise KnowledgeError(
                        path, where, f"rule '{rule_id}': unknown operator '{op}' for '{slot}' (use {', '.join(OPERATORS)})"
                    )
                conditions.append(Condition(slot=str(slot), op=op, value=value))
        else:
            conditions.append(Condition(slot=str(slot), op="eq", value=test))
    return tuple(conditions)


def _flag(raw: LineDict, key: str, path: Path, rule_id: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise KnowledgeError(path, raw.line_of(key), f"rule '{rule_id}': '{key}' is true or false, not {value!r}")
    return value


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n(.*)\Z", re.DOTALL)


def parse_topic(path: Path) -> Topic:
    """Parse one topic document (Markdown with YAML front matter)."""
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise KnowledgeError(path, 1, "a topic document must start with YAML front matter between '---' lines")
    meta = load_yaml(match.group(1), path, offset=1)
    if not isinstance(meta, LineDict):
        raise KnowledgeError(path, 2, "front matter must be a mapping")
    body_offset = match.group(1).count("\n") + 2
    what = f"topic '{meta.get('id', path.stem)}'"
    topic_id = str(_require(meta, "id", path, "front matter"))
    questions = meta.get("questions") or []
    if not isinstance(questions, list):
        raise KnowledgeError(path, meta.line_of("questions"), f"{what}: 'questions' must be a list of question ids")
    rules = []
    for raw_rule in meta.get("rules") or []:
        rule_line = raw_rule.line if isinstance(raw_rule, LineDict) else meta.line_of("rules")
        rule_id = str(_require(raw_rule, "id", path, f"{what}: a rule"))
        referral = _require(raw_rule, "referral", path, f"{what}: rule '{rule_id}'")
        if referral not in REFERRAL_LEVELS:
            raise KnowledgeError(
                path,
                raw_rule.line_of("referral"),
                f"rule '{rule_id}': referral '{referral}' is not one of {', '.join(REFERRAL_LEVELS)}",
            )
        rules.append(
            Rule(
                id=rule_id,
                conditions=parse_conditions(raw_rule.get("when"), path, raw_rule.line_of("when"), rule_id),
                referral=referral,
                say=str(_require(raw_rule, "say", path, f"{what}: rule '{rule_id}'")).strip(),
                line=rule_line,
                always_shown=_flag(raw_rule, "always_shown", path, rule_id),
                sources=tuple(str(k) for k in raw_rule.get("sources") or ()),
            )
        )
    return Topic(
        id=topic_id,
        title=str(_require(meta, "title", path, what)).strip(),
        intent=str(_require(meta, "intent", path, what)).strip(),
        summary=str(_require(meta, "summary", path, what)).strip(),
        sources=parse_sources(meta.get("sources"), path, meta.line_of("sources"), what),
        questions=tuple(str(q) for q in questions),
        rules=tuple(rules),
        sections=parse_sections(match.group(2), path, body_offset),
        path=path,
        lines={
            key: meta.line_of(key)
            for key in ("id", "intent", "questions", "rules", "sources", "get_help_now", "short", "section_sources")
        },
        get_help_now=tuple(str(f) for f in meta.get("get_help_now") or ()),
        **parse_short(meta, path, what),
    )


def _short_line(raw: Any, path: Path, line: int, what: str) -> ShortLine:
    if not isinstance(raw, LineDict):
        raise KnowledgeError(path, line, f"{what} must be a mapping with 'say' and 'sources'")
    sources = raw.get("sources")
    if not isinstance(sources, list) or not sources:
        raise KnowledgeError(path, raw.line, f"{what} needs 'sources': a list of the topic's source keys")
    return ShortLine(str(_require(raw, "say", path, what)).strip(), tuple(str(k) for k in sources), raw.line)


def parse_short(meta: LineDict, path: Path, what: str) -> Dict[str, Any]:
    """The short answer's data (`short`: first_steps, check_again) and the source keys of each body section
    (`section_sources`: why / try / when)."""
    short = meta.get("short")
    if not isinstance(short, LineDict):
        raise KnowledgeError(path, meta.line_of("short") or 1, f"{what} needs 'short' with first_steps and check_again")
    steps = short.get("first_steps")
    if not isinstance(steps, list) or not 2 <= len(steps) <= 3:
        raise KnowledgeError(path, short.line_of("first_steps") or short.line, f"{what}: 'first_steps' needs 2 or 3 entries")
    raw_sections = meta.get("section_sources")
    if not isinstance(raw_sections, LineDict) or set(raw_sections) != set(SECTION_KEYS.values()):
        raise KnowledgeError(
            path,
            meta.line_of("section_sources") or 1,
            f"{what}: 'section_sources' needs the source keys of each section: {', '.join(SECTION_KEYS.values())}",
        )
    section_sources = {}
    for key, keys in raw_sections.items():
        if not isinstance(keys, list) or not keys:
            raise KnowledgeError(path, raw_sections.line_of(key), f"{what}: section_sources.{key} must list source keys")
        section_sources[str(key)] = tuple(str(k) for k in keys)
    return {
        "first_steps": tuple(_short_line(s, path, short.line_of("first_steps"), f"{what}: a first step") for s in steps),
        "check_again": _short_line(
            short.get("check_again"), path, short.line_of("check_again") or short.line, f"{what}: check_again"
        ),
        "section_sources": section_sources,
    }


def parse_sections(body: str, path: Path, offset: int) -> Tuple[Section, ...]:
    """Split a document body into its known H2 sections; unknown headings fail."""
    sections: List[Section] = []
    heading: Optional[str] = None
    lines: List[str] = []

    def close() -> None:
        if heading is not None:
            sections.append(Section(key=SECTION_KEYS[heading.lower()], heading=heading, body="\n".join(lines).strip()))

    for number, line in enumerate(body.splitlines(), start=offset + 1):
        found = re.match(r"^##\s+(.+?)\s*$", line)
        if found:
            close()
            heading, lines = found.group(1), []
            if heading.lower() not in SECTION_KEYS:
                raise KnowledgeError(
                    path, number, f"unknown section '{heading}' (use: {', '.join(h.capitalize() for h in SECTION_KEYS)})"
                )
        elif heading is not None:
            lines.append(line)
        elif line.strip():
            raise KnowledgeError(path, number, "text before the first '## ' section heading")
    close()
    return tuple(sections)


def parse_red_flags(path: Path) -> Tuple[Dict[str, RedFlag], str]:
    """Parse knowledge/red_flags.yml: the flags, and the message for a red flag without its own."""
    data = load_yaml(path.read_text(encoding="utf-8"), path)
    raw = _require(data, "red_flags", path, "red flags file")
    default_message = str(_require(data, "default_message", path, "red flags file")).strip()
    flags = {}
    for item in raw:
        flag_id = str(_require(item, "id", path, "a red flag"))
        what = f"red flag '{flag_id}'"
        referral = _require(item, "referral", path, what)
        if referral not in REFERRAL_LEVELS:
            raise KnowledgeError(
                path, item.line_of("referral"), f"{what}: referral '{referral}' is not one of {', '.join(REFERRAL_LEVELS)}"
            )
        flags[flag_id] = RedFlag(
            id=flag_id,
            label=str(_require(item, "label", path, what)).strip(),
            referral=referral,
            message=str(_require(item, "message", path, what)).strip(),
            sources=parse_sources(item.get("sources"), path, item.line_of("sources"), what),
            patterns=_require(item, "patterns", path, what),
            line=item.line,
            signpost=" ".join(str(_require(item, "signpost", path, what)).split()),
        )
    return flags, default_message
