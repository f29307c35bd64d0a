"""The Rasa NLU components on real Rasa messages: entities with values, red flags overriding the intent."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import pytest
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
    [msg] = UnderstandingComponent({}).process(
        [message("one of her legs looks shorter when I change her", "nlu_fallback", 0.3, ranking)]
    )
    assert msg.get("intent")["name"] == "ask_hip_health" and msg.get("understanding")["routed"]
    [topic] = UnderstandingComponent({}).process([message("why is my baby crawling backwards", "ask_crawling_backward")])
    assert topic.get("intent")["name"] == "ask_crawling_backward" and not topic.get("understanding").get("routed")


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
    [msg] = RedFlagRules({}).process(
        [message("my baby is really not right, something is very wrong", "report_red_flag", 0.93, ranking)]
    )
    assert msg.get("intent")["name"] == "report_red_flag"


def test_tfidf_weights_match_scikit_learn() -> None:
    counts = csr_matrix(np.array([[3, 0, 1, 0], [0, 2, 1, 0], [1, 1, 0, 5]], dtype=float))
    expected = TfidfTransformer(sublinear_tf=True).fit_transform(counts).toarray()
    ours = weigh(counts, inverse_document_frequency(counts)).toarray()
    assert np.allclose(ours, expected)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0)


def test_the_intent_classifier_is_saved_as_plain_arrays_and_predicts_the_same_after_loading(tmp_path: Any) -> None:

    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from rasa_components.intent_classifier import TfidfLogisticRegressionClassifier

    storage, resource = LocalModelStorage(tmp_path), Resource("intent_classifier")
    context = ExecutionContext(GraphSchema({}), node_name="intent_classifier")
    config = TfidfLogisticRegressionClassifier.get_default_config()
    trained = TfidfLogisticRegressionClassifier.create(config, storage, resource, context)
    rng = np.random.default_rng(7)
    counts = csr_matrix(rng.poisson(0.3, size=(60, 40)).astype(float))
    trained.idf = inverse_document_frequency(counts)
    trained.clf.fit(weigh(counts, trained.idf), [["greet", "late_walking", "report_red_flag"][i % 3] for i in range(60)])
    trained.persist()
    loaded = TfidfLogisticRegressionClassifier.load(config, storage, resource, context)
    assert list(loaded.clf.classes_) == ["greet", "late_walking", "report_red_flag"]
    assert np.array_equal(loaded.idf, trained.idf)
    features = weigh(counts, loaded.idf)
    assert np.allclose(loaded.clf.predict_proba(features), trained.clf.predict_proba(features))
    assert [p.name for p in (tmp_path / "intent_classifier").iterdir()] == ["weights.npz"]


def _red_flag_slot(msg: Message) -> Any:
    """The `red_flag` slot Rasa itself fills from the message (ActionExtractSlots, as the domain maps it)."""
    import asyncio

    from rasa.core.actions.action import ActionExtractSlots
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_dict(
        {
            "intents": ["report_red_flag"],
            "entities": ["red_flag"],
            "slots": {
                "red_flag": {
                    "type": "text",
                    "influence_conversation": False,
                    "mappings": [{"type": "from_entity", "entity": "red_flag"}],
                }
            },
        }
    )
    parse = msg.as_dict(only_output_properties=False)
    user = UserUttered(parse["text"], intent=parse["intent"], entities=parse.get("entities"), parse_data=parse)
    tracker = DialogueStateTracker.from_events("caregiver", [ActionExecuted("action_listen"), user], slots=domain.slots)
    action = ActionExtractSlots(None)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    events = asyncio.run(action.run(CollectingOutputChannel(), nlg, tracker, domain))
    return {e.key: e.value for e in events if isinstance(e, SlotSet)}.get("red_flag")


@pytest.mark.parametrize(
    "text, slot, entities",
    [
        # very_unwell overrides seizure: one message, about the fever and the floppiness
        ("He's burning up. Now he's floppy and hard to wake.", "very_unwell", [("very_unwell", None)]),
        # a fit with a fever keeps the seizure message
        ("he has a fever and he's jerking and not responding", "seizure", [("seizure", None)]),
        # after a fall, an arm not used is the injury
        ("she tripped over the dog and now she can't lift her right arm", "injury", [("injury", None)]),
        # unrelated flags both stay; the slot takes the most immediate message, whatever the text order
        (
            "turned blue. had a fit. broke her arm.",
            "breathing_trouble",
            [("breathing_trouble", None), ("seizure", "also"), ("injury", "also")],
        ),
        (
            "he fell down the stairs and now he's not breathing properly",
            "breathing_trouble",
            [("injury", "also"), ("breathing_trouble", None)],
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed")  # Rasa warns whenever a domain is built
def test_the_red_flag_slot_gets_the_best_fitting_message(text: str, slot: str, entities: List[Any]) -> None:
    [msg] = RedFlagRules({}).process([message(text, intent="inform")])
    found = [(e["value"], e.get("role")) for e in msg.get("entities") if e["entity"] == "red_flag"]
    assert found == entities
    assert _red_flag_slot(msg) == slot


@pytest.mark.parametrize(
    "text",
    [
        "yes, at the hospital after she slipped off the slide last month they x-rayed her and it was fine, she's running around now",
        "no. he limped for a day after a trip in the garden last month, the GP had a look and it went away",
    ],
)
def test_confident_classifier_red_flag_about_a_settled_past_is_not_escalated(text: str) -> None:
    ranking = [{"name": "report_red_flag", "confidence": 0.87}, {"name": "inform", "confidence": 0.05}]
    [msg] = RedFlagRules({}).process([message(text, "report_red_flag", 0.87, ranking)])
    assert msg.get("intent")["name"] == "inform"
    assert not msg.get("entities")


def test_a_failing_understanding_step_never_loses_the_message(monkeypatch: Any) -> None:
    import rasa_components.understanding as module

    def broken(text: str) -> None:
        raise ValueError("a rule file is broken")

    monkeypatch.setattr(module, "understand", broken)
    [msg] = UnderstandingComponent({}).process([message("my 10 month old crawls backwards", intent="ask_crawling_backward")])
    assert msg.get("intent")["name"] == "ask_crawling_backward"
    assert msg.get("understanding")["facts"] == []
    [flagged] = RedFlagRules({}).process([msg])  # the red-flag rules still run afterwards
    assert flagged.get("intent")["name"] == "ask_crawling_backward"


@pytest.mark.parametrize(
    "text",
    [
        "/ask_hip_health@1 my baby is having a seizure",
        '/ask_hip_health{"age": 10} my baby is having a seizure',
        "  //report_red_flag my baby is having a seizure",
        "/greet my baby is having a seizure",
    ],
)
def test_a_slash_command_cannot_replace_a_red_flag(text: str) -> None:
    """The whole NLU chain as Rasa runs it: our slash guard first, red-flag rules, Rasa's slash handler last."""
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler

    from rasa_components.slash_commands import SlashCommandsAsText

    msg = message(text, intent="greet", confidence=0.9)
    [msg] = SlashCommandsAsText().process([msg])
    [msg] = RedFlagRules({}).process([msg])
    [msg] = RegexMessageHandler().process([msg])
    assert msg.get("intent")["name"] == "report_red_flag"
    assert [e["value"] for e in msg.get("entities") if e["entity"] == "red_flag"] == ["seizure"]


