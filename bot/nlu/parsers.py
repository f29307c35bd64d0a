"""Rule-based parsers for ages, durations and 'born early' amounts in caregiver messages.

Pure Python over a small regex tokenizer, so the bot core stays fast to import and test.
Token boundaries match spaCy's blank English tokenizer for the spans we emit, so a spaCy
component can map an ``EntityMatch`` onto a Doc with ``doc.char_span(start, end)``.

Span convention (shared with the NLU training data): a span covers the number and its
unit words only ("12 month" in "my 12 month old"); hedges such as "about" and the word
"old" stay outside. Weeks-early spans include the word that makes them so ("6 weeks
early", "born at 34 weeks").
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List, NamedTuple, Optional, Sequence, Tuple

WEEKS_PER_MONTH = 4.345
DAYS_PER_MONTH = WEEKS_PER_MONTH * 7
TERM_WEEKS = 40.0

AGE = "age"
DURATION = "duration"
WEEKS_EARLY = "weeks_early"


@dataclass(frozen=True)
class EntityMatch:
    """One age, duration or weeks-early mention found in a message."""

    entity: str  # "age" | "duration" | "weeks_early"
    start: int  # char offsets into the original text
    end: int
    text: str
    value: float  # months / seconds / weeks


# --------------------------------------------------------------------------- tokens


class _Tok(NamedTuple):
    text: str  # lower-cased, curly apostrophes made straight
    start: int
    end: int


@lru_cache(maxsize=1)
def _token_re() -> "re.Pattern[str]":
    """Numbers, words (with inner apostrophes) and single symbols; compiled on first use."""
    return re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+(?:['’][^\W\d_]+)*|\S")


def _tokenize(text: str) -> List[_Tok]:
    """Split text into number, word and single-symbol tokens with char offsets."""
    return [_Tok(m.group().lower().replace("’", "'"), m.start(), m.end()) for m in _token_re().finditer(text)]


def _at(toks: Sequence[_Tok], i: int) -> str:
    """Token text at index i, or '' past either end."""
    return toks[i].text if 0 <= i < len(toks) else ""


def _adjacent(toks: Sequence[_Tok], i: int) -> bool:
    """True when token i touches the token before it (no space between)."""
    return 0 < i < len(toks) and toks[i - 1].end == toks[i].start


# --------------------------------------------------------------------------- numbers

_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip

# Quantity kinds: how the amount was written; some rules only accept some kinds.
_DIGIT, _WORD, _ARTICLE, _VAGUE, _HALF = "digit", "word", "article", "vague", "half"


class _Qty(NamedTuple):
    value: float
    end: int  # index of the first token after the quantity
    kind: str
    and_half: bool = False


def _plain_number_at(toks: Sequence[_Tok], i: int) -> Optional[_Qty]:
    """A digit or number-word amount starting at token i ("12", "1.5", "twenty-one")."""
    t = _at(toks, i)
    if not t:
        return None
    if t[0].isdigit():
        value, j = float(t), i + 1
        if _at(toks, j) == "½":
            return _Qty(value + 0.5, j + 1, _DIGIT)
        if _at(toks, j) == "1" and _at(toks, j + 1) == "/" and _at(toks, j + 2) == "2":
            return _Qty(value + 0.5, j + 3, _DIGIT)
        return _Qty(value, j, _DIGIT)
    if t in _ONES:
        return _Qty(float(_ONES[t]), i + 1, _WORD)
    if t in _TENS:
        value, j = float(_TENS[t]), i + 1
        if _at(toks, j) == "-" and 1 <= _ONES.get(_at(toks, j + 1), 0) <= 9:
            return _Qty(value + _ONES[_at(toks, j + 1)], j + 2, _WORD)
        if 1 <= _ONES.get(_at(toks, j), 0) <= 9:
            return _Qty(value + _ONES[_at(toks, j)], j + 1, _WORD)
        return _Qty(value, j, _WORD)
    if t == "½":
        return _Qty(0.5, i + 2 if _at(toks, i + 1) in ("a", "an") else i + 1, _HALF)
    return None


def _number_at(toks: Sequence[_Tok], i: int) -> Optional[_Qty]:
    """Any amount at token i, including "a", "half a", "a couple of" and "a few"."""
    t = _at(toks, i)
    if t in ("a", "an"):
        nxt = _at(toks, i + 1)
        if nxt == "couple":
            j = i + 3 if _at(toks, i + 2) == "of" else i + 2
            return _Qty(2.0, j, _VAGUE)
        if nxt == "few":
            return _Qty(3.0, i + 2, _VAGUE)
        if nxt == "half":
            return _Qty(0.5, i + 2, _HALF)
        return _Qty(1.0, i + 1, _ARTICLE)
    if t == "couple":
        return _Qty(2.0, i + 2 if _at(toks, i + 1) == "of" else i + 1, _VAGUE)
    if t == "few":
        return _Qty(3.0, i + 1, _VAGUE)
    if t == "several":
        return _Qty(4.0, i + 1, _VAGUE)
    if t == "half":
        if _at(toks, i + 1) in ("a", "an"):
            return _Qty(0.5, i + 2, _HALF)
        return _Qty(0.5, i + 1, _HALF)
    return _plain_number_at(toks, i)


def _and_a_half(toks: Sequence[_Tok], j: int) -> int:
    """Index after "and a half" / "& a half" / "and half" at j, or j when absent."""
    if _at(toks, j) in ("and", "&"):
        if _at(toks, j + 1) == "a" and _at(toks, j + 2) == "half":
            return j + 3
        if _at(toks, j + 1) == "half":
            return j + 2
    return j


def _quantity_at(toks: Sequence[_Tok], i: int) -> Optional[_Qty]:
    """An amount with optional "and a half" or a range ("2-3", "10 to 12", "one or two")."""
    q = _number_at(toks, i)
    if q is None:
        return None
    if q.kind not in (_DIGIT, _WORD):
        return q
    j = _and_a_half(toks, q.end)
    if j != q.end:
        return _Qty(q.value + 0.5, j, q.kind, and_half=True)
    sep = _at(toks, q.end)
    if sep in ("-", "–", "to", "or") or (sep == "and" and _at(toks, i - 1) == "between"):
        hi = _plain_number_at(toks, q.end + 1)
        if hi is not None and hi.kind in (_DIGIT, _WORD) and hi.value > q.value:
            return _Qty((q.value + hi.value) / 2, hi.end, q.kind)
    return q


# --------------------------------------------------------------------------- units

_YEAR, _MONTH, _WEEK, _DAY = "year", "month", "week", "day"
_SECOND, _MINUTE, _HOUR, _MOMENT, _SPLIT = "second", "minute", "hour", "moment", "split"

_AGE_DIMS = {_YEAR: 12.0, _MONTH: 1.0, _WEEK: 1 / WEEKS_PER_MONTH, _DAY: 1 / DAYS_PER_MONTH}
_AGE_RANK = {_YEAR: 3, _MONTH: 2, _WEEK: 1, _DAY: 0}
_DURATION_DIMS = {_SECOND: 1.0, _MINUTE: 60.0, _HOUR: 3600.0, _MOMENT: 1.0, _SPLIT: 0.5}
_WEEKS_PER_UNIT = {_WEEK: 1.0, _MONTH: WEEKS_PER_MONTH, _DAY: 1 / 7}

_UNIT_WORDS = {
    **dict.fromkeys(("year", "years", "yr", "yrs", "yers", "yeers", "yera"), _YEAR),
    **dict.fromkeys(
        ("month", "months", "mo", "mos", "mth", "mths", "mnth", "mnths", "mont", "monts",
         "mon", "mons", "moth"),
        _MONTH,
    ),
    **dict.fromkeys(("week", "weeks", "wk", "wks", "weks", "wek"), _WEEK),
    **dict.fromkeys(("day", "days"), _DAY),
    **dict.fromkeys(("second", "seconds", "sec", "secs", "secnds", "seconde"), _SECOND),
    **dict.fromkeys(("minute", "minutes", "min", "mins", "minits", "minuts"), _MINUTE),
    **dict.fromkeys(("hour", "hours", "hr", "hrs"), _HOUR),
    **dict.fromkeys(("moment", "moments"), _MOMENT),
}  # fmt: skip
# Spellings near these forms (one slip, or two in long words) count as the unit.
_FUZZY_FORMS = {
    _YEAR: ("year", "years"),
    _MONTH: ("month", "months"),
    _WEEK: ("week", "weeks"),
    _SECOND: ("second", "seconds"),
    _MINUTE: ("minute", "minutes"),
}
_NOT_UNITS = frozenset({"yeah", "yeahs", "mouth", "mouths", "weekly", "yearly", "monthly", "secondly"})


def _osa_distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment)."""
    prev2: List[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=4096)
