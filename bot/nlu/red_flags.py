"""Deterministic red-flag detector: spaCy blank("en") tokenizer plus Matcher/PhraseMatcher rules.

The rules live in the knowledge dir's red_flags.yml (KNOWLEDGE_DIR, default knowledge/; the `patterns` of each
red flag). This module never imports rasa; it runs on every user message, so a detector is built once (lazily,
see `default_detector`) and `detect` only tokenizes and matches.

Pattern language (per red flag, under `patterns`):

- `phrases`: plain phrases, matched token by token on the normalised message (see below).
- `tokens`: spaCy Matcher token patterns. Write them against NORM; NORM values are normalised like the
  message (so `n't` and `not` are the same). Extras: `"@name"` stands for the word list `words.name`
  (as an attribute value, or spliced into an IN / NOT_IN list), and `{GAP: n}` is up to n optional
  tokens that never cross a sentence end or a negation word.
- `all_of`: named groups, each with `phrases` / `tokens`; the flag fires only when every group matches
  (un-negated) in the same message. Used instead of top-level `phrases` / `tokens`.
- `exclude`: `phrases` / `tokens` for near misses: a trigger overlapping an exclude match is dropped.
- `words`: named word lists for `"@name"`.
- `spellings`: canonical form -> variants (typos, inflections). Applied to every message before
  matching, whichever flag declares them; two flags may not map one variant differently.

Normalisation: the message is lower-cased (same length, so character offsets still point into the
original text), a few glue symbols (+ & = : / ...) are split off, and spaCy's NORM expands
contractions ("can't", "cant" and "cannot" all read as "can not"; "won't" as "will not").

Negation: a trigger is dropped when a negation word (no, not, n't, never, without, nothing ...) stands
at most NEGATION_WINDOW tokens before it within the same clause (punctuation, conjunctions such as
"but"/"and"/"because", and a new subject such as "he"/"she"/"my baby" close the clause). "not sure",
"no idea", "don't know" do not negate. Constructions that need the negation ("can't crawl anymore",
"won't put weight on her leg", "isn't breathing properly") carry it inside the pattern itself.

Excludes do not look at negation: "she's not hot from the bath" still excludes. A negation-aware exclude was
tried and dropped: excludes such as "won't sit still", "doesn't crawl anymore, she walks", "not responding to
his name" begin with the negation they describe, so 11 near misses fired; the one exclude that needs it (a
fever told in the same clause, for the seizure flag) lists the negations itself ("no fever, but floppy").

One message per situation: a definition may list `overrides` (other flag ids; unknown ids, itself and cycles
are errors naming the flag): when it and a flag it overrides both fire, only it is reported. `priority` (a
positive integer, 1 first) orders the flags that are still reported together; `primary` picks the hit whose
message fits best, which the Rasa component puts in the `red_flag` slot.

Shared context (`from_definitions(..., context=...)`, the top-level `context` of red_flags.yml, see
`load_context`), for every flag: a trigger is dropped when a `settled` match follows it (up to the end of the
next sentence, SETTLED_WINDOW tokens) - checked and fine, or not come back - or a `recovered` match does with a
`long_ago` match in that stretch, unless a `present` match ("today", "right now", "but now") stands in the
trigger's sentence or that stretch outside the settled phrase; and when a `someone_else` match ("his uncle
broke", "my older one had") ends at most SOMEONE_WINDOW tokens before it, or inside it, with no new clause
between. `settled_past(text)` asks the same of a whole message (for a red flag only a classifier saw).

Past that is over (`from_definitions(..., drop_past=True)`, used for observations, not for red flags): a
trigger is also dropped when "used to" stands before it in the same clause ("she used to keep her fist
closed"; "she's used to ..." is the present), or "anymore", "any more", "no longer", "not now" follows it
before the next coordinator or sentence end, or right after a "but" / comma and a short subject ("her hand
was fisted, but not any more", "... but it isn't now"). `kind` names what the definitions are ("red flag",
"observation") in error messages.

Speed: about 0.1 ms for a typical message, and well under a second for 100,000 characters. spaCy would
evaluate a first-token IN-list in Python at every token, so such first tokens are turned into exact
tests on a per-token word class (see `_FirstTokenClasses`). A run of optional tokens makes spaCy keep one
partial match per way of skipping them (2**n for a gap of n), so a pattern with GAPs is not given to
spaCy whole: its gap-free pieces are matched on their own and joined afterwards (see `_Chain`), with the
same meaning. Consecutive GAPs add up, so `{GAP: 8}, {GAP: 8}` allows up to 16 tokens.
"""

from __future__ import annotations

import bisect
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    List,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Set,
    Tuple,
    cast,
)

if TYPE_CHECKING:  # pragma: no cover - typing only; spaCy is imported lazily
    import numpy
    from numpy.typing import NDArray
    from spacy.language import Language
    from spacy.matcher import Matcher, PhraseMatcher
    from spacy.tokens import Doc, Token
    from thinc.types import Ints2d

PATTERN_KEYS = ("phrases", "tokens", "all_of", "exclude", "words", "spellings")
GROUP_KEYS = ("phrases", "tokens")
# The shared context (top-level `context` of red_flags.yml): named groups of phrases / tokens, plus `words`.
CONTEXT_KEYS = ("settled", "recovered", "long_ago", "present", "someone_else", "current")
CURRENT_WINDOW = 4  # tokens before a trigger where a `current` match ("she's struggling", "has a") makes it the present
SENTENCE_ENDS = frozenset({".", "!", "?", ";"})
SETTLED_WINDOW = 30  # tokens after a trigger searched for `settled` / `recovered` (to the end of the next sentence)
SOMEONE_WINDOW = 6  # tokens allowed between a `someone_else` match and the trigger it speaks of
# Tokens between a `someone_else` match and the trigger that show the trigger is about someone new.
SOMEONE_BREAKS = frozenset(
    {
        ".",
        "!",
        "?",
        ";",
        ",",
        "but",
        "and",
        "so",
        "because",
        "cause",
        "cos",
        "while",
        "whilst",
        "whereas",
        "though",
        "although",
        "now",
        "today",
        "then",
        "he",
        "she",
        "they",
        "i",
        "we",
        "you",
        "baby",
        "son",
        "daughter",
        "child",
    }
)
TEXT_ATTRS = ("NORM", "LOWER", "ORTH", "TEXT")

