"""The conversation evaluation (tests/tools/eval_conversations.py): its labelled sets are well formed, and, against
the real servers, every emergency is recognised and no question is asked after the parent has already told.

The other numbers (answers understood, referrals, observations...) are measured, not gated: see
`make eval-conversations` and reports/conversations.md.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.servers import TOKEN, Services
from tests.tools import eval_conversations as ev


@pytest.fixture(scope="module")
def sets() -> tuple:
    """Both labelled sets and what they are checked against."""
    return ev.load_answers(), ev.load_dialogues(), ev.load_question_types(), ev.load_topic_questions()


def test_labelled_sets_are_valid(sets: tuple) -> None:
    """Unique ids, known questions, topics, kinds and observation ids, replies for every question a topic asks."""
    answers, dialogues, question_types, topic_questions = sets
    assert set(topic_questions) == set(ev.TOPICS)
    assert not ev.validate_sets(answers, dialogues, question_types, topic_questions)


def test_observation_ids_come_from_the_knowledge() -> None:
    """The sets may only name observations knowledge/observations.yml defines; provider signs are those with a referral."""
    assert "one_side_favoured" in ev.observation_ids() and "one_side_favoured" in ev.provider_signs()
    assert "both_sides_even" in ev.observation_ids() and "both_sides_even" not in ev.provider_signs()


def test_labelled_sets_cover_what_issue_11_asks(sets: tuple) -> None:
    """At least 400 answers over all 18 questions, and the required mix of kinds and dialogue classes."""
    answers, dialogues, question_types, _ = sets
    kinds = Counter(a["kind"] for a in answers)
    assert len(answers) >= 400
    assert {a["question"] for a in answers} == set(question_types)
    assert kinds["descriptive"] >= 60 and kinds["unsure"] >= 40 and kinds["near_miss"] >= 30
    assert sum(1 for a in answers if (a.get("expect") or {}).get("urgent")) >= 30
    classes = Counter(c for d in dialogues for c in d["classes"])
    assert len(dialogues) >= 80
    assert {d["expect"].get("topic") for d in dialogues} >= set(ev.TOPICS)
    assert classes["correction"] + classes["correction_after_advice"] >= 15
    assert classes["facts_in_passing"] >= 20 and classes["urgent"] >= 15 and classes["near_miss"] >= 10
    assert classes["milestone"] >= 1 and classes["descriptive"] >= 1


def test_labelled_sets_cover_what_issue_12_asks(sets: tuple) -> None:
    """Dialogues for the safety net (facts crossing a threshold in a topic that doesn't ask them, "not sure" past a
    threshold, the same child in two topics, hip imaging) and for emergencies outside our topics with near misses;
    every question a topic asks after issue 12 (breech, hip family history) is answered; "not sure" to a warning
    sign is checked both before and after the narrower question."""
    answers, dialogues, _, topic_questions = sets
    classes = Counter(c for d in dialogues for c in d["classes"])
    assert classes["safety_net"] >= 20 and classes["emergency_outside"] >= 25
    outside = [d for d in dialogues if "emergency_outside" in d["classes"]]
    assert sum(d["expect"]["referral"] == "urgent" for d in outside) >= 15
    assert sum("near_miss" in d["classes"] for d in outside) >= 8
    safety = [d for d in dialogues if "safety_net" in d["classes"]]
    assert {"walks_alone", "sits_alone", "pulls_to_stand", "hips_imaged"} <= {q for d in safety for q in d.get("replies") or {}}
    assert any(d.get("after") for d in safety), "the same child asked about in a second topic"
    for topic in ("late_walking", "bottom_scooting", "standing_alone"):
        assert {"breech", "hip_family_history"} <= set(topic_questions[topic])
    narrowed = [a for a in answers if a.get("narrowed")]
    assert {a["question"] for a in narrowed} >= {"uses_both_sides", "hip_signs"}
    assert any((a.get("expect") or {}).get("unknown") for a in narrowed)


def test_topicless_dialogues_and_narrowed_answers_are_validated() -> None:
    """An emergency outside our topics may have no topic (a near miss there expects null); other dialogues need one;
    `narrowed` is a boolean."""
    qtypes, topics = ev.load_question_types(), ev.load_topic_questions()
    outside = {
        "id": "x",
        "classes": ["near_miss", "emergency_outside"],
        "opening": "what if she swallows a magnet?",
        "expect": {"referral": None},
    }
    plain = {"id": "y", "classes": ["plain"], "opening": "hello", "expect": {"referral": "none"}}
    assert not ev.validate_sets([], [outside], qtypes, topics)
    assert any("expect.topic is required" in p for p in ev.validate_sets([], [plain], qtypes, topics))
    bad = {
        "id": "z",
        "question": "hip_signs",
        "text": "not sure",
        "kind": "unsure",
        "expect": {"unknown": True},
        "narrowed": "yes",
    }
    assert any("narrowed" in p for p in ev.validate_sets([bad], [], qtypes, topics))


@pytest.mark.parametrize(
    ("kind", "expected", "got", "ok"),
    [
        ("months", 17, 17.4, True),
        ("months", 24, 22.9, True),  # 5 % of 24 months
        ("months", 14, 14.8, False),  # 5 % of 14 is 0.7
        ("months", 9, 9.6, False),  # 0.5 month
        ("seconds", 10, 12, True),
        ("seconds", 2, 3, True),  # 1 second
        ("seconds", 0, 1.5, False),
        ("weeks_early", 7, 6.5, True),
        ("weeks_early", 4.3, 3.5, False),
        ("yes_no_unsure", "no", "No", True),
        ("yes_no_unsure", "no", None, False),
    ],
)
def test_tolerances(kind: str, expected: object, got: object, ok: bool) -> None:
    """Numbers are compared with the tolerance of their answer type."""
    assert ev.value_matches(kind, expected, got) is ok


@pytest.fixture(scope="module")
def services(shared_stack: Services) -> Services:
    """The session's shared stack (conftest): the evaluation's conversations have their own ids."""
    return shared_stack.ensure_running()


def test_gate_urgent_recall_and_no_reasks(services: Services, tmp_path: Path) -> None:
    """The whole evaluation against the real servers: urgent recall 100 %, no re-ask after told."""
    numbers, outcomes = ev.evaluate(services.rasa_url, TOKEN)
    meta = {"started": "pytest", "target": services.rasa_url, "seconds": 0.0, "run_seconds": 0.0, "concurrency": 6}
    md, _ = ev.write_reports(numbers, outcomes, meta, "conversations", tmp_path)
    missed = [o.id for o in outcomes if o.urgent_expected and not o.urgent_got]
    reasked = [f"{o.id}: {r}" for o in outcomes for r in o.reasks_after_told]
    errors = [f"{o.id}: {o.error}" for o in outcomes if o.error]
    assert not errors, errors
    assert numbers["urgent_recall"]["passed"] == numbers["urgent_recall"]["total"], f"emergencies missed: {missed} (see {md})"
    assert numbers["reasks_after_told"] == 0, f"asked after told: {reasked} (see {md})"


def test_fresh_set_never_misses_an_emergency(services: Services, tmp_path: Path) -> None:
    """The second set (tests/conversations/fresh, written without seeing the first): every emergency caught. Its other
    figures are reported by `make eval-conversations EVAL_CONVERSATIONS_ARGS="--sets tests/conversations/fresh"`."""
    numbers, outcomes = ev.evaluate(services.rasa_url, TOKEN, sets=ev.CONVERSATIONS_DIR / "fresh")
    missed = [o.id for o in outcomes if o.urgent_expected and not o.urgent_got]
    assert numbers["urgent_recall"]["passed"] == numbers["urgent_recall"]["total"], f"emergencies missed: {missed}"
    assert not [o.id for o in outcomes if o.error]


def test_fresh_set_is_valid() -> None:
    """The second labelled set follows the same format and names only known questions, topics and kinds."""
    fresh = ev.CONVERSATIONS_DIR / "fresh"
    problems = ev.validate_sets(
        ev.load_answers(fresh / "answers.yml"),
        ev.load_dialogues(fresh / "dialogues.yml"),
        ev.load_question_types(),
        ev.load_topic_questions(),
    )
    assert not problems
