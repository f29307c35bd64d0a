"""Table-driven tests for the age, duration and weeks-early parsers."""

import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

from bot.nlu.parsers import (
    WEEKS_PER_MONTH,
    EntityMatch,
    extract_entities,
    parse_age_months,
    parse_bare_number,
    parse_duration_seconds,
    parse_early_amount,
    parse_weeks_early,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def approx(value: float) -> object:
    """Float comparison used throughout: 2 % relative tolerance."""
    return pytest.approx(value, rel=0.02)


AGE_CASES = [
    # digits with every spelling of the unit
    ("10 months", 10.0),
    ("10 months old", 10.0),
    ("she's 10 months", 10.0),
    ("eighteen months", 18.0),
    ("18 mo", 18.0),
    ("18mo", 18.0),
    ("18 mos", 18.0),
    ("14m old", 14.0),
    ("9 mths", 9.0),
    ("my 12 month old won't walk", 12.0),
    ("13-month-old", 13.0),
    ("my 2-year-old", 24.0),
    ("nearly 11 months", 11.0),
    ("almost 9 months now", 9.0),
    ("about 15 months", 15.0),
    ("2 yrs", 24.0),
    ("2 yr old", 24.0),
    ("1yo", 12.0),
    ("1 yo", 12.0),
    ("1 y/o", 12.0),
    ("he is 2y old", 24.0),
    ("she's 1 y.o.", 12.0),
    ("1.5 years", 18.0),
    ("1 1/2 years", 18.0),
    ("1½ years", 18.0),
    # number words and halves
    ("ten and a half months", 10.5),
    ("11 and a half months", 11.5),
    ("a year and a half", 18.0),
    ("one and a half years", 18.0),
    ("one year and a half", 18.0),
    ("a year old", 12.0),
    ("one year", 12.0),
    ("twenty-one months", 21.0),
    ("twenty two months", 22.0),
    ("half a year", 6.0),
    ("she's 2 and a half", 30.0),
    ("he's 10 and a half", 10.5),
    # compounds and ranges
    ("1 year 3 months", 15.0),
    ("1 year and 3 months", 15.0),
    ("1y3m", 15.0),
    ("10 months and 2 weeks", 10.0 + 2 / WEEKS_PER_MONTH),
    ("10 or 11 months", 10.5),
    ("10-11 months", 10.5),
    # weeks and days give fractions of a month
    ("six weeks old", 6 / WEEKS_PER_MONTH),
    ("she is 6 weeks", 6 / WEEKS_PER_MONTH),
    ("9 days old", 9 / (WEEKS_PER_MONTH * 7)),
    # typos
    ("10 monts", 10.0),
    ("8 mnths", 8.0),
    ("10 moths old", 10.0),
    ("11 montsh", 11.0),
    ("2 yeras", 24.0),
    ("2 yaers old", 24.0),
    # first age wins; an age of the carer is still an age (the caller decides)
    ("my 14 month old stood for about 10 secs", 14.0),
    ("twins, both 18 months", 18.0),
    ("12 months of age", 12.0),
    ("I'm 35 years old", 420.0),
]


@pytest.mark.parametrize(("text", "months"), AGE_CASES)
def test_parse_age_months(text: str, months: float) -> None:
    assert parse_age_months(text) == approx(months)


DURATION_CASES = [
    ("about 10 secs", 10.0),
    ("10secs", 10.0),
    ("half a minute", 30.0),
    ("a couple of seconds", 2.0),
    ("a couple seconds", 2.0),
    ("a few seconds", 3.0),
    ("a few secs", 3.0),
    ("2 minutes", 120.0),
    ("1 min", 60.0),
    ("ten seconds", 10.0),
    ("5s", 5.0),
    ("5 sec", 5.0),
    ("a second or two", 1.5),
    ("a minute or two", 90.0),
    ("thirty seconds", 30.0),
    ("a minute", 60.0),
    ("a minute and a half", 90.0),
    ("one and a half minutes", 90.0),
    ("2-3 seconds", 2.5),
    ("2 or 3 seconds", 2.5),
    ("between 5 and 10 seconds", 7.5),
    ("for about 20 seconds or so", 20.0),
    ("just a second", 1.0),
    ("a split second", 0.5),
    ("for a moment", 1.0),
    ("15 secconds", 15.0),
    ("she stood for 4 seconds before sitting down", 4.0),
]


@pytest.mark.parametrize(("text", "seconds"), DURATION_CASES)
def test_parse_duration_seconds(text: str, seconds: float) -> None:
    assert parse_duration_seconds(text) == approx(seconds)


WEEKS_EARLY_CASES = [
    ("6 weeks early", 6.0),
    ("she was born 6 weeks early", 6.0),
    ("about 6 weeks early", 6.0),
    ("born at 34 weeks", 6.0),
    ("born at about 34 weeks", 6.0),
    ("arrived at 35 weeks", 5.0),
    ("born at 34+3 weeks", 40 - (34 + 3 / 7)),
    ("born at 34 weeks and 3 days", 40 - (34 + 3 / 7)),
    ("born in week 33", 7.0),
    ("born at 40 weeks", 0.0),
    ("born at 41 weeks", 0.0),
    ("34 weeker", 6.0),
    ("a 32-weeker", 8.0),
    ("34 weeks gestation", 6.0),
    ("five weeks premature", 5.0),
    ("3 weeks prem", 3.0),
    ("born 3 weeks prem", 3.0),
    ("2 weeks too early", 2.0),
    ("2 months early", 2 * WEEKS_PER_MONTH),
    ("a month early", WEEKS_PER_MONTH),
    ("ten days early", 10 / 7),
    ("a few days early", 0.5),
    ("3 weeks before her due date", 3.0),
    ("premature by 5 weeks", 5.0),
    ("early by a month", WEEKS_PER_MONTH),
    ("2 weeks late", 0.0),
    ("born at 8 months", WEEKS_PER_MONTH),
]


@pytest.mark.parametrize(("text", "weeks"), WEEKS_EARLY_CASES)
def test_parse_weeks_early(text: str, weeks: float) -> None:
    assert parse_weeks_early(text) == approx(weeks)


NONSENSE = [
    "",
    "   ",
    "banana",
    "asdfgh",
    "months",
    "month old",
    "the 3 of us",
    "page 10",
    "she has 2 teeth",
    "I have 3 kids",
    "10 toes",
    "she's 10",
    "why is my baby crawling backwards",
    "she has 2 dads",
    "2 mouths",
    "wait a second",
]


@pytest.mark.parametrize("text", NONSENSE)
def test_nonsense_parses_as_nothing(text: str) -> None:
    assert extract_entities(text) == []
    assert parse_age_months(text) is None
    assert parse_duration_seconds(text) is None
    assert parse_weeks_early(text) is None


NOT_AN_AGE = [
    "6 weeks early",
    "born at 34 weeks",
    "a month early",
    "2 minutes",
    "about 10 secs",
    "she's been doing it for 2 weeks",
    "for the last 3 months",
    "in 2 weeks",
    "2 months ago",
    "once a month",
    "twice a week",
    "after a year of crawling",
    "I was 6 months pregnant",
]


@pytest.mark.parametrize("text", NOT_AN_AGE)
def test_not_an_age(text: str) -> None:
    assert parse_age_months(text) is None


NOT_A_DURATION = ["12 months", "a year and a half", "6 weeks early", "every 5 minutes", "10 minutes ago"]


@pytest.mark.parametrize("text", NOT_A_DURATION)
def test_not_a_duration(text: str) -> None:
    assert parse_duration_seconds(text) is None


NOT_WEEKS_EARLY = ["6 weeks old", "six weeks", "a month", "12 months", "born at 4 weeks old", "2 minutes"]


@pytest.mark.parametrize("text", NOT_WEEKS_EARLY)
def test_not_weeks_early(text: str) -> None:
    assert parse_weeks_early(text) is None


SPAN_CASES = [
    ("my 12 month old", "age", "12 month", 12.0),
    ("she is 10 months old", "age", "10 months", 10.0),
    ("ten and a half months", "age", "ten and a half months", 10.5),
    ("he's 1yo", "age", "1yo", 12.0),
    ("my 1 y/o son", "age", "1 y/o", 12.0),
    ("a year and a half", "age", "a year and a half", 18.0),
    ("18 mo", "age", "18 mo", 18.0),
    ("about 14 months", "age", "14 months", 14.0),
    ("nearly 11 months", "age", "11 months", 11.0),
    ("13-month-old", "age", "13-month", 13.0),
    ("14m old", "age", "14m", 14.0),
    ("she's 2 and a half", "age", "2 and a half", 30.0),
    ("about 10 secs", "duration", "10 secs", 10.0),
    ("for half a minute", "duration", "half a minute", 30.0),
    ("only a couple of seconds", "duration", "a couple of seconds", 2.0),
    ("maybe a second or two", "duration", "a second or two", 1.5),
    ("2 minutes tops", "duration", "2 minutes", 120.0),
    ("she was 6 weeks early", "weeks_early", "6 weeks early", 6.0),
    ("he was born at 34 weeks.", "weeks_early", "born at 34 weeks", 6.0),
    ("five weeks premature", "weeks_early", "five weeks premature", 5.0),
    ("born 3 weeks prem", "weeks_early", "3 weeks prem", 3.0),
    ("a 34 weeker", "weeks_early", "34 weeker", 6.0),
]


@pytest.mark.parametrize(("text", "entity", "span", "value"), SPAN_CASES)
def test_entity_spans(text: str, entity: str, span: str, value: float) -> None:
    (match,) = extract_entities(text)
    assert (match.entity, match.text) == (entity, span)
    assert text[match.start : match.end] == span
    assert match.value == approx(value)


def test_several_entities_in_order_without_overlap() -> None:
    text = "My 14 month old stood for about 10 secs; she was born 6 weeks early, not 6 weeks old."
    found = extract_entities(text)
    assert [(m.entity, m.text) for m in found] == [
        ("age", "14 month"),
        ("duration", "10 secs"),
        ("weeks_early", "6 weeks early"),
        ("age", "6 weeks"),
    ]
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))
    assert isinstance(found[0], EntityMatch)


