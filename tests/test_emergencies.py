"""Emergencies whatever the topic (issue 12, items 6 and 7): vignettes per emergency, near misses per flag, the
message each one gets, and the out-of-scope reply that puts the emergency line first for a health worry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from bot.nlu.red_flags import RedFlagDetector, default_detector, load_definitions

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    """The project's detector (knowledge/red_flags.yml), built once."""
    return default_detector()


def primary(detector: RedFlagDetector, text: str) -> str:
    """The flag whose message the parent gets (the `red_flag` slot), or "" when nothing fires."""
    hit = detector.primary(detector.detect(text))
    return hit.flag_id if hit else ""


def flags(detector: RedFlagDetector, text: str) -> List[str]:
    return [hit.flag_id for hit in detector.detect(text)]


# ---------------------------------------------------------------------------------------------------
# Vignettes: the parent's own words (typos, hedges, non-native English, lower case, no punctuation). Each must
# fire its flag AND get its message (the primary flag).

VIGNETTES: Dict[str, List[str]] = {
    "young_baby_fever": [
        "my 6 week old has a temperature of 38.3",
        "My 6-week-old has a temp of 38.1, what do I do?",
        "baby is 8 weeks and temp 38.1",
        "my 2 month old has a fever",
        "my newborn feels hot",
        "newborn seems really hot and is feeding ok",
        "I think my 10 day old has a fever",
        "my 7 weeks baby have fever 38.5 what to do",
        "fever in my 2 month old",
        "my newborn feels feverish, 38 degrees",
        "my 3 week old is 38.1 under the arm",
        "she is 5 weeks old and her temperature is 38.6",
        "temp 38.4, she's 7 weeks old",
        "my 11 week old son is burning up",
        "2 month old temperature 100.8F",
        "my baby is 4 weeks and she have temperature since morning",
        "my 9 wk old feels hot and has a temperature of 38",
        "i think my 1 month old has a fever??",
    ],
    "non_blanching_rash": [
        "she has a rash that doesn't fade under a glass",
        "rash that doesnt go away when i press a glass",
        "she has a rash that doesn't fade when I press a glass on it",
        "did the glass test and the spots didn't fade",
        "purple spots, you can still see them through the glass",
        "he has tiny purple spots on his tummy",
        "Non-blanching rash on her legs",
        "the spots dont disappear when i push a glass on them",
        "i pressed a tumbler on the rash and it is still there",
        "his rash isnt fading with the glass test",
        "little red pinprick spots that don't blanch",
    ],
    "swallowed_battery": [
        "I think he swallowed a button battery",
        "he swallowed a button battery",
        "oh god wait I think she just swallowed one of the little round batteries from the remote",
        "I think she might have swallowed a coin battery from the kitchen scales",
        "pretty sure he's swallowed a battery, he's acting fine though",
        "he might of swallowed a battery",
        "One of the button batteries has gone. I think she swallowed it.",
        "one of the batteries from the car key is missing and she might have swallowed it",
        "my son eat a small battery from toy",
        "she had a watch battery in her mouth and now it's gone, maybe she swallowed it",
        "HE SWALLOWED A LITHIUM BATTERY",
        "not sure if she swallowed the battery from the thermometer",
    ],
    "swallowed_magnet": [
        "he swallowed a magnet",
        "she swallowed two magnets from the fridge",
        "not sure if he swallowed a magnet",
        "my toddler swalowed 2 magnets from his brother's building set",
        "I can't find one of the magnets, maybe he ate it",
        "i think a magnet was swallowed, theres one missing from the set",
        "she ate some of those magnetic balls",
        "my daughter swallow a magnet from the toy what i do",
        "He Swallowed A Fridge Magnet",
        "pretty sure he swallowed one of the small magnets",
    ],
    "poisoning": [
        "he drank some bleach",
        "she ate some of my tablets",
        "he got into the paracetamol",
        "my son ate some of grandma's pills",
        "she drank bleach!!",
        "he has eaten a laundry pod",
        "She Ate A Whole Bottle Of Calpol",
        "my daughter eat the tablets of her grandmother, what i do",
        "we found him with an open bottle of paracetamol and I'm not sure how many he ate",
        "i think he drank some washing up liquid",
        "he's been poisoned I think",
        "she swallowed some of my antidepressants",
    ],
    "injury": [
        "She rolled off the changing table onto the floor",
        "she rolled of the changing table on to the floor",
        "my 4 month old rolled off the bed onto the floor",
        "my 7 month old wriggled off the changing unit while I grabbed a nappy",
        "he fell down the stairs",
        "she fell from a height",
        "he fell out of the window",
        "baby fell off the kitchen counter",
        "my 5 month old fell off the sofa",
    ],
    "head_injury": [
        "he was knocked out",
        "she hit her head and has vomited three times",
        "he is very drowsy after hitting his head",
        "she rolled off the changing table onto the floor and now she's being sick",
        "he fell off the bed and banged his head, now he's really drowsy",
        "after he banged his head he had a fit",
        "she fell and hit her head and she's acting strange",
        "bumped his head on the table and keeps falling asleep",
    ],
    "choking": [
        "he's choking",
        "she is choking on a grape",
        "he choked on a grape and turned blue",
        "she's choking and can't cough or cry",
        "something stuck in his throat and he cant breathe",
        "baby choking help",
        "im doing back blows she is choking",
        "choked on food and cant make any sound",
    ],
    "breathing_trouble": [
        "she went blue",
        "her lips are blue",
        "his lips are going grey",
        "he stops breathing for a few seconds",
        "she keeps pausing when she breathes",
        "his ribs are sucking in with every breath",
        "she's struggling to breathe",
        "he is grunting with every breath",
    ],
    "dehydration": [
        "her soft spot is sunken",
        "no wet nappy for 10 hours and she's 2 months",
        "my 6 week old hasn't had a wet nappy for 9 hours",
        "no wet nappy for 14 hours",
        "he hasnt had a wet nappy since yesterday",
        "she has not peed in 12 hours",
        "the fontanelle looks sunken",
        "sunken fontanelle and very sleepy",
        "he looks dehydrated and very drowsy",
        "I think she's severely dehydrated",
        "his eyes look sunken and he's not had a wee all day",
        "no wet diapers for 13 hours",
    ],
    "unresponsive": [
        "she is hard to wake",
        "he collapsed",
        "he is floppy and very drowsy",
        "my son is unresponsive",
        "he suddenly went floppy and pale",
        "I can't wake her up!",
        "my baby is floppy and won't wake up properly",
        "she suddenly collapsed on the floor",
        "he passed out and won't wake up",
        "she fainted",
        "he's very hard to rouse",
        "he is barely conscious",
    ],
    "allergic_reaction": [
        "her tongue is swelling and she cant swallow",
        "his lips swelled up after peanut and he's struggling to breathe",
        "she ate egg and her face is swelling and she is wheezing",
        "his throat is swelling after the bee sting",
        "after peanut butter her lips went huge and she's having trouble breathing",
        "she had prawns and now her tongue is swollen",
        "i think anaphylaxis, he ate nuts and his face is swelling up",
        "she was stung by a wasp and now shes struggling to breathe",
    ],
    "drowning": [
        "we pulled him out of the pool and he wasn't breathing",
        "he fell into the pool and is unconscious",
        "she nearly drowned in the bath",
        "found him face down in the bath",
        "he went under in the pool and has been coughing ever since",
        "she slipped under the water and now her lips are blue",
        "my son almost drowned at the beach today",
        "pulled her out of the pond, she is very sleepy",
    ],
    "bruising_non_mobile": [
        "my 3 month old has a bruise on his leg",
        "bruise on my 4 month old's cheek and she can't roll yet",
        "I found a bruise on my 8 week old's arm",
        "my newborn has a bruise on her chest",
        "there's bruising on my 5 month old's ear",
        "she's not rolling yet and I noticed a bruise on her back",
        "my baby is 10 weeks and has a little bruise on his face",
        "bruises on my 2 month old's legs, no idea how",
        "he isn't mobile yet but he has a bruise on his thigh",
        "my 6 week old son have a bruise on his tummy",
    ],
    "burn": [
        "he pulled a cup of tea over himself",
        "she burned her hand on the oven",
        "he pulled a cup of hot tea over himself",
        "she's scalded her hand on the kettle",
        "he burnt his hand on the oven door",
        "my son got scalded in the bath",
        "she grabbed the hair straighteners and now has a blister",
        "he has a bad burn on his arm from the iron",
        "baby got burnt by hot water",
        "she spilled hot coffee on her leg",
    ],
    "road_accident": [
        "we were in a car crash",
        "he was hit by a car",
        "she was knocked down by a bike",
        "we had a car accident and he was in the back",
        "a car hit him in the car park",
        "we were in an accident on the motorway, baby was in the car seat",
        "he got knocked over by a scooter",
        "road traffic accident, my daughter was in the car",
    ],
    "sudden_leg_weakness": [
        "she suddenly can't move her legs",
        "my 2 year old suddenly can't walk",
        "all of a sudden she can't stand up",
        "she can't move her legs",
        "he woke up from his nap and can't stand",
        "his legs suddenly gone floppy",
        "her legs wont move",
        "today he suddenly cannot walk at all",
        "both legs have gone weak",
        "he can't move either of his legs at all",
    ],
    "seizure": [
        "he's having a fit",
        "she's jerking all over and won't respond",
        "he just had a seizure and is not responding",
        "her whole body is shaking and her eyes rolled back",
        "she had a febrile convulsion and now she's floppy and hard to wake",
        "he went stiff and started jerking",
        "I think she's fitting",
        "he has a fever and he's jerking and not responding",
    ],
}

