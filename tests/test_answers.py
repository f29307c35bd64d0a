"""Table-driven tests for reading free-text replies to follow-up questions."""

from typing import List, Optional, Tuple, Union

import pytest

from bot.triage.answers import AnswerStatus, interpret_answer, parse_yes_no

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
    [
        ("no problems", "no"),
        ("she's fine", "no"),
        ("all normal as far as I can see", "no"),
        ("no", "no"),
        ("yes, one leg looks longer", "yes"),
        ("not sure", "unsure"),
        ("yes", "yes"),
    ],
)
def test_all_fine_means_no_for_a_question_about_warning_signs(text: str, expected: str) -> None:
    assert parse_yes_no(text, all_clear="no") == expected
    assert interpret_answer("yes_no_unsure", text, "no").value == expected


INTERPRET_CASES: List[Tuple[str, str, AnswerStatus, Union[float, str, None]]] = [
    # months
    ("months", "10 months", VALUE, 10.0),
    ("months", "she's ten and a half months", VALUE, 10.5),
    ("months", "a year and a half", VALUE, 18.0),
    ("months", "6 weeks old", VALUE, 1.3799),
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
    ("weeks_early", "a month early", VALUE, 4.3482),
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


# Issue 11, item 5: ages in words, past ages, rates; idioms for standing; more ways to say "born early".
NUMBER_ANSWER_CASES: List[Tuple[str, str, AnswerStatus, Union[float, str, None]]] = [
    ("months", "he's 3 and a bit", VALUE, 36.0),  # "and a bit": a little over, read as years like "and a half"
    ("seconds", "a whole minute, I counted!", VALUE, 60.0),
    ("seconds", "long enough to count to three", VALUE, 3.0),
    ("seconds", "she was at 4 seconds last month, now around 12", VALUE, 12.0),
    ("weeks_early", "overdue by a week", VALUE, 0.0),
    ("weeks_early", "arrived early in week 35", VALUE, 5.0),
    ("weeks_early", "a fortnight early", VALUE, 2.0),
    # "How old is your child?"
    ("months", "a year and five months", VALUE, 17.0),
    ("months", "one and a half", VALUE, 18.0),
    ("months", "1 and a half", VALUE, 18.0),
    ("months", "a year and a half", VALUE, 18.0),
    ("months", "nearly 2", VALUE, 24.0),
    ("months", "almost two", VALUE, 24.0),
    ("months", "turning 2", VALUE, 24.0),
    ("months", "just turned 2", VALUE, 24.0),
    ("months", "over 1", VALUE, 12.0),
    ("months", "going on 3", VALUE, 36.0),
    ("months", "she'll be one next week", VALUE, 12.0),
    ("months", "nearly 10", VALUE, 10.0),  # a bare number above 4 stays months
    ("months", "2", NEEDS_DETAIL, 2.0),  # a bare 1-3 could be months or years: the assistant asks which
    ("months", "she's 3", NEEDS_DETAIL, 3.0),
    ("months", "4", VALUE, 4.0),  # from 4 on a bare number reads as months
    ("months", "15mo", VALUE, 15.0),
    ("months", "15 mos", VALUE, 15.0),
    ("months", "18m", VALUE, 18.0),
    ("months", "1y 3m", VALUE, 15.0),
    ("months", "1.5 years", VALUE, 18.0),
    ("months", "eighteen months", VALUE, 18.0),
    ("months", "twenty-two months", VALUE, 22.0),
    ("months", "14 monthes", VALUE, 14.0),
    ("months", "2yo", VALUE, 24.0),
    ("months", "two and half years", VALUE, 30.0),
    ("months", "10 and a half months", VALUE, 10.5),
    ("months", "thirteen and a half months", VALUE, 13.5),
    ("months", "6 months corrected, 8 actual", VALUE, 8.0),
    ("months", "At 10 months", VALUE, 10.0),
    ("months", "10.5", VALUE, 10.5),
    ("months", "hes 11 monts", VALUE, 11.0),
    ("months", "she has 10 months", VALUE, 10.0),
    ("months", "my 15 month old had his hips scanned at 6 weeks and they were fine", VALUE, 15.0),
    ("months", "she's 19 months, she only started cruising at 13 months", VALUE, 19.0),
    # an age that is not the current one: ask again rather than guess
    ("months", "she walked at 11 months", NEEDS_DETAIL, None),
    ("months", "since 9 months", NEEDS_DETAIL, None),
    ("months", "her 2 month jabs", NEEDS_DETAIL, None),
    ("months", "6 months corrected", NEEDS_DETAIL, None),
    # rates and other amounts are not ages
    ("months", "how much tummy time a day", UNPARSED, None),
    ("months", "twice a week", UNPARSED, None),
    ("months", "3 times a day", UNPARSED, None),
    ("months", "10 minutes a day", UNPARSED, None),
    ("months", "2 weeks ago", UNPARSED, None),
    ("months", "a month ago", UNPARSED, None),
    ("months", "in a month", UNPARSED, None),
    ("months", "size 2 shoes", UNPARSED, None),
    ("months", "2 kids", UNPARSED, None),
    ("months", "36 degrees", UNPARSED, None),
    ("months", "38.5", UNPARSED, None),
    ("months", "5 steps", UNPARSED, None),
    # "How long can your child stand on their own?"
    ("seconds", "zero", VALUE, 0.0),
    ("seconds", "0", VALUE, 0.0),
    ("seconds", "none", VALUE, 0.0),
    ("seconds", "not even a second", VALUE, 0.0),
    ("seconds", "not even for a second", VALUE, 0.0),
    ("seconds", "a few secs", VALUE, 3.0),
    ("seconds", "a sec or two", VALUE, 1.5),
    ("seconds", "maybe 5 seconds", VALUE, 5.0),
    ("seconds", "5-10 seconds", VALUE, 7.5),
    ("seconds", "half a minute", VALUE, 30.0),
    ("seconds", "a minute or so", VALUE, 60.0),
    ("seconds", "10 sec", VALUE, 10.0),
    ("seconds", "10s", VALUE, 10.0),
    ("seconds", "ten seconds", VALUE, 10.0),
    ("seconds", "a couple secs", VALUE, 2.0),
    ("seconds", "none, she sits back down the second I let go", VALUE, 0.0),
    ("seconds", "she drops the second I let go", VALUE, 0.0),
    ("seconds", "the minute I let go she plops down", VALUE, 0.0),
    ("seconds", "the moment she lets go", VALUE, 0.0),
    ("seconds", "as soon as I let go she falls", VALUE, 0.0),
    ("seconds", "she falls straight away", VALUE, 0.0),
    ("seconds", "she sits down immediately", VALUE, 0.0),
    ("seconds", "she stands a second before she sits", VALUE, 1.0),
    ("seconds", "she stands for 5 seconds then drops the second I let go", VALUE, 5.0),
    ("seconds", "nope, not on her own", VALUE, 0.0),
    ("seconds", "two three seconds", VALUE, 2.5),
    ("seconds", "less than a second", VALUE, 0.5),
    # "Was your child born early?"
    ("weeks_early", "born at 33 weeks", VALUE, 7.0),
    ("weeks_early", "33 weeker", VALUE, 7.0),
    ("weeks_early", "33+4", VALUE, 40 - (33 + 4 / 7)),
    ("weeks_early", "36/40", VALUE, 4.0),
    ("weeks_early", "7 weeks premature", VALUE, 7.0),
    ("weeks_early", "2 months early", VALUE, 8.6964),
    ("weeks_early", "born at 8 months", VALUE, 4.3482),
    ("weeks_early", "on time", VALUE, 0.0),
    ("weeks_early", "no, full term", VALUE, 0.0),
    ("weeks_early", "40 weeks", VALUE, 0.0),
    ("weeks_early", "a week late", VALUE, 0.0),
    ("weeks_early", "actually she was born at 33 weeks", VALUE, 7.0),
    ("weeks_early", "she came 6 wks early", VALUE, 6.0),
    ("weeks_early", "born 3 weeks before her due date", VALUE, 3.0),
    ("weeks_early", "prem by 5 weeks", VALUE, 5.0),
    ("weeks_early", "34 wk", VALUE, 6.0),
    ("weeks_early", "born at thirty four weeks", VALUE, 6.0),
    ("weeks_early", "yes, 32 weeks", VALUE, 8.0),
    ("weeks_early", "35 wks", VALUE, 5.0),
    ("weeks_early", "early, 36 weeks", VALUE, 4.0),
    ("weeks_early", "premmie 6 weeks", VALUE, 6.0),
    ("weeks_early", "she was born with 35 weeks", VALUE, 5.0),
    ("weeks_early", "induced at 38 weeks", VALUE, 2.0),
    ("weeks_early", "yes about a month early", VALUE, 4.3482),
]


@pytest.mark.parametrize(("answer_type", "text", "status", "value"), INTERPRET_CASES + NUMBER_ANSWER_CASES)
def test_interpret_answer(answer_type: str, text: str, status: AnswerStatus, value: Union[float, str, None]) -> None:
    answer = interpret_answer(answer_type, text)
    assert answer.status is status
    if isinstance(value, float):
        assert answer.value == pytest.approx(value, rel=1e-4)  # months and weeks to 4 decimals: 6 weeks = 1.3799 months
    else:
        assert answer.value == value


@pytest.mark.parametrize("answer_type", ["choice", "", "MONTHS"])
def test_unknown_answer_type_is_an_error(answer_type: str) -> None:
    with pytest.raises(ValueError, match="answer type"):
        interpret_answer(answer_type, "10")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes, sometimes, when she's in the mood", "yes"),  # how often, not whether
        ("mostly yes, now and then she forgets", "yes"),
        ("no, only now and again when she is tired", "no"),
        ("no, well, at times maybe", "unsure"),  # "maybe" is doubt
        ("sometimes", "unsure"),
        ("not always", "unsure"),
        ("on and off", "unsure"),
        ("not sure, sometimes", "unsure"),
    ],
)
def test_frequency_is_not_doubt(text: str, expected: str) -> None:
    assert parse_yes_no(text) == expected


