"""Turn a caregiver's free-text reply to a follow-up question into a typed answer."""

import math
import re
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Mapping, Optional, Sequence, Tuple, Union

from bot.contract import ANSWER_TYPES, TERM_WEEKS
from bot.nlu.parsers import (
    AGE,
    extract_entities,
    parse_bare_number,
    parse_duration_seconds,
    parse_early_amount,
)

YES_NO_UNSURE = ("yes", "no", "unsure")
LONG_STAND_SECONDS = 60.0  # "for ages", "a long time"
BRIEF_STAND_SECONDS = 1.0  # "just a moment", "briefly"
FEW_DAYS_EARLY_WEEKS = 0.5
MAX_BARE_MONTHS = 48.0
AMBIGUOUS_BARE_MAX = 3  # a bare 1-3 to "How old?" could be months or years: ask which
MAX_BARE_DECIMAL_MONTHS = 24.0  # "10.5" is an age, "38.5" a temperature
MAX_BARE_SECONDS = 600.0


class AnswerStatus(str, Enum):
    """How well a reply answered the question."""

    VALUE = "value"
    UNKNOWN = "unknown"  # the caregiver does not know
    UNPARSED = "unparsed"  # we could not read it
    NEEDS_DETAIL = "needs_detail"  # understood in part; ask for the number


@dataclass(frozen=True)
class Answer:
    """A reply read as a status plus, for VALUE, the slot value."""

    status: AnswerStatus
    value: Union[float, str, None] = None


# --------------------------------------------------------------------------- yes / no / unsure

_CONTRACTIONS = {
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "cant": "can't",
    "wont": "won't",
    "isnt": "isn't",
    "wasnt": "wasn't",
    "arent": "aren't",
    "werent": "weren't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "hadnt": "hadn't",
    "couldnt": "couldn't",
    "wouldnt": "wouldn't",
    "shouldnt": "shouldn't",
    "im": "i'm",
    "ive": "i've",
}


def _normalize(text: str, clauses: bool = False) -> str:
    """Lower-case words joined by single spaces, padded with a space at each end (`clauses`: "|" at , . ; ! ?)."""
    pattern = r"[a-z0-9]+(?:'[a-z]+)?|[,.;!?]+" if clauses else r"[a-z0-9]+(?:'[a-z]+)?"
    words = re.findall(pattern, (text or "").lower().replace("’", "'"))
    words = ["|" if not w[0].isalnum() else _CONTRACTIONS.get(w, w) for w in words]
    return " " + " ".join(words).replace("can not", "cannot") + " "


@cache
def _rx(patterns: Tuple[str, ...]) -> "re.Pattern[str]":
    """One regex (compiled on first use, then cached) matching any of the phrases as whole words."""
    return re.compile(r"(?<![a-z0-9'])(?:" + "|".join(patterns) + r")(?![a-z0-9'])")


