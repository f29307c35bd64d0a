"""Rule-based parsers for ages, durations and 'born early' amounts in caregiver messages.

Pure Python over a small regex tokenizer, so the bot core stays fast to import and test.
Token boundaries match spaCy's blank English tokenizer for the spans we emit, so a spaCy
component can map an ``EntityMatch`` onto a Doc with ``doc.char_span(start, end)``.

Span convention (shared with the NLU training data): a span covers the number and its
unit words only ("12 month" in "my 12 month old"); hedges such as "about" and the word
"old" stay outside. Weeks-early spans include the word that makes them so ("6 weeks
early", "born at 34 weeks").

Roles (``EntityMatch.role``): an age is the child's current age unless its context says otherwise.
``"past"`` marks a past moment ("crawled at 7 months", "since 9 months", "when he was 4 months",
"at his 6 week check", "her 2 month jabs": a visit named by an age is a moment, not the current
age), ``"reference"`` a norm or future moment ("should she walk by 12 months?"), and
``"corrected"`` a corrected age ("6 months corrected"). The child's current age is an age without
a role.

Bare numbers as ages: a bare 1-4 (digits or words, "and a half" allowed) after "nearly",
"almost", "turning", "turned", "turns", "just over", "over", "going on" or "will be" reads as
years ("nearly 2" is 24 months), since nobody writes "nearly 2" for two months. Any other bare
number is not an age here ("she's 10"); ``parse_bare_number`` reads it and an answer to
"how old?" takes it as months.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List, NamedTuple, Optional, Sequence, Tuple

from bot.contract import DAYS_PER_MONTH, TERM_WEEKS, WEEKS_PER_MONTH

AGE = "age"
DURATION = "duration"
WEEKS_EARLY = "weeks_early"
PAST, REFERENCE, CORRECTED = "past", "reference", "corrected"  # age roles


@dataclass(frozen=True)
class EntityMatch:
    """One age, duration or weeks-early mention found in a message."""

    entity: str  # "age" | "duration" | "weeks_early"
    start: int  # char offsets into the original text
    end: int
    text: str
    value: float  # months / seconds / weeks
    role: Optional[str] = None  # ages only: None (current), "past", "reference" or "corrected"


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
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "ninteen": 19,
    "fourten": 14,
    "fiveteen": 15,
    "eightteen": 18,  # common slips
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

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
    if t[0].isdecimal():
        value, j = float(t), i + 1
        frac = _at(toks, j + 1)
        if _at(toks, j) == "," and len(frac) == 1 and frac.isdecimal() and _adjacent(toks, j) and _adjacent(toks, j + 1):
            value, j = float(f"{t}.{frac}"), j + 2  # "1,5 years": a decimal comma
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
    if t in ("a", "an") and _at(toks, i + 1) in ("whole", "full", "solid", "good"):  # "a whole minute"
        return _Qty(1.0, i + 2, _ARTICLE)
    if t in ("a", "an"):
        nxt = _at(toks, i + 1)
        if nxt == "couple":
            j = i + 3 if _at(toks, i + 2) == "of" else i + 2
            return _Qty(2.0, j, _VAGUE)
        if nxt == "few":
            return _Qty(3.0, i + 2, _VAGUE)
        if nxt == "half":
            return _Qty(0.5, i + 2, _HALF)
        if nxt == "single":
            return _Qty(1.0, i + 2, _ARTICLE)
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
    if _at(toks, q.end) in ("and", "&") and _at(toks, q.end + 1) == "a" and _at(toks, q.end + 2) in ("bit", "little"):
        return _Qty(q.value, q.end + 3, q.kind, and_half=True)  # "2 and a bit": a little over 2, read like "2 and a half"
    if _at(toks, q.end) == "ish" or (
        _at(toks, q.end) == "+" and _adjacent(toks, q.end) and not _at(toks, q.end + 1)[:1].isdecimal()
    ):
        q = q._replace(end=q.end + 1)  # "10ish", "10+ seconds"
    sep = _at(toks, q.end)
    if sep in ("-", "–", "to", "or") or (sep == "and" and _at(toks, i - 1) == "between"):
        hi = _plain_number_at(toks, q.end + 1)
        if hi is not None and hi.kind in (_DIGIT, _WORD) and hi.value > q.value:
            return _Qty((q.value + hi.value) / 2, hi.end, q.kind)
    if q.kind == _WORD and q.value < 20 and _ONES.get(sep) == q.value + 1:
        return _Qty(q.value + 0.5, q.end + 1, q.kind)  # "two three seconds"
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
        ("month", "months", "mo", "mos", "mth", "mths", "mnth", "mnths", "mont", "monts", "mon", "mons", "moth"),
        _MONTH,
    ),
    **dict.fromkeys(("week", "weeks", "wk", "wks", "weks", "wek"), _WEEK),
    **dict.fromkeys(("day", "days"), _DAY),
    **dict.fromkeys(
        ("second", "seconds", "sec", "secs", "secnds", "seconde", "sek", "seks", "sekunde", "sekunden", "segundos"), _SECOND
    ),
    **dict.fromkeys(("minute", "minutes", "min", "mins", "minits", "minuts"), _MINUTE),
    **dict.fromkeys(("hour", "hours", "hr", "hrs"), _HOUR),
    **dict.fromkeys(("moment", "moments"), _MOMENT),
}
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
    glued = _adjacent(toks, i) and toks[i - 1].text[0].isdecimal()
    if t in ("y", "m") and _at(toks, i + 1) in ("/", ".") and _at(toks, i + 2) == "o":
        end = i + 4 if _at(toks, i + 3) == "." and _adjacent(toks, i + 3) else i + 3
        return _Unit(_YEAR if t == "y" else _MONTH, end, implies_old=True)
    if t == "yo":
        return _Unit(_YEAR, i + 1, implies_old=True)
    if t == "y" and glued:
        return _Unit(_YEAR, i + 1)
    after_digit = i > 0 and toks[i - 1].text[0].isdecimal()
    if t == "m" and (_at(toks, i + 1) == "old" or (glued and compound) or (after_digit and _clause_end_ok(toks, i + 1))):
        return _Unit(_MONTH, i + 1)  # "14m old", "1y3m", "18m", "18 m"
    if t == "w" and glued:
        return _Unit(_WEEK, i + 1)  # "33w", "6w old"
    if t == "d" and glued and compound:
        return _Unit(_DAY, i + 1)  # "33w4d"
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
_BIRTH_VERBS = frozenset("born arrived delivered came birth induced section delivery arrival labour labor".split())
_BIRTH_PREPS = frozenset({"at", "around", "about", "@", "in", "on", "with"})  # "born with 35 weeks"
_SUBJECTS = frozenset("she he they it i we you baby bub lo son daughter".split())
_GESTATION_WORDS = frozenset({"gestation", "gestational", "ga", "gest"})
_WEEKER_WORDS = frozenset({"weeker", "weekers", "wkr"})

# Durations: "not even a second" is none at all.
_NEGATIONS = frozenset({"not", "never", "without", "nor", "no"})
_NEGATION_FILLERS = frozenset({"for", "even", "just", "only", "really", "ever"})
_STAND_VERBS = frozenset("stand stands standing stood balance balances last lasts stay stays manage manages hold holds".split())

# Unit-less ages: "nearly 2", "she'll be one next week", "6 corrected, 8 actual".
_YEARS_CUES = frozenset({"nearly", "almost", "turning", "turned", "turns", "turn", "over", "nearing", "approaching"})
_FUTURE_AUX = frozenset({"will", "she'll", "he'll", "they'll", "it'll", "gonna", "to", "shall", "would"})
_CLAUSE_END_WORDS = frozenset(
    "old now and but so yet next soon in this on tomorrow today yesterday already last corrected adjusted actual".split()
)
_CORRECTED_WORDS = frozenset({"corrected", "adjusted", "corr", "adj"})
_ACTUAL_WORDS = frozenset({"actual", "chronological", "chrono", "real"})
# "a year" is an age after these (or at a clause start); elsewhere "a day" is a rate ("tummy time a day").
_ARTICLE_AGE_AFTER = frozenset(
    (
        "is was were be been turned turns turning turn now aged am are she's he's it's i'm "
        "at by since from until till before than @"
    ).split()
)

# Age roles. Hedges skipped when looking for the word that introduces an age:
_SOFT_HEDGES = frozenset(
    (
        "about around roughly approximately approx nearly almost just only exactly like maybe probably least over under already ~"
    ).split()
)
_ROUND_WORDS = frozenset({"around", "about", "approximately", "approx", "roughly", "~"})
_DETERMINERS = frozenset("my our his her their your a an this that the".split())
_SINCE_WORDS = frozenset({"since", "from", "until", "till", "til", "untill"})  # a past start or end
_WHEN_WORDS = frozenset({"when", "whenever", "once", "by", "before"})  # past, or a norm ("by 12 months")
_AT_WORDS = frozenset({"at", "@", "with"})  # past only in a past-tense clause
_BE_WORDS = frozenset(
    "was were wasn't weren't is are am isn't she's he's it's they're i'm turned turns turning be gets reaches hits".split()
)
_EVENT_WORDS = frozenset(
    """check checks checkup checkups jab jabs vaccine vaccines vaccination vaccinations shot shots injections
    immunisation immunisations immunization immunizations appointment appt scan scans review visit assessment
    booster boosters needles""".split()
)
_EVENT_ADJECTIVES = frozenset(
    "well developmental development health hip routine baby wellness doctor doctors gp nurse hv".split()
)
_CLAUSE_BREAKS = frozenset(
    ". ! ? ; , : ( ) and but so then because cos coz cause though although while whereas if whether that".split()
)
_FRONTED_WORDS = _SOFT_HEDGES | _SINCE_WORDS | _WHEN_WORDS | _AT_WORDS | {"the", "age", "of", "old", "his", "her", "their", "my"}
_NOW_WORDS = frozenset({"still", "yet", "now", "currently", "anymore", "today"})
_HEARSAY = frozenset("told advised informed wondering hoping thinking asking going trying reading looking curious".split())
_QUESTION_SUBJECTS = _SUBJECTS | {"this", "that", "there"}
_IRREGULAR_PAST = frozenset(
    """had hadn't began stood sat took went got came said told saw made found gave fell held felt knew grew
    spoke learnt became ran rode slept woke kept caught brought crept used""".split()
)
_ED_NOT_PAST = frozenset(
    """worried concerned supposed expected scared interested tired bored bothered confused frustrated stressed
    delayed advanced recommended considered allowed needed aged legged sided eyed tied footed handed hundred
    naked wicked crooked ragged rugged beloved related based advised surprised pleased relieved excited
    exhausted obsessed involved required wanted wondered asked turned hoped heard corrected adjusted""".split()
)
_PRESENT_AUX = frozenset(
    (
        "is are am i'm be been being isn't aren't has have hasn't haven't it's that's we're they're you're "
        "get gets getting feel feels seem seems look looks i've we've they've you've"
    ).split()
)
_ADVERBS = frozenset(
    "only just already never not first finally even really still properly actually also ever fully recently".split()
)


def _word_before(toks: Sequence[_Tok], i: int) -> str:
    """The nearest word before token i, skipping hedges like "about" and "the"."""
    k = i - 1
    while k >= 0 and (toks[k].text in _HEDGES or not toks[k].text[0].isalnum()):
        k -= 1
    return _at(toks, k)


def _due_date_end(toks: Sequence[_Tok], j: int) -> int:
    """Index after "<her|the|...> due [date]" at j, or j when absent."""
    k = j + 1 if _at(toks, j) in _POSSESSIVES else j
    if _at(toks, k) in _SUBJECTS and _at(toks, k + 1) in ("was", "were", "is") and _at(toks, k + 2) == "due":
        return k + 3  # "before she was due"
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
    role: Optional[str] = None


def _gest_weeks_at(toks: Sequence[_Tok], j: int) -> Optional[Tuple[float, int, bool]]:
    """Gestational weeks at j: "34", "34+3", "34/40", "34w3d"; (weeks, end, written as a gestation)."""
    q = _quantity_at(toks, j)
    if q is None or q.kind not in (_DIGIT, _WORD):
        return None
    weeks, k, gestational = q.value, q.end, False
    if _at(toks, k) == "+" and _at(toks, k + 1).isdecimal() and int(_at(toks, k + 1)) <= 6:
        weeks, k, gestational = weeks + int(_at(toks, k + 1)) / 7, k + 2, q.kind == _DIGIT
    if _at(toks, k) == "/" and _at(toks, k + 1) == "40":
        k, gestational = k + 2, q.kind == _DIGIT  # UK notes: "34/40"
    unit = _unit_at(toks, k)
    if unit is not None and unit.dim == _WEEK and not unit.implies_old:
        k = unit.end
        days = _plain_number_at(toks, k + 1 if _at(toks, k) in ("and", "+", ",") else k)
        day_unit = _unit_at(toks, days.end, compound=True) if days else None
        if days and day_unit and day_unit.dim == _DAY and days.value <= 6:
            weeks, k = weeks + days.value / 7, day_unit.end
        return weeks, k, True
    return weeks, k, gestational


def _gestation_at(toks: Sequence[_Tok], i: int) -> Optional[_Hit]:
    """ "born at 34 weeks", "arrived at 35+2 weeks", "born at week 33", "born 34/40" -> 40 - gestation."""
    if _at(toks, i) not in _BIRTH_VERBS:
        return None
    j = i + 1
    has_prep = _at(toks, j) in _BIRTH_PREPS
    if has_prep:
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
    unit = _unit_at(toks, q.end)
    if has_prep and unit is not None and unit.dim == _MONTH and 5 <= q.value <= 9:  # "born at 8 months" (of pregnancy)
        return _Hit(WEEKS_EARLY, i, unit.end, max(0.0, (9 - q.value) * WEEKS_PER_MONTH))
    found = _gest_weeks_at(toks, j)
    if found is None or not found[2] or _at(toks, found[1]) in _NOT_AGE_AFTER:
        return None
    if not has_prep and _early_marker_end(toks, found[1])[0] != found[1]:
        return None  # "born 3 weeks early" is read by the early-marker rule
    value = _gest_value(found[0])
    return None if value is None else _Hit(WEEKS_EARLY, i, found[1], value)


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
    if q.kind == _DIGIT and 22 <= q.value <= 42 and _at(toks, q.end) in ("+", "/"):
        found = _gest_weeks_at(toks, i)  # "33+4", "36/40": written as a gestation
        value = _gest_value(found[0]) if found is not None and found[1] > q.end + 1 else None
        if found is not None and value is not None:
            return _Hit(WEEKS_EARLY, i, found[1], value)
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


def _negated_before(toks: Sequence[_Tok], i: int) -> bool:
    """True for "not even (for) a second", "never for a second", "can't stand for a second"."""
    k = i - 1
    while _at(toks, k) in _NEGATION_FILLERS:
        k -= 1
    if _at(toks, k) in _STAND_VERBS:
        k -= 1
    t = _at(toks, k)
    return t in _NEGATIONS or t.endswith("n't")


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
        elif amount == 1 and unit.dim in (_SECOND, _MOMENT) and end == unit.end:
            if _negated_before(toks, i):
                amount = 0.0  # "not even a second": not at all
            elif _at(toks, i - 1) == "under" or (_at(toks, i - 1) == "than" and _at(toks, i - 2) == "less"):
                amount = 0.5  # "less than a second"
    return _Hit(DURATION, i, end, amount * factor)


def _clause_end_ok(toks: Sequence[_Tok], j: int) -> bool:
    """True when nothing, punctuation or a joining word follows a unit-less age ("she's 2 and a half, ...")."""
    nxt = _at(toks, j)
    return not nxt or not nxt[0].isalnum() or nxt in _CLAUSE_END_WORDS


def _years_cue_before(toks: Sequence[_Tok], i: int) -> bool:
    """True after "nearly", "turned", "going on", "she'll be": a bare small number there is in years."""
    t = _at(toks, i - 1)
    if t in _YEARS_CUES:
        return True
    if t == "on":
        return _at(toks, i - 2) == "going"
    return t == "be" and _at(toks, i - 2) in _FUTURE_AUX


def _bare_age_at(toks: Sequence[_Tok], i: int, q: _Qty) -> Optional[_Hit]:
    """A unit-less age: "2 and a half", "nearly 2", "8 actual" (after "6 months corrected")."""
    if q.kind not in (_DIGIT, _WORD):
        return None
    marked = _at(toks, q.end) in _CORRECTED_WORDS or _at(toks, q.end) in _ACTUAL_WORDS
    if not marked and not _clause_end_ok(toks, q.end):
        return None
    if (marked or _corrected_before(toks, i)) and 0 < q.value <= 48:
        return _Hit(AGE, i, q.end, q.value)  # "6 corrected, 8 actual", "(corrected 6)": months
    if 1 <= q.value <= 4.5 and _years_cue_before(toks, i):
        return _Hit(AGE, i, q.end, q.value * 12)
    if q.and_half and q.value <= 24:
        # "she's 2 and a half": small counts read as years, larger ones as months.
        return _Hit(AGE, i, q.end, q.value * 12 if q.value <= 3.5 else q.value)
    return None


def _article_age_ok(toks: Sequence[_Tok], i: int) -> bool:
    """ "a year" is an age at the start or after "is", "turned", "at", ...; "tummy time a day" is a rate."""
    k = i - 1
    while _at(toks, k) in _SOFT_HEDGES:
        k -= 1
    t = _at(toks, k)
    return not t or not t[0].isalnum() or t in _ARTICLE_AGE_AFTER


def _age_at(toks: Sequence[_Tok], i: int) -> Optional[_Hit]:
    """An age such as "10 months", "1yo", "a year and a half" or "1 year 3 months"."""
    q = _quantity_at(toks, i)
    if q is None:
        return None
    if _word_before(toks, i) in _NOT_AGE_BEFORE:
        return None
    unit = _unit_at(toks, q.end)
    if unit is None:
        bare = _bare_age_at(toks, i, q)
        return None if bare is None else bare._replace(role=_age_role(toks, bare.start_tok, bare.end_tok))
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
            k = end + 1 if _at(toks, end) in (",", "and", "&", "n", "an", "+") else end
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
    if q.kind == _ARTICLE and end == unit.end and after != "old" and not _article_age_ok(toks, i):
        return None  # a rate: "tummy time a day", "10 minutes a day"
    old_noun = unit.implies_old or (after == "old" and _at(toks, i - 1) in _DETERMINERS)
    return _Hit(AGE, i, end, months, None if old_noun else _age_role(toks, i, end))


# --------------------------------------------------------------------------- age roles


def _intro_at(toks: Sequence[_Tok], i: int) -> int:
    """Index of the word that introduces the amount at i, skipping hedges and "the age of"."""
    k = i - 1
    while _at(toks, k) in _SOFT_HEDGES or _at(toks, k) in ("the", "age", "of"):
        k -= 1
    return k


def _corrected_before(toks: Sequence[_Tok], i: int) -> bool:
    """True for "corrected age 6 months", "adjusted age is 6 months", "corrected: 6 months"."""
    k = i - 1
    while _at(toks, k) in _SOFT_HEDGES or _at(toks, k) in ("age", "is", "of", ":", "=", "-", "she's", "he's", "its", "it's"):
        k -= 1
    if _at(toks, k) not in _CORRECTED_WORDS:
        return False
    prev = _at(toks, k - 1)  # "6m corrected 8m": the word marks the age before it
    return not prev[:1].isdecimal() and _unit_of_word(prev) is None and prev not in ("m", "w", "y")


def _is_past_word(toks: Sequence[_Tok], k: int) -> bool:
    """True when token k is a past-tense verb ("crawled", "could sit", "was"), not a present participle use."""
    t = _at(toks, k)
    nxt = _at(toks, k + 1)
    if t in ("was", "were", "wasn't", "weren't"):
        return nxt not in _HEARSAY  # "I was wondering if ..." is about now
    if t in ("could", "couldn't", "did", "didn't"):
        return t.startswith("did") or nxt not in _QUESTION_SUBJECTS  # "could she be ..." asks about now
    regular = len(t) >= 5 and t.endswith("ed") and not t.endswith("eed") and t.isalpha() and t not in _ED_NOT_PAST
    if not regular and t not in _IRREGULAR_PAST:
        return False
    j = k - 1
    while _at(toks, j) in _ADVERBS:
        j -= 1
    return _at(toks, j) not in _PRESENT_AUX  # "has walked", "is delayed": not a past moment


def _clause_bounds(toks: Sequence[_Tok], start: int, end: int) -> Tuple[int, int]:
    """The clause around tokens [start, end): up to the nearest comma, "and", "but", "if", ..."""
    a = start - 1
    while a >= 0 and toks[a].text not in _CLAUSE_BREAKS:
        a -= 1
    b = end
    while b < len(toks) and toks[b].text not in _CLAUSE_BREAKS:
        b += 1
    fronted = all(t.text in _FRONTED_WORDS for t in toks[a + 1 : start]) and all(
        t.text in ("old", "of", "age") for t in toks[end:b]
    )
    if b < len(toks) and toks[b].text == "," and fronted:
        b += 1  # "At 9 months, she could sit": a fronted age belongs to the clause after it
        while b < len(toks) and toks[b].text not in _CLAUSE_BREAKS:
            b += 1
    return a + 1, b


def _clause_is_past(toks: Sequence[_Tok], start: int, end: int) -> bool:
    """True when the clause around an age tells of the past ("crawled at 7 months") and not of now."""
    a, b = _clause_bounds(toks, start, end)
    outside = [k for k in range(a, b) if not start <= k < end]
    if any(toks[k].text in _NOW_WORDS for k in outside):
        return False
    return any(_is_past_word(toks, k) for k in outside)


def _age_role(toks: Sequence[_Tok], i: int, end: int) -> Optional[str]:
    """ "past", "reference" or "corrected" for the age at tokens [i, end); None for the current age."""
    nxt = _at(toks, end + 1) if _at(toks, end) in ("(", "-") else _at(toks, end)
    if nxt in _ACTUAL_WORDS:
        return None
    marks_next = _at(toks, end) == "(" and _plain_number_at(toks, end + 2) is not None  # "8 months (corrected 6)"
    if (nxt in _CORRECTED_WORDS and not marks_next) or _corrected_before(toks, i):
        return CORRECTED
    if nxt in _EVENT_WORDS or (nxt in _EVENT_ADJECTIVES and _at(toks, end + 1) in _EVENT_WORDS):
        return PAST  # "at his 6 week check", "her 2 month jabs": a visit named by an age
    k = _intro_at(toks, i)
    word = _at(toks, k)
    if word in _BE_WORDS:  # "when he was 4 months", "since she's 9 months", "she is 10 months"
        was = word in ("was", "were", "wasn't", "weren't")
        j = k - 1 if "'" in word else k - 2  # skip the subject
        word = _at(toks, j)
        if word in _SINCE_WORDS:
            return PAST
        if word in _WHEN_WORDS:
            return PAST if was or _clause_is_past(toks, i, end) else REFERENCE
        return PAST if was else None
    if word in _SINCE_WORDS:
        return PAST
    if word in _WHEN_WORDS:
        return PAST if _clause_is_past(toks, i, end) else REFERENCE
    at_start = not word or not word[0].isalnum()
    if word in _AT_WORDS or _is_past_word(toks, k) or (at_start and _at(toks, i - 1) in _ROUND_WORDS):
        return PAST if _clause_is_past(toks, i, end) else None  # "crawled at 7 months", "around 7 months she crawled"
    return None


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
        out.append(EntityMatch(hit.entity, start, end, text[start:end], round(hit.value, 4), hit.role))
    return out


def _first(text: str, entity: str) -> Optional[float]:
    """Value of the first mention of the given entity type (ages: the first without a role)."""
    return next((m.value for m in extract_entities(text) if m.entity == entity and m.role is None), None)


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