# The message each vignette must get: the flag's own message, which names what was described.
MESSAGE_WORDS = {
    "young_baby_fever": ["3 months", "38", "now"],
    "non_blanching_rash": ["glass", "now"],
    "swallowed_battery": ["battery", "2 hours", "honey", "12 months", "sick", "now"],
    "swallowed_magnet": ["magnet", "emergency department now", "sick"],
    "poisoning": ["1-800-222-1222", "sick", "packet", "now"],
    "injury": ["fall", "now"],
    "head_injury": ["head", "now"],
    "choking": ["choking", "now"],
    "breathing_trouble": ["breathing", "now"],
    "dehydration": ["soft spot", "wet nappy", "8 hours", "12 hours", "now"],
    "unresponsive": ["collapsed", "hard to wake", "now"],
    "allergic_reaction": ["anaphylaxis", "auto-injector", "now"],
    "drowning": ["water", "now"],
    "bruising_non_mobile": ["bruise", "rolling", "today"],
    "burn": ["burn", "scald", "now"],
    "road_accident": ["road", "vehicle", "now"],
    "sudden_leg_weakness": ["suddenly", "legs", "now"],
    "seizure": ["seizure", "now"],
}


@pytest.mark.parametrize("flag_id, text", [(f, t) for f, texts in VIGNETTES.items() for t in texts])
def test_each_vignette_gets_its_own_message(detector: RedFlagDetector, flag_id: str, text: str) -> None:
    assert flag_id in flags(detector, text)
    assert primary(detector, text) == flag_id


