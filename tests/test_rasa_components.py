"""The Rasa NLU components on real Rasa messages: entities with values, red flags overriding the intent."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfTransformer

from rasa_components.intent_classifier import inverse_document_frequency, weigh
from rasa_components.red_flags import RedFlagRules
from rasa_components.understanding import UnderstandingComponent


def message(text: str, intent: str = "inform", confidence: float = 0.9, ranking: List[Dict[str, Any]] | None = None) -> Message:
    msg = Message(data={"text": text})
    msg.set("intent", {"name": intent, "confidence": confidence})
    msg.set("intent_ranking", ranking or [{"name": intent, "confidence": confidence}])
    return msg


def test_understanding_adds_normalised_entities_and_facts() -> None:
    component = UnderstandingComponent({})
    [msg] = component.process([message("my 18 mo was born at 34 weeks and stands for half a minute")])
    found = {(e["entity"], e["value"]) for e in msg.get("entities")}
    assert found == {("age", 18.0), ("weeks_early", 6.0), ("duration", 30.0)}
    assert all(e["extractor"] == "UnderstandingComponent" for e in msg.get("entities"))
    facts = {f["slot"]: f["value"] for f in msg.get("understanding")["facts"]}
    assert facts == {"age_months": 18.0, "weeks_early": 6.0, "stands_alone_seconds": 30.0}


def test_past_age_is_not_the_current_age() -> None:
    [msg] = UnderstandingComponent({}).process([message("my 15 month old had his hips scanned at 6 weeks and they were fine")])
    ages = [(e["value"], e.get("role")) for e in msg.get("entities") if e["entity"] == "age"]
    assert ages[0] == (15.0, None) and all(role == "past" for _, role in ages[1:])
    facts = {f["slot"]: f["value"] for f in msg.get("understanding")["facts"]}
    assert facts["age_months"] == 15.0 and facts["hips_checked"] == "yes"


def test_correction_and_repair_become_inform() -> None:
    component = UnderstandingComponent({})
    [fixed] = component.process([message("sorry, he's 17 months not 11", intent="ask_late_walking")])
    assert fixed.get("intent")["name"] == "inform" and fixed.get("understanding")["correction"]
    [again] = component.process([message("can you say that again?", intent="nlu_fallback")])
    assert again.get("intent")["name"] == "inform" and again.get("understanding")["repair"] == "repeat"


def test_a_described_sign_starts_its_topic() -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "ask_late_walking", "confidence": 0.2}]
    [msg] = UnderstandingComponent({}).process([message("one of her legs looks shorter when I change her", "nlu_fallback", 0.3, ranking)])
    assert msg.get("intent")["name"] == "ask_hip_health" and msg.get("understanding")["routed"]
    [topic] = UnderstandingComponent({}).process([message("why is my baby crawling backwards", "ask_crawling_backward")])
    assert topic.get("intent")["name"] == "ask_crawling_backward" and not topic.get("understanding")["routed"]


def test_red_flag_overrides_the_classifier() -> None:
    rules = RedFlagRules({})
    [msg] = rules.process([message("he fell down the stairs and hit his head", intent="ask_late_walking", confidence=0.97)])
    assert msg.get("intent") == {"name": "report_red_flag", "confidence": 1.0}
    assert msg.get("intent_ranking")[1]["name"] == "ask_late_walking"
    assert [e["value"] for e in msg.get("entities") if e["entity"] == "red_flag"] == ["injury"]


def test_near_miss_leaves_the_classifier_alone() -> None:
    [msg] = RedFlagRules({}).process([message("why is my baby crawling backwards", intent="ask_crawling_backward")])
    assert msg.get("intent")["name"] == "ask_crawling_backward"
    assert not msg.get("entities")


def test_unsure_classifier_red_flag_is_not_escalated() -> None:
    ranking = [{"name": "report_red_flag", "confidence": 0.5}, {"name": "out_of_scope", "confidence": 0.3}]
    [msg] = RedFlagRules({}).process([message("something odd happened", "report_red_flag", 0.5, ranking)])
    assert msg.get("intent")["name"] == "out_of_scope"


def test_confident_classifier_red_flag_is_kept() -> None:
    ranking = [{"name": "report_red_flag", "confidence": 0.93}, {"name": "inform", "confidence": 0.03}]
    [msg] = RedFlagRules({}).process([message("my baby is really not right, something is very wrong", "report_red_flag", 0.93, ranking)])
    assert msg.get("intent")["name"] == "report_red_flag"


def test_tfidf_weights_match_scikit_learn() -> None:
    counts = csr_matrix(np.array([[3, 0, 1, 0], [0, 2, 1, 0], [1, 1, 0, 5]], dtype=float))
    expected = TfidfTransformer(sublinear_tf=True).fit_transform(counts).toarray()
    ours = weigh(counts, inverse_document_frequency(counts)).toarray()
    assert np.allclose(ours, expected)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0)