def _unit_of_word(word: str) -> Optional[str]:
    """The unit a single word names, tolerating common misspellings ("monts", "yeras")."""
    unit = _UNIT_WORDS.get(word)
    if unit is not None or len(word) < 5 or word in _NOT_UNITS or not word.isalpha():
        return unit
    limit = 1 if len(word) < 7 else 2
    for unit, forms in _FUZZY_FORMS.items():
        if word[0] == forms[0][0] and any(_osa_distance(word, f) <= limit for f in forms):
            return unit
    return None


class _Unit(NamedTuple):
    dim: str
    end: int
    implies_old: bool = False  # "yo", "y/o"


def _unit_at(toks: Sequence[_Tok], i: int, compound: bool = False) -> Optional[_Unit]:
    """A unit starting at token i (a hyphen first is allowed: "13-month")."""
    if _at(toks, i) == "-" and _adjacent(toks, i) and _adjacent(toks, i + 1):
        i += 1
    t = _at(toks, i)
    if not t:
        return None
    glued = _adjacent(toks, i) and toks[i - 1].text[0].isdigit()
    if t in ("y", "m") and _at(toks, i + 1) in ("/", ".") and _at(toks, i + 2) == "o":
        end = i + 4 if _at(toks, i + 3) == "." and _adjacent(toks, i + 3) else i + 3
        return _Unit(_YEAR if t == "y" else _MONTH, end, implies_old=True)
    if t == "yo":
        return _Unit(_YEAR, i + 1, implies_old=True)
    if t == "y" and glued:
        return _Unit(_YEAR, i + 1)
    if t == "m" and (_at(toks, i + 1) == "old" or (compound and glued)):
        return _Unit(_MONTH, i + 1)
    if t == "s" and glued:
        return _Unit(_SECOND, i + 1)
    if t == "split" and _unit_of_word(_at(toks, i + 1)) == _SECOND:
        return _Unit(_SPLIT, i + 2)
    unit = _unit_of_word(t)
    return _Unit(unit, i + 1) if unit else None