# ---------------------------------------------------------------------------------------------------
# Near misses: someone else's history, an event that is over, a hypothetical or prevention question, words used
# loosely, and the ordinary versions of each worry. None may fire the flag named.

NEAR_MISSES: Dict[str, List[str]] = {
    "young_baby_fever": [
        "my 2 year old has a temperature of 38.5",
        "he had a fever at 2 weeks but the GP said it was fine",
        "what should I do if my 6 week old ever gets a fever?",
        "how do I take my 6 week old's temperature?",
        "what temperature should the room be for my 2 month old",
        "my 8 week old's temperature is 37.2, is that normal?",
        "is 37.9 a fever for a 2 month old?",
        "my sister's 6 week old had a fever last month",
        "my 5 week old was born at 38 weeks",
        "my newborn gets hot in the car seat",
        "my 4 month old has a temperature of 38.2",
        "the bath temperature for a newborn",
        "my 10 week old had a fever two weeks ago, the fever has gone",
    ],
    "non_blanching_rash": [
        "this nappy rash is killing me",
        "her nappy rash isn't fading",
        "the rash faded when I pressed a glass on it",
        "how do I do the glass test?",
        "his eczema patches don't fade",
        "she has a birthmark that doesn't fade",
        "my friend's baby had a rash that didn't fade last year",
        "what does non blanching mean",
    ],
    "swallowed_battery": [
        "how do I stop her swallowing batteries?",
        "the battery in the baby monitor died",
        "my sister's baby swallowed a battery last year",
        "what if he swallows a button battery",
        "is it dangerous if a child swallows a battery",
        "the battery on my phone is low",
        "he swallowed a battery once, the hospital said it passed and he was fine",
        "are button batteries a choking hazard",
    ],
    "swallowed_magnet": [
        "is it safe to let him play with magnets",
        "my sister's baby swallowed a magnet last year",
        "what happens if a child swallows a magnet",
        "she loves the magnets on the fridge",
        "how do I stop him eating the fridge magnets",
        "he plays with magnetic tiles all day",
    ],
    "poisoning": [
        "she swallowed her medicine without a fuss",
        "I gave him his calpol and he swallowed it",
        "how do I stop him eating the plants",
        "is it dangerous to eat soap",
        "my friend's son drank bleach years ago",
        "I swallowed my pride and asked for help",
    ],
    "choking": [
        "what should I do if he ever chokes?",
        "she's choking on her words",
        "he choked back tears at nursery drop off",
        "I'm scared of him choking on finger food",
        "are grapes a choking hazard",
        "my sister's boy choked on a grape last year",
    ],
    "breathing_trouble": [
        "she's choking on her words",
        "he's breathing through his mouth",
        "her breathing was fast after crying but then she settled",
        "blue toys are his favourite",
    ],
    "dehydration": [
        "how do I keep him from getting dehydrated in the heat?",
        "what are the signs of dehydration",
        "I'm so dehydrated from breastfeeding",
        "no wet nappy for 2 hours",
        "she hasn't had a wee in the potty all day",
        "his soft spot dips a little when he's upright",
        "my neighbour's baby was dehydrated once",
    ],
    "unresponsive": [
        "he blew up like a balloon when I said no",
        "she's not responding to her name",
        "I can't wake her for her night feed",
        "he passed out in the car on the way home",
        "she went limp with laughter",
        "he collapsed into giggles",
        "I nearly passed out when she took her first steps",
        "the tent collapsed on them, they loved it",
        "my son stands against the sofa but the second he lets go he collapses",
        "she pulls to stand and then collapsed onto her bum",
    ],
    "bruising_non_mobile": [
        "my 10 month old has a bruise on his shin from cruising",
        "my 3 month old has a bruise where she had her jabs",
        "my 2 month old has a mongolian blue spot that looks like a bruise",
        "do babies bruise easily?",
        "I have a bruise on my arm from carrying my 4 month old",
        "my sister's 3 month old had a bruise last year",
        "my 2 year old has bruises on his shins",
        "she had some bruising from the forceps delivery",
    ],
    "burn": [
        "how do I stop him getting burnt on the oven",
        "the toast burnt this morning",
        "she got sunburnt at the beach",
        "could the bath water scald him?",
        "I burnt my hand on the kettle",
        "my sister's baby burnt her hand last year",
    ],
    "road_accident": [
        "he loves crashing his toy cars",
        "I was in a car accident years ago",
        "I was in an accident before she was born",
        "he had a nappy accident in the car",
        "I'm worried about a car crash on the motorway",
    ],
    "sudden_leg_weakness": [
        "she can't stand yet",
        "he can't stand broccoli",
        "she can't move her legs in the sleeping bag",
        "my legs suddenly can't move after the gym",
        "he's stopped walking over the last few weeks",
        "he can't walk without holding my hand",
    ],
    "seizure": [
        "he throws a fit when I take his toy",
        "the trousers are fitting well",
        "my nephew had seizures as a baby",
    ],
}


