"""Rasa NLU component: logistic regression over sublinear TF-IDF weights of the count features.

Rasa's LogisticRegressionClassifier fits raw counts with a fixed C=1. Weighting the same features by
TF-IDF (log counts; n-grams that few examples share count more; each row scaled to unit length) and
regularising less separates our many similar-sounding topic intents better. `make eval` reports both
side by side (configs/count_logreg.yml is the stock component). Builds on the stock component's private
_create_X and _create_training_matrix: listed in rasa_components/adaptations.py (RELIANCES).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

WEIGHTS_FILE = "weights.npz"


def inverse_document_frequency(counts: csr_matrix) -> np.ndarray:
    """Smoothed IDF per feature, as scikit-learn computes it: ln((1 + n) / (1 + df)) + 1."""
    n = counts.shape[0]
    document_frequency = np.asarray((counts > 0).sum(axis=0)).ravel()
    return np.log((1.0 + n) / (1.0 + document_frequency)) + 1.0


def weigh(counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
    """Sublinear TF-IDF: 1 + ln(count) for each non-zero count, times the IDF, each row scaled to length 1."""
    weighted = csr_matrix(counts, dtype=np.float64, copy=True)
    weighted.data = 1.0 + np.log(weighted.data)
    return normalize(csr_matrix(weighted.multiply(idf)), norm="l2")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Like LogisticRegressionClassifier, with sublinear TF-IDF weighting and a configurable C."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Defaults: C=30 (chosen by cross-validation, see README "Measured"), more iterations to converge."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 30.0, "max_iter": 3000}

    def __init__(self, config: Dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.idf: Optional[np.ndarray] = None
        self.clf = LogisticRegression(
            C=float(self.config["C"]),
            solver=self.config["solver"],
            max_iter=self.config["max_iter"],
            class_weight="balanced",
            tol=self.config["tol"],
            random_state=self.config["random_state"],
        )

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        """The count features of the messages, TF-IDF weighted once the weights are known."""
        counts = super()._create_X(messages)
        return weigh(counts, self.idf) if self.idf is not None else counts

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the IDF weights from the training examples, then fit the classifier on weighted features."""
        self.idf = None
        counts, labels = self._create_training_matrix(training_data)
        if counts.shape[0] == 0:
            return self._resource
        self.idf = inverse_document_frequency(counts)
        self.clf.fit(weigh(counts, self.idf), labels)
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Save what predicting needs as plain arrays (no pickle): the classifier's fitted weights, its classes and
        the IDF weights.

        Rasa saves the classifier with skops, whose import walks every scikit-learn module to list its trusted
        types: about 9 of the Rasa server's 25 s start-up, for four arrays."""
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(
                model_dir / WEIGHTS_FILE,
                coef=self.clf.coef_,
                intercept=self.clf.intercept_,
                classes=np.asarray(self.clf.classes_, dtype=str),
                idf=self.idf if self.idf is not None else np.zeros(0),
            )

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfLogisticRegressionClassifier:
        """The classifier as persist() saved it; an untrained one when nothing was saved (as Rasa's load does)."""
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as model_dir, np.load(model_dir / WEIGHTS_FILE, allow_pickle=False) as saved:
                component.clf.coef_, component.clf.intercept_ = saved["coef"], saved["intercept"]
                component.clf.classes_ = saved["classes"]
                component.clf.n_features_in_ = saved["coef"].shape[1]
                component.idf = saved["idf"] if saved["idf"].size else None
        except (ValueError, FileNotFoundError):
            component.idf = None
        return component
