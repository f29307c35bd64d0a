"""The compiled validator accepts what Rasa accepts and still rejects malformed action-server responses."""

from __future__ import annotations

import time

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from rasa_components import action_response_validation

VALID = {"events": [{"event": "slot", "name": "topic", "value": "late_walking"}], "responses": [{"text": "hi"}]}


@pytest.fixture(autouse=True)
def installed() -> None:
    action_response_validation.install()


def test_valid_response_passes_quickly() -> None:
    action = RemoteAction("action_give_advice", None)
    started = time.perf_counter()
    for _ in range(50):
        assert action._validate_action_result(VALID) is True
    assert (time.perf_counter() - started) / 50 < 0.005


@pytest.mark.parametrize(
    "bad",
    [
        {"events": [{"name": "topic"}], "responses": []},  # an event without its type
        {"events": "not a list", "responses": []},
        {"events": [], "responses": "nope"},
    ],
)
def test_invalid_response_is_still_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        RemoteAction("action_give_advice", None)._validate_action_result(bad)
