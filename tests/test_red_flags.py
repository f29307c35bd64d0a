"""Red-flag detector: phrasings that must fire, near misses that must not, speed, and data validation."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.nlu.red_flags import RedFlagDetector, RedFlagHit, default_detector, load_context, load_definitions
from tests.test_emergencies import VIGNETTES

ROOT = Path(__file__).resolve().parents[1]
# The flags in the order red_flags.yml defines them.
FLAG_ORDER = [
    "loss_of_skills",
    "fever_no_weight",
    "breathing_trouble",
    "seizure",
    "injury",
    "very_unwell",
    "one_sided_weakness",
    "poisoning",
    "head_injury",
    "choking",
    "allergic_reaction",
    "drowning",
    "unresponsive",
    "young_baby_fever",
    "non_blanching_rash",
    "swallowed_battery",
    "swallowed_magnet",
    "burn",
    "road_accident",
    "dehydration",
    "bruising_non_mobile",
    "sudden_leg_weakness",
]
FLAG_IDS = set(FLAG_ORDER)
# Emergencies outside our topics (facts.md §15): each has its own flag and message.
NEW_FLAG_IDS = ("poisoning", "head_injury", "choking", "allergic_reaction", "drowning")


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
        # had the skill, lost it (the earlier skill, a turn, and what is true now)
        "my little girl walked at eleven months but this week she won't stand up at all",
        "he was toddling around happily until last Tuesday, now he can't take a single step",
        "she had been cruising along the furniture for ages and now she can't pull up any more",
        "our son used to sit up without help, now he just flops to one side",
        "he could crawl across the room last month but now he just lies there",
        "she was standing on her own at christmas and now refuses to put her feet down",
        "my boy walked for three months and now he crawls again",
        "she was walking really well and suddenly she only bum shuffles",
        "twins were both walking, now one of them won't even try",
        "he learned to walk in the summer and now he refuses to walk",
        "she was pulling to stand for weeks but over the last few days she has lost that",
        "my son could walk fine a fortnight ago and now he won't get up from the floor",
        "he was walking fine 2 weeks ago now he wont walk at all",
        "she used to be able to walk but now she just sits",
        "Our daughter was walking independently and has gone back to crawling over the last week",
        "he used to crawl really fast but over the past month he's lost it.",
        "she was walking and now she can't even crawl",
        "he was standing at the sofa last week and now he can't even sit up",
        "she's stopped using her hands to grab things like she used to",
        "she can't hold her head up like she used to",
        "he's not been able to stand since last night",
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
        "she's really hot and won't stand on her left foot",
        "temperature 38.6 and she screams whenever her leg is moved",
        "he's been burning hot all night and cries when we lift his leg",
        "high temp and she's holding her leg very still",
        "she is hot to the touch and dragging her leg",
        "39 degrees and she cries at every nappy change",
        "fevr and wont weight bear",
        "she's had a temp all day and won't put her left foot down",
        "fever of 38 and he cries if you try to bend his knee",
        "he was walking fine yesterday, now he has a fever and won't walk",
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
        "he can't get any air in",
        "she is not getting enough air",
        "she can't get her breath",
        # breathing that looks hard, as parents describe it
        "her ribs suck in when she breathes",
        "nostrils flaring",
        "grunting with every breath",
        "breathing really fast and can't feed",
        "his lips look blue",
        "pauses in her breathing",
        "you can see the skin sucking in under his ribs",
        "her nose flares each time she breaths",
        "he grunts every time he breathes out",
        "she's breathing so fast she can't even drink her bottle",
        "Too breathless to feed",
        "his tongue looks kind of blue",
        "long pauses between breaths while asleep",
        "her chest caves in with every breath",
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
        "he's shaking uncontrollably",
        "she had a SEIZER this morning",
        "not sure if it was a seizure",
        # collapse, floppy and a colour change
        # jerking that goes on, whole-body jerking, not responding, hard to wake
        "her arms keep twitching and it won't stop",
        "he's been jerking for about five minutes",
        "his whole body went stiff",
        "he went rigid and his arms were jerking",
        "she's having some kind of fit",
        "he's twitching and not reacting to me",
        "his eyes are rolling and he's twitching",
        # episodes described in words
        "he goes rigid and stares and doesn't answer to his name, it keeps happening",
        "her arms and legs jerk and she doesn't respond",
        "she zones out and goes stiff",
        "her eyes roll back and she twitches",
        "shaking that won't stop when I hold him",
        "he keeps zoning out and doesnt respond when i clap",
        "she stares blankly into space and doesn't blink or answer",
        "his body stiffens and then jerks",
        "She Goes All Stiff And Her Eyes Roll Up",
        "he's been having these staring spells",
        "his right arm and face are twitching on one side",
        "jerks in clusters when he wakes up",
        "her legs jerk over and over and she's not with it",
        "shaking and wont stop even when i cuddle him",
        "it look like he has fit, body go stiff and shake",
        "he has a fever and he's jerking and not responding",
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
        # head knock, then sick, drowsy or confused
        "she bumped her head on the radiator and has been vomiting",
        "he knocked his head off the table and now he seems confused",
        "she's been sick twice since she hit her head",
        "he smacked his head on the floor and he's really sleepy now",
        "she fell off the changing table onto the floor and now she's very sleepy",
        "she hit her head and is acting strange",
        # not using a limb, or a limb that looks wrong, after an accident
        "my toddler fell off the slide and now won't walk at all",
        "she tripped over the dog and has stopped putting weight on her foot",
        "she fell awkwardly and can't put weight on her ankle",
        "he got his arm stuck in the cot bars and it's swollen",
        "she jammed her fingers in the car door and they look bent",
        "he caught his finger in the door and it looks crushed",
        "he fell off the climbing frame and his wrist is at a funny angle",
        "his arm is dangling after he fell",
        "she got her leg caught in the cot and now won't bear weight on it",
        "he banged his elbow and now he won't use his arm",
        "she fell and I heard a snap",
        "my baby fell out of his highchair, hit the back of his head and keeps falling asleep",
        "he fell in the bath and hit his head",
        # falls from a height, road accidents, burns and scalds
        "she fell out of the window",
        "he fell from the top bunk",
        # a leg held still and not used after a fall or a knock
        "fell off the sofa and now won't move his leg",
        "since she tumbled down the step she keeps her leg still and cries when I touch it",
        "after the fall he won't put his foot down",
        "he slipped in the bath and now refuses to put weight on that leg",
        "she fell from the trampoline and wont stand on her left leg",
        "Fell off the bed, now he isn't kicking his right leg",
        "after tumbling off the slide she's holding her leg really still",
        "she fell off the high chair and won't use her leg",
        "he fell over in the park and now he's not walking on it",
        "since the fall yesterday he keeps his leg bent and screams if we move it",
    ],
    "very_unwell": [
        "he's very hot, floppy and hard to wake",
        "She's burning up and so floppy, like a rag doll",
        "my son has a fever of 39.8 and he is really drowsy",
        "temp 40.1 and she wont wake up properly",
        "Hes boiling hot and limp, not himself at all",
        "she has a high temperature. She is very floppy and sleepy.",
        "baby is hot and her skin looks mottled",
        "fever and his legs are all blotchy and grey",
        "her soft spot is bulging and she's hot",
        "his fontanelle is bulging",
        "he's got a temp and a stiff neck",
        "high temp and a weird high pitched cry",
        "she's very hot and not responding to me",
        "fever since last night n now hes really lethargic",
        "I think he has a temperature and he's hard to wake up",
        "fevr 39.5, flopy, keeps falling asleep on me",
        "FEVER AND SHE IS VERY SLEEPY AND WON'T STAY AWAKE",
        "im not sure but i think she's got a fever and she's kind of floppy?",
        "he's roasting hot and his lips are going grey",
        "temperature 102F, he's groggy and barely responding",
    ],
    "one_sided_weakness": [
        "he suddenly stopped using one arm",
        "one side of her face is drooping",
        "he's suddenly dragging his leg",
        "her mouth is droopy on one side since she woke up",
        "his face looks droopy on the left",
        "she has stopped using her right hand",
        "He can't move his left arm at all",
        "all of a sudden he won't move his right leg",
        "my daughter suddenly cant lift her left arm",
        "since this morning she is dragging her right foot",
        "his left arm has gone all floppy",
        "one side of his body went weak",
        "I think there's some weakness on one side",
        "new weakness in her right leg today",
        "she's lost the use of her left hand",
        "her smile is suddenly lopsided",
        "Baby face drop on one side, what happen??",
        "he hasn't moved his right arm since he woke up from his nap",
        "Suddenly Not Using Her Left Arm",
        "she suddently stopped moving one leg",
    ],
    # Emergencies outside our topics: a suspicion is enough ("I think", "not sure if", "might have").
    "poisoning": [
        "my son ate some of grandma's pills",
        "she drank bleach!!",
        "he was chewing on a dishwasher tablet and i think some went down",
        "she's got into the cleaning cupboard and drank some of the spray",
        "my daughter eat the tablets of her grandmother, what i do",
        "he has eaten a laundry pod",
        "She Ate A Whole Bottle Of Calpol",
        "my baby licked a liquitab and it burst in her mouth",
        "he ate a mushroom from the garden",
        "she ate some berries off a bush in the park",
        "my son is drinking the weedkiller from the shed",
        "I'm scared he has swallowed some of my antidepressants",
        "She Swallowed One Of My Iron Tablets",
        "he's been poisoned I think",
        "we found him with an open bottle of paracetamol and I'm not sure how many he ate",
    ],
    "head_injury": [
        "she rolled off the changing table onto the floor and now she's being sick",
        "he fell off the bed and banged his head, now he's really drowsy",
        "my son hit his head on the table and was knocked out for a few seconds",
        "She Fell Down The Stairs And Keeps Being Sick",
        "he banged his head at nursery and has been sick twice since",
        "bumped her head hard on the floor, now shes very sleepy and hard to wake",
        "he fell off the climbing frame and is confused, he doesn't know where he is",
        "my daughter hit her head and now there's clear fluid coming out of her nose",
        "he tripped and smacked his forehead, now he's acting strange and not himself",
        "my 4 month old fell off the sofa and has a massive lump on her head",
        "she fell from the top bunk. She's vomiting and very dopey",
        "after he banged his head he had a fit",
        "he knocked himself out on the door frame",
        "fell backwards off the chair and hit the back of his head, he's been throwing up ever since",
        "my baby rolled off our bed and now he won't stop crying and won't feed",
        "she hit her head on the radiator and her legs seem weak",
        "he fall off bed and hit head, now he sleep all the time and cannot wake him",
        "I think she's concussed, she's dizzy and talking funny",
        "The baby slipped out of my arms and her head hit the floor, shes been sick 3 times",
    ],
    "choking": [
        "he's choking on a grape",
        "she choked on a piece of apple and turned blue",
        "my baby choked and can't breathe",
        "he's choking and not making any sound",
        "something is stuck in her throat",
        "She Choked On A Sweet And Can't Cough Or Cry",
        "silent choking, help",
        "i think hes chocking on something",
        "my son choke with food and cannot breath",
        "we're doing back blows now",
        "a grape is lodged in his throat",
        "she was gagging and went blue around the lips",
        "he's chokin on popcorn",
        "choked on a coin and he's not breathing",
        "my baby is choking!!",
        "she choked on milk and went grey",
    ],
    "allergic_reaction": [
        "her lips are swelling up after she ate peanut butter",
        "his tongue is swollen",
        "she had egg for the first time and now she's wheezing and covered in hives",
        "he was stung by a wasp and now he's struggling to breathe",
        "I think she's having an anaphylactic reaction",
        "we used her epipen",
        "his throat feels tight and he can't swallow after eating cashews",
        "my son ate a nut, his face is swelling and his voice is hoarse",
        "her tongue looks huge",
        "hives everywhere after the new food and she's coughing nonstop",
        "she collapsed after a bee sting",
        "he's allergic to sesame, he had some hummus and now he has trouble breathing",
        "swollen lips and tongue after prawns",
        "my baby's mouth is all puffy and swollen after trying egg",
        "after the amoxicillin she went pale and floppy",
        "she is allergic to peanut and now her lip is swelling and she can't breathe good",
    ],
    "drowning": [
        "we pulled him out of the pool and he wasn't breathing",
        "she went under in the bath and has been coughing ever since",
        "my son nearly drowned",
        "found her face down in the bath",
        "he fell in the pond and is breathing funny now",
        "she slipped under the water at swimming and now she's very sleepy",
        "he was under the water for a while and his lips are blue",
        "my daughter is drowning",
        "He Fell Into The Pool And Is Unconscious",
        "my baby went under and now keeps coughing and breathing fast",
        "she swallowed a lot of water at the beach and is still coughing hours later",
        "we fished him out of the river and did cpr",
        "he almost drown in the bath",
        "she fell in the paddling pool and is not responding",
        "she went under for a few seconds and now her breathing is weird",
    ],
    "sudden_leg_weakness": [
        "my 2 year old suddenly can't walk",
        "all of a sudden she can't stand up",
        "she can't move her legs",
    ],
    "unresponsive": [
        "my son is unresponsive",
        "he suddenly went floppy and pale",
        "she went completely limp and blue in my arms",
        "my baby is pale and floppy",
        "he passed out and won't wake up",
        "she suddenly collapsed on the floor",
        "I can't wake her up!",
        "he's very hard to wake and floppy",
        "my baby is floppy and won't wake up properly",
        "he's really lethargic and floppy",
    ],
    "road_accident": [
        "he was hit by a car",
    ],
    "burn": [
        "he pulled a cup of hot tea over himself",
        "she's scalded her hand on the kettle",
        "he burnt his hand on the oven door",
    ],
    "young_baby_fever": [
        "my 6 week old has a temperature of 38.2",
        "my 7 weeks baby have fever 38.5 what to do",
        "fever in my 2 month old",
        "my newborn feels feverish, 38 degrees",
        "my 3 week old is 38.1 under the arm",
    ],
    "non_blanching_rash": [
        "she has a rash that doesn't fade when I press a glass on it",
        "did the glass test and the spots didn't fade",
        "purple spots, you can still see them through the glass",
    ],
    "swallowed_battery": [
        "oh god wait I think she just swallowed one of the little round batteries from the remote",
        "he swallowed a button battery",
        "I think she might have swallowed a coin battery from the kitchen scales",
        "one of the batteries from the car key is missing and she might have swallowed it",
        "pretty sure he's swallowed a battery, he's acting fine though",
        "he might of swallowed a battery",
        "One of the button batteries has gone. I think she swallowed it.",
    ],
    "swallowed_magnet": [
        "not sure if he swallowed a magnet",
        "my toddler swalowed 2 magnets from his brother's building set",
        "I can't find one of the magnets, maybe he ate it",
        "i think a magnet was swallowed, theres one missing from the set",
    ],
}

# The emergencies added for issue 12 keep their many vignettes in test_emergencies.py; every one counts here too.
for _flag_id, _texts in VIGNETTES.items():
    POSITIVES.setdefault(_flag_id, []).extend(t for t in _texts if t not in POSITIVES[_flag_id])


@pytest.mark.parametrize("flag_id, text", [(flag_id, text) for flag_id, texts in POSITIVES.items() for text in texts])
def test_positive_phrasings_fire(detector: RedFlagDetector, flag_id: str, text: str) -> None:
    assert flag_id in flags(detector, text)


def test_every_flag_has_positive_phrasings() -> None:
    assert set(POSITIVES) == FLAG_IDS  # a flag added to red_flags.yml without phrasings to test fails here


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
    # late walkers and new walkers: refusing, or a skill not reached yet, is not a lost skill
    "she won't walk, she just crawls",
    "she walks holding my hand but won't let go",
    "he won't get up off the floor to come for his bath",
    "she was walking holding the sofa and now she won't let go of it",
    "she was standing at 9 months and now at 13 months she isn't walking",
    "he stood at ten months and he's fourteen months now and won't walk",
    "he walks but goes back to crawling when he wants to be quick",
    "he took his first steps last month but now he's back to crawling",
    "she could almost walk last month but now she's back to crawling",
    "she was walking a few steps last month but now she won't try",
    "he used to walk to nursery but now he won't walk, he wants the buggy",
    "we were walking to the shops and he refused to walk any further",
    "she was walking round the zoo all day and now she won't walk, she's exhausted",
    "my daughter used to walk with her walker but now won't walk unless I hold her hands",
    "she was walking with a push toy at 10 months and now at 12 she won't walk without it",
    "he used to sit in the high chair but now he won't sit in it",
    "she was crawling all over the house but now she won't crawl, she just walks",
    "he used to crawl but now he's walking so he doesn't crawl anymore",
    "my son was walking by 10 months and my daughter isn't walking at 14 months",
    "she could walk at 11 months but didn't want to",
    "I wish she could walk but she won't even try",
    "she was cruising at 10 months and now at 16 months she won't walk on her own",
    "my twins were both crawling at 8 months but one won't crawl now, he shuffles",
    "he stopped using his dummy",
    # floppy in protest or laughter, asleep in the car, giggles, newborn startles
    "she went limp with laughter when I tickled her",
    "he goes floppy when I try to put him in the car seat",
    "my baby passed out in the car seat on the way home",
    "he collapsed into giggles when the dog licked him",
    "his whole body jerks when there's a loud noise",
    "his chin trembles when he cries",
    "he was shaking his rattle and won't stop",
    "she won't wake up for her feeds during the day",
    "she's hard to wake in the morning for nursery",
    "she doesn't respond at all when I call her name",
    # being sick, head knocks and bumps of daily life
    "he was sick after his bottle",
    "she banged the table with her spoon",
    "he bangs his head on the cot when he's sleepy",
    "he hit his head on the table and cried but he's not sleepy or sick",
    "she bumped her head last week and was sick today with a tummy bug",
    "he fell asleep in the car and was sick when he woke up",
    "he fell over at the park and grazed his knee",
    "he trapped his finger in the drawer, cried for a minute and now he's fine",
    "she got her leg stuck in the cot bars again last night",
    "he got his foot stuck in the cot bars and cried until I freed it",
    "he fell over trying to walk and now he won't walk",
    "we landed in spain yesterday and now he won't walk.",
    "she dropped her toy and won't walk.",
    "I heard a crack of thunder and she cried",
    "my toddler pretends to crash his toy car",
    "I burnt his toast this morning",
    # warm, not feverish
    "he's hot and sweaty after running around and now he's limping",
    "it's boiling hot outside and he refuses to walk to the park",
    "he's hot and won't stand still for his nappy change",
    "she's too hot in her sleeping bag",
    # sudden refusals, "since" an ordinary event, a tight sleeping bag
    "he suddenly won't sit still",
    "she suddenly doesn't want to crawl, she wants to walk",
    "he hasn't walked since lunch, he's been napping",
    "my baby can't move her legs much in the sling",
    "he hit his head and then fell asleep in the car as usual",
    # issue 11: floppy alone, one-sided preferences, look-alike episodes, quiet breathing noises
    "she's a bit floppy compared with her cousin",
    "she's a floppy little thing when she's sleepy, is that normal?",
    "she has always used her right hand more",
    "he drags one leg when he crawls",
    "she prefers her left hand for grabbing toys",
    "his crawl is lopsided, he sort of drags one leg",
    "she's always been a bit weaker on her left side, physio knows",
    "he was born with a droopy eyelid",
    "her eyelids droop when she's sleepy",
    "he favours his right side when he rolls",
    "she can't move her arms much in the swaddle",
    "he won't use his left hand to eat",
    "she keeps one hand in a fist",
    "he startles and flings his arms out when there's a loud noise",
    "she stares at the ceiling fan",
    "she goes stiff when she's angry and arches her back in a tantrum",
    "he goes stiff as a board when I try to put him in the car seat",
    "she zones out in front of the telly and doesn't answer me",
    "he stares at the lights and goes quiet",
    "his legs go stiff and straight when I stand him up",
    "she jerks awake as she falls asleep",
    "breathing heavily after crying then settled",
    "he snores a bit",
    "she grunts a lot when she's doing a poo",
    "he sucks in his tummy when he stands",
    "she's a noisy breather when she has a cold but happy",
    "he breathes fast when he's excited then calms down",
    "she holds her breath underwater at swimming lessons",
    # the past, checked and not come back; someone else's child or history
    "he had a febrile seizure last year, the hospital checked him and it hasn't happened since",
    "he had one febrile convulsion two years ago and none since",
    "my nephew had seizures",
    "seizures run in the family, should I worry?",
    "her cousin has epilepsy and had fits as a baby",
    "my dad had a seizure last month",
    "her cousin stopped walking after an illness",
    "my sister's baby was floppy",
    "my nephew had weakness on one side after an operation",
    "my friend's baby was very hot and sleepy after her jabs",
    "he had a fever last week but he's fine now, a bit sleepy today",
    "she had a fever last month and was drowsy but the GP said she's fine now",
    # a bump or a fall, then normal play
    "bumped her head on the table, cried for a minute and is back playing",
    "he fell off the sofa, cried a bit and now he's running around again",
    "she tripped on the rug but got straight back up and walked off",
    "he bumped his knee but is walking fine",
    # alarming words used loosely
    "this tummy time is killing me",
    "she's a little hot-headed",
    "I'm having a fit over the laundry",
    "he's not breathing down my neck anymore",
    "she threw a fit",
    "my heart stopped when she stood up alone",
    "I'm choking up watching her take her first steps",
    "his eczema flared up again",
    "he is seizing every chance to climb the stairs",
    "I'm burning up in this heat, is the baby ok in her vest?",
    "he's hot and sweaty after his nap but playing happily",
    "he's very sleepy after the long car ride in the heat",
    # temperatures and rashes that are not the urgent kind
    "my 6 week old's temperature is 37.2, is that normal?",
    "how do I take my 6 week old's temperature?",
    "my baby was born at 38 weeks and is now 6 weeks old",
    "her birthmark doesn't fade",
    "his soft spot bulges when he cries",
    "the rash fades when I press it with a glass",
    "she has a fever and isn't responding to calpol",
    "the calpol makes him drowsy, he has a temperature",
    "is 37.9 a fever for my 6 week old?",
    "he has a temperature and is a bit sleepy",
    "my 5 month old has a temperature of 38.4 and is grumpy",
    "what is a normal temperature for a 2 month old",
    "my baby is floppy when I pull her to sit, she had a fever last week",
    "the doctor said she has a stiff neck from sleeping funny",
    "he had a seizure 2 years ago and hasn't had one since",
    "when she was a baby she had a febrile convulsion but she's 4 now",
    "she gave me a blank stare when I said no",
    "my son zones out when he watches peppa pig",
    "his face goes red and he stiffens when he poos",
    "she got her dummy stuck and her mouth drooped open, so cute",
    "I was in a car accident years ago, can I still carry her in a sling?",
    "i'm gasping for a coffee",
    "she fell asleep in the car seat all floppy",
]

# A past episode that was checked, settled or has not come back, and another person's history (the shared
# `context` of red_flags.yml): whole families of phrasing, written as answers to our questions and as openings.
PAST_AND_SOMEONE_ELSE = [
    # past, checked and explained
    "she went a little blue around the mouth once while screaming in the summer, the GP said it was just a breath-holding episode",
    "he held his breath and turned a bit purple when he was cross last year, the doctor told us it was nothing to worry about",
    "born on time. she turned grey once in a tantrum a few months ago, the paediatrician said it was harmless",
    "she turned blue round the lips once in the bath when she was a newborn, the midwife said it was normal",
    "he stopped breathing for a moment once when he choked on a grape months ago, he was fine straight after and the GP checked him",
    "she went floppy and pale once after a vaccine when she was little, the nurse said it was a faint and she was fine",
    # past injuries, checked, fine now
    "yes, he was x-rayed after tumbling off the climbing frame last month and it was all fine, he's running about now",
    "she fell off the sofa a few weeks ago and they checked her at the hospital and she was fine, she's back to normal",
    "yes they looked at her hips when she fell off the bed last year and everything was normal",
    "yes, at the hospital after she fell off the swing last month they scanned her and she's fine",
    "my 13 month old doesn't walk. she bumped her head on the table last week, the GP checked her and she's completely fine",
    "he knocked his head falling off the bed two weeks ago, the doctor had a look and he's been fine since",
    "she hit her head at soft play the other week and the nurse said she was fine, anyway she isn't standing yet",
    "my 11 month old isn't crawling. he had a nasty fall down two steps a while ago but the hospital said nothing was broken",
    "yes he's walking. he fell down the stairs last year but the GP checked him over and he was absolutely fine",
    "she got a bump on the head last month, the doctor checked her and it went down in a day",
    # past limps and fevers that went away
    "he limped for a couple of days after a fall last month, the GP looked at it and it went away",
    "no. she had a limp for a week after tripping over in the park back in March, it cleared up by itself",
    "he had a high temperature and a limp after a cold last month, the GP said it was a viral hip and it went away",
    # past fits, checked, not come back
    "he had a febrile fit at 9 months, the hospital checked him and it hasn't happened since",
    "my 16 month old isn't walking yet. he had a febrile seizure at 12 months but the doctors said it was nothing serious",
    "she had a fit with a high temperature last year, the paediatrician said it was a one-off and it's never happened again",
    "yes, he had a seizure once as a baby, the neurologist said he'd grown out of it",
    "the first one had a seizure at 10 months, the doctors said it was nothing and he's fine now",
    # a brother or sister
    "my eldest had breathing problems when he was born but this baby is fine",
    "our older son was floppy as a newborn, this one is much stronger",
    "my first daughter had a seizure as a baby, this one hasn't had anything like that",
    "his big sister broke her arm at nursery last year, he's never had anything",
    "no, my older boy had a broken leg at 3 but this one is fine",
    "his older brother was very floppy as a baby and had physio, this one seems fine",
    "no, her twin brother was in hospital with breathing problems when they were born, she wasn't",
    # other relatives and other people's children
    "no. her grandad broke his hip last winter but that's not related",
    "no, his cousin broke her leg on the trampoline, nothing to do with him",
    "my friend's little boy had a febrile convulsion, is that something to worry about with mine?",
    "no. my nephew was floppy as a baby and he turned out fine",
    "her aunt had a stroke and her face drooped, but that's an adult",
    "no, grandma fractured her wrist but that's not the same thing",
    "my sister's daughter had seizures but our son has never had one",
    "my husband had epilepsy as a child, will my daughter walk late?",
    "a boy at nursery had a fit last week, should I worry that he's not walking?",
]
NEAR_MISSES += PAST_AND_SOMEONE_ELSE

# Near misses for the emergencies outside our topics (facts.md §15), at least ten per flag.
NEAR_MISSES_OUTSIDE_TOPICS: Dict[str, List[str]] = {
    "poisoning": [
        "she swallowed some water in the bath",
        "he swallowed his food too fast",
        "she swallowed a bit of toothpaste",  # a small amount of toothpaste: keep calm
        "I swallowed my pride and asked for help",
        "the battery in the remote died",
        "she loves putting things in her mouth",
        "what should I do if my child swallows a button battery?",
        "how do I stop him eating the plants",
        "she finally swallowed her medicine",
        "I gave her calpol and she swallowed it without a fuss",
        "are magnets a swallowing hazard for a 1 year old",
        "she didn't swallow the battery, I took it off her",
        "can I eat peanuts while breastfeeding",
        "she drinks plant based milk",
        "he swallowed a small piece of carrot whole",
        "is it dangerous to swallow a bit of play dough",
        "he chews on the tv remote",
        "we give her vitamin d drops every morning and she swallows them fine",
    ],
    "head_injury": [
        "bumped her head, cried for a minute and went back to playing",
        "he headbutted me",
        "hit my head on the cupboard",
        "she bangs her head on the cot when she's tired",
        "he fell over at the park, cried, then ran off to the swings",
        "she fell asleep on the sofa and was sick with a tummy bug later",
        "he fell off the bottom step and laughed",
        "she keeps falling over when she tries to walk, is that normal",
        "he tripped over his own feet at nursery, then played happily all afternoon",
        "he fell off the sofa onto the rug and carried on playing",
        "my husband banged his head on the door frame and has a headache",
        "she rolled over onto her tummy and bumped her nose on the mat",
        "she tripped over and now has a nosebleed",
    ],
    "choking": [
        "she gags on lumpy food but then swallows it",
        "he coughed it up straight away and is fine now",
        "he choked on a piece of apple but coughed it out straight away",
        "are grapes a choking hazard",
        "I'm worried about choking with baby led weaning",
        "I choked up watching her first steps",
        "how do I do back blows on a baby?",
        "she gags when I brush her teeth but doesn't cry",
        "we learnt chest thrusts at a first aid course",
        "is it normal that she gags on purees",
        "she coughs and splutters when she drinks water",
    ],
    "allergic_reaction": [
        "a few hives on her cheek after strawberries, otherwise happy",
        "swollen eyelid from a mosquito bite",
        "her lip is swollen after she bumped it on the table",
        "she's allergic to eggs, what can I give her instead",
        "his face is puffy from crying",
        "when should I use the epipen",
        "his cheeks are swollen from teething",
        "she had a rash after eating tomatoes but it went away",
        "her throat is swollen and red, the GP said it's tonsillitis",
        "does he need an epipen at nursery",
        "he bit his lip and it's swollen",
        "can toddlers eat peanut butter",
    ],
    "drowning": [
        "she went under for a second in the bath and came up laughing, completely fine",
        "I'm drowning in laundry",
        "I'm scared of her drowning in the paddling pool",
        "is dry drowning real?",
        "he loves swimming underwater",
        "she hates it when her head goes under at swimming lessons",
        "he swallowed some water at swimming and coughed for a second, then carried on",
        "she sleeps face down, is that ok",
        "he went under a general anaesthetic for his grommets",
        "we took her out of the bath and she was very sleepy",
        "does carrying him face down along my arm count as tummy time",
    ],
}
NEAR_MISSES += [text for texts in NEAR_MISSES_OUTSIDE_TOPICS.values() for text in texts]

# A hospital stay or an illness that ended: recovered ("fully better", "all better", "home now", "discharged").
HOSPITAL_STAY_ENDED = [
    "my 4 month old was in hospital with bronchiolitis last month, she needed oxygen because her breathing was hard, but she's fully better now",
    "she was admitted with breathing problems last winter and was discharged after two days",
    "he had a seizure last year, spent a night in hospital and he's all better",
    "she needed oxygen for her breathing in the summer, she's home now and doing great",
]
NEAR_MISSES += HOSPITAL_STAY_ENDED


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_do_not_fire(detector: RedFlagDetector, text: str) -> None:
    assert detector.detect(text) == []


# A current emergency fires although the message also tells of a past that was checked, or of someone else.
CURRENT_DESPITE_THE_PAST = [
    ("fever_no_weight", "no, not since this morning, she's burning up and screams whenever she tries to stand on her leg"),
    ("fever_no_weight", "she's got a temperature of 38.7 and it hurts her to walk"),
    ("fever_no_weight", "today he's feverish and cries every time he puts any weight on his foot"),
    ("fever_no_weight", "she had a limp last month that went away, but today she's hot and limping again"),
    ("fever_no_weight", "he's been running a fever since yesterday and is in pain when he stands"),
    ("loss_of_skills", "no, over the past few days he can't walk at all and just sits"),
    ("loss_of_skills", "this weekend he can't stand properly and his legs seem wobbly"),
    ("loss_of_skills", "it's getting worse, today she can't crawl at all and her arms look weak"),
    ("loss_of_skills", "over the last couple of days she won't walk any more"),
    (
        "seizure",
        "she had a febrile convulsion last year and the doctor said it was fine, but right now she's jerking and won't respond",
    ),
    ("seizure", "he had a seizure at 10 months that the hospital said was nothing, and today he had another fit"),
    ("seizure", "my nephew had fits as a toddler, and now my son is shaking all over and won't stop"),
    ("seizure", "he's having a seizure right now, the doctor said last time it was nothing"),
    ("injury", "he bumped his head last month and was fine, but today he fell down the stairs"),
    ("injury", "my older one broke her arm last year, and today the baby fell from the changing table and hit his head"),
    (
        "breathing_trouble",
        "he went blue once last month and the doctor said it was nothing, but right now his lips are blue and he's struggling to breathe",
    ),
    ("breathing_trouble", "my older one had asthma, and this morning the baby is grunting with every breath"),
    ("breathing_trouble", "the GP said it was just a cold, but now she can't catch her breath"),
    ("breathing_trouble", "my sister's baby had breathing problems as a newborn; mine is gasping for air right now"),
    ("very_unwell", "he had a fever last month that went away, but now he's boiling hot and really floppy"),
    ("very_unwell", "the doctor said it was a virus yesterday, but tonight she's very hot and hard to wake"),
    ("young_baby_fever", "my 5 week old has a temperature of 38.4 today"),
    ("poisoning", "she had a reaction to paracetamol last year and was fine, but today she drank some bleach"),
    ("unresponsive", "my sister's baby had a seizure last year, but right now my son is hard to wake"),
    ("non_blanching_rash", "the GP said her rash was nothing last week, but now it doesn't fade under a glass"),
    ("swallowed_magnet", "his brother swallowed a coin once and was fine, but today he swallowed a magnet"),
    ("burn", "my older one burnt his hand years ago, but just now she pulled a cup of hot tea over herself"),
    ("road_accident", "we had a car crash last year and everyone was fine, but today he was hit by a bike"),
    ("dehydration", "she was checked last week and was fine, but today there's been no wet nappy for 14 hours"),
    (
        "bruising_non_mobile",
        "the health visitor said she was fine at her check, but today I found a bruise on my 3 month old's leg",
    ),
    (
        "sudden_leg_weakness",
        "he had a fall last month and the doctor said it was nothing, but now he suddenly can't move his legs",
    ),
    ("head_injury", "he bumped his head last month and was fine, but today he hit his head and has been sick three times"),
    ("one_sided_weakness", "his grandad had a stroke years ago, and this morning one side of my son's face is drooping"),
    # a hospital stay that ended does not settle a sign told now
    (
        "breathing_trouble",
        "she was in hospital with bronchiolitis last month and got better, but she's struggling to breathe again today",
    ),
    (
        "breathing_trouble",
        "my 4 month old had bronchiolitis last month and is fully better now, but she's struggling to breathe again today",
    ),
    ("swallowed_battery", "she had a scan last year and was fine, but today she swallowed a battery"),
    (
        "head_injury",
        "he bumped his head last month and the doctor said it was fine, but today he fell off the bed and keeps being sick",
    ),
    ("choking", "my older one choked on a grape once, and right now the baby is choking and can't breathe"),
    ("allergic_reaction", "she had a mild reaction to egg last year that went away, but right now her tongue is swelling"),
    ("drowning", "my nephew nearly drowned last summer, and today my son went under in the pool and is still coughing"),
]


@pytest.mark.parametrize("flag_id, text", CURRENT_DESPITE_THE_PAST)
def test_a_current_emergency_fires_despite_a_settled_past(detector: RedFlagDetector, flag_id: str, text: str) -> None:
    assert flag_id in flags(detector, text)


def test_every_flag_fires_next_to_a_settled_past() -> None:
    assert {flag_id for flag_id, _ in CURRENT_DESPITE_THE_PAST} == FLAG_IDS  # a new flag needs such a case too


@pytest.mark.parametrize(
    "text, settled",
    [
        ("yes, at the clinic after she slipped off the slide last month they x-rayed her leg and it was fine", True),
        ("no. he limped for two days after a trip in the garden last month, the GP had a look and it went away", True),
        ("he had a fall last month and was fine, but today he isn't himself at all", False),  # a current worry
        ("my baby is really not right, something is very wrong", False),
        ("", False),
    ],
)
def test_settled_past_for_a_classifier_only_red_flag(detector: RedFlagDetector, text: str, settled: bool) -> None:
    assert detector.settled_past(text) is settled


# ---------------------------------------------------------------------------------------------------
# Each emergency gets its own flag (and so its own message)


@pytest.mark.parametrize(
    "text, expected",
    [
        # hot + floppy / hard to wake is very_unwell, not a seizure
        ("he's very hot, floppy and hard to wake", ["very_unwell"]),
        ("she's burning up, really floppy and very hard to wake", ["very_unwell"]),
        ("temp of 39.5, floppy and won't wake up", ["very_unwell"]),
        ("he is so hot and lethargic and floppy", ["very_unwell"]),
        ("hard to wake and floppy with a high fever", ["very_unwell"]),
        # without a fever (or with the fever denied) floppy and hard to wake is the unresponsive flag (its own
        # message: a collapse, not a fit)
        ("he's very hard to wake and floppy", ["unresponsive"]),
        ("my sister's baby is having a seizure right now", ["seizure"]),  # someone else's child, but now
        ("she had a seizure and hasn't had a wet nappy since", ["seizure"]),
        ("no fever, but she's floppy and hard to wake", ["unresponsive"]),
        ("she doesn't have a fever but she's floppy and hard to wake", ["unresponsive"]),
        # a fit with a fever is still a seizure
        ("he has a fever and went stiff and jerking", ["seizure"]),
        # a new one-sided weakness is its own flag, not a lost skill
        ("he suddenly stopped using one arm", ["one_sided_weakness"]),
        ("one side of her face is drooping", ["one_sided_weakness"]),
        # a limb after a fall is an injury, not one-sided weakness
        ("he fell off the sofa and now can't move his left arm", ["injury"]),
        # precedence (`overrides`): one message per situation
        ("He's burning up. Now he's floppy and hard to wake.", ["very_unwell"]),  # not also a seizure
        ("she's had a temperature all day. Tonight she won't wake up properly", ["very_unwell"]),
        ("he's got a fever and he's limping and really floppy", ["very_unwell"]),  # not also fever_no_weight
        ("she has a high temperature and is floppy, she can't sit up anymore", ["very_unwell"]),
        ("she was walking fine yesterday but now she has a fever and won't walk", ["fever_no_weight"]),
        ("he fell off the bed and now he won't walk anymore", ["injury"]),
        ("she tripped over the dog and now she can't lift her right arm", ["injury"]),
        # a fit with a fever is still a seizure: the unresponsiveness belongs to the fit
        ("he has a fever and he's jerking and not responding", ["seizure"]),
        ("she had a febrile convulsion and now she's floppy and hard to wake", ["seizure"]),
        ("she's very hot and just staring, not responding to me, and her arms keep twitching", ["seizure"]),
        # floppy alone is a "see a provider soon" sign, handled elsewhere
        ("she's a bit floppy compared with her cousin", []),
        ("he seems a bit floppy when I hold him", []),
    ],
)
def test_each_emergency_gets_its_own_flag(detector: RedFlagDetector, text: str, expected: List[str]) -> None:
    assert flags(detector, text) == expected


def test_every_flag_has_its_own_message() -> None:
    definitions = {d["id"]: d for d in load_definitions()}
    messages = [" ".join(d["message"].split()) for d in definitions.values()]
    assert len(set(messages)) == len(messages)
    very_unwell = definitions["very_unwell"]["message"].lower()
    assert "floppiness" in very_unwell
    assert "emergency" in very_unwell and "seizure" not in very_unwell
    assert "one side" in definitions["one_sided_weakness"]["message"].lower()


# Emergencies outside our topics: the parent gets the message that fits (`overrides`, then `priority`).
@pytest.mark.parametrize(
    "text, expected, primary",
    [
        # choking and drowning are breathing emergencies with their own first steps; choking keeps breathing_trouble
        # reported (priority picks choking), drowning overrides it and a collapse told with it
        ("he's choking and can't breathe", ["breathing_trouble", "choking"], "choking"),
        ("she choked on a grape and turned blue", ["choking", "breathing_trouble"], "choking"),
        ("we pulled him out of the pool and he wasn't breathing", ["drowning"], "drowning"),
        ("he fell into the pool and is unconscious", ["drowning"], "drowning"),
        # breathing trouble or a collapse with an allergy is anaphylaxis
        ("he was stung by a wasp and now he's struggling to breathe", ["allergic_reaction"], "allergic_reaction"),
        ("she ate peanuts and collapsed", ["allergic_reaction"], "allergic_reaction"),
        # a collapse after swallowing medicine is a poisoning, not a seizure
        ("she swallowed some of my tablets and now she's unconscious", ["poisoning"], "poisoning"),
        ("he swallowed a magnet and now he's choking", ["swallowed_magnet", "breathing_trouble", "choking"], "choking"),
        # a head knock with a danger sign: the head-injury message (the injury flag stays reported next to it)
        ("she rolled off the changing table onto the floor and now she's being sick", ["injury", "head_injury"], "head_injury"),
        ("he fell off the bed and banged his head, now he's really drowsy", ["injury", "head_injury"], "head_injury"),
        ("after he banged his head he had a fit", ["head_injury"], "head_injury"),
        # a young baby off a changing table or a bed, no sign yet: the injury message (get checked now)
        ("my 4 month old rolled off the bed onto the floor", ["injury"], "injury"),
        ("she fell off the changing table", ["injury"], "injury"),
        ("my 7 month old wriggled off the changing unit while I grabbed a nappy", ["injury"], "injury"),
    ],
)
def test_emergencies_outside_our_topics_get_the_message_that_fits(
    detector: RedFlagDetector, text: str, expected: List[str], primary: str
) -> None:
    hits = detector.detect(text)
    assert [hit.flag_id for hit in hits] == expected
    assert detector.primary(hits).flag_id == primary


# "now" as the word of an action ("call your local emergency number now"), not inside "know" or "snow".
HELP_NOW = re.compile(r"\b(?:emergency number|emergency department|emergency help|a doctor) now\b")


def test_messages_outside_our_topics_send_for_help_now() -> None:
    definitions = {d["id"]: d for d in load_definitions()}
    for flag_id in NEW_FLAG_IDS:
        message = " ".join(definitions[flag_id]["message"].split()).lower()
        assert "emergency" in message and HELP_NOW.search(message), flag_id
    assert "1-800-222-1222" in definitions["poisoning"]["message"]
    assert "sick" in definitions["poisoning"]["message"]  # don't make the child sick
    assert "auto-injector" in definitions["allergic_reaction"]["message"]


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
        "fyi: fell down the stairs",  # a glue symbol turned into a space just before the trigger
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
# Speed: super-linear blow-ups on long messages (per-message time is measured by `make bench`)


@pytest.mark.parametrize(
    "chunk",
    [
        "She used to hate tummy time and now crawls backwards, no fever, he fell asleep. ",
        "my baby is crawling backwards and scooting on her bottom, is that normal? ",
        "a",
        # no sentence ends: long chains of GAP patterns start everywhere
        "she was walking and now she could stand and , but ",
        "he banged his head and was standing then crawling and ",
        "not not , and ",
        # the shared context everywhere: settled pasts, someone else, present words between them
        "his uncle had a seizure last year, the doctor said it was fine and it hasn't happened since, ",
        "my older one had fits once, right now she is asleep, the GP checked her and she was fine, went away ",
        # the emergencies outside our topics: verbs and fillers without a hazard, hazards without a verb across
        # sentence ends, half an all_of group everywhere
        "she swallowed one of the little round and the some of my , ",
        "the batteries and magnets and pills . i think maybe ",
        "he banged his head and fell off the bed , he went under the water , her lips and tongue ",
        "choked on a grape and , after eating peanuts , stuck in the ",
    ],
)
def test_100k_message_takes_linear_time_and_still_finds_a_flag_at_the_end(detector: RedFlagDetector, chunk: str) -> None:
    tail = " Then he fell down the stairs."

    def text(size: int) -> str:
        return (chunk * (size // len(chunk) + 1))[: size - len(tail)] + tail

    quarter, full = text(25_000), text(100_000)
    started = time.process_time()  # CPU time: a loaded machine stretches wall time, not this
    detector.detect(quarter)
    quarter_time = time.process_time() - started
    started = time.process_time()
    hits = detector.detect(full)
    full_time = time.process_time() - started
    assert [h.flag_id for h in hits] == ["injury"]
    assert hits[0].end <= len(full)
    # Four times the text: linear takes ~4x (3.4-4.3x measured), quadratic 16x. Below 0.2 s, noise rules.
    assert full_time < 8 * quarter_time or full_time < 0.2


def test_patterns_with_gaps_match_as_if_spacy_took_them_whole() -> None:
    """Joining gap-free segments gives exactly what the plain spaCy patterns (slow for long gaps) give."""
    from unittest import mock

    from bot.nlu import red_flags

    fast = default_detector()
    with mock.patch.object(red_flags, "_split_gaps", lambda pattern: None):
        plain = RedFlagDetector.from_definitions(load_definitions(), context=load_context())
    corpus = [text for texts in POSITIVES.values() for text in texts] + NEAR_MISSES
    corpus += [text for _, text in CURRENT_DESPITE_THE_PAST]
    for text in corpus:
        assert fast.detect(text) == plain.detect(text), text


def test_consecutive_gaps_add_up_and_stop_at_sentence_ends_and_negations() -> None:
    definitions = [
        {"id": "seizure", "patterns": {"tokens": [[{"NORM": "alpha"}, {"GAP": 8}, {"GAP": 4}, {"NORM": "omega"}]]}},
        {
            "id": "injury",
            "patterns": {
                "words": {"start": ["one", "uno"]},
                "tokens": [[{"NORM": "@start"}, {"GAP": 2}, {"NORM": {"IN": ["two", "dos"]}}]],
            },
        },
    ]
    tiny = RedFlagDetector.from_definitions(definitions)
    assert flags(tiny, "alpha " + "x " * 12 + "omega") == ["seizure"]
    assert flags(tiny, "alpha omega") == ["seizure"]
    assert flags(tiny, "alpha " + "x " * 13 + "omega") == []
    assert flags(tiny, "alpha was here. omega") == []
    assert flags(tiny, "alpha x not x omega") == []
    assert flags(tiny, "uno a b dos") == ["injury"]
    assert flags(tiny, "one a b c two") == []
    [hit] = tiny.detect("so: one and two!")
    assert hit.text == "one and two"


# ---------------------------------------------------------------------------------------------------
# The data file and the module contract


def test_data_file_has_the_urgent_flags_with_messages_and_sources() -> None:
    definitions = load_definitions()
    assert [d["id"] for d in definitions] == FLAG_ORDER
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


def test_red_flags_are_read_from_the_knowledge_dir_in_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KNOWLEDGE_DIR moves the red flags with the rest of the knowledge: a phrase added there is detected."""
    import yaml

    from bot.settings import get_settings

    message = "she has wobbly jelly legs this morning"
    assert "seizure" not in flags(default_detector(), message)
    data = yaml.safe_load((ROOT / "knowledge" / "red_flags.yml").read_text(encoding="utf-8"))
    seizure = next(flag for flag in data["red_flags"] if flag["id"] == "seizure")
    seizure["patterns"]["phrases"].append("wobbly jelly legs")
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "red_flags.yml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(knowledge))
    get_settings.cache_clear()
    try:
        assert "wobbly jelly legs" in next(d for d in load_definitions() if d["id"] == "seizure")["patterns"]["phrases"]
        assert flags(default_detector(), message) == ["seizure"]
    finally:
        monkeypatch.delenv("KNOWLEDGE_DIR")
        get_settings.cache_clear()
    assert "seizure" not in flags(default_detector(), message)