_NEUTRAL = (
    r"no (?:problems?|issues?|concerns?|worries|signs?)",
    r"nothing (?:wrong|unusual|abnormal|found|weird|odd|strange|different)(?: that i've noticed| that i can see)?",
    r"no (?:difference|different)(?: between (?:them|the two|sides|both sides))?",
    r"(?:don't|doesn't|do not|does not) (?:see|notice) (?:any|a) difference",
    r"not (?:a|any) (?:problem|issue|concern)",
    r"all (?:clear|good|fine|normal)",
)
_UNSURE = (
    r"not (?:really |quite |totally |entirely |too |so |that |very |a hundred percent |100 )?(?:sure|certain)",
    r"unsure",
    r"uncertain",
    r"no idea",
    r"no clue",
    r"idk",
    r"dunno",
    r"who knows",
    r"(?:don't|do not|didn't|did not) (?:really )?know",
    r"not knowing",
    r"(?:can't|cannot|don't|do not) (?:remember|recall|say|tell)",
    r"(?:forgot|forget|forgotten)",
    r"hard to (?:say|tell)",
    r"difficult to (?:say|tell)",
    r"(?:haven't|have not|hadn't|never|didn't|did not|not) (?:really )?(?:noticed|notice|paid attention)",
    r"i (?:haven't|have not|didn't|did not) (?:really )?(?:checked|looked|watched)",
    # the parent hasn't watched, tried or timed it (said without "I": "never timed it", "haven't tried tbh")
    r"(?:i )?(?:never|haven't|have not|didn't|did not|not) (?:really |properly |actually |ever )?(?:watched|looked|timed|tried|counted)"
    r"(?= (?:that|it|this|closely|properly|really|yet|tbh|to be honest|for|him|her|them)| ?$)",
    r"would have to (?:watch|check|look|time|see)",
    r"(?:i'd|i would|i'll|i will|i need to|need to|have to) (?:have to )?(?:watch|check|look|time|see)(?: (?:him|her|them|it|that|properly|closely|again))*",
    r"maybe",
    r"perhaps",
    r"possibly",
    r"kind of",
    r"sort of",
    r"kinda",
    r"sorta",
    r"depends",
    r"it varies",
    r"yes and no",
    r"50 50",
    r"i guess(?! so)",
)
# How often, not whether: "yes, sometimes" is still a yes; "sometimes" alone is not sure.
_FREQUENCY = (
    r"sometimes",
    r"some times",
    r"occasionally",
    r"on and off",
    r"not always",
    r"now and then",
    r"now and again",
    r"at times",
    r"here and there",
)
_NO = (
    r"not that i (?:know|knew|am aware|'m aware|can think|remember)(?: of)?",
    r"i don't think so",
    r"no+",
    r"nope",
    r"nah+",
    r"naw",
    r"nay",
    r"n",
    r"not",
    r"never",
    r"none",
    r"nothing",
    r"neither",
    r"negative",
    r"unable",
    r"cannot",
    r"(?:don|doesn|didn|can|won|isn|wasn|aren|weren|haven|hasn|hadn|couldn|wouldn|shouldn)'t",
)
_STRONG_YES = (
    r"y",
    r"ye+s+",
    r"ye+a+h*",
    r"yeh",
    r"yep+",
    r"yup+",
    r"ya+",
    r"yah",
    r"yas+",
    r"aye",
    r"sure",
    r"definitely",
    r"absolutely",
    r"certainly",
    r"correct",
    r"indeed",
    r"totally",
    r"affirmative",
    r"of course",
    r"(?:i )?(?:think|believe|guess|reckon) so",
    r"uh huh",
    r"mhm+",
    r"mm+ hmm+",
    r"always",
    r"all the time",
    r"for sure",
    r"that's right",
    r"true",
    r"usually",
    r"mostly",
    r"yes please",
    r"yh",
    r"yss",
    r"yea",
)
_QUESTION_START = (
    r"why",
    r"what",
    r"how",
    r"when",
    r"where",
    r"who",
    r"which",
    r"huh",
)
_WEAK_YES = (
    r"(?:she|he|they|we|i|baby|doctor|nurse|gp|doc) (?:does|do|did|can|could|will|would|is|was|are|were|has been|have been)",
    r"(?:she|he|they|we|i|it) (?:has|have|had)(?= (?:too|already|yes|though|both)? ?$)",
    r"(?:check|checks|checked|checking|examined|examines|examine|screened|scanned|tested|x rayed|ultrasound|looked at)",
    r"(?:crawls|stands|pulls|bears|walks|cruises|kicks|uses|moves|alternates|puts weight|takes weight)",
    r"both(?: sides| legs| arms)?",
    r"evenly",
    r"equally",
    r"fine",
    r"normal",
)


# Words that say "all is well". For most questions that means yes ("does she use both sides?" "all normal"),
# but for a question about warning signs it means no ("any of these signs?" "no problems, she's fine").
_ALL_WELL = (r"fine", r"normal", r"all good")


_LEAD_SKIP = frozenset(
    {
        "oh",
        "ok",
        "okay",
        "um",
        "erm",
        "hmm",
        "well",
        "so",
        "sorry",
        "actually",
        "wait",
        "oops",
        "mostly",
        "usually",
        "generally",
        "mainly",
    }
)
_LEAD_YES = frozenset(
    {"yes", "yeah", "yep", "yup", "ya", "yah", "yh", "yea", "yess", "sure", "definitely", "absolutely", "correct"}
)
_LEAD_NO = frozenset({"no", "nope", "nah", "naw", "never"})


def _leading_answer(normalized: str) -> Optional[str]:
    """A reply that opens with yes or no answers with it, whatever its story adds ("yes. he had a seizure once, nothing
    since"); "no wait, yes she does" is a correction, so the answer after "wait" counts."""
    words = normalized.split()
    while len(words) > 1 and (words[0] in _LEAD_SKIP or (words[0] in _LEAD_NO and words[1] in ("wait", "sorry", "actually"))):
        words = words[1:]
    if not words:
        return None
    first = words[0]
    if first in _LEAD_YES:
        return "yes"
    if first in _LEAD_NO and not (len(words) > 1 and words[1] in ("problem", "problems", "issues", "worries", "doubt")):
        return "no"
    return None