NEGATION_CUES = frozenset({"no", "not", "never", "without", "nor", "neither", "nothing", "none"})
# Misspelt negative contractions parents type, split like spaCy's own "doesnt" (does + nt): head, its norm, tail.
MISSPELT_CONTRACTIONS = {
    "dosent": ("dos", "does", "ent"),
    "dosnt": ("dos", "does", "nt"),
    "doesent": ("does", "does", "ent"),
    "dosen't": ("dosen", "does", "'t"),
    "didint": ("did", "do", "int"),
    "isint": ("is", "is", "int"),
    "wasint": ("was", "was", "int"),
}
# A cue directly followed by one of these is not a negation: "not sure", "no idea", "don't know".
PSEUDO_NEGATION_NEXT = frozenset({"sure", "certain", "know", "idea", "clue", "doubt", "only", "just", "matter", "seen"})
# Tokens that end the clause a negation can reach into (scanning backwards from a trigger).
CLAUSE_BREAKS = frozenset(
    {
        "but",
        "and",
        "so",
        "because",
        "cause",
        "cos",
        "coz",
        "though",
        "although",
        "however",
        "until",
        "since",
        "after",
        "before",
        "when",
        "while",
        "whilst",
        "if",
        "whether",
        "then",
        "now",
        "except",
        "which",
        "who",
        "&",
        "+",
        "i",
        "he",
        "she",
        "we",
        "they",
        "you",
        "baby",
        "son",
        "daughter",
        "child",
        "toddler",
        "boy",
        "girl",
        "kid",
        "twins",
    }
)
NEGATION_WINDOW = 5  # tokens allowed between a negation cue and the trigger
# A past that is over (only with drop_past): "used to" before a trigger, one of these after it.
PAST_WINDOW = 12  # tokens searched on either side of a trigger, within its clause
PAST_WORDS = frozenset({"anymore", "anymor", "nomore"})
PAST_PAIRS = frozenset({("any", "more"), ("no", "longer"), ("not", "now"), ("not", "anymore")})
PAST_BRIDGES = frozenset({",", "-", "--", "–", "—", "but", "though", "although"})  # before "not any more"
# after a bridge: "..., but it isn't now", "but she doesn't any more"
PAST_SUBJECT_AUX = frozenset(
    {"it", "she", "he", "they", "that", "this", "is", "'s", "does", "do", "has", "have", "was", "can", "will", "really"}
)
# The forward search crosses a subordinate clause ("limped for a day after falling, but not any more") and stops
# at sentence punctuation and at these coordinators.
PAST_STOPS = frozenset({"and", "so", "then", "now", "or", "nor", "whereas", "plus", "also", "&", "+"})
ACCUSTOMED = frozenset(
    {"is", "'s", "are", "am", "'m", "'re", "was", "were", "get", "gets", "got", "getting", "be", "been", "being"}
)
GAP_STOP = (".", "!", "?", ";", "not", "never", "no", "without", "nor")
MAX_GAP = 8
_GAP_TOKEN: Dict[str, Any] = {"NORM": {"NOT_IN": list(GAP_STOP)}, "IS_SPACE": False, "OP": "?"}
_SENTINEL = " ."  # lets a pattern end on "end of message" by matching punctuation
_GLUE = str.maketrans({"+": ",", "&": ",", "=": " ", ":": " ", "/": " ", "*": " ", "_": " ", "~": " ", "|": " "})


@dataclass(frozen=True)
class RedFlagHit:
    """One detected red flag: its id and the triggering text (character offsets into the message)."""

    flag_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Role:
    flag: int  # index into the detector's flag list (-1 for a context pattern)
    group: Optional[str]  # None = exclude pattern; "" = the flag's own patterns; else an all_of group
    context: Optional[str] = None  # a CONTEXT_KEYS name for the shared context patterns


@dataclass(frozen=True)
class _Chain:
    """A token pattern with GAPs: gap-free segments (ids) and the largest gap after each segment but the last.

    A segment id is a matcher key, or, for a one-token segment that only tests NORM, a key of the
    detector's word segments (set of NORM hashes), which are looked up directly instead of matched.
    """

    role: _Role
    segments: Tuple[int, ...]
    gaps: Tuple[int, ...]