@pytest.mark.parametrize("flag_id, text", [(f, t) for f, texts in NEAR_MISSES.items() for t in texts])
def test_near_misses_do_not_fire_the_flag(detector: RedFlagDetector, flag_id: str, text: str) -> None:
    assert flag_id not in flags(detector, text)


# The near misses the issue lists: none of them fires any flag.
@pytest.mark.parametrize(
    "text",
    [
        "my sister's baby swallowed a magnet last year",
        "he had a fever at 2 weeks but the GP said it was fine",
        "how do I stop her swallowing batteries?",
        "what should I do if he ever chokes?",
        "is it safe to let him play with magnets",
        "this nappy rash is killing me",
        "she's choking on her words",
        "he blew up like a balloon when I said no",
        "the battery in the baby monitor died",
        "my 2 year old has a temperature of 38.5",
    ],
)
def test_the_issue_near_misses_fire_nothing(detector: RedFlagDetector, text: str) -> None:
    assert flags(detector, text) == []


# ---------------------------------------------------------------------------------------------------
# Precedence: the message that fits what was described


@pytest.mark.parametrize(
    "text, expected",
    [
        # a fit with unresponsiveness is a seizure; a collapse after a poison, an allergy or water is theirs
        ("he just had a seizure and is not responding", "seizure"),
        ("she swallowed some of my tablets and now she's unconscious", "poisoning"),
        ("she ate peanuts and collapsed", "allergic_reaction"),
        ("he fell into the pool and is unconscious", "drowning"),
        # a hot, floppy young baby: the serious-infection message
        ("my 6 week old has a fever and is floppy", "very_unwell"),
        # a fever with a rash that doesn't fade: one message (the rash is reported too, with priority to very_unwell
        # only if the child is also floppy or hard to wake)
        ("he has a fever and a rash that doesn't fade under a glass", "non_blanching_rash"),
        # a fall and a bruise in a young baby: the fall's message
        ("my 3 month old rolled off the bed and now has a bruise on her head", "injury"),
        # a burn or a crash with a broken bone: the burn / crash message, not the falls one
        ("we were in a car crash and I think his arm is broken", "road_accident"),
        ("she pulled the kettle over herself and her arm is really swollen", "burn"),
        # sudden legs with a fever: the joint-infection message; after a fall: the injury message
        ("she has a fever and suddenly can't stand up", "fever_no_weight"),
        ("he fell off the sofa and now he suddenly can't move his legs", "injury"),
        # a gradual loss stays loss_of_skills (doctor today)
        ("he's stopped walking over the last few weeks", "loss_of_skills"),
    ],
)
def test_the_message_fits_what_was_described(detector: RedFlagDetector, text: str, expected: str) -> None:
    assert primary(detector, text) == expected