def test_load_definitions_rejects_a_file_without_red_flags(tmp_path: Path) -> None:
    path = tmp_path / "red_flags.yml"
    path.write_text("something_else: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="red_flags"):
        load_definitions(path)


def test_default_detector_has_every_flag() -> None:
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
        (lambda p, d: d[0].update(overrides=["nope"]), r"'seizure'.*overrides unknown red flag 'nope'"),
        (lambda p, d: d[0].update(overrides="fever_no_weight"), r"'seizure'.*overrides must be a list"),
        (lambda p, d: d[0].update(overrides=["seizure"]), r"'seizure'.*overrides itself"),
        (
            lambda p, d: (d[0].update(overrides=["fever_no_weight"]), d[1].update(overrides=["seizure"])),
            r"'seizure'.*cycle",
        ),
        (lambda p, d: d[0].update(priority=0), r"'seizure'.*priority must be a positive integer"),
    ],
)
def test_invalid_definitions_raise_value_error_naming_the_flag(change: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedFlagDetector.from_definitions(_broken(change))


def test_an_overridden_flag_is_not_reported_and_primary_follows_priority() -> None:
    definitions = copy.deepcopy(TINY)
    definitions[1].update(overrides=["seizure"], priority=2)
    definitions[0].update(priority=1)
    tiny = RedFlagDetector.from_definitions(definitions)
    assert flags(tiny, "a seizure. fever and she can't stand") == ["fever_no_weight"]
    assert flags(tiny, "a seizure") == ["seizure"]
    del definitions[1]["overrides"]
    both = RedFlagDetector.from_definitions(definitions)
    hits = both.detect("fever and she can't stand, then a seizure")
    assert [h.flag_id for h in hits] == ["fever_no_weight", "seizure"]
    assert both.primary(hits).flag_id == "seizure" and both.primary([]) is None


def test_the_project_precedence_picks_the_most_immediate_message(detector: RedFlagDetector) -> None:
    hits = detector.detect("turned blue. had a fit. broke her arm.")
    assert detector.primary(hits).flag_id == "breathing_trouble"
    hits = detector.detect("He Fell Off The Bed And Hit His Head, and now he has a fever and is limping")
    assert detector.primary(hits).flag_id == "injury"


def test_context_patterns_are_validated() -> None:
    with pytest.raises(ValueError, match=r"context: unknown keys nope"):
        RedFlagDetector.from_definitions(copy.deepcopy(TINY), context={"nope": {"phrases": ["x"]}})
    with pytest.raises(ValueError, match=r"'context': settled has no phrases or tokens"):
        RedFlagDetector.from_definitions(copy.deepcopy(TINY), context={"settled": {"phrases": []}})
    with pytest.raises(ValueError, match=r"'context'.*unknown word list '@nope'"):
        RedFlagDetector.from_definitions(copy.deepcopy(TINY), context={"settled": {"tokens": [[{"NORM": "@nope"}]]}})


def test_tiny_context_settles_a_past_and_someone_else() -> None:
    context = {
        "settled": {"phrases": ["said it was fine"]},
        "present": {"phrases": ["right now"]},
        "someone_else": {"tokens": [[{"NORM": "uncle"}, {"NORM": {"IN": ["had", "was"]}}]]},
    }
    tiny = RedFlagDetector.from_definitions(copy.deepcopy(TINY), context=context)
    assert flags(tiny, "he had a seizure, the GP said it was fine") == []
    assert flags(tiny, "he had a seizure right now, the GP said it was fine") == ["seizure"]
    assert flags(tiny, "the GP said it was fine. he had a seizure") == ["seizure"]  # settled before: no
    assert flags(tiny, "his uncle had a seizure") == []
    assert flags(tiny, "his uncle is having a seizure") == ["seizure"]
    assert flags(tiny, "his uncle had measles and he is having a seizure") == ["seizure"]


def test_definitions_must_be_a_non_empty_list() -> None:
    with pytest.raises(ValueError, match="non-empty list"):
        RedFlagDetector.from_definitions([])


# A sign told in the present is current, whatever reassurance about another time follows it.
CURRENT_WITH_OLD_REASSURANCE = [
    ("she's struggling to breathe, the doctor said it was nothing last time", "breathing_trouble"),
    ("his ribs are sucking in with every breath, the GP saw him last week and said it was fine", "breathing_trouble"),
    (
        "she has a high fever and won't stand on her leg, the doctor checked her yesterday and said it was a virus",
        "fever_no_weight",
    ),
    ("he's having a fit, it happened before and the hospital said it was fine", "seizure"),
    ("she keeps jerking and won't respond to me, last time they said it was nothing to worry about", "seizure"),
    ("he can't move his leg since he fell, the GP checked his hip in the summer and it was normal", "injury"),
]


@pytest.mark.parametrize(("text", "flag"), CURRENT_WITH_OLD_REASSURANCE)
def test_a_current_sign_is_never_settled_by_an_old_all_clear(detector: RedFlagDetector, text: str, flag: str) -> None:
    assert flag in flags(detector, text)


@pytest.mark.parametrize(
    "text",
    [
        "he went blue once when crying last month, the doctor said breath holding",
        "she held her breath till her lips went a bit blue a few weeks ago, the GP said breath-holding spells are common",
    ],
)
def test_a_checked_breath_holding_spell_stays_calm(detector: RedFlagDetector, text: str) -> None:
    assert flags(detector, text) == []