class RedFlagDetector:
    """Find red flags in a caregiver message with deterministic spaCy rules."""

    def __init__(
        self,
        nlp: Language,
        matcher: Matcher,
        phrase_matcher: PhraseMatcher,
        flag_ids: Sequence[str],
        groups: Sequence[Tuple[str, ...]],
        roles: Mapping[int, _Role],
        classes: Optional[_FirstTokenClasses] = None,
        chains: Sequence[_Chain] = (),
        word_segments: Optional[Mapping[int, FrozenSet[int]]] = None,
        drop_past: bool = False,
        overrides: Optional[Mapping[int, FrozenSet[int]]] = None,
        priorities: Sequence[Optional[int]] = (),
    ) -> None:
        self._nlp = nlp
        self._matcher = matcher
        self._phrase_matcher = phrase_matcher
        self._flag_ids = tuple(flag_ids)
        self._groups = tuple(groups)
        self._roles = dict(roles)
        self._classes = classes
        self._chains = tuple(chains)
        self._word_segments = dict(word_segments or {})
        self._chain_index = _ChainIndex(self._chains, self._word_segments)
        self._context_chains = _ChainIndex([c for c in self._chains if c.role.context is not None], self._word_segments)
        self._drop_past = drop_past
        self._overrides = dict(overrides or {})  # flag index -> indices of the flags it overrides
        self._priorities = tuple(priorities) or (None,) * len(self._flag_ids)

    @property
    def flag_ids(self) -> Tuple[str, ...]:
        """The red flag ids this detector knows, in definition order."""
        return self._flag_ids

    def settled_past(self, text: str) -> bool:
        """Does the message tell of a past that was checked or has settled, and of nothing current?

        ("he fell off the slide last month, they x-rayed him and it was fine"): the shared context's `settled`
        (or `recovered` with `long_ago`) and no `present`. For a red flag that only a classifier saw.
        """
        if not text or text.isspace():
            return False
        doc = self._nlp.tokenizer(_normalise_text(text) + _SENTINEL)
        if self._classes is not None:
            self._classes.tag(doc)
        matches = list(self._matcher(doc)) if len(self._matcher) else []
        matches.extend(self._phrase_matcher(doc))
        segments: Dict[int, Dict[int, List[int]]] = {}
        spans: Dict[str, List[Tuple[int, int]]] = {}
        for key, start, end in matches:
            role = self._roles.get(key)
            if role is None:
                segments.setdefault(key, {}).setdefault(start, []).append(end)
            elif role.context is not None:
                spans.setdefault(role.context, []).append((start, end))
        for start, end, role in _join_chains(self._context_chains, segments, self._word_segments, doc):
            spans.setdefault(str(role.context), []).append((start, end))
        return _Context(doc, spans).calm()

    def primary(self, hits: Sequence[RedFlagHit]) -> Optional[RedFlagHit]:
        """The hit whose message fits best: the lowest `priority` (flags without one come last), then the first."""
        rank = {flag_id: number for number, flag_id in enumerate(self._flag_ids)}

        def key(hit: RedFlagHit) -> Tuple[int, int]:
            priority = self._priorities[rank[hit.flag_id]] if hit.flag_id in rank else None
            return (priority if priority is not None else 1_000_000, hit.start)

        return min(hits, key=key) if hits else None

    @classmethod
    def from_definitions(
        cls,
        definitions: List[Dict[str, Any]],
        drop_past: bool = False,
        kind: str = "red flag",
        context: Optional[Mapping[str, Any]] = None,
    ) -> RedFlagDetector:
        """Compile a list of definitions (id + patterns, as loaded from YAML); invalid patterns raise ValueError.

        `drop_past=True` also drops a trigger about a past that is over ("used to ...", "... any more");
        `kind` names what is defined ("red flag", "observation") in error messages; `context` is the shared
        context of red_flags.yml (see `load_context`): a past that was checked or has settled, someone else.
        """
        flags = _check_definitions(definitions, kind)
        overrides, priorities = _check_precedence(definitions, kind)
        builder = _Builder(kind)
        builder.add_spellings(flags)
        for index, (flag_id, patterns) in enumerate(flags):
            builder.add_flag(index, flag_id, patterns)
        builder.add_context(_check_context(context, kind), context)
        classes, matcher = builder.matcher()
        return cls(
            builder.nlp,
            matcher,
            builder.phrase_matcher,
            [f for f, _ in flags],
            builder.groups,
            builder.roles,
            classes,
            builder.chains,
            builder.word_segments,
            drop_past,
            overrides,
            priorities,
        )

    def detect(self, text: str) -> List[RedFlagHit]:
        """Red flags in `text`: at most one hit per flag id, ordered by where they start."""
        if not text or text.isspace():
            return []
        doc = self._nlp.tokenizer(_normalise_text(text) + _SENTINEL)
        if self._classes is not None:
            self._classes.tag(doc)
        matches = list(self._matcher(doc)) if len(self._matcher) else []
        matches.extend(self._phrase_matcher(doc))
        if not matches and not self._word_segments:
            return []
        excluded: Dict[int, _Spans] = {}
        triggers: List[Tuple[int, int, _Role]] = []
        segments: Dict[int, Dict[int, List[int]]] = {}
        candidates: List[Tuple[int, int, _Role]] = []
        for key, start, end in matches:
            role = self._roles.get(key)
            if role is None:  # a chain segment
                segments.setdefault(key, {}).setdefault(start, []).append(end)
            else:
                candidates.append((start, end, role))
        if self._chains:
            candidates.extend(_join_chains(self._chain_index, segments, self._word_segments, doc))
        if not candidates:
            return []
        context: Dict[str, List[Tuple[int, int]]] = {}
        for start, end, role in candidates:
            if role.context is not None:
                context.setdefault(role.context, []).append((start, end))
            elif role.group is None:
                excluded.setdefault(role.flag, _Spans()).add(start, end)
            else:
                triggers.append((start, end, role))
        about = _Context(doc, context) if context.keys() & {"settled", "recovered", "someone_else"} else None
        triggers.sort(key=lambda m: (m[0], -m[1]))
        found: Dict[Tuple[int, str], Tuple[int, int]] = {}
        for start, end, role in triggers:
            slot = (role.flag, role.group or "")
            if slot in found:
                continue
            spans = excluded.get(role.flag)
            if spans is not None and spans.overlaps(start, end):
                continue
            if _is_negated(doc, start):
                continue
            if self._drop_past and _is_past_over(doc, start, end):
                continue
            if about is not None and (about.settled(start, end) or about.someone_else(start, end)):
                continue
            found[slot] = (start, end)
        fired = [index for index in range(len(self._flag_ids)) if all((index, name) in found for name in self._groups[index])]
        hidden = set().union(*(self._overrides.get(index, frozenset()) for index in fired)) if fired else set()
        hits = []
        for index in fired:
            if index in hidden:
                continue
            flag_id = self._flag_ids[index]
            parts = [found.get((index, name)) for name in self._groups[index]]
            start = min(p[0] for p in parts if p)
            end = max(p[1] for p in parts if p)
            hits.append(_hit(flag_id, text, doc, start, end))
        hits.sort(key=lambda h: (h.start, h.end))
        return hits


class _Tokenizer(Protocol):
    """What the detector uses of spaCy's Tokenizer (a compiled class without type information)."""

    def __call__(self, text: str) -> Doc: ...

    def add_special_case(self, string: str, substrings: Iterable[Dict[int, str]]) -> None: ...


