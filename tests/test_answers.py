"""Table-driven tests for reading free-text replies to follow-up questions."""

import dataclasses
from typing import List, Optional, Tuple, Union

import pytest

from bot.nlu.parsers import WEEKS_PER_MONTH
from bot.triage.answers import Answer, AnswerStatus, interpret_answer, parse_yes_no

VALUE, UNKNOWN, UNPARSED, NEEDS_DETAIL = (
    AnswerStatus.VALUE,
    AnswerStatus.UNKNOWN,
    AnswerStatus.UNPARSED,
    AnswerStatus.NEEDS_DETAIL,
)

YES_NO_CASES = [
    # yes
    ("yes", "yes"),
    ("Yes!", "yes"),
    ("yeah", "yes"),
    ("yep", "yes"),
    ("yup", "yes"),
    ("ya", "yes"),
    ("sure", "yes"),
    ("definitely", "yes"),
    ("of course", "yes"),
    ("she does", "yes"),
    ("he can", "yes"),
    ("I think so", "yes"),
    ("I guess so", "yes"),
    ("the doctor checks them every visit", "yes"),
    ("they were checked at birth", "yes"),
    ("both sides yes", "yes"),
    ("yes but only one side", "yes"),
    ("yes, no problems found", "yes"),
    ("she pulls up on the sofa", "yes"),
    # no
    ("no", "no"),
    ("NO.", "no"),
    ("nope", "no"),
    ("nah", "no"),
    ("not really", "no"),
    ("no, not really", "no"),
    ("she doesn't", "no"),
    ("she doesnt", "no"),
    ("he can't", "no"),
    ("never", "no"),
    ("not that I know of", "no"),
    ("not yet", "no"),
    ("I don't think so", "no"),
    ("of course not", "no"),
    ("they were never checked", "no"),
    # unsure
    ("not sure", "unsure"),
    ("I'm not sure", "unsure"),
    ("not really sure", "unsure"),
    ("no idea", "unsure"),
    ("I don't know", "unsure"),
    ("dunno", "unsure"),
    ("idk", "unsure"),
    ("maybe", "unsure"),
    ("sometimes", "unsure"),
    ("hard to say", "unsure"),
    ("I haven't noticed", "unsure"),
    ("can't remember", "unsure"),
    ("yes and no", "unsure"),
    # not an answer at all
    ("banana", None),
    ("asdf", None),
    ("what?", None),
    ("why do you ask?", None),
    ("does it matter?", None),
    ("I have 3 kids", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), YES_NO_CASES)
def test_parse_yes_no(text: str, expected: Optional[str]) -> None:
    assert parse_yes_no(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("no problems", "no"), ("she's fine", "no"), ("all normal as far as I can see", "no"), ("no", "no"),
     ("yes, one leg looks longer", "yes"), ("not sure", "unsure"), ("yes", "yes")],
)
def test_all_fine_means_no_for_a_question_about_warning_signs(text: str, expected: str) -> None:
    assert parse_yes_no(text, all_clear="no") == expected
    assert interpret_answer("yes_no_unsure", text, "no").value == expected


