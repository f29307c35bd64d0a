"""Every topic at every referral level, and milestone questions, as whole conversations with the real servers.

Each conversation is what a parent would type: the opening question, then a reply to each follow-up question
the assistant asks (checked in order, so a missing or extra question fails). The referral, topic and age slots
are read back from the tracker. Urgent: a red flag in the middle of the questions stops them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import httpx
import pytest

from bot.knowledge.validate import load_knowledge
from bot.settings import PROJECT_ROOT
from tests.servers import TOKEN, Chat, Services


@dataclass(frozen=True)
class Conversation:
    """An opening message, the replies to the questions expected in order, and the outcome."""

    topic: Optional[str]
    referral: Optional[str]
    opening: str
    replies: Tuple[Tuple[str, str], ...]
    says: Tuple[str, ...] = ()
    milestone: bool = False  # a milestone question (intent ask_milestone) rather than a topic question

    @property
    def id(self) -> str:
        return f"{self.topic}-{self.referral}-{self.opening[:24]}"


URGENT_MESSAGE = "she has a high fever and now won't put any weight on her leg"
# Urgent replies are checked by the red flag's own message (knowledge/red_flags.yml), so the right one must be said.
FEVER_NO_WEIGHT = "A fever together with a limp"
SEIZURE = "A seizure (fit) needs urgent help"

CONVERSATIONS = [
    # crawling backwards
    Conversation(
        "crawling_backward",
        "none",
        "why is my baby crawling backwards",
        (("age_months", "8 months"), ("weeks_early", "no"), ("alternating_crawl", "not sure"), ("uses_both_sides", "yes")),
    ),
    Conversation(
        "crawling_backward",
        "provider",
        "my 13 month old only crawls backwards, is that normal?",
        (("weeks_early", "no she was on time"), ("alternating_crawl", "no"), ("uses_both_sides", "yes")),
    ),
    Conversation(
        "crawling_backward",
        "urgent",
        "why does my baby crawl backwards",
        (("age_months", "he just had a seizure and is not responding"),),
        (SEIZURE,),
    ),
    # bottom scooting
    Conversation(
        "bottom_scooting",
        "none",
        "my daughter bum shuffles everywhere and won't crawl, she's 10 months",
        (
            ("weeks_early", "nope"),
            ("uses_both_sides", "yes both sides"),
            ("bears_weight", "yes"),
            ("pulls_to_stand", "not yet"),
            ("hips_checked", "not that I know of"),
            ("breech", "no"),
            ("hip_family_history", "no"),
        ),
    ),
    Conversation(
        "bottom_scooting",
        "provider",
        "my 14 month old scoots on her bum instead of crawling",
        (
            ("weeks_early", "no"),
            ("uses_both_sides", "yes"),
            ("bears_weight", "no she lifts her legs up"),
            ("pulls_to_stand", "no"),
            ("hips_checked", "the doctor checks them every visit"),
            ("breech", "no"),
            ("hip_family_history", "no"),
        ),
    ),
    Conversation(
        "bottom_scooting",
        "urgent",
        "she shuffles on her bottom instead of crawling",
        (("age_months", "11 months"), ("weeks_early", URGENT_MESSAGE)),
        (FEVER_NO_WEIGHT,),
    ),
    # late walking
    Conversation(
        "late_walking",
        "none",
        "my 13 month old has no interest in taking steps on his own",
        (
            ("weeks_early", "born on time"),
            ("pulls_to_stand", "yes he pulls up on everything"),
            ("stands_alone_seconds", "about 10 secs"),
            ("uses_both_sides", "yes"),
            ("hips_checked", "yes"),
            ("breech", "no"),
            ("hip_family_history", "no"),
        ),
    ),
    Conversation(
        "late_walking",
        "provider",
        "my son is 20 months and still not walking on his own",
        (
            ("weeks_early", "no he was full term"),
            ("pulls_to_stand", "yes"),
            ("stands_alone_seconds", "not at all"),
            ("uses_both_sides", "yes"),
            ("hips_checked", "no"),
            ("breech", "no"),
            ("hip_family_history", "no"),
        ),
    ),
    Conversation(
        "late_walking",
        "urgent",
        "my toddler isn't walking yet",
        (("age_months", "18 months"), ("weeks_early", "he fell down the stairs and now he screams if we touch his leg")),
        ("After a fall or knock like this",),
    ),
    # army crawling
    Conversation(
        "army_crawling",
        "none",
        "my baby army crawls everywhere on her belly, is that ok?",
        (
            ("age_months", "8 months"),
            ("weeks_early", "No, born on time"),
            ("uses_both_sides", "Yes"),
            ("alternating_crawl", "Yes"),
        ),
    ),
    Conversation(
        "army_crawling",
        "provider",
        "my 13 month old still only commando crawls, dragging himself on his tummy",
        (("weeks_early", "no"), ("uses_both_sides", "yes"), ("alternating_crawl", "no")),
        ("12 months",),
    ),
    Conversation(
        "army_crawling",
        "urgent",
        "she only belly crawls, pulling herself with her arms",
        (("age_months", URGENT_MESSAGE),),
        (FEVER_NO_WEIGHT,),
    ),
    # not crawling
    Conversation(
        "not_crawling",
        "none",
        "my 7 month old isn't crawling yet",
        (
            ("weeks_early", "no"),
            ("sits_alone", "yes"),
            ("gets_around", "yes, she rolls everywhere"),
            ("uses_both_sides", "yes"),
            ("pulls_to_stand", "no"),
        ),
    ),
    Conversation(
        "not_crawling",
        "provider",
        "my 10 month old doesn't crawl at all, he just sits there",
        (
            ("weeks_early", "No, born on time"),
            ("sits_alone", "Yes"),  # "just sits there": no way of getting around, not asked
            ("uses_both_sides", "Yes"),
            ("pulls_to_stand", "No"),
        ),
    ),
    Conversation(
        "not_crawling",
        "urgent",
        "my baby skipped crawling completely",
        (("age_months", "he used to sit up by himself and now he can't anymore"),),
        ("stops doing something they could already do",),  # loss of skills: a doctor today
    ),
    # standing alone
    Conversation(
        "standing_alone",
        "none",
        "how long should my baby be able to stand without holding on?",
        (
            ("age_months", "10 months"),
            ("weeks_early", "no"),
            ("pulls_to_stand", "yes"),
            ("stands_alone_seconds", "a couple of seconds"),
            ("standing_time_growing", "yes"),
            ("uses_both_sides", "yes"),
            ("breech", "no"),
            ("hip_family_history", "no"),
        ),
    ),
    Conversation(
        "standing_alone",
        "provider",
        "my 18 month old still can't stand on her own without holding on",
        (
            ("weeks_early", "no"),
            ("pulls_to_stand", "yes"),  # "can't stand on her own": 0 s, not asked
            ("standing_time_growing", "no"),
            ("uses_both_sides", "yes"),
            ("breech", "no"),
            ("hip_family_history", "no"),
        ),
    ),
    Conversation(
        "standing_alone",
        "urgent",
        "she won't let go of the sofa to stand by herself",
        (("age_months", "14 months"), ("weeks_early", URGENT_MESSAGE)),
        (FEVER_NO_WEIGHT,),
    ),
    # tummy time
    Conversation(
        "tummy_time",
        "none",
        "my baby hates tummy time and cries every time",
        (("age_months", "2 months"), ("weeks_early", "no"), ("lifts_head", "yes"), ("rolls_over", "no")),
        ("this looks on track", "Things to try", "When to check again"),
    ),
    Conversation(
        "tummy_time",
        "provider",
        "my 5 month old screams during tummy time",
        (("weeks_early", "no"), ("lifts_head", "no"), ("rolls_over", "no")),
    ),
    Conversation(
        "tummy_time", "urgent", "how much tummy time does a baby need", (("age_months", "he had a seizure just now"),), (SEIZURE,)
    ),
    # hip health
    Conversation(
        "hip_health",
        "none",
        "is W sitting bad for her hips?",
        (
            ("hip_signs", "no problems"),
            ("breech", "no"),
            ("hip_family_history", "no"),
            ("hips_checked", "yes"),
            ("w_sitting", "yes"),
        ),
        ("W-sitting",),
    ),
    Conversation(
        "hip_health",
        "provider",
        "my baby was breech, should her hips be checked?",
        (
            ("hip_signs", "No, none"),
            ("hip_family_history", "Not sure"),
            ("hips_checked", "No"),  # breech: told
            ("w_sitting", "No"),
        ),
    ),
    Conversation(
        "hip_health",
        "urgent",
        "one of her thigh creases looks different, is that hip dysplasia?",
        (("breech", "she's had a fever since last night and is limping and won't stand"),),
        (FEVER_NO_WEIGHT,),
    ),  # the creases: told
    # corrected age
    Conversation(
        "preterm_age",
        "none",
        "how do I work out corrected age? she was born at 32 weeks",
        (("age_months", "9 months"), ("uses_both_sides", "yes"), ("sits_alone", "yes")),
        ("corrected age",),
    ),
    Conversation(
        "preterm_age",
        "provider",
        "he was born 2 weeks early, should I use his adjusted age? he's 10 months",
        (("uses_both_sides", "yes"), ("sits_alone", "no")),
    ),
    Conversation(
        "preterm_age",
        "urgent",
        "my premature baby, how do I adjust her age for milestones",
        (("age_months", "she stopped breathing for a moment and went blue"),),
        ("Trouble breathing needs help right away",),
    ),
    # toe walking
    Conversation(
        "toe_walking",
        "none",
        "my 15 month old walks on his tiptoes",
        (("weeks_early", "no"), ("toe_walking_one_side", "No, both feet"), ("hip_signs", "no"), ("uses_both_sides", "yes")),
    ),
    Conversation(
        "toe_walking",
        "provider",
        "my 2 and a half year old still walks on her toes all the time",
        (("toe_walking_one_side", "no"), ("hip_signs", "no"), ("uses_both_sides", "yes")),
    ),
    Conversation(
        "toe_walking",
        "urgent",
        "my son walks on his toes",
        (("age_months", "20 months"), ("weeks_early", "no"), ("toe_walking_one_side", URGENT_MESSAGE)),
        (FEVER_NO_WEIGHT,),
    ),
    # milestones: in general (no referral), then tailored by (corrected) age
    Conversation(
        "late_walking",
        None,
        "when do babies usually walk?",
        (("age_months", "Just in general"),),
        ("8.2 and 17.6 months", "Where sources differ"),
        milestone=True,
    ),
    Conversation(
        "standing_alone",
        "none",
        "is it normal that my 10 month old doesn't pull up yet?",
        (("weeks_early", "no"), ("sits_alone", "yes")),
        ("within the usual range",),
        milestone=True,
    ),
    Conversation(
        "not_crawling",
        "provider",
        "my 10 month old can't sit on her own yet, is that normal?",
        (("weeks_early", "No, born on time"),),
        ("please ask a provider",),
        milestone=True,
    ),
    Conversation(
        "not_crawling",
        "none",
        "my 10 month old can't sit on her own yet, is that normal?",
        (("weeks_early", "8 weeks early"), ("rolls_over", "yes")),
        ("corrected age of **8 months**",),
        milestone=True,
    ),
]


@pytest.fixture(scope="module")
def services(shared_stack: Services) -> Services:
    """The session's shared stack (conftest): every conversation is a new parent."""
    return shared_stack.ensure_running()


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: c.id)
def test_conversation(services: Services, conversation: Conversation) -> None:
    chat = Chat(services)
    said: List[str] = [chat.says(conversation.opening)]
    for expected_slot, reply in conversation.replies:
        assert chat.slots()["requested_slot"] == expected_slot, f"expected the question for {expected_slot}; got: {said[-1]}"
        said.append(chat.says(reply))
    slots = chat.slots()
    text = "\n".join(said)
    assert slots["referral"] == conversation.referral, text
    for phrase in conversation.says:
        assert phrase in text, text
    if conversation.referral == "urgent":
        assert conversation.says  # the red flag's own message, not any mention of an emergency
        assert slots["requested_slot"] is None  # the questions stop
        return
    assert slots["topic"] == conversation.topic, text
    assert slots["requested_slot"] is None and "**Sources**" in text


TOPICS = load_knowledge(PROJECT_ROOT / "knowledge").topics


@pytest.mark.parametrize("topic_id", sorted(TOPICS))
def test_topic_buttons_lead_to_their_topic(services: Services, topic_id: str) -> None:
    """The fallback's and the milestone answer's buttons send "Tell me about <title>": it must reach that topic."""
    topic = TOPICS[topic_id]
    response = httpx.post(
        f"{services.rasa_url}/model/parse",
        params={"token": TOKEN},
        json={"text": f"Tell me about {topic.title.lower()}"},
        timeout=30,
    )
    response.raise_for_status()
    assert response.json()["intent"]["name"] == topic.intent