def test_offsets_survive_unicode_and_case() -> None:
    text = "Élodie’s TWO YEARS and she stood ½ a minute"
    found = extract_entities(text)
    assert [(m.entity, m.text) for m in found] == [("age", "TWO YEARS"), ("duration", "½ a minute")]
    assert found[0].value == approx(24.0)


@pytest.mark.parametrize(
    ("text", "value"),
    [("10", 10.0), ("about ten", 10.0), ("she's 10", 10.0), ("6?", 6.0), ("10 and a half", 10.5),
        ("my little one is 9", 9.0),
     ("10 toes", None), ("page 10", None), ("10 or 12 or 14", None), ("", None), ("yes", None)],
)  # fmt: skip
def test_parse_bare_number(text: str, value: Optional[float]) -> None:
    result = parse_bare_number(text)
    assert result == (None if value is None else approx(value))


@pytest.mark.parametrize(
    ("text", "weeks"),
    [("6 weeks", 6.0), ("yes about 3 weeks", 3.0), ("a month", WEEKS_PER_MONTH), ("34 weeks", 6.0),
     ("6 weeks early", 6.0), ("6 weeks old", None), ("she is 10 months", None), ("no", None)],
)  # fmt: skip
def test_parse_early_amount(text: str, weeks: Optional[float]) -> None:
    result = parse_early_amount(text)
    assert result == (None if weeks is None else approx(weeks))


SPACY_ALIGNMENT_TEXTS = [case[0] for case in SPAN_CASES] + [
    "1y3m",
    "she's 1 y.o.",
    "born at 34+3 weeks",
    "10secs",
    "my 2-year-old",
    "1 1/2 years",
    "3 weeks before her due date",
]


def test_spans_align_with_spacy_tokens() -> None:
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    for text in SPACY_ALIGNMENT_TEXTS:
        doc = nlp(text)
        for match in extract_entities(text):
            assert doc.char_span(match.start, match.end) is not None, (text, match)


def test_fast_enough_for_every_message() -> None:
    text = "my 14 month old stood for about 10 secs, she was born 6 weeks early, is that ok?"
    extract_entities(text)
    runs = 300
    began = time.perf_counter()
    for _ in range(runs):
        extract_entities(text)
    assert (time.perf_counter() - began) / runs < 0.001


def test_import_is_light() -> None:
    code = (
        "import sys, bot.nlu.parsers, bot.triage.answers; "
        "heavy = {'spacy', 'rasa', 'rasa_sdk', 'tensorflow'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