@pytest.mark.parametrize("text", ['/greet{"red_flag": {"x": 1}}', '/inform{"age": [1, 2]}', "/back", "/restart", "/", "  / "])
def test_a_slash_command_is_read_as_text(text: str) -> None:
    """No intent or entity comes from the text's command syntax, whatever the command claims."""
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler

    from rasa_components.slash_commands import SlashCommandsAsText

    msg = message(text, intent="nlu_fallback", confidence=0.3)
    [msg] = RegexMessageHandler().process(SlashCommandsAsText().process([msg]))
    assert msg.get("intent")["name"] == "nlu_fallback"
    assert not msg.get("entities")
    assert not msg.get("text").lstrip().startswith("/")


def test_text_without_a_slash_is_untouched() -> None:
    from rasa_components.slash_commands import SlashCommandsAsText

    for text in ("my baby is 10 months / crawls backwards", "50/50 whether she walks", ""):
        [msg] = SlashCommandsAsText().process([message(text)])
        assert msg.get("text") == text


def _tracker(*events: Any) -> Any:
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_events("parent", list(events), slots=_slots())


def _slots() -> List[Any]:
    from rasa.shared.core.slots import TextSlot

    return [TextSlot("referral", mappings=[{"type": "custom"}])]


def test_an_urgent_referral_is_set_again_whatever_lowered_it() -> None:
    from rasa.shared.core.events import ActionExecuted, Restarted, SlotSet, UserUtteranceReverted, UserUttered

    from rasa_components.safety_policy import keep_urgent

    urgent = SlotSet("referral", "urgent")
    said = UserUttered("she had a seizure", {"name": "report_red_flag", "confidence": 1.0})
    lowered = {
        "a later topic": [said, urgent, SlotSet("referral", "none")],
        "going back": [ActionExecuted("action_listen"), said, urgent, UserUtteranceReverted()],
        "starting over": [said, urgent, ActionExecuted("action_restart"), Restarted()],
        "an injected event": [said, urgent, SlotSet("referral", None)],
    }
    for how, events in lowered.items():
        tracker = _tracker(*events)
        assert tracker.get_slot("referral") != "urgent", how
        assert keep_urgent(tracker) == [SlotSet("referral", "urgent")], how
    assert keep_urgent(_tracker(said, urgent)) == []  # still urgent: nothing to add
    assert keep_urgent(_tracker(SlotSet("referral", "provider"), SlotSet("referral", "none"))) == []


# ---- SafetyPolicy: a failed custom action is known by its explicit signal, never by "no events"


