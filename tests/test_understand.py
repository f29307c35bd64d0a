"""Reading a message once: facts with spans, past and rejected ages, corrections, repair requests, routing."""

from __future__ import annotations

from typing import Optional

import pytest

from bot.nlu.understand import (
    CANCEL,
    CLARIFY,
    REPEAT,
    SKIP,
    Understanding,
    is_correction,
    repair_request,
    routing_intent,
    understand,
)

TOPIC_INTENTS = {"hip_health": "ask_hip_health", "late_walking": "ask_late_walking", "crawling_backward": "ask_crawling_backward"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sorry, he's 17 months not 11", True),
        ("Sorry I meant 17 months", True),
        ("actually she was born at 33 weeks", True),
        ("no wait, she does pull up", True),
        ("oops typo, 14 months", True),
        ("my mistake, she's a year and a half", True),
        ("he's not 11 months, he's 17", True),  # "not <amount>," rejects what was said before
        ("he is 11 months", False),
        ("she pulls up on the sofa", False),
        ("I'm not sure", False),
    ],
)
def test_correction_cues(text: str, expected: bool) -> None:
    assert is_correction(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("can you say that again?", REPEAT),
        ("Could you repeat the question please", REPEAT),
        ("sorry what?", REPEAT),
        ("pardon?", REPEAT),
        ("what was the question", REPEAT),
        ("skip that one", SKIP),
        ("next question", SKIP),
        ("I'd rather not say", SKIP),
        ("pass", SKIP),
        ("forget it, different question", CANCEL),
        ("never mind", CANCEL),
        ("nvm", CANCEL),
        ("stop asking me questions", CANCEL),
        ("what do you mean?", CLARIFY),
        ("I don't understand the question", CLARIFY),
        # descriptions of the child are not requests about the conversation
        ("she can pass a toy from one hand to the other", None),
        ("he skips crawling and just bum shuffles", None),
        ("she stops and stares at the dog", None),
        ("yes", None),
        ("14 months", None),
        ("", None),
    ],
)
def test_repair_requests(text: str, expected: Optional[str]) -> None:
    assert repair_request(text) == expected


def test_current_age_and_rejected_age() -> None:
    heard = understand("he's not 11 months, he's 17 months")
    assert heard.value_for("age_months") == 17.0
    assert [e.role for e in heard.entities if e.entity == "age"][0] == "rejected"


def test_past_ages_never_become_the_age() -> None:
    heard = understand("she's 19 months and still not walking, she only started cruising at 13 months")
    assert heard.value_for("age_months") == 19.0
    assert 13.0 in heard.past_ages


def test_several_facts_in_one_message_are_all_kept() -> None:
    heard = understand("my 16 month old was born 6 weeks early and stands alone for about 5 seconds")
    assert heard.stated() == {"age_months": 16.0, "weeks_early": 6.0, "stands_alone_seconds": 5.0}


def test_a_duration_not_about_standing_is_not_standing_time() -> None:
    assert understand("she does 10 minutes of tummy time").value_for("stands_alone_seconds") is None


def test_a_warning_sign_wins_over_reassurance() -> None:
    heard = understand("yes she uses both hands, but she always reaches with her right and keeps the left in a fist")
    assert heard.value_for("uses_both_sides") == "no"


def test_round_trip_through_parse_data() -> None:
    heard = understand("sorry, my 15 month old keeps his right hand in a fist")
    again = Understanding.from_dict(heard.to_dict())
    assert again is not None
    assert again.stated() == heard.stated() and again.observation_ids == heard.observation_ids
    assert again.correction == heard.correction
    assert Understanding.from_dict("garbage") is None
    assert Understanding.from_dict({"facts": [{"slot": "x"}]}) is None


def test_parse_data_holds_no_parent_words() -> None:
    text = "my daughter Amelia drags her left leg when she crawls"
    assert "Amelia" not in repr(understand(text).to_dict())