def parse_yes_no(text: str, all_clear: str = "yes") -> Optional[str]:
    """Read a reply as "yes", "no" or "unsure"; None when it is none of those.

    `all_clear` is what "no problems" / "all fine" means for this question: "yes", or "no" for a question
    that asks about warning signs.
    """
    s = _normalize(text)
    if not s.strip():
        return None
    s = _rx(_NEUTRAL).sub("fine", s)
    if all_clear == "no":
        s = _rx(_ALL_WELL).sub("no", s)
    if _rx(_UNSURE).search(s):
        return "unsure"
    if _rx(_QUESTION_START).match(s.strip()):
        return None
    lead = _leading_answer(s)
    if lead:
        return lead
    if _rx(_FREQUENCY).search(s):
        return "unsure"
    if _rx(_NO).search(s):
        return "no"
    if _rx(_STRONG_YES).search(s):
        return "yes"
    if (text or "").strip().endswith("?"):
        return None
    if _rx(_WEAK_YES).search(s):
        return "yes"
    return None


# --------------------------------------------------------------------------- typed answers

_ON_TIME = (
    r"on time",
    r"full(?: |-)?term",
    r"at term",
    r"term baby",
    r"on (?:her|his|the|their) due (?:date|day)",
    r"on due date",
    r"late",
    r"overdue",
    r"past (?:her|his|the|their) due date",
    r"induced late",
)
_NEGATED_ON_TIME = (r"(?:not|wasn't|weren't|isn't|never) (?:quite |really )?(?:on time|full term|at term|late)",)
_NOT_EARLY = (r"(?:not|wasn't|weren't|isn't|never|no) (?:born )?(?:really |at all )?(?:early|premature|prem|preemie|preterm)",)
_EARLY = (
    r"early",
    r"premature(?:ly)?",
    r"prem",
    r"premmie",
    r"premie",
    r"preemie",
    r"preterm",
    r"pre term",
    r"nicu",
    r"scbu",
    r"too soon",
    r"before (?:her|his|the|their) due date",
)
_FEW_DAYS = (r"(?:a |some |few |couple |several |handful of )(?:of )?days",)

_LONG = (
    r"ages",
    r"forever",
    r"(?:for )?a (?:long|good|fair) (?:time|while)",
    r"quite a while",
    r"a while",
    r"long time",
    r"as long as (?:she|he|they) (?:wants?|likes?)",
    r"for minutes",
    r"minutes at a time",
    r"ages and ages",
)
_SHORT_VAGUE = (
    r"not (?:for )?(?:very |that |so )?long",
    r"a (?:little|short|wee) while",
    r"not long at all",
    r"only briefly",
)
_BRIEF = (
    r"briefly",
    r"a moment",
    r"an instant",
    r"a split second",
)
# "She drops the second I let go": the idiom means no time at all, not one second.
_FALLS_AT_ONCE = (
    r"(?:the|that) (?:very )?(?:second|sec|minute|min|moment|instant) (?:that )?(?:i|we|you|she|he|they|someone|mum|mom|dad) (?:let|lets|letting) (?:go|her go|him go)",
    r"as soon as (?:i|we|you|she|he|they|someone|mum|mom|dad) (?:let|lets) (?:go|her go|him go)",
    r"(?:falls?|drops?|sits?|plops?|collapses?|goes down)(?: \w+){0,3} (?:straight away|right away|immediately|instantly|at once)",
)
_ZERO_STANDING = (
    r"holding on",
    r"holds on",
    r"with (?:support|help)",
    r"needs (?:support|help)",
    r"only when (?:held|supported|holding)",
)


# "Just in general" to "How old is your child?": a question about babies in general, not one child.
_IN_GENERAL = (
    r"(?:just |only |asking |speaking )?in general",
    r"generally(?: speaking)?",
    r"just (?:asking|curious|wondering)",
    r"general question",
    r"(?:no|not about a|not for a|not about my|not for my) (?:child|baby|kid)",
)