class _Builder:
    """One compilation of definitions into a detector: a blank pipeline, its matchers, and what is added to them.

    Spellings come first (they become lexeme norms, so every later doc, patterns and messages alike, sees them);
    then each flag's phrases and token patterns, then the shared context. Each token pattern is validated on its
    own, so an error names it; the real matcher is built at the end, with first-token classes.
    """

    def __init__(self, kind: str) -> None:
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.symbols import NORM, ORTH

        self.kind = kind
        self.nlp = spacy.blank("en")
        self.tokenize = cast(_Tokenizer, self.nlp.tokenizer)
        for typed, (head, head_norm, tail) in MISSPELT_CONTRACTIONS.items():
            self.tokenize.add_special_case(typed, [{ORTH: head, NORM: head_norm}, {ORTH: tail, NORM: "not"}])
        self.checker = Matcher(self.nlp.vocab, validate=True)
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        self.compiled: List[Tuple[str, List[Dict[str, Any]]]] = []
        self.chains: List[_Chain] = []
        self.segment_keys: Dict[str, str] = {}  # one matcher key per distinct segment, shared by all chains
        self.word_segments: Dict[int, FrozenSet[int]] = {}
        self.roles: Dict[int, _Role] = {}
        self.groups: List[Tuple[str, ...]] = []

    def one_token(self, value: str, flag_id: str, where: str) -> Token:
        """The single token `value` is; a clitic ('s, 've, 'll) is read as it follows a word."""
        doc = self.tokenize(_normalise_text(value))
        if len(doc) != 1 and value[:1] in "'’":  # a clitic is one token only after a word
            for host in ("i", "he", "do", "could"):
                attached = self.tokenize(host + _normalise_text(value))
                if len(attached) == 2 and attached[0].text == host:
                    return attached[1]
        if len(doc) != 1:
            raise ValueError(f"{self.kind} {flag_id!r}: {where} {value!r} is {len(doc)} tokens; write one token per entry")
        return doc[0]

    def add_spellings(self, flags: List[Tuple[str, Dict[str, Any]]]) -> None:
        """Make every spelling variant's norm its canonical form; conflicting or chained variants raise ValueError."""
        kind = self.kind
        spelled: Dict[str, Tuple[str, str]] = {}
        for flag_id, patterns in flags:
            for canonical, variants in _spellings(flag_id, patterns, kind).items():
                canon = self.one_token(canonical, flag_id, "spelling").norm_
                for variant in variants:
                    token = self.one_token(variant, flag_id, "spelling variant")
                    previous = spelled.get(token.lower_)
                    if previous and previous[0] != canon:
                        raise ValueError(
                            f"{kind} {flag_id!r}: spelling {variant!r} -> {canon!r} conflicts with "
                            f"{previous[0]!r} from {kind} {previous[1]!r}"
                        )
                    spelled[token.lower_] = (canon, flag_id)
        for variant, (canon, _) in spelled.items():
            self.nlp.vocab[variant].norm_ = canon
        chained = sorted(v for v, (c, _) in spelled.items() if c in spelled and spelled[c][0] != c)
        if chained:
            raise ValueError(f"{kind} spellings: {chained[0]!r} maps to a form that is itself a variant")

    def compiler(self, flag_id: str, patterns: Mapping[str, Any]) -> _Compiler:
        """The token-pattern compiler for one flag (or the context), with its resolved word lists."""
        words = _word_lists(flag_id, dict(patterns), lambda v: self.one_token(v, flag_id, "word").norm_, self.kind)
        return _Compiler(flag_id, words, lambda v, w: self.one_token(v, flag_id, w).norm_, self.kind)

    def add_flag(self, index: int, flag_id: str, patterns: Dict[str, Any]) -> None:
        """Add one flag's groups (its own patterns or its all_of groups) and its excludes."""
        compiler = self.compiler(flag_id, patterns)
        if "all_of" in patterns:
            named = {str(name): group for name, group in patterns["all_of"].items()}
        else:
            named = {"": {key: patterns[key] for key in GROUP_KEYS if key in patterns}}
        self.groups.append(tuple(named))
        for name, group in list(named.items()) + [(None, patterns.get("exclude"))]:
            if group is None:
                continue
            label = "exclude" if name is None else (f"all_of.{name}" if name else "patterns")
            self.add_group(f"{flag_id}/{label}", group, _Role(index, name), compiler, label, f"{self.kind} {flag_id!r}")

    def add_context(self, groups: Mapping[str, Dict[str, Any]], context: Optional[Mapping[str, Any]]) -> None:
        """Add the shared context's named groups (already checked by _check_context)."""
        if not groups:
            return
        compiler = self.compiler("context", dict(context or {}))
        for name, group in groups.items():
            self.add_group(f"context/{name}", group, _Role(-1, None, name), compiler, name, f"{self.kind} context")

    def add_group(self, key: str, group: Mapping[str, Any], role: _Role, compiler: _Compiler, label: str, owner: str) -> None:
        """Add a group's phrases and token patterns under one matcher key with its role."""
        self.roles[self.nlp.vocab.strings.add(key)] = role
        for phrase in group.get("phrases") or []:
            self.phrase_matcher.add(key, [self.nlp.make_doc(_normalise_text(phrase))])
        for number, raw in enumerate(group.get("tokens") or [], start=1):
            pattern = compiler.pattern(raw, f"{label}.tokens[{number}]")
            self.add_pattern(key, pattern, role, f"{owner}: {label}.tokens[{number}]")

    def add_pattern(self, key: str, pattern: List[Dict[str, Any]], role: _Role, where: str) -> None:
        """Validate a token pattern (errors name `where`), then keep it for the matcher, or, with GAPs, as a chain of
        shared gap-free segments (see _Chain)."""
        try:
            self.checker.add(key, [pattern])
        except Exception as error:  # spaCy raises several types for bad patterns
            raise ValueError(f"{where} is not a valid spaCy pattern: {error}") from error
        parts = _split_gaps(pattern)
        if parts is None:
            self.compiled.append((key, pattern))
            return
        segments, gaps = parts
        strings = self.nlp.vocab.strings
        seg_ids = []
        for segment in segments:
            canon = json.dumps(segment, sort_keys=True)
            if canon not in self.segment_keys:
                self.segment_keys[canon] = f"red-flag-segment-{len(self.segment_keys)}"
                words_only = _word_segment(segment)
                if words_only is None:
                    self.compiled.append((self.segment_keys[canon], segment))
                else:
                    seg_key = strings.add(self.segment_keys[canon])
                    self.word_segments[seg_key] = frozenset(strings.add(w) for w in words_only)
            seg_ids.append(strings.add(self.segment_keys[canon]))
        self.chains.append(_Chain(role, tuple(seg_ids), tuple(gaps)))

    def matcher(self) -> Tuple[Optional[_FirstTokenClasses], Matcher]:
        """The first-token classes (if any pattern needs them) and the matcher with every kept pattern."""
        from spacy.matcher import Matcher

        classes = _FirstTokenClasses.build(self.nlp, self.compiled)
        matcher = Matcher(self.nlp.vocab)
        for key, pattern in classes.patterns if classes else self.compiled:
            matcher.add(key, [pattern])
        return classes, matcher


class _Context:
    """What the shared context says about a trigger: a past that was checked or settled, or someone else's history.

    Built per message from the context matches (token spans per CONTEXT_KEYS name); every query is a few
    binary searches, so a long message with many triggers stays linear.
    """

    def __init__(self, doc: Doc, spans: Mapping[str, List[Tuple[int, int]]]) -> None:
        import numpy
        from spacy.attrs import NORM

        strings = doc.vocab.strings
        norms = doc.to_array(NORM)
        ends = numpy.isin(norms, numpy.array([strings.add(w) for w in SENTENCE_ENDS], dtype=norms.dtype))
        self._doc = doc
        self._length = len(doc)
        self._ends = numpy.flatnonzero(ends).tolist()  # token indices of sentence ends
        calm = _Spans()
        for name in ("settled", "recovered"):
            for start, end in spans.get(name, ()):
                calm.add(start, end)
        self._settled = sorted(s for s, _ in spans.get("settled", ()))
        self._recovered = sorted(s for s, _ in spans.get("recovered", ()))
        self._long_ago = sorted(s for s, _ in spans.get("long_ago", ()))
        # "now", "today" ... that belong to a settled phrase ("he's running around now") say nothing new
        self._present = sorted(s for s, e in spans.get("present", ()) if not calm.overlaps(s, e))
        self._someone = sorted((e, s) for s, e in spans.get("someone_else", ()))
        self._current = sorted(s for s, e in spans.get("current", ()) if not calm.overlaps(s, e))

    @staticmethod
    def _any(starts: List[int], low: int, high: int) -> bool:
        """Is there a start in [low, high)?"""
        index = bisect.bisect_left(starts, low)
        return index < len(starts) and starts[index] < high

    def settled(self, start: int, end: int) -> bool:
        """A past that was checked or has settled: "... last month, the GP said it was fine", "... hasn't happened since".

        A `settled` match, or a `recovered` match with a `long_ago` one, after the trigger (up to the end of the
        next sentence, at most SETTLED_WINDOW tokens), and no `present` match in that stretch or earlier in the
        trigger's sentence ("today", "but now", "right now").
        """
        if not self._settled and not self._recovered:
            return False
        before = bisect.bisect_left(self._ends, start) - 1
        sentence_start = self._ends[before] + 1 if before >= 0 else 0
        if self._any(self._current, max(sentence_start, start - CURRENT_WINDOW), end):
            return False  # told in the present ("she's struggling to breathe, ... said it was nothing last time")
        following = bisect.bisect_left(self._ends, end)  # the end of the trigger's sentence
        limit = self._ends[following + 1] if following + 1 < len(self._ends) else self._length
        limit = min(limit, end + SETTLED_WINDOW)
        if not self._any(self._settled, end, limit):
            if not self._any(self._recovered, end, limit):
                return False
            before = bisect.bisect_left(self._ends, start) - 1
            sentence_start = self._ends[before] + 1 if before >= 0 else 0
            if not self._any(self._long_ago, sentence_start, limit):
                return False
        before = bisect.bisect_left(self._ends, start) - 1
        sentence_start = self._ends[before] + 1 if before >= 0 else 0
        return not self._any(self._present, sentence_start, limit)

    def calm(self) -> bool:
        """The whole message: a settled past (as in `settled`) and no `present` phrase anywhere."""
        settled = bool(self._settled) or (bool(self._recovered) and bool(self._long_ago))
        return settled and not self._present and not self._current

    def someone_else(self, start: int, end: int) -> bool:
        """The trigger is another person's history: a `someone_else` match ("his uncle broke", "my older one had")
        starts before it and ends at most SOMEONE_WINDOW tokens before it (or inside it), with no new clause between."""
        index = bisect.bisect_left(self._someone, (start - SOMEONE_WINDOW, -1))
        while index < len(self._someone) and self._someone[index][0] <= end:
            match_end, match_start = self._someone[index]
            index += 1
            if match_start >= start:
                continue
            if all(self._doc[i].norm_ not in SOMEONE_BREAKS for i in range(match_end, start)):
                return True
        return False