# ---------------------------------------------------------------------------------------------------
# The messages: own, specific, short, urgent; a signpost line for every flag


def _definitions() -> Dict[str, dict]:
    return {d["id"]: d for d in load_definitions()}


def _message(flag_id: str) -> str:
    return " ".join(_definitions()[flag_id]["message"].split())


@pytest.mark.parametrize("flag_id", sorted(MESSAGE_WORDS))
def test_each_message_names_what_was_described(flag_id: str) -> None:
    message = _message(flag_id).lower()
    for word in MESSAGE_WORDS[flag_id]:
        assert re.search(rf"\b{re.escape(word.lower())}\b", message), (flag_id, word)  # whole words: "now" is not "know"


def test_messages_are_short_and_every_flag_has_a_signpost() -> None:
    for flag_id, definition in _definitions().items():
        message = " ".join(definition["message"].split())
        assert len(message) <= 420, (flag_id, len(message))
        signpost = definition["signpost"]
        assert isinstance(signpost, str) and 10 <= len(signpost.strip()) <= 130, flag_id
        assert definition["sources"], flag_id


def test_the_battery_message_puts_honey_after_12_months_and_never_first() -> None:
    message = _message("swallowed_battery").lower()
    assert "over 12 months" in message and "never wait" in message
    assert message.index("emergency department") < message.index("honey")


def test_the_young_fever_message_does_not_invite_waiting() -> None:
    message = _message("young_baby_fever").lower()
    assert "48 hours" in message and "vaccinations" in message
    assert "go now" in message and "wait and see" not in message


def test_the_bruising_message_signposts_and_never_accuses() -> None:
    message = _message("bruising_non_mobile").lower()
    for word in ("abuse", "harm", "non-accidental", "social", "hurt", "injur", "maltreat", "suspic", "police"):
        assert word not in message, word
    assert "seen by a doctor today" in message


def test_the_default_message_does_not_offer_a_reason_to_wait() -> None:
    data = yaml.safe_load((ROOT / "knowledge" / "red_flags.yml").read_text(encoding="utf-8"))
    default = " ".join(data["default_message"].split()).lower()
    assert "today" not in default and "if you are unsure" not in default
    assert "go to the nearest emergency department now" in default


def test_collapse_messages_fit_what_was_described() -> None:
    assert "seizure" in _message("seizure").lower() and "today" not in _message("seizure").lower()
    unresponsive = _message("unresponsive").lower()
    assert "seizure" not in unresponsive and "fit" not in unresponsive.split()


def test_sudden_leg_weakness_is_an_emergency_and_loss_of_skills_stays_gradual() -> None:
    assert "call your local emergency number or go to the emergency department now" in _message("sudden_leg_weakness")
    assert "today" in _message("loss_of_skills")


def test_a_missing_signpost_is_an_error(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "knowledge" / "red_flags.yml").read_text(encoding="utf-8"))
    data["red_flags"][0]["signpost"] = "  "
    path = tmp_path / "red_flags.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"'loss_of_skills' needs a non-empty 'signpost'"):
        load_definitions(path)
    del data["red_flags"][0]["signpost"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match="signpost"):
        load_definitions(path)


# ---------------------------------------------------------------------------------------------------
# Out of scope: a health worry that is not a red flag gets the emergency line FIRST (actions/fallback.py picks
# utter_out_of_scope_health); the plain reply stays as it is. With the action server down, SafetyPolicy answers
# with utter_technical_trouble, which also opens with the emergency line.