# --------------------------------------------------------------------------- context

_HEDGES = frozenset(
    "about around roughly approximately approx nearly almost just only over under like "
    "maybe probably exactly least at the".split()
)
# A time span after these words is not the child's age ("for 2 weeks", "once a month").
_NOT_AGE_BEFORE = frozenset("for past last next within every per in during once twice thrice times another after each".split())
_NOT_AGE_AFTER = frozenset({"ago", "later", "of", "from", "since", "pregnant", "pregnancy", "along"})
_NOT_DURATION_BEFORE = frozenset({"every", "per", "once", "twice", "times", "each"})
_NOT_DURATION_AFTER = frozenset({"ago", "later", "from"})
_INTERRUPTIONS = frozenset({"wait", "on", "hang", "hold"})  # "wait a second"

_EARLY_WORDS = frozenset("early earlier premature prematurely prem prems premmie premie preemie preterm".split())
_LATE_WORDS = frozenset({"late", "overdue"})
_POSSESSIVES = frozenset("her his their the my our your baby's its".split())
_BIRTH_VERBS = frozenset({"born", "arrived", "delivered", "came", "birth"})
_GESTATION_WORDS = frozenset({"gestation", "gestational", "ga", "gest"})
_WEEKER_WORDS = frozenset({"weeker", "weekers", "wkr"})


def _word_before(toks: Sequence[_Tok], i: int) -> str:
    """The nearest word before token i, skipping hedges like "about" and "the"."""
    k = i - 1
    while k >= 0 and (toks[k].text in _HEDGES or not toks[k].text[0].isalnum()):
        k -= 1
    return _at(toks, k)


def _due_date_end(toks: Sequence[_Tok], j: int) -> int:
    """Index after "<her|the|...> due [date]" at j, or j when absent."""
    k = j + 1 if _at(toks, j) in _POSSESSIVES else j
    if _at(toks, k) == "due":
        return k + 2 if _at(toks, k + 1) in ("date", "day") else k + 1
    return j