class _Spans:
    """Token spans (start, end) with a fast 'does anything overlap [s, e)?' query."""

    def __init__(self) -> None:
        self._items: List[Tuple[int, int]] = []
        self._starts: List[int] = []
        self._max_ends: List[int] = []

    def add(self, start: int, end: int) -> None:
        self._items.append((start, end))
        self._starts = []  # rebuilt lazily

    def overlaps(self, start: int, end: int) -> bool:
        if not self._starts:
            self._items.sort()
            self._starts = [s for s, _ in self._items]
            running, self._max_ends = 0, []
            for _, e in self._items:
                running = max(running, e)
                self._max_ends.append(running)
        count = bisect.bisect_left(self._starts, end)  # spans starting before `end`
        return count > 0 and self._max_ends[count - 1] > start


class _FirstTokenClasses:
    """Speed-up for patterns whose first token is a NORM IN-list.

    spaCy evaluates IN-lists in Python for every token and every distinct list, which made long
    messages slow. Instead, each token's NORM is looked up once per doc (numpy) and the name of its
    word class (the set of first-token lists containing it) is written into the token's LEMMA slot,
    unused in a blank pipeline. Each such pattern is then added once per word class that contains its
    list, with an exact LEMMA test that the Matcher runs in C. What matches is unchanged.
    """

    PREFIX = "red-flag-class-"

    def __init__(
        self,
        patterns: List[Tuple[str, List[Dict[str, Any]]]],
        keys: NDArray[numpy.uint64],
        values: NDArray[numpy.uint64],
        none: int,
    ) -> None:
        self.patterns, self._keys, self._values, self._none = patterns, keys, values, none

    @staticmethod
    def _first_list(pattern: List[Dict[str, Any]]) -> Optional[FrozenSet[str]]:
        first = pattern[0]
        value = first.get("NORM")
        if set(first) == {"NORM"} and isinstance(value, dict) and set(value) == {"IN"}:
            return frozenset(value["IN"])
        return None

    @classmethod
    def build(cls, nlp: Language, compiled: List[Tuple[str, List[Dict[str, Any]]]]) -> Optional[_FirstTokenClasses]:
        """Rewrite the patterns and build the NORM -> class lookup; None when no pattern needs it."""
        import numpy

        lists: Dict[FrozenSet[str], int] = {}
        for _, pattern in compiled:
            found = cls._first_list(pattern)
            if found is not None:
                lists.setdefault(found, len(lists))
        if not lists:
            return None
        membership: Dict[str, Set[int]] = {}
        for words, number in lists.items():
            for word in words:
                membership.setdefault(word, set()).add(number)
        names: Dict[FrozenSet[int], str] = {}
        word_class = {}
        for word in sorted(membership):
            signature = frozenset(membership[word])
            word_class[word] = names.setdefault(signature, f"{cls.PREFIX}{len(names)}")
        patterns: List[Tuple[str, List[Dict[str, Any]]]] = []
        for key, pattern in compiled:
            found = cls._first_list(pattern)
            if found is None:
                patterns.append((key, pattern))
                continue
            number = lists[found]
            for signature, name in names.items():
                if number in signature:
                    patterns.append((key, [{"LEMMA": name}] + pattern[1:]))
        strings = nlp.vocab.strings
        pairs = sorted((strings.add(word), strings.add(name)) for word, name in word_class.items())
        keys = numpy.array([k for k, _ in pairs], dtype=numpy.uint64)
        values = numpy.array([v for _, v in pairs], dtype=numpy.uint64)
        return cls(patterns, keys, values, strings.add(f"{cls.PREFIX}none"))

    def tag(self, doc: Doc) -> None:
        """Write each token's first-token class into its LEMMA."""
        import numpy
        from spacy.attrs import LEMMA, NORM

        norms = doc.to_array(NORM).astype(numpy.uint64)
        at = numpy.minimum(numpy.searchsorted(self._keys, norms), len(self._keys) - 1)
        tags = numpy.where(self._keys[at] == norms, self._values[at], numpy.uint64(self._none))
        # spaCy's stub asks for Ints2d (signed); the array of string hashes it takes at run time is unsigned
        doc.from_array([LEMMA], cast("Ints2d", tags.astype(numpy.uint64).reshape(-1, 1)))