# --------------------------------------------------------------------------- replies read through a question's `reads`


@pytest.fixture(scope="module")
def question_reads() -> dict:
    """Each question's `reads`, from knowledge/questions.yml."""
    from pathlib import Path

    from bot.knowledge.documents import parse_questions

    questions = parse_questions(Path(__file__).resolve().parents[1] / "knowledge" / "questions.yml")
    return {slot: question.reads for slot, question in questions.items()}


@pytest.mark.parametrize(
    ("slot", "text", "expected"),
    [
        # "Does your child walk on their own yet?"
        ("walks_alone", "only holding my hand", "no"),
        ("walks_alone", "only holding my hands", "no"),
        ("walks_alone", "with the walker", "no"),
        ("walks_alone", "cruises only", "no"),
        ("walks_alone", "nope only cruising", "no"),
        ("walks_alone", "she sits down", "no"),
        ("walks_alone", "she still bum shuffles", "no"),
        ("walks_alone", "not yet, she just crawls", "no"),
        ("walks_alone", "no steps yet", "no"),
        ("walks_alone", "not even a few steps", "no"),
        ("walks_alone", "only if I hold her", "no"),
        ("walks_alone", "she pushes her walker around", "no"),
        ("walks_alone", "No, sits down or holds on", "no"),  # the clarify quick reply
        ("walks_alone", "a few wobbly steps", "yes"),
        ("walks_alone", "a few steps", "yes"),
        ("walks_alone", "toddles about", "yes"),
        ("walks_alone", "walks everywhere", "yes"),
        ("walks_alone", "he's running around everywhere", "yes"),
        ("walks_alone", "yes without holding my hand", "yes"),
        ("walks_alone", "she took her first steps last week", "yes"),
        ("walks_alone", "Yes, takes a few steps", "yes"),  # the clarify quick reply
        ("walks_alone", "not sure", "unsure"),
        # "Has your child ever had a hip ultrasound scan or a hip X-ray?"
        ("hips_imaged", "they just felt her hips", "no"),
        ("hips_imaged", "just examined", "no"),
        ("hips_imaged", "only the leg wiggling", "no"),
        ("hips_imaged", "never scanned", "no"),
        ("hips_imaged", "only the doctor feeling her hips and moving her legs at the check", "no"),
        ("hips_imaged", "the gp felt her hips, no scan", "no"),
        ("hip_signs", "they look the same to me", "no"),
        ("hip_signs", "both legs look about the same", "no"),
        ("hip_signs", "one leg looks a bit shorter", "yes"),
        ("hip_signs", "the creases are uneven", "yes"),
        ("hip_signs", "not uneven at all", "no"),
        ("hips_imaged", "no scan, just the 6 week check", "no"),
        ("hips_imaged", "they didn't scan her", "no"),
        ("hips_imaged", "I don't think she had a scan", "no"),
        ("hips_imaged", "No, only examined by hand", "no"),  # the clarify quick reply
        ("hips_imaged", "yes she had an ultrasound at 6 weeks", "yes"),
        ("hips_imaged", "scanned", "yes"),
        ("hips_imaged", "ultrasound", "yes"),
        ("hips_imaged", "x-ray", "yes"),
        ("hips_imaged", "had a scan at 6 weeks", "yes"),
        ("hips_imaged", "she had an x-ray at 6 months", "yes"),
        ("hips_imaged", "Yes, a scan or X-ray", "yes"),  # the clarify quick reply
        ("hips_imaged", "not sure", "unsure"),
        # a scan still counts as a hip check
        ("hips_checked", "scanned at 6 weeks", "yes"),
        ("hips_checked", "x-ray at 6 months", "yes"),
    ],
)
def test_walking_and_hip_imaging_replies(question_reads: dict, slot: str, text: str, expected: str) -> None:
    answer = interpret_answer("yes_no_unsure", text, reads=question_reads[slot])
    assert answer.status is VALUE and answer.value == expected