INTERPRET_CASES: List[Tuple[str, str, AnswerStatus, Union[float, str, None]]] = [
    # months
    ("months", "10 months", VALUE, 10.0),
    ("months", "she's ten and a half months", VALUE, 10.5),
    ("months", "a year and a half", VALUE, 18.0),
    ("months", "6 weeks old", VALUE, 6 / WEEKS_PER_MONTH),
    ("months", "10", VALUE, 10.0),
    ("months", "about 14", VALUE, 14.0),
    ("months", "she's 2 and a half", VALUE, 30.0),
    ("months", "she is 7 years old", VALUE, 84.0),
    ("months", "not sure", UNKNOWN, None),
    ("months", "I don't know", UNKNOWN, None),
    ("months", "banana", UNPARSED, None),
    ("months", "yes", UNPARSED, None),
    ("months", "100", UNPARSED, None),
    ("months", "0", UNPARSED, None),
    ("months", "6 weeks early", UNPARSED, None),
    # weeks early
    ("weeks_early", "no", VALUE, 0.0),
    ("weeks_early", "nope", VALUE, 0.0),
    ("weeks_early", "on time", VALUE, 0.0),
    ("weeks_early", "full term", VALUE, 0.0),
    ("weeks_early", "she was full-term", VALUE, 0.0),
    ("weeks_early", "born at 40 weeks", VALUE, 0.0),
    ("weeks_early", "at term", VALUE, 0.0),
    ("weeks_early", "she was late", VALUE, 0.0),
    ("weeks_early", "overdue", VALUE, 0.0),
    ("weeks_early", "she wasn't early", VALUE, 0.0),
    ("weeks_early", "a few days early", VALUE, 0.5),
    ("weeks_early", "6 weeks early", VALUE, 6.0),
    ("weeks_early", "born at 34 weeks", VALUE, 6.0),
    ("weeks_early", "a 34 weeker", VALUE, 6.0),
    ("weeks_early", "6", VALUE, 6.0),
    ("weeks_early", "34", VALUE, 6.0),
    ("weeks_early", "yes, 6 weeks", VALUE, 6.0),
    ("weeks_early", "a month early", VALUE, WEEKS_PER_MONTH),
    ("weeks_early", "yes", NEEDS_DETAIL, None),
    ("weeks_early", "yeah she was early", NEEDS_DETAIL, None),
    ("weeks_early", "a bit early", NEEDS_DETAIL, None),
    ("weeks_early", "she was premature", NEEDS_DETAIL, None),
    ("weeks_early", "not sure", UNKNOWN, None),
    ("weeks_early", "no idea", UNKNOWN, None),
    ("weeks_early", "banana", UNPARSED, None),
    ("weeks_early", "why do you ask?", UNPARSED, None),
    # seconds standing alone
    ("seconds", "about 10 secs", VALUE, 10.0),
    ("seconds", "half a minute", VALUE, 30.0),
    ("seconds", "a second or two", VALUE, 1.5),
    ("seconds", "10", VALUE, 10.0),
    ("seconds", "0", VALUE, 0.0),
    ("seconds", "she doesn't stand on her own", VALUE, 0.0),
    ("seconds", "not at all", VALUE, 0.0),
    ("seconds", "never", VALUE, 0.0),
    ("seconds", "can't yet", VALUE, 0.0),
    ("seconds", "no", VALUE, 0.0),
    ("seconds", "only when holding on", VALUE, 0.0),
    ("seconds", "for ages", VALUE, 60.0),
    ("seconds", "for a long time", VALUE, 60.0),
    ("seconds", "a while", VALUE, 60.0),
    ("seconds", "just a moment", VALUE, 1.0),
    ("seconds", "yes she can", NEEDS_DETAIL, None),
    ("seconds", "not for long", NEEDS_DETAIL, None),
    ("seconds", "not sure", UNKNOWN, None),
    ("seconds", "banana", UNPARSED, None),
    ("seconds", "12 months", UNPARSED, None),
    # yes / no / unsure
    ("yes_no_unsure", "yep", VALUE, "yes"),
    ("yes_no_unsure", "the doctor checks them every visit", VALUE, "yes"),
    ("yes_no_unsure", "nah", VALUE, "no"),
    ("yes_no_unsure", "not that I know of", VALUE, "no"),
    ("yes_no_unsure", "not really sure", VALUE, "unsure"),
    ("yes_no_unsure", "dunno", VALUE, "unsure"),
    ("yes_no_unsure", "banana", UNPARSED, None),
    ("yes_no_unsure", "why do you ask?", UNPARSED, None),
]


@pytest.mark.parametrize(("answer_type", "text", "status", "value"), INTERPRET_CASES)
def test_interpret_answer(answer_type: str, text: str, status: AnswerStatus, value: Union[float, str, None]) -> None:
    answer = interpret_answer(answer_type, text)
    assert answer.status is status
    if isinstance(value, float):
        assert answer.value == pytest.approx(value, rel=0.02)
    else:
        assert answer.value == value


@pytest.mark.parametrize("answer_type", ["choice", "", "MONTHS"])
def test_unknown_answer_type_is_an_error(answer_type: str) -> None:
    with pytest.raises(ValueError, match="answer type"):
        interpret_answer(answer_type, "10")


def test_answer_is_frozen_and_status_is_a_string() -> None:
    answer = Answer(AnswerStatus.VALUE, 10.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.value = 11.0  # type: ignore[misc]
    assert AnswerStatus.NEEDS_DETAIL == "needs_detail"
    assert Answer(AnswerStatus.UNPARSED).value is None


def test_every_status_is_covered() -> None:
    assert {row[2] for row in INTERPRET_CASES} == set(AnswerStatus)