@pytest.mark.parametrize(
    "text, intent, ranking, expected",
    [
        (
            "one of her legs looks shorter when I change her",
            "nlu_fallback",
            ["nlu_fallback", "ask_late_walking"],
            "ask_hip_health",
        ),
        ("sorry, he's 17 months not 11", "ask_late_walking", ["ask_late_walking"], "inform"),
        ("can you say that again?", "nlu_fallback", ["nlu_fallback"], "inform"),
        (
            "why does my baby crawl backwards",
            "ask_crawling_backward",
            ["ask_crawling_backward"],
            None,
        ),  # the classifier's topic stays
        ("hello", "greet", ["greet"], None),  # nothing described: nothing to route
    ],
)
def test_routing(text: str, intent: str, ranking: list, expected: Optional[str]) -> None:
    assert routing_intent(understand(text), intent, ranking, TOPIC_INTENTS) == expected


def test_a_huge_message_is_read_quickly() -> None:
    import time

    text = "my 15 month old drags one leg and keeps his hand in a fist " * 3000  # 180,000 characters
    started = time.perf_counter()
    heard = understand(text)
    assert time.perf_counter() - started < 2.0  # only the first 5,000 characters are read: milliseconds
    assert heard.value_for("age_months") == 15.0


@pytest.mark.parametrize(
    "text, slot",
    [
        ("no. my eldest was born at 30 weeks but this one went to 39", "weeks_early"),
        ("yes. her brother didn't pull up until 15 months, but she's already doing it", "pulls_to_stand"),
        ("my friend's little boy drags one leg, is that a worry?", "uses_both_sides"),
    ],
)
def test_what_is_said_about_someone_else_is_not_about_the_child(text: str, slot: str) -> None:
    heard = understand(text)
    assert heard.value_for(slot) in (None, "yes") and heard.others
    assert not [o for o in heard.observation_ids if o in ("not_pulling_up", "leg_drags")]


def test_the_parents_own_history_still_counts_for_family_history() -> None:
    assert understand("I had hip dysplasia as a baby and wore a harness").others == ()


def test_the_childs_own_possessive_is_the_child() -> None:
    heard = understand("my son's hips were checked at his 6 week check")
    assert heard.others == () and heard.value_for("hips_checked") == "yes"


def test_an_opening_made_only_of_facts_gets_the_best_ranked_topic() -> None:
    heard = understand("he's 14 months, pulls up on everything but won't stand without holding on")
    assert (
        routing_intent(
            heard, "inform", ["inform", "ask_standing_alone"], TOPIC_INTENTS | {"standing_alone": "ask_standing_alone"}
        )
        == "ask_standing_alone"
    )


def test_a_bottom_shuffler_who_does_not_walk_states_both_and_the_age() -> None:
    heard = understand("my 22 month old still bottom shuffles and doesn't walk")
    assert heard.stated() == {"age_months": 22.0, "gets_around": "yes", "walks_alone": "no"}
    assert heard.observation_ids == ("gets_around", "not_walking")


@pytest.mark.parametrize(
    "text, intent, ranking, expected",
    [
        # a description of not walking alone starts the late-walking topic ...
        ("he's 19 months and still isn't walking on his own", "inform", ["inform", "ask_bottom_scooting"], "ask_late_walking"),
        # ... but a topic the classifier heard named stays
        ("my 22 month old still bottom shuffles and doesn't walk", "ask_bottom_scooting", ["ask_bottom_scooting"], None),
        # a general question names no child
        ("is it normal not to walk at 14 months?", "nlu_fallback", ["nlu_fallback", "ask_late_walking"], None),
    ],
)
def test_routing_of_not_walking(text: str, intent: str, ranking: list, expected: Optional[str]) -> None:
    topics = TOPIC_INTENTS | {"bottom_scooting": "ask_bottom_scooting"}
    assert routing_intent(understand(text), intent, ranking, topics) == expected


def test_a_parents_own_hip_history_is_family_history_although_it_is_about_someone_else() -> None:
    heard = understand("My husband had clicky hips and wore a harness as a baby. Our son's hips were examined at 6 weeks.")
    assert heard.stated().get("hip_family_history") == "yes" and heard.others  # masked for other facts, not this one
    assert "hip_family_history" not in understand("my sister's baby had hip dysplasia").stated()
    assert "hip_family_history" not in understand("my husband's brother had hip dysplasia").stated()