@pytest.mark.parametrize(
    "answer_type, value, expected",
    [
        ("months", 14, 14.0),
        ("months", 10.5, 10.5),
        ("months", {"x": 1}, None),
        ("months", "14", None),
        ("months", float("nan"), None),
        ("months", float("inf"), None),
        ("months", -3, None),
        ("months", True, None),
        ("seconds", [5], None),
        ("weeks_early", 0, 0.0),
        ("yes_no_unsure", "yes", "yes"),
        ("yes_no_unsure", "unsure", "unsure"),
        ("yes_no_unsure", "YES", None),
        ("yes_no_unsure", {"value": "yes"}, None),
        ("yes_no_unsure", 1, None),
        ("yes_no_unsure", None, None),
    ],
)
def test_a_stored_answer_not_of_its_type_is_dropped(answer_type: str, value: object, expected: object) -> None:
    from bot.triage.answers import typed_value

    assert typed_value(answer_type, value) == expected


@pytest.mark.parametrize("text", ["⁰隫", "²", "she is 1⁰ months", "⁵ seconds", "about ³ weeks early", "①②", "𝟙𝟚 months"])
def test_digit_like_characters_never_break_an_answer(text: str) -> None:
    """Superscripts and circled numbers are digits to str.isdigit() but not to float(): read them as text."""
    for answer_type in ("months", "weeks_early", "seconds", "yes_no_unsure"):
        interpret_answer(answer_type, text)  # no exception
    from bot.nlu.understand import understand

    understand(text)
