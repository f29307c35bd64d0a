"""Dashboard decisions moved out of the web layer (bot/review/): explaining referrals, sign-in throttling, user
changes, the overview period and the exports, as plain functions (no web server)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.knowledge.documents import Rule
from bot.knowledge.store import KnowledgeBase
from bot.nlu.observations import Observation, ObservationCatalogue
from bot.review import accounts
from bot.review.db import engine_for
from bot.review.decisions import Reason, explain, milestone_line, observation_rules
from bot.review.exports import csv_document, jsonl_document
from bot.review.filters import FilterError, parse_period


def catalogue() -> ObservationCatalogue:
    """A catalogue of one sign that calls for a provider."""
    sign = Observation(
        id="stiff_legs",
        label="Legs stiff or crossing",
        say_back="has stiff legs",
        answers={},
        referral="provider",
        say="Stiff legs are worth showing to a provider.",
        sources=(),
        routes_to=(),
    )
    return ObservationCatalogue({"stiff_legs": sign}, [], [])


def decision(**changes: Any) -> Dict[str, Any]:
    """A decision as bot.review.transcript.decisions gives it."""
    return {"referral": "provider", "topic": "bottom_scooting", "rules": [], "red_flag": None, "at": 1_700_000_000.0, **changes}


def test_only_prefixed_known_signs_are_explained_as_signs() -> None:
    found = observation_rules(["stiff_legs", "observation:stiff_legs", "observation:gone", 7], catalogue())
    assert found == {
        "observation:stiff_legs": Reason(
            "observation:stiff_legs", "provider", "Legs stiff or crossing. Stiff legs are worth showing to a provider."
        )
    }


def test_a_topic_decision_shows_its_rules_then_the_signs_and_the_topics_sources(kb: KnowledgeBase) -> None:
    rules = ["observation:stiff_legs", "one_sided_movement", "retired_rule", "safety:not_walking_by_18_months"]
    explained = explain(decision(rules=rules), kb, catalogue())
    first, unknown, sign, check = explained.rules  # the signs the parent described, then the safety-net checks
    assert isinstance(first, Rule) and first.id == "one_sided_movement" and first.referral == "provider"
    assert unknown == "retired_rule"  # an id the knowledge base no longer has is shown as it is
    assert isinstance(check, Reason) and check.id == "safety:not_walking_by_18_months" and check.referral == "provider"
    assert check.say.startswith("Safety net: walks alone no. ")
    assert sign == Reason(
        "observation:stiff_legs", "provider", "Legs stiff or crossing. Stiff legs are worth showing to a provider."
    )
    assert "Bottom Shuffling Babies – Information for Parents" in [source.title for source in explained.sources]
    assert (explained.referral, explained.topic, explained.at) == ("provider", "bottom_scooting", 1_700_000_000.0)


def test_a_milestone_question_shows_the_milestone_and_its_sources(kb: KnowledgeBase) -> None:
    explained = explain(decision(topic="milestone:walks", rules=["milestone:walks", "observation:stiff_legs"]), kb, catalogue())
    assert explained.rules[0] == "milestone question: walking alone (check by 18 months)"
    assert [getattr(rule, "id", rule) for rule in explained.rules[1:]] == ["observation:stiff_legs"]
    assert "Delay in walking (Patient.info)" in [source.title for source in explained.sources]


def test_a_milestone_without_an_age_to_check_says_so(kb: KnowledgeBase) -> None:
    assert kb.milestones is not None
    walks = kb.milestones.get("walks")
    assert walks is not None
    assert milestone_line(walks) == "milestone question: walking alone (check by 18 months)"
    assert milestone_line(replace(walks, check_by=None)) == "milestone question: walking alone (no fixed age to check)"


def test_without_a_knowledge_base_rule_ids_are_shown_as_they_are() -> None:
    explained = explain(decision(rules=["one_sided_movement", "safety:not_walking_by_18_months"]), None, catalogue())
    assert explained.rules == ("one_sided_movement", "safety:not_walking_by_18_months") and explained.sources == ()


def test_a_throttled_sign_in_is_told_apart_from_a_wrong_password(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'accounts.db'}")
    accounts.add_user(engine, "sam", "a long enough password", "reviewer")
    for _ in range(5):
        with pytest.raises(accounts.AccountError) as wrong:
            accounts.sign_in(engine, "sam", "not the password", "10.0.0.3")
        assert not isinstance(wrong.value, accounts.SignInThrottled)
    with pytest.raises(accounts.SignInThrottled, match="Too many failed sign-ins"):
        accounts.sign_in(engine, "sam", "a long enough password", "10.0.0.3")  # even the right password waits
    assert accounts.throttled(engine, "sam", "10.0.0.4") and not accounts.throttled(engine, "sam", "10.0.0.4", time.time() + 901)


def test_user_changes_from_the_users_page(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'users.db'}")
    accounts.change_user(engine, "root", "add", "ann", "a long enough password")
    accounts.change_user(engine, "root", "add", "bob", "a long enough password", "admin")
    accounts.change_user(engine, "bob", "role", "ann", role="admin")
    accounts.change_user(engine, "bob", "disable", "ann")
    users = {user["username"]: (user["role"], user["active"]) for user in accounts.list_users(engine)}
    assert users == {"ann": ("admin", False), "bob": ("admin", True)}
    with pytest.raises(accounts.AccountError, match="You cannot disable your own account."):
        accounts.change_user(engine, "bob", "disable", "bob")
    with pytest.raises(accounts.AccountError, match="Unknown change."):
        accounts.change_user(engine, "bob", "delete", "ann")
    with pytest.raises(accounts.AccountError, match="The role must be one of reviewer, admin."):
        accounts.change_user(engine, "bob", "role", "ann")


@pytest.mark.parametrize("text, days", [(None, 30), ("7", 7), ("14", 14), ("30", 30), ("90", 90), ("200", 200), ("365", 365)])
def test_overview_periods(text: Any, days: int) -> None:
    assert parse_period(text) == days


@pytest.mark.parametrize("text", ["", "6", "366", "0007", "-7", "7.0", "thirty", "30 ", "３０"])
def test_other_periods_are_refused_with_the_range(text: str) -> None:
    with pytest.raises(FilterError, match=r"^Choose a whole number of days from 7 to 365, like 7, 30, 90, 365\.$"):
        parse_period(text)


ROWS: List[Dict[str, Any]] = [
    {"sender_id": "a", "topic": "late_walking", "tags": ["follow up", "hips"], "user_messages": 3, "search_text": "x"},
    {"sender_id": "b", "first_message": "=HYPERLINK(1)", "tags": [], "referral": None},
]


def test_csv_export_has_the_columns_joined_tags_and_no_formulas() -> None:
    text, count = csv_document(iter(ROWS))
    lines = text.splitlines()
    assert count == 2 and len(lines) == 3
    assert lines[0] == (
        "sender_id,started_at,last_at,channel,topic,referral,red_flag,misunderstood,misunderstood_reasons,had_fallback,"
        "low_confidence,asked_person,"
        "user_messages,first_message,tags,reviewed_by,reviewed_at"
    )
    assert lines[1] == "a,,,,late_walking,,,,,,,,3,,follow up hips,,"
    assert lines[2] == "b,,,,,,,,,,,,,'=HYPERLINK(1),,,"


def test_jsonl_export_is_one_object_a_line() -> None:
    text, count = jsonl_document(iter(ROWS))
    assert count == 2 and text.endswith("\n")
    assert [json.loads(line)["sender_id"] for line in text.splitlines()] == ["a", "b"]
    assert jsonl_document(iter([])) == ("", 0)