def _early_marker_end(toks: Sequence[_Tok], j: int) -> Tuple[int, bool]:
    """Index after an early/late marker at j and whether it means late; (j, False) if none."""
    k = j + 1 if _at(toks, j) in ("too", "very", "so") else j
    t = _at(toks, k)
    if t in _EARLY_WORDS:
        return k + 1, False
    if t == "pre" and _at(toks, k + 1) == "-" and _at(toks, k + 2) == "term":
        return k + 3, False
    if t == "pre" and _at(toks, k + 1) == "term":
        return k + 2, False
    if t == "soon" and k > j:
        return k + 1, False
    if t in ("before", "ahead") and k == j:
        n = k + 2 if t == "ahead" and _at(toks, k + 1) == "of" else k + 1
        end = _due_date_end(toks, n)
        if end != n:
            return end, False
    if t in _LATE_WORDS and k == j:
        return k + 1, True
    if t in ("after", "past") and k == j:
        end = _due_date_end(toks, k + 1)
        if end != k + 1:
            return end, True
    return j, False


def _weeks_early_from_weeks(weeks: float) -> Optional[float]:
    """Small counts are weeks early; 21-42 can only be a gestational age ("34 weeks")."""
    if weeks <= 20:
        return weeks
    if weeks <= 42:
        return max(0.0, TERM_WEEKS - weeks)
    return None


# --------------------------------------------------------------------------- matchers


class _Hit(NamedTuple):
    entity: str
    start_tok: int
    end_tok: int  # exclusive
    value: float


def _gestation_at(toks: Sequence[_Tok], i: int) -> Optional[_Hit]:
    """ "born at 34 weeks", "arrived at 35+2 weeks", "born at week 33" -> 40 - gestation."""
    if _at(toks, i) not in _BIRTH_VERBS:
        return None
    j = i + 1
    if _at(toks, j) not in ("at", "around", "about", "@", "in"):
        return None
    j += 1
    while _at(toks, j) in _HEDGES and _at(toks, j) != "at":
        j += 1
    if _at(toks, j) in ("week", "wk"):
        q = _plain_number_at(toks, j + 1)
        if q is None:
            return None
        value = _gest_value(q.value)
        return None if value is None else _Hit(WEEKS_EARLY, i, q.end, value)
    q = _quantity_at(toks, j)
    if q is None or q.kind not in (_DIGIT, _WORD):
        return None
    weeks, k = q.value, q.end
    if _at(toks, k) == "+":
        days = _plain_number_at(toks, k + 1)
        if days is None:
            return None
        weeks, k = weeks + days.value / 7, days.end
    unit = _unit_at(toks, k)
    if unit is None:
        return None
    if unit.dim == _MONTH and 5 <= q.value <= 9:  # "born at 8 months" (of pregnancy)
        return _Hit(WEEKS_EARLY, i, unit.end, max(0.0, (9 - q.value) * WEEKS_PER_MONTH))
    if unit.dim != _WEEK:
        return None
    end = unit.end
    if _at(toks, end) == "and":
        days = _plain_number_at(toks, end + 1)
        day_unit = _unit_at(toks, days.end) if days else None
        if days and day_unit and day_unit.dim == _DAY:
            weeks, end = weeks + days.value / 7, day_unit.end
    value = _gest_value(weeks)
    return None if value is None else _Hit(WEEKS_EARLY, i, end, value)


def _gest_value(weeks: float) -> Optional[float]:
    """Weeks early for a gestational age in weeks, or None when implausible."""
    return max(0.0, TERM_WEEKS - weeks) if 20 <= weeks <= 45 else None


def _early_by_at(toks: Sequence[_Tok], i: int) -> Optional[_Hit]:
    """ "early by 3 weeks", "premature by a month"."""
    if _at(toks, i) not in _EARLY_WORDS or _at(toks, i + 1) != "by":
        return None
    q = _quantity_at(toks, i + 2)
    unit = _unit_at(toks, q.end) if q else None
    if q is None or unit is None or unit.dim not in _WEEKS_PER_UNIT:
        return None
    value = _early_value(q, unit.dim)
    return None if value is None else _Hit(WEEKS_EARLY, i, unit.end, value)


