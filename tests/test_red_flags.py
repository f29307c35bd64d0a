"""Red-flag detector: phrasings that must fire, near misses that must not, speed, and data validation."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.nlu.red_flags import RedFlagDetector, RedFlagHit, default_detector, load_definitions

ROOT = Path(__file__).resolve().parents[1]
FLAG_IDS = {"loss_of_skills", "fever_no_weight", "breathing_trouble", "seizure", "injury"}


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    """The project's detector (knowledge/red_flags.yml), built once."""
    return default_detector()


def flags(detector: RedFlagDetector, text: str) -> List[str]:
    """Flag ids found in `text`, in text order."""
    return [hit.flag_id for hit in detector.detect(text)]


# ---------------------------------------------------------------------------------------------------
# Phrasings that must fire (>= 8 per flag, with typos and odd capitalisation)

POSITIVES: Dict[str, List[str]] = {
    "loss_of_skills": [
        "she used to crawl but now she can't",
        "He stopped walking last week",
        "my daughter can't sit up anymore",
        "he no longer pulls to stand",
        "I think she's lost skills",
        "she seems to be going backwards in her development",
        "is my baby regressing? he was rolling a month ago",
        "he forgot how to crawl",
        "SHE CANT CRAWL ANY MORE",
        "my son was walking but now he won't.",
        "she has lost the ability to sit",
        "his development has gone backwards",
        "Doesnt stand anymore",
        "he's regresing",
        "she Can No Longer sit without support",
        "He's Stopped Crawling and just lies there",
        "she used to pull herself up to stand but now she doesn't",
        "he could walk last month, now he can't.",
        "she doesn't sit up like she used to",
        "she's forgotten how to roll over",
        "he can’t crawl anymore",
    ],
    "fever_no_weight": [
        "she has a fever and is limping",
        "He's had a high temperature since yesterday and won't put weight on his left leg",
        "fever 39.2 and she refuses to stand",
        "My son is feverish and not moving his leg",
        "temp of 38.5C, won't walk today",
        "limping with a fevre",
        "fever and limp",
        "FEVER 102F and LIMPING",
        "he has a fever and keeps crying when I move his hip",
        "Has had a temperature for two days and is not using her leg",
        "she's been running a temp of 39 and now refuses to walk",
        "burning up and he won't bear weight on his right leg",
        "fever of 38.9 and he screams when I change his nappy",
        "fever+limp",
        "she won't stand and she feels feverish",
        "he had a fever last week and now he's limping",
    ],
    "breathing_trouble": [
        "he's struggling to breathe",
        "she is not breathing",
        "my baby turned blue",
        "he's gasping for air",
        "Strugling to breath",
        "her lips went blue",
        "she isn't breathing properly",
        "HE CAN'T BREATHE",
        "difficulty breathing since this morning",
        "she's having trouble breathing",
        "he's choking on something",
        "her breathing is laboured and her ribs are sucking in",
        "he stopped breathing for a few seconds",
        "she can't catch her breath",
        "he's going a bit grey around the lips",
        "i dont think hes breathing right",
        "She Isn’t Breathing Properly!!!",
    ],
    "seizure": [
        "I think he's fitting",
        "she is convulsing",
        "he went stiff and jerking",
        "she had a siezure",
        "his eyes rolled back and he was shaking",
        "my baby is having a fit",
        "Febrile convulsion last night",
        "went all stiff then started jerking",
        "she's been seizing",
        "CONVULSIONS",
        "he's having fits",
        "my son is unresponsive",
        "he's shaking uncontrollably",
        "she had a SEIZER this morning",
        "not sure if it was a seizure",
    ],
    "injury": [
        "he fell down the stairs",
        "she fell off the bed and hit her head",
        "I think his leg is broken",
        "she won't move her arm since the fall",
        "fel down the stiars",
        "he fell from the changing table and landed on his head",
        "I dropped the baby",
        "my daughter banged her head really hard when she fell",
        "he broke his arm",
        "after the fall he isn't moving his leg",
        "she might have a fracture",
        "he rolled off the changing table and hit his head",
        "she fell out of her cot and has a big lump on her head",
        "he tumbled down a whole flight of stairs",
        "he fell off the sofa and now won't use his arm",
        "I think he's broken his collarbone",
        "HE FELL OFF THE BED AND HIT HIS HEAD",
        "oh no he fell down the stairs",
    ],
}