EMERGENCY_LINE = "If your child seems very unwell or you are worried right now, call your local emergency number"


def _responses() -> Dict[str, str]:
    domain = yaml.safe_load((ROOT / "domain" / "_generated.yml").read_text(encoding="utf-8"))  # from the catalogue
    return {name: " ".join(variants[0]["text"].split()) for name, variants in domain["responses"].items()}


HEALTH_WORRIES = [
    "he has a fever of 38.5, what should I give him",
    "my 2 year old has a temperature of 38.5",
    "she's got a slight temperature and a runny nose",
    "she keeps being sick after feeds",
    "he has a red bumpy rash on his tummy",
    "this nappy rash is killing me",
    "what do I do if he swallowed a bit of toothpaste",
    "he fell off the swing yesterday but seems fine",
    "his nose is bleeding",
    "she has a cough and a cold",
    "he has diarrhoea since yesterday",
    "she has a temperature after her jabs",
    "Baby Vomiting Since Morning",
    "she isnt breathing through her nose well, blocked",
    "he has an ear infection i think",
]
PLAIN = [
    "what's the weather tomorrow",
    "tell me a joke",
    "how much milk should my baby drink",
    "my baby won't fall asleep",
    "which car seat fits best",
    "how do I potty train my son",
    "asdfgh",
    "",
]


@pytest.mark.parametrize("text", HEALTH_WORRIES)
def test_out_of_scope_with_a_health_worry_opens_with_the_emergency_line(text: str) -> None:
    from actions.fallback import mentions_health_worry, out_of_scope_response

    assert mentions_health_worry(text)
    assert out_of_scope_response(text) == "utter_out_of_scope_health"  # the domain's response, by name


@pytest.mark.parametrize("text", PLAIN)
def test_plain_out_of_scope_stays_as_it_is(text: str) -> None:
    from actions.fallback import out_of_scope_response

    assert out_of_scope_response(text) == "utter_out_of_scope"


def test_the_out_of_scope_responses_put_the_emergency_line_where_it_belongs() -> None:
    responses = _responses()
    health = responses["utter_out_of_scope_health"]
    assert health.startswith(EMERGENCY_LINE)
    assert health.index("emergency number") < health.index("I only cover how babies and toddlers move")
    plain = responses["utter_out_of_scope"]
    assert plain.startswith("Sorry, I can't help with that")  # unchanged
    assert responses["utter_technical_trouble"].startswith(EMERGENCY_LINE)
    assert "technical problem" in responses["utter_technical_trouble"]


async def test_the_out_of_scope_action_picks_the_response_from_the_message() -> None:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.fallback import ActionHandleOutOfScope

    def tracker(text: str) -> Tracker:
        latest = {"intent": {"name": "out_of_scope", "confidence": 0.9}, "entities": [], "text": text}
        return Tracker("t", {"topic": "late_walking"}, latest, [], False, None, {}, "action_listen")

    for text, response in (
        ("she has a temperature and a rash", "utter_out_of_scope_health"),
        ("what's the weather", "utter_out_of_scope"),
    ):
        dispatcher = CollectingDispatcher()
        events = await ActionHandleOutOfScope().run(dispatcher, tracker(text), {})
        assert [m["response"] for m in dispatcher.messages] == [response]
        assert events == [{"event": "slot", "timestamp": None, "name": "topic", "value": None}]


def test_the_out_of_scope_rule_runs_the_action_that_picks_the_response() -> None:
    rules = yaml.safe_load((ROOT / "data" / "rules" / "core.yml").read_text(encoding="utf-8"))["rules"]
    [rule] = [r for r in rules if {"intent": "out_of_scope"} in r["steps"]]
    assert {"action": "action_handle_out_of_scope"} in rule["steps"]


@pytest.mark.parametrize(
    "text, flag",
    [
        ("bby has spotty rash that dosent go away with the glass test", "non_blanching_rash"),
        ("the rash dosnt fade when i press a glass on it", "non_blanching_rash"),
        ("spots doesent fade under a glass", "non_blanching_rash"),
    ],
)
def test_misspelt_negative_contractions_still_read_as_not(detector: RedFlagDetector, text: str, flag: str) -> None:
    assert flag in [hit.flag_id for hit in detector.detect(text)]


def test_a_misspelt_negation_still_negates(detector: RedFlagDetector) -> None:
    assert detector.detect("she dosent have a rash or a fever") == []
