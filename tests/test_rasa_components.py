"""The Rasa NLU components on real Rasa messages: entities with values, red flags overriding the intent."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfTransformer

from rasa_components.entities import MotorEntityExtractor
from rasa_components.intent_classifier import inverse_document_frequency, weigh
from rasa_components.red_flags import RedFlagRules


def message(text: str, intent: str = "inform", confidence: float = 0.9, ranking: List[Dict[str, Any]] | None = None) -> Message:
    msg = Message(data={"text": text})
    msg.set("intent", {"name": intent, "confidence": confidence})
    msg.set("intent_ranking", ranking or [{"name": intent, "confidence": confidence}])
    return msg


def test_entity_extractor_adds_normalised_values() -> None:
    extractor = MotorEntityExtractor()
    [msg] = extractor.process([message("my 18 mo was born at 34 weeks and stands for half a minute")])
    found = {(e["entity"], e["value"]) for e in msg.get("entities")}
    assert found == {("age", 18.0), ("weeks_early", 6.0), ("duration", 30.0)}
    assert all(e["extractor"] == "MotorEntityExtractor" for e in msg.get("entities"))


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