def _months(text: str) -> Answer:
    """Age in months: the current age, or a bare number up to 48 taken as months.

    A bare number reads as months ("10", "about 14"); a bare 1-4 reads as years only after "nearly",
    "turning", "just turned", "over", "going on" (see bot.nlu.parsers). A reply holding only a past,
    norm or corrected age ("she walked at 11 months", "6 months corrected") needs the current age.
    """
    ages = [m for m in extract_entities(text) if m.entity == AGE]
    current = next((m.value for m in ages if m.role is None), None)
    if current is not None:
        return Answer(AnswerStatus.VALUE, current)
    if ages:
        return Answer(AnswerStatus.NEEDS_DETAIL)
    bare = parse_bare_number(text)
    if bare is not None and bare.is_integer() and 1 <= bare <= AMBIGUOUS_BARE_MAX:
        return Answer(AnswerStatus.NEEDS_DETAIL, bare)  # "2": two months or two years? Ask, don't guess.
    if bare is not None and 0 < bare <= MAX_BARE_MONTHS and (bare.is_integer() or bare <= MAX_BARE_DECIMAL_MONTHS):
        return Answer(AnswerStatus.VALUE, bare)
    if parse_yes_no(text) == "unsure" or _rx(_IN_GENERAL).search(_normalize(text)):
        return Answer(AnswerStatus.UNKNOWN)
    return Answer(AnswerStatus.UNPARSED)


_LATE_BY = (r"(?:overdue|late) by", r"(?:days?|weeks?|wks?) (?:overdue|late)", r"after (?:her|his|the|their) due date")
_IN_WEEK = re.compile(r" (?:in|at|during|around) (?:week|wk) (\d+) ")
_FORTNIGHT = re.compile(r" (?:(a|one|two|2) )?fortnights? ")


def _weeks_early(text: str) -> Answer:
    """Weeks born early: 0 for on time or late, NEEDS_DETAIL for "early" without a number."""
    s = _normalize(text)
    if _rx(_LATE_BY).search(s) and not _rx(_EARLY).search(s):  # "overdue by 10 days": not early at all
        return Answer(AnswerStatus.VALUE, 0.0)
    in_week = _IN_WEEK.search(s)  # "came early, in week 36": born at 36 weeks
    if in_week and 20 <= float(in_week.group(1)) <= 42:
        return Answer(AnswerStatus.VALUE, max(0.0, TERM_WEEKS - float(in_week.group(1))))
    fortnight = _FORTNIGHT.search(s)
    if fortnight and _rx(_EARLY).search(s):
        return Answer(AnswerStatus.VALUE, 2.0 * (2 if fortnight.group(1) in ("two", "2") else 1))
    amount = parse_early_amount(text)
    if amount is not None:
        return Answer(AnswerStatus.VALUE, amount)
    if _rx(_NOT_EARLY).search(s) or (_rx(_ON_TIME).search(s) and not _rx(_NEGATED_ON_TIME).search(s)):
        return Answer(AnswerStatus.VALUE, 0.0)
    if _rx(_FEW_DAYS).search(s):
        return Answer(AnswerStatus.VALUE, FEW_DAYS_EARLY_WEEKS)
    bare = parse_bare_number(text)
    if bare is not None:
        if bare <= 20:
            return Answer(AnswerStatus.VALUE, bare)
        if bare <= 42:  # a gestational age: "34" means born at 34 weeks
            return Answer(AnswerStatus.VALUE, max(0.0, TERM_WEEKS - bare))
        return Answer(AnswerStatus.UNPARSED)
    yes_no = parse_yes_no(text)
    if yes_no == "unsure":
        return Answer(AnswerStatus.UNKNOWN)
    if _rx(_EARLY).search(s) or _rx(_NEGATED_ON_TIME).search(s) or yes_no == "yes":
        return Answer(AnswerStatus.NEEDS_DETAIL)
    if yes_no == "no":
        return Answer(AnswerStatus.VALUE, 0.0)
    return Answer(AnswerStatus.UNPARSED)


_NOW_AMOUNT = re.compile(
    r" (?:now|these days|nowadays|this week|today) (?:it's |its |it is |she |he |they |she's |he's |they're |can do |does )?"
    r"(?:about |around |roughly |more like |like |maybe |up to |nearly |almost )*(\d+(?:\.\d+)?)(?: (?:seconds?|secs?|s))? "
)
_COUNT_TO = re.compile(r" count(?:ing)? (?:to|up to) ([a-z0-9]+(?: [a-z]+)?) ")