def _early_value(q: _Qty, dim: str) -> Optional[float]:
    """Weeks early for an amount like "6 weeks", "2 months" or "a few days"."""
    if dim == _DAY and q.kind == _VAGUE:
        return 0.5
    weeks = q.value * _WEEKS_PER_UNIT[dim]
    return _weeks_early_from_weeks(weeks) if dim == _WEEK else weeks


def _weeks_early_at(toks: Sequence[_Tok], i: int) -> Optional[_Hit]:
    """A weeks-early mention starting at token i."""
    hit = _gestation_at(toks, i) or _early_by_at(toks, i)
    if hit is not None:
        return hit
    q = _quantity_at(toks, i)
    if q is None:
        return None
    k = q.end + 1 if _at(toks, q.end) == "-" else q.end
    if _at(toks, k) in _WEEKER_WORDS and q.kind in (_DIGIT, _WORD):
        value = _gest_value(q.value)
        return None if value is None else _Hit(WEEKS_EARLY, i, k + 1, value)
    unit = _unit_at(toks, q.end)
    if unit is None or unit.dim not in _WEEKS_PER_UNIT or unit.implies_old:
        return None
    end = _and_a_half(toks, unit.end)
    if end != unit.end:
        q = q._replace(value=q.value + 0.5)
    if unit.dim == _WEEK and _at(toks, end) in _GESTATION_WORDS:
        value = _gest_value(q.value)
        return None if value is None else _Hit(WEEKS_EARLY, i, end + 1, value)
    marker_end, late = _early_marker_end(toks, end)
    if marker_end == end:
        return None
    if late:
        return _Hit(WEEKS_EARLY, i, marker_end, 0.0)
    value = _early_value(q, unit.dim)
    return None if value is None else _Hit(WEEKS_EARLY, i, marker_end, value)


def _or_more_end(toks: Sequence[_Tok], j: int, low: float) -> Tuple[int, Optional[float]]:
    """ "or two" after a unit ("a second or two"): end index and the upper amount."""
    if _at(toks, j) != "or":
        return j, None
    hi = _plain_number_at(toks, j + 1)
    if hi is None or hi.value <= low or _unit_at(toks, hi.end) is not None:
        return j, None
    return hi.end, hi.value


def _duration_at(toks: Sequence[_Tok], i: int) -> Optional[_Hit]:
    """A duration such as "10 secs", "half a minute" or "a second or two"."""
    q = _quantity_at(toks, i)
    if q is None:
        return None
    unit = _unit_at(toks, q.end)
    if unit is None or unit.dim not in _DURATION_DIMS:
        return None
    before = _word_before(toks, i)
    if before in _NOT_DURATION_BEFORE or _at(toks, unit.end) in _NOT_DURATION_AFTER:
        return None
    if q.kind == _ARTICLE and _at(toks, i - 1) in _INTERRUPTIONS:
        return None
    factor = _DURATION_DIMS[unit.dim]
    amount, end = q.value, _and_a_half(toks, unit.end)
    if end != unit.end and q.kind in (_ARTICLE, _DIGIT, _WORD) and not q.and_half:
        amount += 0.5
    else:
        end, hi = _or_more_end(toks, unit.end, q.value)
        if hi is not None:
            amount = (q.value + hi) / 2
    return _Hit(DURATION, i, end, amount * factor)


def _bare_half_ok(toks: Sequence[_Tok], j: int) -> bool:
    """ "2 and a half" with no unit counts as an age only at a clause end."""
    nxt = _at(toks, j)
    return not nxt or not nxt[0].isalnum() or nxt in ("old", "now", "and", "but", "so", "yet")