@pytest.mark.parametrize("flag_id, text", [(flag_id, text) for flag_id, texts in POSITIVES.items() for text in texts])
def test_positive_phrasings_fire(detector: RedFlagDetector, flag_id: str, text: str) -> None:
    assert flag_id in flags(detector, text)


def test_every_flag_has_at_least_eight_positive_phrasings() -> None:
    assert set(POSITIVES) == FLAG_IDS
    assert all(len(texts) >= 8 for texts in POSITIVES.values())


# ---------------------------------------------------------------------------------------------------
# Near misses: ordinary worries, normal variants, negations. None of these may fire.

NEAR_MISSES = [
    # backward crawling and other normal variants
    "she used to hate tummy time",
    "he crawls backwards",
    "crawling backwards",
    "why is my baby crawling backwards",
    "she used to crawl backwards and now goes forwards",
    "she used to crawl backwards but now she doesn't",
    "he stopped scooting and started crawling",
    "he stopped crawling and started walking",
    "she doesn't crawl anymore, she walks everywhere now",
    "he no longer needs help to stand",
    "she stopped walking on her toes",
    "she stopped using the walker",
    "she used to sit in the bumbo but now she hates it",
    # not yet reached is not lost
    "she doesn't walk yet",
    "is it normal to not crawl",
    "she's 11 months and can't stand alone yet",
    "my son isn't sitting yet",
    "is it normal that he isn't walking at 13 months",
    "she isn't walking independently yet but cruises everywhere",
    "he can't stand without holding on",
    # negated red flags
    "no fever",
    "she hasn't had a seizure",
    "never had a fit",
    "he never had a febrile seizure",
    "no signs of a seizure",
    "no breathing problems",
    "doesn't have any breathing difficulties",
    "he isn't struggling to breathe",
    "she has never stopped breathing",
    "he has no limp",
    "she's not limping and has no fever",
    "he didn't hit his head",
    "she fell but didn't hit her head",
    "the doctor said nothing is broken",
    # one half of fever_no_weight only (see also the dedicated test below)
    "he had a fever last month but he's fine now and walking",
    "no fever but she's limping",
    "he has a fever and isn't walking yet",
    "he has a fever and a cough",
    "she hasn't got a temperature and walks fine",
    # falls that are part of learning to move, and idioms
    "he fell asleep",
    "she falls over a lot when cruising",
    "fell in love with the walker",
    "he's fallen in love with climbing",
    "he fell on his bottom",
    "he fell down on his bottom when cruising",
    "he pulls himself up and falls down a lot",
    "bumped her head on the coffee table",
    "my baby fell off the sofa but seems fine",
    "I'm worried he'll fall down the stairs in his walker",
    "he walked down the stairs holding my hand",
    "I dropped her off at nursery",
    "I broke my wrist so I can't lift her much",
    "he broke his toy",
    "broken sleep is exhausting",
    # other everyday words near the triggers
    "my baby stopped crying",
    "he's going through a sleep regression",
    "my 4 month old is regressing with sleep",
    "he throws a fit when I put him in the car seat",
    "these trousers fit her perfectly",
    "she has a coughing fit sometimes",
    "he was fitting in nicely at daycare",
    "the car seat is a tight fit",
    "why does my baby go stiff when I pick him up",
    "she jerks her legs in her sleep",
    "her hands and feet turn blue when she's cold",
    "her eyes are blue",
    "he loves his blue blanket",
    "he is breathing normally",
    "he's not breathing fast anymore",
    "what is a choking hazard for a 9 month old",
    "he's been struggling to crawl",
    "he's not responding to his name",
    "the buggy's sizing is odd",
    "she won't put weight on her legs when I hold her up",
    "is it bad if he rolls over and bumps his head on the cot",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_do_not_fire(detector: RedFlagDetector, text: str) -> None:
    assert detector.detect(text) == []


def test_there_are_many_near_misses() -> None:
    assert len(NEAR_MISSES) >= 25


# ---------------------------------------------------------------------------------------------------
# fever_no_weight needs both halves in the same message


@pytest.mark.parametrize(
    "text",
    [
        "she has a fever",
        "he's had a temperature of 39 since last night",
        "feverish and grumpy",
        "temp 38.5c",
        "he is limping",
        "she won't put weight on her leg",
        "he refuses to stand",
        "not moving his left leg",
    ],
)
def test_fever_alone_or_limp_alone_does_not_fire_fever_no_weight(detector: RedFlagDetector, text: str) -> None:
    assert "fever_no_weight" not in flags(detector, text)


@pytest.mark.parametrize(
    "text",
    [
        "no fever but he's limping",
        "he has not got a fever, just a limp",
        "she's limping without a fever",
        "he has a fever but he isn't limping",
    ],
)
def test_negated_half_does_not_fire_fever_no_weight(detector: RedFlagDetector, text: str) -> None:
    assert "fever_no_weight" not in flags(detector, text)


def test_fever_no_weight_span_covers_both_halves(detector: RedFlagDetector) -> None:
    text = "He is limping today. Also a fever of 39."
    [hit] = detector.detect(text)
    assert hit.flag_id == "fever_no_weight"
    assert hit.text == "limping today. Also a fever"


# ---------------------------------------------------------------------------------------------------
# Negation handling


@pytest.mark.parametrize(
    "text, expected",
    [
        ("she hasn't had a seizure", []),
        ("she has had a seizure", ["seizure"]),
        ("no, he had a seizure", ["seizure"]),  # "no" answering something else, then the flag
        ("I'm not sure, but I think she had a fit", ["seizure"]),
        ("I don't know if he was fitting", ["seizure"]),
        ("without a fever, just limping", []),
        ("no fever, but he is limping", []),
        ("she has no rash and a fever and is limping", ["fever_no_weight"]),
        ("she can't crawl anymore", ["loss_of_skills"]),  # the negation is part of the flag
        ("she has a fever and won't put weight on her leg", ["fever_no_weight"]),
        ("he isn't breathing properly", ["breathing_trouble"]),
        ("he is not breathing", ["breathing_trouble"]),
        ("he has not had any sort of fever and is limping", []),
    ],
)
def test_negation(detector: RedFlagDetector, text: str, expected: List[str]) -> None:
    assert flags(detector, text) == expected


# ---------------------------------------------------------------------------------------------------
# Several flags, hits and offsets


@pytest.mark.parametrize(
    "text, expected",
    [
        ("he fell down the stairs and now he's not breathing properly", ["injury", "breathing_trouble"]),
        ("she had a seizure and since then she stopped walking", ["seizure", "loss_of_skills"]),
        (
            "He Fell Off The Bed And Hit His Head, and now he has a fever and is limping",
            ["injury", "fever_no_weight"],
        ),
        ("turned blue. had a fit. broke her arm.", ["breathing_trouble", "seizure", "injury"]),
    ],
)
def test_multiple_flags_in_text_order(detector: RedFlagDetector, text: str, expected: List[str]) -> None:
    assert flags(detector, text) == expected


def test_one_hit_per_flag(detector: RedFlagDetector) -> None:
    text = "She had a seizure. Then another seizure. He is fitting again."
    hits = detector.detect(text)
    assert [h.flag_id for h in hits] == ["seizure"]
    assert hits[0].text == "seizure" and hits[0].start == text.index("seizure")


@pytest.mark.parametrize(
    "text",
    [
        "İstanbul trip: he fell down the stairs",  # lower-casing changes the length of İ
        "She Isn’t Breathing Properly!!!",
        "ok so... my son can't sit up anymore :(",
        "fever+limp",
        "line one\n\nshe is convulsing\n",
    ],
)
def test_hit_offsets_point_into_the_original_text(detector: RedFlagDetector, text: str) -> None:
    hits = detector.detect(text)
    assert hits
    for hit in hits:
        assert isinstance(hit, RedFlagHit)
        assert text[hit.start : hit.end] == hit.text
        assert hit.text == hit.text.strip() and hit.text


def test_hit_text_shows_whole_contracted_word(detector: RedFlagDetector) -> None:
    [hit] = detector.detect("my son can't sit up anymore")
    assert hit.text == "can't sit up anymore"


@pytest.mark.parametrize("text", ["", " ", "\n\t", ".", "!!!", "no", "?"])
def test_empty_and_trivial_messages(detector: RedFlagDetector, text: str) -> None:
    assert detector.detect(text) == []


# ---------------------------------------------------------------------------------------------------
# Speed


def test_typical_message_is_fast(detector: RedFlagDetector) -> None:
    corpus = [text for texts in POSITIVES.values() for text in texts] + NEAR_MISSES
    for text in corpus:
        detector.detect(text)  # warm up
    start = time.perf_counter()
    for text in corpus:
        detector.detect(text)
    per_message = (time.perf_counter() - start) / len(corpus)
    assert per_message < 0.002


@pytest.mark.parametrize(
    "chunk",
    [
        "She used to hate tummy time and now crawls backwards, no fever, he fell asleep. ",
        "my baby is crawling backwards and scooting on her bottom, is that normal? ",
        "a",
    ],
)
def test_100k_message_is_fast_and_still_finds_a_flag_at_the_end(detector: RedFlagDetector, chunk: str) -> None:
    tail = " Then he fell down the stairs."
    text = (chunk * (100_000 // len(chunk) + 1))[: 100_000 - len(tail)] + tail
    assert len(text) == 100_000
    start = time.perf_counter()
    hits = detector.detect(text)
    elapsed = time.perf_counter() - start
    assert [h.flag_id for h in hits] == ["injury"]
    assert hits[0].end <= len(text)
    assert elapsed < 1.0


# ---------------------------------------------------------------------------------------------------
# The data file and the module contract


def test_data_file_has_the_five_urgent_flags_with_messages_and_sources() -> None:
    definitions = load_definitions()
    assert [d["id"] for d in definitions] == [
        "loss_of_skills",
        "fever_no_weight",
        "breathing_trouble",
        "seizure",
        "injury",
    ]
    for definition in definitions:
        assert definition["referral"] == "urgent"
        assert definition["label"].strip()
        message = definition["message"].strip()
        assert 2 <= message.count(". ") + 1 <= 4, message  # two or three sentences
        assert definition["sources"]
        for source in definition["sources"]:
            assert source["key"] and source["title"] and source["url"].startswith("https://")


def test_load_definitions_does_not_depend_on_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert {d["id"] for d in load_definitions()} == FLAG_IDS


def test_load_definitions_rejects_a_file_without_red_flags(tmp_path: Path) -> None:
    path = tmp_path / "red_flags.yml"
    path.write_text("something_else: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="red_flags"):
        load_definitions(path)


def test_default_detector_is_cached() -> None:
    assert default_detector() is default_detector()
    assert set(default_detector().flag_ids) == FLAG_IDS


def test_import_is_cheap_and_never_imports_rasa_or_spacy() -> None:
    code = "import sys, bot.nlu.red_flags; print(sorted(m for m in ('spacy', 'rasa', 'rasa_sdk', 'yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------------
# Building a detector from definitions: behaviour and validation

TINY: List[Dict[str, Any]] = [
    {
        "id": "seizure",
        "patterns": {
            "spellings": {"seizure": ["siezure"]},
            "words": {"be": ["is", "was", "'s"], "shake": ["jerking", "shaking"]},
            "phrases": ["had a fit"],
            "tokens": [
                [{"NORM": "@be"}, {"NORM": "fitting"}],
                [{"NORM": "seizure"}],
                [{"NORM": "stiff"}, {"GAP": 2}, {"NORM": "@shake"}],
            ],
            "exclude": {"tokens": [[{"NORM": "fitting"}, {"NORM": "well"}]]},
        },
    },
    {
        "id": "fever_no_weight",
        "patterns": {
            "all_of": {
                "fever": {"phrases": ["fever"]},
                "leg": {"tokens": [[{"NORM": "not"}, {"NORM": "stand"}]]},
            }
        },
    },
]


def test_tiny_definitions_work() -> None:
    tiny = RedFlagDetector.from_definitions(copy.deepcopy(TINY))
    assert flags(tiny, "he's fitting") == ["seizure"]
    assert flags(tiny, "the coat is fitting well") == []
    assert flags(tiny, "a SIEZURE") == ["seizure"]
    assert flags(tiny, "went stiff and then jerking") == ["seizure"]
    assert flags(tiny, "she never had a fit") == []
    assert flags(tiny, "fever and she can't stand") == ["fever_no_weight"]
    assert flags(tiny, "fever") == []


def _broken(change: Any) -> List[Dict[str, Any]]:
    definitions = copy.deepcopy(TINY)
    change(definitions[0]["patterns"], definitions)
    return definitions


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, d: p.update(regex=["x"]), r"'seizure'.*unknown pattern keys regex"),
        (lambda p, d: d[0].update(patterns={}), r"'seizure'.*patterns are missing or empty"),
        (lambda p, d: d[0].pop("patterns"), r"'seizure'.*patterns are missing or empty"),
        (lambda p, d: [p.pop(k) for k in ("phrases", "tokens")], r"'seizure'.*no phrases or tokens"),
        (lambda p, d: p.update(phrases=[], tokens=[]), r"'seizure'.*no phrases or tokens"),
        (lambda p, d: p.update(phrases=[""]), r"'seizure'.*phrase '' must be a non-empty string"),
        (lambda p, d: p.update(exclude={"token": []}), r"'seizure'.*unknown pattern keys in exclude: token"),
        (lambda p, d: p.update(all_of={"a": {"phrases": ["x"]}, "b": {"phrases": ["y"]}}), r"'seizure'.*either all_of"),
        (lambda p, d: d[1]["patterns"]["all_of"].pop("leg"), r"'fever_no_weight'.*at least two"),
        (lambda p, d: p.update(tokens=[[{"NORM": "@nope"}]]), r"'seizure'.*unknown word list '@nope'"),
        (lambda p, d: p.update(tokens=[[{"BOGUS": "x"}]]), r"'seizure'.*not a valid spaCy pattern"),
        (lambda p, d: p.update(tokens=[[{"NORM": {"IN": [True]}}]]), r"'seizure'.*quote YAML words"),
        (lambda p, d: p["words"].update(be=["is", False]), r"'seizure'.*quote YAML words"),
        (lambda p, d: p.update(tokens=[[{"NORM": "can't"}]]), r"'seizure'.*is 2 tokens"),
        (lambda p, d: p.update(tokens=[[{"GAP": 20}, {"NORM": "x"}]]), r"'seizure'.*GAP"),
        (lambda p, d: p.update(tokens=[[{"NORM": "x", "OP": "?"}]]), r"'seizure'.*at least one required token"),
        (lambda p, d: p.update(tokens=[[]]), r"'seizure'.*non-empty list"),
        (
            lambda p, d: d[1]["patterns"].update(spellings={"fit": ["siezure"]}),
            r"'fever_no_weight'.*conflicts with 'seizure'",
        ),
        (lambda p, d: d.append(copy.deepcopy(d[0])), r"'seizure' is defined twice"),
        (lambda p, d: d.append({"patterns": {"phrases": ["x"]}}), r"red flag #3 has no id"),
    ],
)
def test_invalid_definitions_raise_value_error_naming_the_flag(change: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedFlagDetector.from_definitions(_broken(change))


def test_definitions_must_be_a_non_empty_list() -> None:
    with pytest.raises(ValueError, match="non-empty list"):
        RedFlagDetector.from_definitions([])