def _seconds(text: str) -> Answer:
    """Seconds standing alone: 0 when the child does not stand alone yet."""
    s = _normalize(text)
    now = _NOW_AMOUNT.search(s)  # "5 seconds last week, now it's about 10": the time now
    if now:
        return Answer(AnswerStatus.VALUE, float(now.group(1)))
    counted = _COUNT_TO.search(s)  # "long enough to count to 5 / five"
    if counted and parse_bare_number(counted.group(1)) is not None:
        return Answer(AnswerStatus.VALUE, float(parse_bare_number(counted.group(1)) or 0.0))
    seconds = parse_duration_seconds(text)
    if seconds is not None:
        return Answer(AnswerStatus.VALUE, seconds)
    if _rx(_FALLS_AT_ONCE).search(s):
        return Answer(AnswerStatus.VALUE, 0.0)
    if _rx(_LONG).search(s) and not _rx(_SHORT_VAGUE).search(s):
        return Answer(AnswerStatus.VALUE, LONG_STAND_SECONDS)
    if _rx(_SHORT_VAGUE).search(s):
        return Answer(AnswerStatus.NEEDS_DETAIL)
    if _rx(_BRIEF).search(s):
        return Answer(AnswerStatus.VALUE, BRIEF_STAND_SECONDS)
    if _rx(_ZERO_STANDING).search(s):
        return Answer(AnswerStatus.VALUE, 0.0)
    bare = parse_bare_number(text)
    if bare is not None:
        if 0 <= bare <= MAX_BARE_SECONDS:
            return Answer(AnswerStatus.VALUE, bare)
        return Answer(AnswerStatus.UNPARSED)
    yes_no = parse_yes_no(text)
    if yes_no == "unsure":
        return Answer(AnswerStatus.UNKNOWN)
    if yes_no == "no":
        return Answer(AnswerStatus.VALUE, 0.0)
    if yes_no == "yes":
        return Answer(AnswerStatus.NEEDS_DETAIL)
    return Answer(AnswerStatus.UNPARSED)


def _yes_no_unsure(text: str, all_clear: str = "yes") -> Answer:
    """A yes / no / unsure reply."""
    value = parse_yes_no(text, all_clear)
    return Answer(AnswerStatus.UNPARSED) if value is None else Answer(AnswerStatus.VALUE, value)


_INTERPRETERS = {
    "months": _months,
    "weeks_early": _weeks_early,
    "seconds": _seconds,
    "yes_no_unsure": _yes_no_unsure,
}


def typed_value(answer_type: str, value: object) -> Union[float, str, None]:
    """A stored answer of its declared type, or None: a finite number >= 0 for the numeric types, one of
    yes/no/unsure otherwise. Whatever reached a slot (an event posted through Rasa's HTTP API, an older
    database) never reaches the rules in another shape."""
    if answer_type == "yes_no_unsure":
        return value if isinstance(value, str) and value in YES_NO_UNSURE else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def read_by_phrases(reads: Mapping[str, Sequence[str]], text: str) -> Optional[str]:
    """The value whose question-specific phrases the reply uses ("both" to "one foot or both?" is no); None if
    no phrase, or phrases for different values, match."""
    if not reads:
        return None
    s = _normalize(text, clauses=True)
    found = set()
    for value, patterns in reads.items():
        if patterns and any(not _negated_before(s, m.start()) for m in _rx(tuple(patterns)).finditer(s)):
            found.add(value)
    return found.pop() if len(found) == 1 else None


_NEGATION_WORDS = frozenset(
    "not no never nobody nobody's noone none neither nor don't doesn't didn't isn't wasn't aren't weren't haven't hasn't hadn't "
    "can't cannot won't wouldn't couldn't shouldn't".split()
)


def _negated_before(normalized: str, start: int, window: int = 3) -> bool:
    """Whether one of the few words before a match negates it ("doesn't pull up", "not both")."""
    before = normalized[:start].split("|")[-1].split()[-window:]
    return any(word in _NEGATION_WORDS for word in before)


def interpret_answer(
    answer_type: str, text: str, all_clear: str = "yes", reads: Optional[Mapping[str, Sequence[str]]] = None
) -> Answer:
    """Interpret a reply to a follow-up question of the given answer type (all_clear: see parse_yes_no)."""
    try:
        interpreter = _INTERPRETERS[answer_type]
    except KeyError:
        raise ValueError(f"unknown answer type {answer_type!r}; expected one of {', '.join(ANSWER_TYPES)}") from None
    read = read_by_phrases(reads or {}, text or "")
    if answer_type == "yes_no_unsure":
        plain = _yes_no_unsure(text or "", all_clear)
        if read is not None and (plain.value != "unsure" or not _rx(_UNSURE).search(_normalize(text or ""))):
            return Answer(AnswerStatus.VALUE, read)  # a real hedge ("not sure") still wins; "sometimes, mostly X" doesn't
        return plain
    if read is not None:
        return Answer(AnswerStatus.VALUE, read)
    return interpreter(text or "")