def _policy_tracker(*events: Any) -> Any:
    from rasa.shared.core.slots import TextSlot
    from rasa.shared.core.trackers import DialogueStateTracker

    slots = [TextSlot(name, mappings=[{"type": "custom"}]) for name in ("referral", "action_failed")]
    return DialogueStateTracker.from_events("parent", list(events), slots=slots)


def test_a_failed_action_gets_the_technical_trouble_reply_then_listens() -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

    from rasa_components.safety_policy import SafetyPolicy

    said = [ActionExecuted("action_listen"), UserUttered("she is 11 months", {"name": "inform", "confidence": 1.0})]
    failed = _policy_tracker(*said, ActionExecuted("triage_form"), SlotSet("action_failed", "triage_form"))
    assert SafetyPolicy.next_action(failed, Domain.empty()) == "utter_technical_trouble"
    answered = _policy_tracker(*failed.events, ActionExecuted("utter_technical_trouble"))
    assert SafetyPolicy.next_action(answered, Domain.empty()) == "action_listen"

    # a model trained before the action_failed slot existed still records the event, and the policy keys on it
    from rasa.shared.core.trackers import DialogueStateTracker

    older_model = DialogueStateTracker.from_events("parent", list(failed.events), slots=[])
    assert SafetyPolicy.next_action(older_model, Domain.empty()) == "utter_technical_trouble"


def test_a_custom_action_that_returns_nothing_is_not_a_failure() -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

    from rasa_components.safety_policy import SafetyPolicy

    said = [ActionExecuted("action_listen"), UserUttered("thanks", {"name": "thank", "confidence": 1.0})]
    domain = Domain.from_dict({"actions": ["action_update_facts"]})
    assert SafetyPolicy.next_action(_policy_tracker(*said, ActionExecuted("action_update_facts")), domain) is None
    recovered = _policy_tracker(*said, ActionExecuted("action_update_facts"), SlotSet("action_failed", None))
    assert SafetyPolicy.next_action(recovered, domain) is None
    # an earlier failure, answered already, does not make later turns fail
    later = _policy_tracker(*said, ActionExecuted("action_update_facts"), SlotSet("action_failed", "action_update_facts"), *said)
    assert SafetyPolicy.next_action(later, domain) is None


def test_a_red_flag_is_answered_whatever_failed_before() -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

    from rasa_components.safety_policy import SafetyPolicy

    failed = [ActionExecuted("triage_form"), SlotSet("action_failed", "triage_form"), ActionExecuted("utter_technical_trouble")]
    red_flag = [ActionExecuted("action_listen"), UserUttered("she had a seizure", {"name": "report_red_flag", "confidence": 1.0})]
    assert SafetyPolicy.next_action(_policy_tracker(*failed, *red_flag), Domain.empty()) == "utter_urgent_help"


def test_creating_the_policy_patches_nothing(tmp_path: Any) -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from rasa_components import adaptations
    from rasa_components.safety_policy import SafetyPolicy

    before = (RemoteAction.run, RemoteAction._validate_action_result)
    SafetyPolicy.create({}, LocalModelStorage(tmp_path), Resource("safety"), ExecutionContext(GraphSchema({}), "model"))
    assert (RemoteAction.run, RemoteAction._validate_action_result) == before and not adaptations.installed()


def test_the_triage_form_declares_no_questions_of_its_own() -> None:
    """validate_triage_form picks every question (requested_slot): Rasa's FormAction has none to pick itself."""
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.domain import Domain

    from bot.knowledge.export import domain_data
    from bot.knowledge.validate import load_knowledge
    from bot.settings import PROJECT_ROOT

    generated = domain_data(load_knowledge(PROJECT_ROOT / "knowledge"))
    assert generated["forms"] == {"triage_form": {"required_slots": []}}
    assert FormAction("triage_form", None).required_slots(Domain.from_dict(generated)) == []


async def test_the_web_chat_reads_history_from_the_agent_of_the_app_it_is_registered_on(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from sanic import Sanic

    from bot.settings import get_settings
    from rasa_components.webchat import WebChatInput

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    get_settings.cache_clear()
    conversation = DialogueStateTracker.from_events(
        "abc", [UserUttered("my baby crawls backwards"), BotUttered("How old is your baby?")]
    )

    class Store:
        async def retrieve(self, sender_id: str) -> Any:
            return conversation if sender_id == "abc" else None

    class Agent:
        tracker_store = Store()

    async def on_new_message(_: Any) -> None:
        return None

    try:
        channel = WebChatInput.from_credentials({})
        blueprint = channel.blueprint(on_new_message)  # type: ignore[attr-defined]
        sessions = channel.sio.handlers["/"]["session_request"].__self__  # type: ignore[attr-defined]
        assert await sessions.history("abc") == []  # not registered on a Rasa app yet
        app = Sanic("webchat_history_test")
        app.blueprint(blueprint)
        app.ctx.agent = Agent()  # what Rasa's load_agent_on_start sets
        assert await sessions.history("abc") == [
            {"sender": "user", "text": "my baby crawls backwards"},
            {"sender": "bot", "text": "How old is your baby?"},
        ]
        assert await sessions.history("someone-else") == []
    finally:
        get_settings.cache_clear()