class _Compiler:
    """Expand one flag's YAML token patterns (GAP, @words, NORM normalisation) into spaCy patterns."""

    def __init__(
        self, flag_id: str, words: Dict[str, List[str]], norm: Callable[[str, str], str], kind: str = "red flag"
    ) -> None:
        self.flag_id, self.words, self.norm, self.kind = flag_id, words, norm, kind

    def fail(self, where: str, message: str) -> ValueError:
        return ValueError(f"{self.kind} {self.flag_id!r}: {where}: {message}")

    def pattern(self, raw: Any, where: str) -> List[Dict[str, Any]]:
        if not isinstance(raw, list) or not raw:
            raise self.fail(where, "a token pattern must be a non-empty list of token specs")
        tokens: List[Dict[str, Any]] = []
        for spec in raw:
            if not isinstance(spec, dict) or not spec:
                raise self.fail(where, f"token spec {spec!r} must be a non-empty mapping")
            if "GAP" in spec:
                size = spec["GAP"]
                if len(spec) != 1 or not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_GAP:
                    raise self.fail(where, f"GAP must be alone and an integer 1..{MAX_GAP}, got {spec!r}")
                tokens.extend(dict(_GAP_TOKEN) for _ in range(size))
                continue
            tokens.append({key: self.value(key, value, where) for key, value in spec.items()})
        if all(t.get("OP") in ("?", "*") for t in tokens):
            raise self.fail(where, "a token pattern needs at least one required token")
        return tokens

    def value(self, attr: str, value: Any, where: str) -> Any:
        if attr not in TEXT_ATTRS:
            return value
        if isinstance(value, str):
            if value.startswith("@"):
                return {"IN": self.lookup(value, where)}
            return self.text(attr, value, where)
        if isinstance(value, dict):
            out = {}
            for op, arg in value.items():
                if op in ("IN", "NOT_IN"):
                    if isinstance(arg, str) and arg.startswith("@"):
                        arg = [arg]
                    if not isinstance(arg, list) or not arg:
                        raise self.fail(where, f"{attr}.{op} must be a non-empty list")
                    items: List[str] = []
                    for item in arg:
                        if isinstance(item, str) and item.startswith("@"):
                            items.extend(self.lookup(item, where))
                        else:
                            items.append(self.text(attr, item, where))
                    out[op] = sorted(set(items))
                else:
                    out[op] = arg
            return out
        raise self.fail(where, f"{attr} value {value!r} must be a string or a mapping")

    def text(self, attr: str, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            hint = " (quote YAML words such as no, on, off, yes)" if isinstance(value, bool) else ""
            raise self.fail(where, f"{attr} value {value!r} is not a non-empty string{hint}")
        if value.startswith("@"):
            raise self.fail(where, f"word list {value!r} can only stand for a whole value or an IN list item")
        if attr == "NORM":
            return self.norm(value, f"{where}: NORM value")
        return value.lower() if attr == "LOWER" else value

    def lookup(self, ref: str, where: str) -> List[str]:
        name = ref[1:]
        if name not in self.words:
            known = ", ".join(sorted(self.words)) or "none"
            raise self.fail(where, f"unknown word list {ref!r} (defined: {known})")
        return self.words[name]


def _split_gaps(pattern: List[Dict[str, Any]]) -> Optional[Tuple[List[List[Dict[str, Any]]], List[int]]]:
    """Split a pattern at its GAP runs into (segments, gap sizes); None when spaCy can take it whole.

    Patterns without GAPs, or with a GAP at either end or an all-optional segment, stay whole.
    """
    segments: List[List[Dict[str, Any]]] = [[]]
    gaps: List[int] = []
    for token in pattern:
        if token == _GAP_TOKEN:
            if segments[-1]:
                gaps.append(0)
                segments.append([])
            elif not gaps:
                return None  # leading GAP
            gaps[-1] += 1
        else:
            segments[-1].append(token)
    if not gaps or not segments[-1]:
        return None
    if any(all(t.get("OP") in ("?", "*") for t in segment) for segment in segments):
        return None
    return segments, gaps


def _word_segment(segment: List[Dict[str, Any]]) -> Optional[List[str]]:
    """The words of a one-token segment that only tests NORM (exact or IN list); else None."""
    if len(segment) != 1 or set(segment[0]) != {"NORM"}:
        return None
    value = segment[0]["NORM"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and set(value) == {"IN"}:
        return list(value["IN"])
    return None


class _Segments:
    """Where the segments of the chains occur in one doc: matcher segments as matched, word segments looked up.

    `found` maps a matcher segment to {start: [ends]}; `words` maps a word segment to its NORM hashes, looked up
    in the doc here (lazily: a long message is indexed only when a chain needs it).
    """

    def __init__(self, found: Dict[int, Dict[int, List[int]]], words: Mapping[int, FrozenSet[int]], doc: Doc) -> None:
        self._found, self._words, self._doc = found, words, doc
        self.length = len(doc)
        self._norms: List[int] = []
        self._index: Dict[int, List[int]] = {}
        self._blocked: Dict[int, bool] = {}
        self._present: Dict[int, bool] = {}

    def _word_norms(self) -> List[int]:
        if not self._norms:
            from spacy.attrs import NORM

            self._norms.extend(self._doc.to_array(NORM).tolist())
            for position, norm in enumerate(self._norms):
                self._index.setdefault(norm, []).append(position)
        return self._norms

    def has(self, key: int) -> bool:
        """Does the segment occur at all?"""
        if key in self._found:
            return True
        value = self._present.get(key)
        if value is None:
            wanted = self._words.get(key)
            self._word_norms()
            value = self._present[key] = wanted is not None and not wanted.isdisjoint(self._index)
        return value

    def starts(self, key: int) -> List[Tuple[int, List[int]]]:
        """Each start of the segment with its ends."""
        if key in self._found:
            return list(self._found[key].items())
        return [(p, [p + 1]) for norm in self._words[key].intersection(self._index) for p in self._index[norm]]

    def ends_at(self, key: int, position: int) -> Optional[List[int]]:
        """The ends of the segment starting at `position`, if it starts there."""
        table = self._found.get(key)
        if table is not None:
            return table.get(position)
        return [position + 1] if position < self.length and self._norms[position] in self._words[key] else None

    def is_blocked(self, position: int) -> bool:
        """A token a GAP may not cover."""
        value = self._blocked.get(position)
        if value is None:
            token = self._doc[position]
            value = self._blocked[position] = token.is_space or token.norm_ in GAP_STOP
        return value

    def after_gap(self, key: int, frontier: Iterable[int], gap: int) -> Set[int]:
        """The ends of the segment starting at most `gap` unblocked tokens after one of the `frontier` ends."""
        following: Set[int] = set()
        for end in frontier:
            position = end
            while True:
                hit = self.ends_at(key, position)
                if hit:
                    following.update(hit)
                if position - end >= gap or position >= self.length or self.is_blocked(position):
                    break
                position += 1
        return following


class _ChainIndex:
    """The chains by their first segment, so that a message is only checked against the chains whose first segment
    it holds (a few of the hundreds): matcher segments by key, word segments by the NORMs that make them."""

    def __init__(self, chains: Sequence[_Chain], words: Mapping[int, FrozenSet[int]]) -> None:
        self.chains = tuple(chains)
        self._by_first: Dict[int, List[int]] = {}
        for number, chain in enumerate(self.chains):
            self._by_first.setdefault(chain.segments[0], []).append(number)
        self._firsts_by_norm: Dict[int, List[int]] = {}
        for key in self._by_first:
            for norm in words.get(key, ()):
                self._firsts_by_norm.setdefault(norm, []).append(key)

    def candidates(self, found: Mapping[int, object], doc: Doc) -> List[_Chain]:
        """The chains whose first segment occurs in the doc (matched, or one of its words present), in order."""
        firsts = [key for key in found if key in self._by_first]
        if self._firsts_by_norm:
            from spacy.attrs import NORM

            for norm in set(doc.to_array(NORM).tolist()):
                firsts.extend(self._firsts_by_norm.get(norm, ()))
        numbers = sorted({number for key in set(firsts) for number in self._by_first[key]})
        return [self.chains[number] for number in numbers]


def _join_chains(
    index: _ChainIndex, found: Dict[int, Dict[int, List[int]]], words: Mapping[int, FrozenSet[int]], doc: Doc
) -> List[Tuple[int, int, _Role]]:
    """Join segment matches into whole chain matches, honouring each GAP (see _Segments for `found` and `words`)."""
    segments = _Segments(found, words, doc)
    out = set()
    for chain in index.candidates(found, doc):
        if not all(segments.has(key) for key in chain.segments):
            continue
        for start, ends in segments.starts(chain.segments[0]):
            frontier = set(ends)
            for gap, key in zip(chain.gaps, chain.segments[1:], strict=False):
                frontier = segments.after_gap(key, frontier, gap)
                if not frontier:
                    break
            for end in frontier:
                out.add((start, end, chain.role))
    return sorted(out, key=lambda m: (m[0], m[1], m[2].flag, m[2].group or ""))


def _check_definitions(definitions: Any, kind: str = "red flag") -> List[Tuple[str, Dict[str, Any]]]:
    """Check the shape of the definitions; return (flag id, patterns) pairs."""
    if not isinstance(definitions, list) or not definitions:
        raise ValueError(f"{kind} definitions must be a non-empty list")
    flags: List[Tuple[str, Dict[str, Any]]] = []
    seen = set()
    for number, item in enumerate(definitions, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{kind} #{number} must be a mapping")
        flag_id = item.get("id")
        if not isinstance(flag_id, str) or not flag_id.strip():
            raise ValueError(f"{kind} #{number} has no id")
        if flag_id in seen:
            raise ValueError(f"{kind} {flag_id!r} is defined twice")
        seen.add(flag_id)
        patterns = item.get("patterns")
        if not isinstance(patterns, dict) or not patterns:
            raise ValueError(f"{kind} {flag_id!r}: patterns are missing or empty")
        unknown = sorted(str(k) for k in patterns if k not in PATTERN_KEYS)
        if unknown:
            raise ValueError(
                f"{kind} {flag_id!r}: unknown pattern keys {', '.join(unknown)} (allowed: {', '.join(PATTERN_KEYS)})"
            )
        own = [k for k in GROUP_KEYS if k in patterns]
        if "all_of" in patterns:
            if own:
                raise ValueError(f"{kind} {flag_id!r}: use either all_of or phrases/tokens, not both")
            all_of = patterns["all_of"]
            if not isinstance(all_of, dict) or len(all_of) < 2:
                raise ValueError(f"{kind} {flag_id!r}: all_of needs at least two named groups")
            for name, group in all_of.items():
                _check_group(flag_id, f"all_of.{name}", group, kind)
        else:
            _check_group(flag_id, "patterns", {k: patterns[k] for k in own}, kind)
        if "exclude" in patterns:
            _check_group(flag_id, "exclude", patterns["exclude"], kind)
        flags.append((flag_id, patterns))
    return flags


def _check_precedence(
    definitions: List[Dict[str, Any]], kind: str = "red flag"
) -> Tuple[Dict[int, FrozenSet[int]], List[Optional[int]]]:
    """Check each definition's optional `overrides` (ids of other flags) and `priority` (a positive integer).

    Returns flag index -> indices it overrides, and the priorities. Unknown ids, a flag overriding itself and
    cycles ("a" overrides "b" overrides "a") raise ValueError naming the flag.
    """
    ids = [item["id"] for item in definitions]
    index_of = {flag_id: number for number, flag_id in enumerate(ids)}
    overrides: Dict[int, FrozenSet[int]] = {}
    priorities: List[Optional[int]] = []
    for number, item in enumerate(definitions):
        flag_id = item["id"]
        raw = item.get("overrides")
        if raw is not None:
            if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
                raise ValueError(f"{kind} {flag_id!r}: overrides must be a list of {kind} ids")
            unknown = [x for x in raw if x not in index_of]
            if unknown:
                known = ", ".join(ids)
                raise ValueError(f"{kind} {flag_id!r}: overrides unknown {kind} {unknown[0]!r} (defined: {known})")
            if flag_id in raw:
                raise ValueError(f"{kind} {flag_id!r}: overrides itself")
            if raw:
                overrides[number] = frozenset(index_of[x] for x in raw)
        priority = item.get("priority")
        if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool) or priority < 1):
            raise ValueError(f"{kind} {flag_id!r}: priority must be a positive integer, got {priority!r}")
        priorities.append(priority)
    for number in overrides:  # a cycle would hide every flag in it
        seen, stack = set(), list(overrides[number])
        while stack:
            other = stack.pop()
            if other == number:
                raise ValueError(f"{kind} {ids[number]!r}: overrides form a cycle (it is overridden by a flag it overrides)")
            if other not in seen:
                seen.add(other)
                stack.extend(overrides.get(other, ()))
    return overrides, priorities


def _check_context(context: Any, kind: str = "red flag") -> Dict[str, Dict[str, Any]]:
    """Check the shape of the shared context; return its named groups."""
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise ValueError(f"{kind} context must be a mapping of {', '.join(CONTEXT_KEYS)} (and words)")
    unknown = sorted(str(k) for k in context if k not in CONTEXT_KEYS + ("words",))
    if unknown:
        raise ValueError(f"{kind} context: unknown keys {', '.join(unknown)} (allowed: {', '.join(CONTEXT_KEYS)}, words)")
    groups = {}
    for name in CONTEXT_KEYS:
        if name in context:
            _check_group("context", name, context[name], kind)
            groups[name] = context[name]
    return groups


def _check_group(flag_id: str, label: str, group: Any, kind: str = "red flag") -> None:
    if not isinstance(group, dict):
        raise ValueError(f"{kind} {flag_id!r}: {label} must be a mapping with phrases and/or tokens")
    unknown = sorted(str(k) for k in group if k not in GROUP_KEYS)
    if unknown:
        raise ValueError(f"{kind} {flag_id!r}: unknown pattern keys in {label}: {', '.join(unknown)}")
    phrases, tokens = group.get("phrases") or [], group.get("tokens") or []
    if not isinstance(phrases, list) or not isinstance(tokens, list):
        raise ValueError(f"{kind} {flag_id!r}: {label} phrases and tokens must be lists")
    if not phrases and not tokens:
        raise ValueError(f"{kind} {flag_id!r}: {label} has no phrases or tokens (empty patterns)")
    for phrase in phrases:
        if not isinstance(phrase, str) or not phrase.strip():
            raise ValueError(f"{kind} {flag_id!r}: {label} phrase {phrase!r} must be a non-empty string")


def _spellings(flag_id: str, patterns: Dict[str, Any], kind: str = "red flag") -> Dict[str, List[str]]:
    raw = patterns.get("spellings") or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{kind} {flag_id!r}: spellings must map a canonical form to a list of variants")
    for canonical, variants in raw.items():
        if not isinstance(canonical, str) or not isinstance(variants, list) or not variants:
            raise ValueError(f"{kind} {flag_id!r}: spelling {canonical!r} needs a non-empty list of variants")
        if not all(isinstance(v, str) and v for v in variants):
            raise ValueError(f"{kind} {flag_id!r}: spelling variants of {canonical!r} must be strings")
    return raw


def _word_lists(flag_id: str, patterns: Dict[str, Any], norm: Any, kind: str = "red flag") -> Dict[str, List[str]]:
    """Resolve the flag's named word lists; an entry "@other" splices in another list."""
    raw = patterns.get("words") or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{kind} {flag_id!r}: words must map a name to a list of words")
    words: Dict[str, List[str]] = {}

    def resolve(name: str, trail: Tuple[str, ...]) -> List[str]:
        if name in words:
            return words[name]
        if name not in raw:
            raise ValueError(f"{kind} {flag_id!r}: word list {trail[-1]!r} refers to unknown list '@{name}'")
        if name in trail:
            raise ValueError(f"{kind} {flag_id!r}: word list '@{name}' refers to itself")
        items = raw[name]
        if not isinstance(items, list) or not items:
            raise ValueError(f"{kind} {flag_id!r}: word list {name!r} must be a non-empty list")
        out: Set[str] = set()
        for item in items:
            if not isinstance(item, str) or not item:
                hint = " (quote YAML words such as no, on, off, yes)" if isinstance(item, bool) else ""
                raise ValueError(f"{kind} {flag_id!r}: word list {name!r} has a non-string entry {item!r}{hint}")
            out.update(resolve(item[1:], trail + (name,)) if item.startswith("@") else [norm(item)])
        words[name] = sorted(out)
        return words[name]

    for name in raw:
        resolve(str(name), ())
    return words


def _normalise_text(text: str) -> str:
    """Lower-case without changing the length (offsets stay valid) and split glued symbols."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two code points
        lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    return lowered.translate(_GLUE)


def _is_negated(doc: Doc, start: int) -> bool:
    """True when a negation cue stands shortly before token `start` in the same clause."""
    index, steps = start - 1, 0
    while index >= 0 and steps <= NEGATION_WINDOW:
        token = doc[index]
        norm = token.norm_
        if token.is_punct or token.is_space or norm in CLAUSE_BREAKS:
            return False
        if norm in NEGATION_CUES:
            following = doc[index + 1].norm_ if index + 1 < len(doc) else ""
            if following not in PSEUDO_NEGATION_NEXT:
                return True
        index -= 1
        steps += 1
    return False


def _is_past_over(doc: Doc, start: int, end: int) -> bool:
    """True when the trigger tokens [start, end) describe a past that is over, within the same clause.

    "used to" before it in its clause ("she used to keep her fist closed"; not "is used to"), or "anymore",
    "any more", "no longer", "not now" after it, up to a coordinator or sentence punctuation, or right after a
    "but" / comma and a short subject ("her hand was fisted, but not any more"; "... but it isn't now").
    """
    index = start - 1
    while index >= 0 and start - index <= PAST_WINDOW:
        token = doc[index]
        norm = token.norm_
        if token.is_punct or token.is_space or norm in CLAUSE_BREAKS:
            break
        if norm == "to" and index > 0 and doc[index - 1].norm_ == "used":
            before = doc[index - 2].norm_ if index > 1 else ""
            if before not in ACCUSTOMED:  # "she's used to standing at the sofa" is the present
                return True
        index -= 1
    index, length = end, len(doc)
    while index < length and index - end <= PAST_WINDOW:
        if _past_marker_at(doc, index):
            return True
        token = doc[index]
        norm = token.norm_
        if norm in PAST_BRIDGES:  # ", but not any more", "but she doesn't now" still speak of the trigger
            while index + 1 < length and doc[index + 1].norm_ in PAST_BRIDGES:
                index += 1
            skipped = 0
            while skipped < 3 and index + 1 < length and doc[index + 1].norm_ in PAST_SUBJECT_AUX:
                index, skipped = index + 1, skipped + 1
            return _past_marker_at(doc, index + 1)
        if token.is_punct or token.is_space or norm in PAST_STOPS:
            return False
        index += 1
    return False


def _past_marker_at(doc: Doc, index: int) -> bool:
    """Does "anymore", "any more", "no longer", "not now" or "not any more" start at token `index`?"""
    length = len(doc)
    if index >= length:
        return False
    first = doc[index].norm_
    if first in PAST_WORDS:
        return True
    second = doc[index + 1].norm_ if index + 1 < length else ""
    if (first, second) in PAST_PAIRS:
        return True
    return first == "not" and index + 2 < length and (second, doc[index + 2].norm_) in PAST_PAIRS


def _hit(flag_id: str, text: str, doc: Doc, start: int, end: int) -> RedFlagHit:
    """Turn a token span into a hit with character offsets, without trailing punctuation or the sentinel."""
    last = end - 1
    while last > start and (doc[last].idx >= len(text) or doc[last].is_punct):
        last -= 1
    before = doc[start - 1] if start > 0 else None
    if before is not None and not before.whitespace_ and not before.is_punct and not before.is_space:
        start -= 1  # show the whole word: "can't", not "n't"; "he's", not "'s"
    begin = doc[start].idx
    finish = min(doc[last].idx + len(doc[last].text), len(text))
    return RedFlagHit(flag_id=flag_id, start=begin, end=finish, text=text[begin:finish])


def default_path() -> Path:
    """knowledge/red_flags.yml, from settings (KNOWLEDGE_DIR), never the working directory."""
    from bot.settings import get_settings

    return get_settings().knowledge_dir / "red_flags.yml"


def load_definitions(path: Optional[Path] = None) -> List[Dict[str, Any]]:
    """The `red_flags` list from the knowledge dir's red_flags.yml (or `path`)."""
    import yaml

    source = Path(path) if path is not None else default_path()
    data = yaml.load(source.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    flags = data.get("red_flags") if isinstance(data, dict) else None
    if not isinstance(flags, list):
        raise ValueError(f"{source}: expected a top-level 'red_flags' list")
    for number, item in enumerate(flags, start=1):
        name = repr(item.get("id")) if isinstance(item, dict) and item.get("id") else f"#{number}"
        signpost = item.get("signpost") if isinstance(item, dict) else None
        if not isinstance(signpost, str) or not signpost.strip():
            raise ValueError(f"{source}: red flag {name} needs a non-empty 'signpost' (a short line for 'Get help now')")
    return flags


def load_context(path: Optional[Path] = None) -> Optional[Dict[str, Any]]:
    """The shared `context` of the knowledge dir's red_flags.yml (or `path`), or None when the file has none."""
    import yaml

    source = Path(path) if path is not None else default_path()
    data = yaml.load(source.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    context = data.get("context") if isinstance(data, dict) else None
    if context is not None and not isinstance(context, dict):
        raise ValueError(f"{source}: 'context' must be a mapping")
    return context


def default_detector() -> RedFlagDetector:
    """The detector for the knowledge dir's red_flags.yml (flags and shared context), built once per file."""
    return _detector_for(default_path())


@functools.lru_cache(maxsize=4)
def _detector_for(path: Path) -> RedFlagDetector:
    return RedFlagDetector.from_definitions(load_definitions(path), context=load_context(path))