def _age_at(toks: Sequence[_Tok], i: int) -> Optional[_Hit]:
    """An age such as "10 months", "1yo", "a year and a half" or "1 year 3 months"."""
    q = _quantity_at(toks, i)
    if q is None:
        return None
    if _word_before(toks, i) in _NOT_AGE_BEFORE:
        return None
    unit = _unit_at(toks, q.end)
    if unit is None:
        if q.and_half and q.value <= 24 and _bare_half_ok(toks, q.end):
            # "she's 2 and a half": small counts read as years, larger ones as months.
            return _Hit(AGE, i, q.end, q.value * 12 if q.value <= 3.5 else q.value)
        return None
    if unit.dim not in _AGE_DIMS:
        return None
    factor = _AGE_DIMS[unit.dim]
    months, end = q.value * factor, unit.end
    if not unit.implies_old:
        half_end = _and_a_half(toks, end)
        if half_end != end and not q.and_half:
            months, end = months + 0.5 * factor, half_end
        else:
            end, hi = _or_more_end(toks, end, q.value)
            if hi is not None:
                months = (q.value + hi) / 2 * factor
        rank = _AGE_RANK[unit.dim]
        while True:  # "1 year 3 months", "10 months and 2 weeks", "1y3m"
            k = end + 1 if _at(toks, end) in (",", "and", "&") else end
            part = _quantity_at(toks, k)
            if part is None or part.kind == _HALF:
                break
            sub = _unit_at(toks, part.end, compound=True)
            if sub is None or sub.dim not in _AGE_RANK or _AGE_RANK[sub.dim] >= rank:
                break
            if _early_marker_end(toks, sub.end)[0] != sub.end:
                break
            months += part.value * _AGE_DIMS[sub.dim]
            end, rank = sub.end, _AGE_RANK[sub.dim]
    after = _at(toks, end)
    if after in _NOT_AGE_AFTER and not (after == "of" and _at(toks, end + 1) == "age"):
        return None
    return _Hit(AGE, i, end, months)


def _hits(toks: Sequence[_Tok]) -> List[_Hit]:
    """All non-overlapping mentions, left to right; weeks early wins over age."""
    found: List[_Hit] = []
    i = 0
    while i < len(toks):
        hit = _weeks_early_at(toks, i) or _duration_at(toks, i) or _age_at(toks, i)
        if hit is None:
            i += 1
        else:
            found.append(hit)
            i = hit.end_tok
    return found


# --------------------------------------------------------------------------- public API


def extract_entities(text: str) -> List[EntityMatch]:
    """All age, duration and weeks-early mentions in text, non-overlapping, in order."""
    if not text:
        return []
    toks = _tokenize(text)
    out = []
    for hit in _hits(toks):
        start, end = toks[hit.start_tok].start, toks[hit.end_tok - 1].end
        out.append(EntityMatch(hit.entity, start, end, text[start:end], round(hit.value, 4)))
    return out


def _first(text: str, entity: str) -> Optional[float]:
    """Value of the first mention of the given entity type."""
    return next((m.value for m in extract_entities(text) if m.entity == entity), None)


def parse_age_months(text: str) -> Optional[float]:
    """The first age mentioned in text, in months."""
    return _first(text, AGE)


def parse_duration_seconds(text: str) -> Optional[float]:
    """The first duration mentioned in text, in seconds."""
    return _first(text, DURATION)


def parse_weeks_early(text: str) -> Optional[float]:
    """How many weeks early the child was born, from the first such mention in text."""
    return _first(text, WEEKS_EARLY)


def parse_early_amount(text: str) -> Optional[float]:
    """Weeks early from an answer to "how early?", where a bare "6 weeks" or "a month" is enough."""
    found = parse_weeks_early(text)
    if found is not None:
        return found
    toks = _tokenize(text or "")
    for i in range(len(toks)):
        q = _quantity_at(toks, i)
        unit = _unit_at(toks, q.end) if q else None
        if q is None or unit is None or unit.dim not in _WEEKS_PER_UNIT or unit.implies_old:
            continue
        if _at(toks, unit.end) in ("old", "-", "ago") or (unit.dim == _MONTH and q.value > 4):
            continue
        return _early_value(q, unit.dim)
    return None


_FILLERS = frozenset(
    """she he they it its it's she's he's is was 's about around roughly approximately approx
    nearly almost just only maybe probably perhaps i i'd i'm think guess say would like um uh
    erm hmm well so now today turned turning already yes yeah ok okay oh over under exactly
    for or and the my our baby lo little one currently son daughter""".split()
)


def parse_bare_number(text: str) -> Optional[float]:
    """The number in a reply that is only a number plus filler ("10", "about ten", "she's 10")."""
    toks = _tokenize(text or "")
    found: Optional[float] = None
    i = 0
    while i < len(toks):
        t = toks[i].text
        q = None if t == "one" and _at(toks, i - 1) == "little" else _quantity_at(toks, i)
        if q is not None and q.kind not in (_ARTICLE, _HALF):
            if found is not None:
                return None
            found, i = q.value, q.end
            continue
        if t[0].isalnum() and t not in _FILLERS and t not in ("a", "an"):
            return None
        i += 1
    return found
