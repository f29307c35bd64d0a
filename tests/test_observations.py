"""Observations: descriptions that answer follow-up questions, near misses, the past that is over, validation, speed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

from bot.knowledge.documents import KnowledgeError
from bot.knowledge.validate import load_knowledge
from bot.nlu.observations import (
    Observation,
    ObservationCatalogue,
    ObservationHit,
    default_catalogue,
    load_observations,
)
from bot.nlu.red_flags import RedFlagDetector
from bot.nlu.understand import understand
from bot.settings import PROJECT_ROOT

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalogue() -> ObservationCatalogue:
    """The project's catalogue (knowledge/observations.yml), detector built once."""
    return default_catalogue()


def found(catalogue: ObservationCatalogue, text: str) -> List[str]:
    """Observation ids found in `text`, in text order."""
    return [hit.observation_id for hit in catalogue.detect(text)]


# ---------------------------------------------------------------------------------------------------
# Phrasings that must give the observation (>= 8 each, all written for this project)

POSITIVES: Dict[str, List[str]] = {
    "one_side_favoured": [
        "she does everything with her right",
        "My LO only ever grabs stuff with her right hand",
        "he favors his left arm a lot",
        "shes a lefty already at 7 months lol",
        "Jack seems to use his right side way more",
        "he never really uses his left hand",
        "she crawls on one side, like her right leg does all the pushing",
        "it's always the left hand she reaches out with",
        "her left arm is kind of lazy",
        "he always leads with the same arm",
        "she is prefering her right hand",
        "my 10mo ds always uses his left hand, never his right",
        "baby girl prefer right hand only",
        "Oliver seems to favour his left arm when reaching for toys",
        "she reach always with left hand",
        "he crawls but only pushes with his right leg",
        "dd uses her right hand for absolutely everything",
        "he always reaches with his left, the right hand stays tucked in a fist",
        "she only ever uses her right hand to grab toys",
        "my lo uses one arm way more than the other",
        "Mia favours her left side when she plays",
        "he seems to prefer his right hand already and he's only 9 months",
        "she's clearly left handed at 8 months",
        "when he commando crawls one arm does all the work",
        "the baby pulls herself along with just her right arm",
        "her crawl is really lopsided",
        "his left side seems weaker than his right",
        "she hardly uses her left arm at all",
        "he doesn't use his right hand much",
        "always grabs with the same hand",
        "my son crawls kind of lop-sided",
        "she has a strong preference for her left hand",
        "he is always reaching out with the right",
        "our girl uses her left hand for everything",
        "she use only left hand, the other one not so much",
        "one sided crawling, she leans on her right",
        "her right arm barely moves compared to the left",
    ],
    "hand_fisted": [
        "keeps making a fist with just the right hand",
        "her right hand is always in a fist",
        "his left fist never opens",
        "thumb always tucked in on her left hand",
        "she keeps her left hand clenched",
        "one fist stays closed all day",
        "her left hand is clenched most of the time",
        "my son keeps his thumb tucked in on the right hand",
        "the baby has one hand that's always fisted",
        "the right hand stays tucked in a fist",
        "she keeps one hand in a fist most of the time",
        "his left hand is always clenched",
        "her thumb is tucked into her palm on one side",
        "he doesn't open his right hand like the left one",
        "one hand always seems to be fisted",
        "she keeps her fist closed on the left",
        "Noah holds his right hand in a tight fist",
        "the left hand is usually balled up into a fist",
        "his thumb stays tucked inside his fingers on the right",
        "she never opens her left hand properly",
    ],
    "leg_drags": [
        "what does it mean if she drags one leg?",
        "her right leg kind of drags when she crawls",
        "my son drags his left leg behind him",
        "he crawls but one leg just hangs behind",
        "lo drags his right leg behind when crawling",
        "she kinda drags one of her legs",
        "she drags one leg when she crawls",
        "her left leg just drags behind her",
        "he's dragging his right leg when he scoots",
        "one of her legs trails behind when crawling",
        "my lo crawls with one leg dragging",
        "the baby leaves one leg behind when she commando crawls",
        "he pulls his left leg along behind him",
        "drags a leg while bum shuffling",
        "his right foot drags along the floor when he crawls",
        "Ava is draging her right leg",
    ],
    "both_sides_even": [
        "she uses both her hands the same",
        "he uses both sides equally",
        "no preference for either hand",
        "she's using both arms fine",
        "both hands get used equally",
        "she uses both hands equally",
        "both sides look the same to me",
        "he kicks both legs",
        "she reaches with either hand",
        "no favourite side that I can see",
        "he doesn't favour either hand",
        "she swaps hands all the time",
        "both arms move just the same",
        "uses his left and right hands the same",
        "she moves her arms and legs equally",
        "she grabs toys with both hands",
        "I haven't noticed a hand preference, she switches hands",
        "seems symmetrical to me",
    ],
    "stiff_scissoring_legs": [
        "his legs criss-cross when I lift him under the arms",
        "his legs cross like scissors",
        "she's really stiff when I pick her up",
        "her legs go really straight and stiff",
        "my baby's legs scissor",
        "when i pick him up his legs go all stiff and cross",
        "her legs are always stiff and straight",
        "his legs go stiff and cross over when I lift him",
        "her legs scissor when I pick her up",
        "when I hold him up his legs cross like scissors",
        "she is very stiff, like a plank",
        "his legs are really stiff and hard to bend",
        "the physio mentioned high tone in her legs",
        "his whole body goes rigid when I lift him",
        "her legs stiffen and cross at the ankles when I hold her upright",
        "it's hard to bend his legs at nappy time",
        "my daughter's legs feel really tight all the time",
        "he goes stiff as a board when I pick him up",
    ],
    "very_floppy": [
        "she's like a sack of potatoes when I hold her",
        "she's floppy",
        "he feels like a rag doll when I lift him",
        "my daughter is very floppy and weak",
        "she kind of slips through my arms",
        "she's a very floppy baby",
        "he is floppy like a doll",
        "she feels floppy when I pick her up",
        "he's like a rag doll",
        "the health visitor said she has low tone",
        "he slips through my hands when I lift him under the arms",
        "she's really floppy compared to her brother at that age",
        "my lo seems a bit floppy",
        "he is so floppy, like a ragdoll",
        "she goes limp when I lift her up",
        "they said he has low muscle tone",
        "he feels like a wet noodle when I hold him",
    ],
    "uneven_legs_or_creases": [
        "one leg looks a bit shorter",
        "her thigh creases aren't even",
        "uneven skin folds on his legs",
        "the folds on her thighs are different on each side",
        "one of his legs is stiffer when i change his nappy",
        "his right leg won't open as far at nappy changes",
        "her leg creases look uneven",
        "one thigh has more creases than the other",
        "his legs look different lengths",
        "one of her legs looks shorter when I change her",
        "his left leg seems longer than the right",
        "the creases on her thighs are uneven",
        "her bum creases don't match",
        "one leg is stiffer at nappy changes",
        "it's hard to open one leg at nappy changes",
        "his legs are different lengths",
        "there's an extra crease on one thigh",
        "her right leg doesn't open as wide as the left",
        "thigh folds look different on each side",
        "one knee sits higher than the other when her knees are bent",
    ],
    "limp_or_waddle": [
        "he's got a limp",
        "she walks funny, kinda waddling",
        "my daughter has been limping since yesterday",
        "my 2 year old is limping",
        "she has a funny waddle",
        "he limps a bit when he walks",
        "she walks with a limp",
        "he's been limping on and off",
        "she waddles like a penguin",
        "my toddler walks lopsided",
        "he's waddling quite a lot",
        "she has a slight limp on her right side",
        "he hobbles when he walks",
        "she dips to one side when she walks",
        "our son walks a bit wonky",
    ],
    "no_hip_signs": [
        "his legs are the same length",
        "creases look even on both sides",
        "no uneven creases",
        "creases are symmetrical and legs look equal",
        "her legs look the same length",
        "the creases are even",
        "no limp",
        "his thigh creases match",
        "she walks without a limp",
        "both legs look the same",
        "no difference between her legs",
        "he doesn't limp or waddle",
        "her legs are equal length",
        "skin folds look symmetrical",
    ],
    "no_weight_on_legs": [
        "she won't stand on her legs when i hold her",
        "he lifts his legs up whenever i try to stand him",
        "she pulls her legs up instead of standing",
        "he doesn't put any weight on his legs",
        "he just sits on air when I try to stand him up",
        "she refuses to take weight on her legs",
        "his legs collapse when i put him on his feet",
        "he lifts his legs up when I try to stand him on the floor",
        "she tucks her knees up when I hold her standing",
        "he sits on air when I hold him up",
        "she won't take weight on her legs",
        "his legs go floppy when I stand him up",
        "she doesn't bear any weight when held standing",
        "when I stand her on my lap she pulls her legs up",
        "he refuses to put his feet down",
        "her legs just buckle",
        "he won't put weight through his legs at all",
        "she just dangles her legs when I hold her over the floor",
    ],
    "takes_weight": [
        "he's very strong on his legs",
        "she takes weight through her legs",
        "he stands on my lap and bounces",
        "she can stand if I hold her hands",
        "he bears weight on both legs",
        "she loves standing on my legs",
        "he takes full weight on his legs when held",
        "she stands on my lap",
        "he takes his weight on his legs when I hold him",
        "she pushes through her legs when I stand her up",
        "he bounces on my knees",
        "she bears weight on her legs",
        "he stands when held",
        "she loves standing if I hold her hands",
        "he straightens his legs when I stand him up",
        "she stands holding on to the sofa",
        "he puts some weight through his feet",
        "she stands well with support",
    ],
    "not_sitting_alone": [
        "she can't sit up by herself",
        "he can't sit unassisted",
        "she falls over when I sit her down",
        "he isn't sitting on his own yet",
        "she still needs support to sit",
        "my 9 month old still can't sit without falling over",
        "she needs to be propped up to sit",
        "he tips over when sitting",
        "she can't sit on her own",
        "he topples over when sitting",
        "she needs propping up with cushions",
        "he isn't sitting unsupported yet",
        "when I sit her up she falls over",
        "he can't sit without support",
        "she only sits with help",
        "he slumps forward when I sit him",
        "not sitting by herself yet",
        "he has to be propped",
        "she cant sit up yet",
    ],
    "sits_alone": [
        "she can sit on her own now",
        "he's been sitting unsupported for a month",
        "she sits up by herself",
        "sits alone no problem",
        "she's sitting by herself now",
        "he can sit up unsupported",
        "she sits by herself steadily",
        "he sits unsupported now",
        "she's sitting on her own",
        "he can sit without help",
        "she sits up alone",
        "he sits really well",
        "she can sit for ages",
        "sits independently since 7 months",
        "he is a confident sitter",
        "my lo sits without falling over",
    ],
    "stands_not_at_all": [
        "she can't stand by herself at all",
        "he sits down as soon as I let go",
        "doesn't stand alone",
        "she won't stand unless she's holding something",
        "he can only stand holding onto furniture",
        "she can't stand on her own yet, she holds on to the sofa",
        "he falls down as soon as he lets go",
        "not standing alone yet",
        "none, she sits back down the second I let go",
        "he can't stand without holding on",
        "she drops the moment I let go",
        "he needs to hold on to something",
        "no standing alone yet",
        "she can't stand alone",
        "he doesn't stand on his own yet",
        "she plops onto her bum as soon as I let go",
        "as soon as I let go of his hands he falls",
        "she only stands if she's holding on",
        "he won't let go of the sofa",
        "she isn't standing unsupported",
    ],
    "pulls_up": [
        "she pulls herself to standing on the sofa",
        "he pulls up to stand on everything",
        "she's been cruising for 2 months",
        "he can pull himself up",
        "he's pulling up on the furniture",
        "Emma pulls herself up on the coffee table",
        "she cruises round the sofa",
        "she pulls up on furniture",
        "he pulls himself up on the sofa",
        "she's pulling to stand",
        "he pulls up on me",
        "she cruises along the furniture",
        "he's cruising",
        "she pulls herself up to standing",
        "he hauls himself up on the coffee table",
        "she walks along the sofa holding on",
        "he gets up onto his feet using the coffee table",
        "my lo has started pulling up on everything",
    ],
    "not_pulling_up": [
        "he's not pulling himself up yet",
        "she can't pull up",
        "no pulling to stand yet",
        "he doesn't pull to stand",
        "she isn't pulling up on anything yet",
        "she doesn't pull up yet",
        "he hasn't started pulling to stand",
        "she won't pull herself up",
        "he isn't pulling up at all",
        "she has shown no interest in pulling up",
        "he never pulls up on anything",
        "she can't pull to stand",
        "he is not even trying to pull up",
        "not pulling up on furniture yet",
    ],
    "gets_around": [
        "she bum shuffles",
        "he army crawls everywhere",
        "she rolls to get where she wants",
        "he is crawling now",
        "he's commando crawling",
        "she crawls backwards",
        "my lo scoots on her bum everywhere",
        "she rolls everywhere",
        "he scoots around the house on his bottom",
        "she bum shuffles all over",
        "he commando crawls to get his toys",
        "she crawls everywhere",
        "he gets where he wants",
        "she's on the move all day",
        "he creeps across the room on his tummy",
        "my lo is crawling backwards",
        "she's scooting",
        "he wriggles across the floor to reach his toys",
    ],
    "does_not_move_about": [
        "she doesn't move at all",
        "he isn't moving around yet",
        "she doesn't crawl or roll",
        "he just lies there and doesn't move around",
        "she isn't crawling or scooting or rolling",
        "she stays where I put her",
        "he doesn't move around at all",
        "she has no way of getting around",
        "he doesn't go anywhere",
        "she isn't mobile yet",
        "he doesn't crawl, roll or scoot",
        "she just sits there",
        "he stays put",
        "she can't get anywhere",
        "he isn't crawling or shuffling",
    ],
    "hips_checked": [
        "they checked her hips at birth",
        "his hips were scanned and were fine",
        "she had an ultrasound on her hips",
        "the GP checks his hips at every appointment",
        "her hips were checked at birth and 6 weeks",
        "he had a hip ultrasound at 6 weeks",
        "had his hips scanned at 6 weeks and they were fine",
        "the GP looked at her hips",
        "she had a hip ultrasound because she was breech",
        "his hips were checked at the 8 week check",
        "the paediatrician examines his hips at every visit",
        "she had a hip x-ray at 6 months",
        "the health visitor checked her hips",
        "the doctor said her hips were fine",
        "we had a hip scan done",
        "his hips were x-rayed last month",
    ],
    "hips_not_checked": [
        "her hips have never been checked",
        "nobody ever checked his hips",
        "we never had a hip scan",
        "her hips were never checked",
        "nobody has checked her hips",
        "she never had a hip check",
        "his hips haven't been checked",
        "no one has looked at his hips",
        "she's never had a hip scan",
        "his hips were never scanned",
        "the doctor didn't check her hips",
        "we missed her hip check",
        "no hip scan",
    ],
    "was_breech": [
        "he was a breech birth",
        "she was breech at 38 weeks",
        "she was born bum first",
        "she was breech so had a c-section",
        "he was in breech position",
        "she was breech",
        "he was born breech",
        "she was a breech baby",
        "he came out bottom first",
        "breech birth, c-section",
        "she was breach until the end",
        "he was lying bum down at 36 weeks",
        "she was frank breech",
        "he was footling",
    ],
    "not_breech": [
        "she was head down",
        "he was not breech",
        "she was head down the entire pregnancy",
        "she was head down the whole time",
        "he wasn't breech",
        "she was never breech",
        "he was head first",
        "she was cephalic",
        "not breech, head down from 32 weeks",
        "he was the right way round",
        "she was born head first",
    ],
    "family_hip_history": [
        "my other half had DDH",
        "my husband had hip dysplasia as a baby",
        "his dad had DDH",
        "her older sister had clicky hips",
        "I had hip problems as a baby",
        "my partner was born with hip dysplasia",
        "his older brother had DDH and wore a harness",
        "her dad had hip dysplasia",
        "I had clicky hips as a baby",
        "my husband wore a Pavlik harness",
        "my older son had DDH",
        "his big sister was in a harness",
        "hip dysplasia runs in the family",
        "there's a family history of hip dysplasia",
        "mum had her hips treated as a baby",
        "her brother had hip problems that needed treatment",
        "my partner had hip dysplasia as a baby",
    ],
    "toe_walking_one_foot": [
        "he walks on his toes on his left foot",
        "she tiptoes with only one foot",
        "she only walks on tiptoe on her right foot",
        "he walks on tiptoe on one foot",
        "she's up on the toes of her right foot",
        "he toe walks on the left side only",
        "one foot goes up on tiptoe",
        "only her left foot is on its toes",
        "he walks on his toes with one foot",
        "her right heel never touches the floor",
        "one of his feet is always on tiptoes",
    ],
    "toe_walking_both_feet": [
        "he walks on both tiptoes",
        "she's on tiptoes with both feet",
        "he walks on tiptoes with both feet",
        "she walks on tiptoes on both feet",
        "both feet are up on tiptoe",
        "he's on his toes with both feet",
        "both heels are up off the floor",
        "she tiptoes on both sides equally",
        "he walks on his toes, not just one foot",
        "on tiptoe on both feet most of the time",
        "she goes on her tippy toes with both feet",
    ],
    "lifts_head": [
        "he lifts his head up during tummy time",
        "she can hold her head up",
        "she's been lifting her head since 6 weeks",
        "she lifts her head on her tummy",
        "he holds his head up well",
        "she raises her head to look around",
        "he pushes up on his forearms",
        "she has good head control",
        "he does little push ups",
        "she props on her elbows during tummy time",
        "he keeps his head up for ages",
    ],
    "no_head_lift": [
        "he can't hold his head up",
        "she doesn't lift her head during tummy time",
        "he can't lift his head up during tummy time",
        "she can't lift her head",
        "he doesn't hold his head up",
        "she just lies face down on the mat",
        "he face plants during tummy time",
        "her head stays down on the mat",
        "he isn't lifting his head yet",
        "she won't raise her head during tummy time",
        "his face stays buried in the blanket",
    ],
    "rolls": [
        "she can roll over",
        "he rolls both ways",
        "she's been rolling since 4 months",
        "she rolls over",
        "he rolled from tummy to back",
        "she's rolling both ways",
        "he started rolling last week",
        "she flips over all the time",
        "he can roll now",
        "she rolls onto her side",
        "he rolls back to front",
    ],
    "not_rolling": [
        "she can't roll yet",
        "he hasn't started rolling",
        "he isn't rolling over yet",
        "she doesn't roll yet",
        "he hasn't rolled over",
        "she isn't rolling",
        "he can't roll over",
        "she never rolls",
        "he isn't even trying to roll",
        "no rolling yet",
        "she won't flip over",
    ],
    "alternating_crawl": [
        "she crawls with her opposite arm and leg",
        "he alternates his arms and legs",
        "she crawls on hands and knees with opposite arm and leg",
        "opposite arm and leg together",
        "she crawls with alternating arms and legs",
        "right hand with left knee, like the book says",
        "he crawls properly now",
        "she has a proper crawl",
        "his arms and legs take turns",
        "she moves her hands and knees in turn",
        "he does a reciprocal crawl",
    ],
    "non_alternating_crawl": [
        "she hops on her knees like a bunny",
        "he moves both legs together",
        "he moves both arms together then both legs",
        "she bunny hops",
        "both arms together",
        "he pulls himself along with his arms",
        "she hops like a bunny",
        "he moves both knees at the same time",
        "she drags herself using only her arms",
        "his legs just drag when he crawls",
        "she doesn't alternate her arms and legs",
        "he bunny-hops on his knees",
    ],
    "w_sitting": [
        "she sits in w position",
        "he w sits all the time",
        "she often sits in the w position",
        "she sits in a W",
        "he W-sits",
        "she's always w sitting",
        "he sits with his legs in a W shape",
        "she sits between her feet",
        "he's a w-sitter",
        "she sits with her bum between her heels",
        "he sits in the w position a lot",
    ],
    "standing_time_growing": [
        "she's standing for longer every day",
        "his standing is getting better",
        "each day she stands a little longer",
        "she stands a bit longer every day",
        "he's standing for longer and longer",
        "her standing is improving",
        "he can stand a few seconds more each week",
        "she's getting steadier on her feet",
        "he stands longer than last week",
        "she's getting better at standing",
        "each week he stands for longer",
    ],
    "standing_time_not_growing": [
        "she's not standing any longer than last month",
        "his standing hasn't improved",
        "his standing hasn't got any better in weeks",
        "her standing time isn't improving",
        "he hasn't got any better at standing",
        "no progress with standing",
        "she stands for the same few seconds as a month ago",
        "he's been stuck at a couple of seconds for weeks",
        "her standing has plateaued",
        "his standing hasn't changed in months",
        "she isn't standing any longer than before",
    ],
    "no_family_hip_history": [
        "no family history of hip problems",
        "nobody in our family had hip dysplasia",
        "hip problems don't run in the family",
        "no hip dysplasia in the family",
        "none of us had hip problems as babies",
        "no known family history of hip dysplasia",
        "nobody on either side of the family had hip dysplasia",
        "no one in the family had clicky hips",
    ],
    "no_w_sitting": [
        "she never W-sits",
        "he doesn't sit in a w",
        "she sits cross-legged mostly",
        "she doesn't sit in a W",
        "he's not a w sitter",
        "no W-sitting",
        "she rarely w-sits",
        "he sits with his legs out in front",
    ],
}


# Recall on descriptions parents really write: whole families of phrasings per observation (verbs, tenses,
# pronouns, "it"/"them" for what was just asked about, typos, non-native English), each with near misses below.
RECALL_POSITIVES: Dict[str, List[str]] = {
    "no_weight_on_legs": [
        "he tucks both knees up the moment his feet get near the floor",
        "my daughter draws her legs up under her whenever I hold her upright",
        "she curls her feet in every time we try standing",
        "when i hold him over the floor his legs kinda fold up",
        "her knees just buckle straight away",
        "his legs go to jelly when I try to stand him",
        "she won't put her feet flat on the ground",
        "he doesn't want to put his feet down on my lap",
        "her legs can't take her weight yet",
        "he is not weight bearing on his legs",
        "she no stand on the legs, she lift them",
        "he keeps his feet well up off the floor",
    ],
    "takes_weight": [
        "she bobs up and down on her feet when I hold her hands, loves it",
        "he jumps up and down on my lap constantly",
        "she bounces when I hold her under her arms",
        "he stiffens his legs and stands when I hold him by the waist",
        "my son locks his knees to stand on my thighs",
        "her legs feel so strong",
        "he plants his feet and pushes down into my lap",
        "fully weight bearing, the physio was happy",
        "she loves being on her feet",
        "he stamps his feet on the floor when I hold him up",
    ],
    "stiff_scissoring_legs": [
        "his legs stiffen and criss cross when I lift him up",
        "her legs twist round each other like scissors when I pick her up",
        "when I hold him under the arms his legs go rigid and cross over",
        "she feels stiff as a plank most of the day",
        "his muscles are very tight",
        "it's really hard to open his legs",
        "her legs scissor every time she's lifted",
        "my baby's legs go stiff and cross when I stand him up",
        "our physio said she has increased tone",
    ],
    "not_sitting_alone": [
        "he slumps onto his hands after a couple of seconds",
        "she keels over sideways unless she's propped",
        "he flops forward after a few seconds every time",
        "only in her ring with pillows, she tips over otherwise",
        "she needs pillows all round her",
        "he's surrounded by cushions or he goes over",
        "she's still tripod sitting",
        "he sits leaning forward on his hands",
        "she no can sit, she fall",
        "tips over onto her side as soon as I let go",
    ],
    "sits_alone": [
        "my son sits like a little buddha",
        "she sits there and plays with her blocks",
        "once I sit her down she stays upright",
        "if you plonk him in sitting he stays put",
        "sitting is no bother for her",
        "he's mastered sitting",
        "she's great at sitting now",
        "he gets himself into sitting from his tummy",
        "she sits up from lying without help",
        "sits up and reaches for her toys",
    ],
    "uneven_legs_or_creases": [
        "the creases at the top of her legs look lopsided",
        "one of his thigh folds is deeper than the other",
        "there's an extra fold on her left thigh",
        "the skin folds on his bum don't line up",
        "her legs look a bit lopsided",
        "his legs don't look even",
        "i can't open his left leg as far as his right",
        "her right leg is tight when I change her nappy",
        "one fold goes further round than the other",
    ],
    "hips_checked": [
        "the health visitor checked them at her 8 week review",
        "the paediatrician looked at them before we left hospital",
        "we had them both scanned when she was six weeks",
        "they were checked at birth, all good",
        "they were fine at his newborn check",
        "the midwife did the frog leg thing on her",
        "the GP wiggled her legs around at the check",
        "the doctor checked for clicks and said all fine",
        "they did his hips at the 6 week check",
    ],
    "hips_not_checked": [
        "not since she left hospital",
        "no one's ever examined them",
        "nobody has looked at them since birth",
        "we've never had them scanned",
        "they haven't been checked",
        "he's never been checked",
        "we missed his 8 week check because of covid",
        "she didn't have her 6 week check",
        "the doctor never looked at them",
    ],
    "pulls_up": [
        "he's up on all the furniture now",
        "she's up on everything in the living room",
        "climbing up the sides of her cot",
        "he climbs up my legs to stand",
        "she stands up in her crib every morning",
        "gets himself to standing with the coffee table",
        "she's always up on her feet holding the sofa",
        "heaves herself up on the side of the bath",
    ],
    "not_pulling_up": [
        "she only gets as far as kneeling at the sofa",
        "he kneels up at the coffee table but no further",
        "gets onto her knees but not her feet",
        "he just sits and plays all day",
        "no interest in standing up at all",
        "she can't get herself up onto her feet",
        "he doesn't stand up yet",
        "she isn't really trying to stand up",
    ],
    "lifts_head": [
        "she holds it up and looks around the room",
        "on his tummy he looks all around",
        "her head is right up off the playmat",
        "he props up like a little meerkat",
        "she has good head control",
        "his neck seems really strong",
        "he keeps it up nicely now",
        "chin up off the floor for ages",
    ],
    "no_head_lift": [
        "his face stays smooshed into the mat",
        "her nose is squashed into the blanket the whole time",
        "he screams with his face down on the rug",
        "she cries face down until I pick her up",
        "his head is still very wobbly",
        "she has a wobbly head still",
        "he can't get his head off the floor",
        "her head is too heavy for her",
    ],
    "rolls": [
        "she goes tummy to back now",
        "he went from back to tummy this morning",
        "belly to back a couple of times",
        "she turned over all by herself",
        "he flips himself over",
        "she can roll already",
        "turns over loads now",
        "he rolled for the first time",
    ],
    "not_rolling": [
        "she just lies there on her playmat",
        "he only lies on his back and kicks",
        "stuck on her back like a tortoise",
        "he can't get himself over",
        "she hasn't gone from tummy to back yet",
        "he doesn't flip over",
        "no sign of rolling yet",
        "she's not even trying to roll",
    ],
    "gets_around": [
        "he rolls all the way across the lounge",
        "she rolls over and over to get her toys",
        "wriggles along on her belly to reach the remote",
        "he drags himself across the floor on his tummy",
        "she gets across the room somehow",
        "moves around by rolling mostly",
        "he spins on his tummy to grab things",
        "always on the go, bum shuffling everywhere",
    ],
    "does_not_move_about": [
        "she can't get to her toys unless I bring them",
        "I have to bring everything over to him",
        "he's stuck in the same spot all day",
        "she no move from where I put",
        "no rolling, crawling or scooting at all",
        "he just lies where we put him",
        "she stays in one place",
        "he can't reach anything so he cries",
    ],
    "non_alternating_crawl": [
        "a bit like a seal, she drags along on her arms",
        "he moves like a walrus, pulling with his elbows",
        "she does the caterpillar crawl",
        "he crawl only with arms",
        "she gets around using her elbows only",
        "drags both his legs behind him",
        "she hops forward on her knees",
        "his legs just follow along behind",
    ],
    "leg_drags": [
        "the left one just trails along",
        "one of them kind of drags behind",
        "he's got a draggy foot when he scoots",
        "her leg sort of drags when she crawls",
        "the other one trails behind the whole time",
        "his right one drags along the floor",
        "one leg does all the pushing and the other one trails",
        "she has a trailing leg",
    ],
    "both_sides_even": [
        "no difference between the sides",
        "both hands busy all the time",
        "all four limbs going like mad",
        "he passes his rattle from hand to hand",
        "she hasn't picked a hand yet",
        "uses them both the same",
        "both equally strong as far as I can tell",
        "she swaps the spoon from one hand to the other",
    ],
    "standing_time_growing": [
        "a month ago it was 2 seconds, now it's up to 8",
        "it was only a few seconds before, now it's nearly 15",
        "gone from about 3 seconds to 10",
        "she's up to 20 seconds now",
        "lasts a bit longer each time",
        "he manages a few more seconds every week",
        "a little longer with every week that passes",
        "she's getting more confident standing each day",
    ],
    "standing_time_not_growing": [
        "no different to last month really",
        "pretty much the same as a few weeks ago",
        "no better than before",
        "still only manages a second",
        "still just a moment or two",
        "hasn't changed in months",
        "it hasn't budged for weeks",
        "still stuck at about 3 seconds",
    ],
    "toe_walking_one_foot": [
        "only his left foot, the right heel comes down fine",
        "mostly the right foot, the other heel is flat",
        "on her toes but only on the left",
        "tiptoes just on the right side",
        "just the right one, the left foot goes down normally",
        "her left heel stays up",
        "one heel never touches the floor",
        "he walks on his toes on the right foot only",
    ],
    "toe_walking_both_feet": [
        "both, like a tiny ballerina",
        "both feet, always up on her toes",
        "on tiptoes with both of them",
        "like a little ballerina on both feet",
        "he walks on his toes, both of them",
        "both heels up off the floor when he walks",
        "tiptoe on each foot",
        "no difference between her feet, both on tiptoe",
    ],
    "w_sitting": [
        "her knees are in front and her feet out to each side",
        "knees together with his feet splayed out behind",
        "he sits like a W",
        "she does the W thing all the time",
        "her legs make a W when she sits",
        "sits on her knees with her feet out to the side",
        "legs in a w shape when he plays",
        "she sits in a W most of the time",
    ],
    "stands_for_long": [
        "she stands alone for ages now",
        "he can stand on his own for a minute easily",
        "stands unsupported for minutes at a time",
        "she stands by herself for a good while",
        "he stands without holding on for ages",
        "she can stand for ages without support",
        "he stand alone very long time",
        "stands alone as long as he wants",
    ],
}

# Walking alone and hip imaging (issue 12): typos, hedges, non-native English, lower case, the reply forms.
WALKING_IMAGING_POSITIVES: Dict[str, List[str]] = {
    "walks_alone": [
        "she walks",
        "he's walking now",
        "took his first steps at 13 months",
        "toddles around the house",
        "walks everywhere",
        "has been walking since 15 months",
        "she walked at 11 months",
        "my lo started walking a few weeks ago",
        "she can walk a few steps on her own",
        "he takes 4 or 5 steps to me before he sits down",
        "shes walkin everywhere now lol",
        "Walking!! since last month",
        "he is running around all over the place",
        "learnt to walk at 12 months, then stopped crawling",
        "my daughter walk alone already",
        "he walk by himself now",
        "she took a few wobbly steps yesterday",
        "I think she's walking, a bit wobbly",
        "our boy toddled over to the dog this morning",
        "she is walking with a bit of a limp",
        "he walks on his tiptoes all the time",
        "my 14 month old walks but falls a lot",
        "finally walking at 17 months!",
        "she's been walking for about 2 months",
        "hes walking and even climbing the stairs",
        "he can walk now, only just",
        "she kind of walks now",
        "she's a confident walker now",
        "baby is walk since 2 week",
    ],
    "not_walking": [
        "doesn't walk",
        "isn't walking yet",
        "not walking",
        "won't take steps",
        "no steps yet",
        "still not walking",
        "only walks holding on",
        "refuses to walk",
        "can't walk on his own",
        "my 22 month old still bottom shuffles and doesn't walk",
        "she is 16 months and not yet walking",
        "hes 18mo and cant walk",
        "he doesnt walk yet",
        "she hasn't taken a single step",
        "no interest in walking at all",
        "why isn't my son walking",
        "he no walk yet, only crawl",
        "my girl don't walk, she is 15 month",
        "not walking independently, cruises everywhere",
        "she just walks with her hands held",
        "only ever walks if I hold both hands",
        "he still isn't walking and I'm worried",
        "she isnt walkng yet",
        "never walked, just shuffles on her bum",
        "won't even try to walk",
        "no independent steps yet at 17 months",
        "my 15 mo dosent walk",
    ],
    "hips_imaged": [
        "she had a hip scan",
        "they did an ultrasound of his hips at 6 weeks",
        "hips were x-rayed",
        "had his hips scanned at 6 weeks and they were fine",
        "she had a hip x-ray at 6 months",
        "the hospital scanned her hips because she was breech",
        "she was sent for a hip ultrasound at 5 weeks, all normal",
        "got an xray of both hips",
        "her hips were scaned at 4 weeks",
        "hip ultrasond done when she was tiny",
        "they scanned them when she was 6 weeks",
        "yes hip scan at 6 weeks",
        "he had hip ultrasound because breech",
        "we had the hip scan done, it was clear",
        "an x-ray of her hips at six months was normal",
        "had a pelvis x-ray at 6 months",
    ],
    "hips_not_imaged": [
        "never had a scan",
        "no ultrasound",
        "they only examined her hips",
        "her hips were never scanned",
        "hasn't had a hip scan",
        "no hip x-ray",
        "they didn't scan her hips",
        "they felt her hips but no scan",
        "just examined, not scanned",
        "nobody scanned her hips",
        "only had the leg wiggling check",
        "they just felt her hips",
        "she wasn't breech so no scan was needed",
        "the gp only checked her hips by moving her legs",
        "not had any hip ultrasound",
        "no scan for the hips, just the 6 week check",
    ],
}

for _obs, _texts in WALKING_IMAGING_POSITIVES.items():
    POSITIVES.setdefault(_obs, []).extend(_texts)

for _obs, _texts in RECALL_POSITIVES.items():
    POSITIVES.setdefault(_obs, []).extend(_texts)


@pytest.mark.parametrize("observation_id, text", [(obs, text) for obs, texts in POSITIVES.items() for text in texts])
def test_positive_phrasings_are_found(catalogue: ObservationCatalogue, observation_id: str, text: str) -> None:
    assert observation_id in found(catalogue, text)


def test_every_observation_has_positive_phrasings(catalogue: ObservationCatalogue) -> None:
    assert set(POSITIVES) == set(catalogue.observations)  # one added to observations.yml without phrasings fails here


# ---------------------------------------------------------------------------------------------------
# Near misses: negations, other people, the past that is over, similar words

NEAR_MISSES: Dict[str, List[str]] = {
    "one_side_favoured": [
        "does she favour one side?",
        "my husband is left handed",
        "she sleeps on her right side mostly",
        "she always reaches for the remote",
        "he holds the bottle with one hand now",
        "he used to only use his left hand but now uses both",
        "my cousin's boy uses his left hand more",
        "she used to favour her left hand",
        "she doesn't favour one side",
        "my cousin's baby always reaches with her left",
        "she used to favour her right hand but not any more",
        "I'm left handed, is that why I worry?",
        "he walks with one hand held",
        "she always puts the same leg forward when she scoots",
        "he prefers his head to one side when he sleeps",
        "most babies don't use one hand more than the other",
    ],
    "hand_fisted": [
        "she makes a fist when she's angry",
        "his hands are in fists when he sleeps",
        "she doesn't keep her hand in a fist",
        "she used to keep her fist closed but not any more",
        "he sucks his thumb a lot",
        "she grabs my finger in her fist",
        "my nephew keeps one hand in a fist",
        "newborns keep their hands in fists",
        "her hand was clenched in a fist as a newborn but it isn't now",
    ],
    "leg_drags": [
        "the dog drags its leg",
        "she drags her blanket everywhere",
        "is it bad if a baby drags one leg?",
        "he used to drag one leg when crawling",
        "my friend's little girl drags her leg",
        "she doesn't drag her leg",
        "my cousin's baby drags a leg",
        "he used to drag his left leg but he doesn't anymore",
        "she drags her teddy by its leg",
        "he drags himself along on his tummy",
        "she never drags a leg",
    ],
    "both_sides_even": [
        "she doesn't use both hands",
        "not sure she uses both hands equally",
        "she needs both hands to hold on to the sofa",
        "her legs look the same length",
    ],
    "stiff_scissoring_legs": [
        "he goes stiff when I put him in the car seat",
        "her legs aren't stiff or crossing",
        "she was stiff after the jab",
        "he used to go stiff when I lifted him but that stopped",
        "she goes stiff when she's angry in the car seat",
        "he has a stiff neck",
        "his legs aren't stiff",
        "she sits with her legs crossed",
        "I cut her nails with little scissors",
        "one leg is stiffer at nappy changes",
        "my friend's baby has stiff legs",
        "his legs used to go stiff when I lifted him but they don't any more",
    ],
    "very_floppy": [
        "her hat is floppy",
        "he's not at all floppy",
        "my friend's baby was floppy",
        "my nephew was floppy at birth",
        "she isn't floppy at all",
        "his bunny has floppy ears",
        "she's floppy and relaxed when she falls asleep",
        "my niece was floppy as a baby",
        "she used to be floppy but not anymore",
        "he walks with a limp",
        "she's not floppy",
    ],
    "uneven_legs_or_creases": [
        "she has chunky thigh rolls",
        "I can't see any uneven creases",
        "his trousers look shorter on one leg",
        "her legs look the same length",
        "her trousers are longer on one leg",
        "my sister's baby has uneven thigh creases",
        "the creases are not uneven",
        "one leg used to look shorter but not now",
    ],
    "limp_or_waddle": [
        "no limp at all",
        "she went limp and fell asleep",
        "he used to waddle but walks fine now",
        "he doesn't limp",
        "she goes limp when she's tired",
        "my nephew limps",
        "she limped for a day after falling but not anymore",
        "grandad waddles around the garden",
    ],
    "no_hip_signs": [
        "she limps",
        "the creases don't match",
        "not sure the creases are even",
    ],
    "no_weight_on_legs": [
        "she lifts her legs up to grab her feet",
        "he lifts his legs up for a nappy change",
        "he pulls his legs up to his tummy when he has wind",
        "she won't put weight on her right leg",
        "she lifts her legs up during nappy changes",
        "she used to sit on air but not any more",
        "my cousin's baby sits on air when held",
    ],
    "takes_weight": [
        "she doesn't stand on my lap",
        "I hold him standing but he lifts his legs up",
        "she has put on weight",
        "he doesn't take weight on his legs",
        "she bounces on her bottom to get around",
        "his weight gain has been slow",
    ],
    "not_sitting_alone": [
        "he fell over when walking",
        "her cousin can't sit alone yet",
        "she won't sit still",
        "he propped himself on his forearms",
        "my friend's daughter can't sit alone",
        "he falls over when walking",
    ],
    "sits_alone": [
        "she sits in her bumbo",
        "she sat on my lap",
        "he sits with cushions around him",
        "she can't sit on her own",
        "he sits well in his high chair",
        "she sits with support",
        "he doesn't sit unsupported yet",
        "she sits alone for a second then topples over",
    ],
    "stands_not_at_all": [
        "she stands alone for a few seconds",
        "he's been standing alone since 11 months",
        "the twins next door can't stand alone",
        "she lets go and stands for 5 seconds before sitting down",
        "he won't let go of me at nursery",
        "she can stand alone",
        "he stands alone for about 10 seconds",
        "my cousin's baby can't stand alone",
        "he needs to hold on to his bottle",
    ],
    "pulls_up": [
        "she pulls up her trousers",
        "he's trying to pull himself up",
        "she pulls herself up to sitting",
        "my cousin's daughter pulls up on everything",
        "she doesn't pull up yet",
        "he pulls up his socks",
        "we went on a cruise",
        "my friend's son pulls up on everything",
        "she is trying to pull up",
        "he pulls up to sitting",
        "she used to pull up but not any more",
    ],
    "not_pulling_up": [
        "she pulls up on furniture",
        "he doesn't pull up his trousers",
    ],
    "gets_around": [
        "does crawling matter?",
        "my niece crawls everywhere",
        "she crawled once and never again",
        "I think she will crawl soon",
        "she isn't crawling",
        "he's trying to crawl",
        "when will she crawl?",
        "I'm worried about her crawling",
        "she rocks on her hands and knees but doesn't crawl",
        "most babies crawl by 10 months",
        "my nephew crawls everywhere",
    ],
    "does_not_move_about": [
        "she doesn't go anywhere near the stairs",
        "she doesn't go anywhere without her blanket",
        "he moves around everywhere",
        "we don't go anywhere much",
        "she isn't crawling or walking yet",
    ],
    "hips_checked": [
        "one hip clicks",
        "do they check hips at the 6 week check?",
        "her hip scan is next week",
        "we are still waiting for her hips to be scanned",
        "I asked for her hips to be checked",
        "my sister's baby had her hips scanned",
        "nobody has checked her hips",
        "should her hips be checked?",
        "we're waiting for a hip scan",
        "do her hips need checking?",
        "his hips were never checked",
        "has anyone checked her hips?",
        "my niece had her hips scanned",
    ],
    "hips_not_checked": [
        "her hips were checked at 6 weeks",
        "I'm not sure if anyone checked her hips",
    ],
    "was_breech": [
        "she was not breech",
        "he goes bottom first down the slide",
        "my friend's baby was breech",
        "my first baby was breech",
        "she wasn't breech",
        "my sister's baby was breech",
        "she goes down the stairs bottom first",
        "are breech babies more likely to have hip problems?",
        "he was head down",
    ],
    "not_breech": [
        "she was breech",
        "she keeps her head down during tummy time",
        "he fell head first off the sofa",
    ],
    "family_hip_history": [
        "my sister had hip dysplasia",
        "my brother had a hip operation",
        "no one in the family had hip problems",
        "she has hip dysplasia",
        "no family history of hip dysplasia",
        "my cousin had hip dysplasia",
        "her aunt had clicky hips",
        "my mum had hip dysplasia",
        "I was worried about hip dysplasia",
        "no family history of hip dysplasia",
        "she was in a harness as a baby",
        "grandma had a hip replacement",
    ],
    "toe_walking_one_foot": [
        "he walks on tiptoe on both feet",
        "she stubbed one toe on her left foot",
        "my friend's son walks on tiptoe on one foot",
    ],
    "toe_walking_both_feet": [
        "she walks on tiptoe on one foot",
        "he doesn't walk on his toes with both feet",
    ],
    "lifts_head": [
        "can she lift her head yet?",
        "she can't lift her head",
        "I lift her head gently",
        "he holds his head to one side",
    ],
    "no_head_lift": [
        "she lifts her head well",
        "she lifts her head on her tummy",
        "her head stays down on my chest when she sleeps",
    ],
    "rolls": [
        "he rolls his eyes",
        "I roll her onto her tummy",
        "she can't roll over yet",
        "she used to roll over but not anymore",
        "she doesn't roll yet",
        "he rolls the ball to me",
        "she has lovely thigh rolls",
        "he's trying to roll",
        "my nephew rolls over",
    ],
    "not_rolling": [
        "she rolls over",
        "we don't let her roll off the bed",
    ],
    "alternating_crawl": [
        "should he crawl with opposite arm and leg?",
        "she doesn't crawl with opposite arm and leg",
        "my friend's baby crawls properly",
        "he used to crawl properly but not now",
    ],
    "non_alternating_crawl": [
        "she claps both hands together",
        "she claps both hands together",
        "she plays with her toy bunny",
        "he doesn't bunny hop anymore",
    ],
    "w_sitting": [
        "is w sitting bad for hips?",
        "she never W-sits",
        "she never W-sits",
        "I read that W sitting is bad",
        "she doesn't W-sit",
        "what is w sitting?",
        "she used to w-sit but not any more",
        "my cousin's son sits in a W",
        "we try to stop her w sitting",
    ],
    "standing_time_growing": [
        "she doesn't stand any longer than before",
        "her standing isn't improving",
        "she no longer stands",
        "my friend's son stands for longer each day",
    ],
    "standing_time_not_growing": [
        "her standing is improving",
        "she stands a bit longer every day",
    ],
    "no_family_hip_history": [
        "my mum had hip dysplasia",
        "not sure about family hip problems",
    ],
    "no_w_sitting": [
        "she W-sits a lot",
    ],
}


# Near misses of the recall families: other people, the past that is over, questions, things that are not the child.
RECALL_NEAR_MISSES: Dict[str, List[str]] = {
    "no_weight_on_legs": [
        "she tucks her legs under her when she sits on the floor",
        "he pulls his knees up to his chest when he has wind",
        "she used to lift her knees up whenever we stood her, not now",
        "the legs of the highchair fold away",
        "he won't put weight on his right foot since he fell",
        "he walks on his toes and never puts his feet flat",
    ],
    "takes_weight": [
        "she bounces on her bum to get about",
        "my legs are strong from carrying him",
        "I bounce him on my knee",
        "his legs go stiff and cross over when I hold him up",
        "he's not weight bearing",
    ],
    "stiff_scissoring_legs": [
        "he stiffens his legs to stand on my lap",
        "her legs go straight and strong when I stand her up",
        "my nephew's legs scissor",
        "his legs went stiff when he was screaming in the car seat",
        "he straightens his legs to push up on my tummy",
    ],
    "not_sitting_alone": [
        "she falls over sometimes when walking",
        "when he stands at the sofa he tips over if I let go",
        "should he be sitting up by now?",
        "she flops forward when she falls asleep in the bath",
        "my friend's baby topples over when sitting",
        "I need cushions behind my back to feed her",
    ],
    "sits_alone": [
        "she sits on the couch with me",
        "he sits like a pro in his highchair",
        "my niece sits like a pro",
        "she's trying to get into sitting",
        "he sits and plays on my knee",
    ],
    "uneven_legs_or_creases": [
        "the creases in his trousers are wonky",
        "her thigh folds match",
        "my nephew's creases are lopsided",
        "are the creases meant to be even?",
        "his creases used to look uneven but not any more",
    ],
    "hips_checked": [
        "her ears were sore so the GP checked them",
        "the doctor will check them next month",
        "the GP didn't check them",
        "we're waiting for them to be scanned",
        "no one has looked at them yet",
    ],
    "hips_not_checked": [
        "she hasn't been checked for tongue tie",
        "I don't remember if they did",
        "they checked them at 6 weeks",
        "the GP looked at them at birth",
    ],
    "pulls_up": [
        "he gets up onto his knees at the coffee table",
        "she climbs up the stairs on her hands and knees",
        "my niece is up on everything",
        "he used to climb up the cot bars but not anymore",
        "she gets onto her tummy and rolls",
    ],
    "not_pulling_up": [
        "she pulls up on everything",
        "he can't stand up by himself yet",
        "she just sits on my knee",
        "my friend's son just sits and plays",
    ],
    "lifts_head": [
        "she holds it up to show me",
        "I keep it up for her with a towel",
        "she can't hold it up",
        "she claps like a seal",
        "crawls like a seal, dragging along on her arms",
    ],
    "no_head_lift": [
        "her head stays on my shoulder when she sleeps",
        "the teddy's head flops",
        "my nephew's head was wobbly",
        "his face stays buried in my neck when he's tired",
        "she lifts her head right up off the mat",
    ],
    "rolls": [
        "I put his vest on back to front",
        "we do back to tummy time after changes",
        "she turns over the pages of her book",
        "my nephew goes tummy to back",
        "the ball rolls across the room",
    ],
    "not_rolling": [
        "she just lies there when she's tired",
        "the dog lies on his back",
        "she rolls over all the time",
        "we don't let him roll off the changing table",
    ],
    "gets_around": [
        "she rolls the car to me",
        "she can't get to her toys",
        "the ball rolls across the kitchen",
        "no crawling, rolling or scooting",
        "I drag myself around after night feeds",
    ],
    "does_not_move_about": [
        "he only lies still for a moment",
        "she can't get to her toys because the gate is shut",
        "she rolls across the room to get things",
        "he won't go anywhere without his bunny",
    ],
    "non_alternating_crawl": [
        "he uses both his hands just the same",
        "we saw the seals at the zoo",
        "she reads the very hungry caterpillar",
        "he claps both hands at the same time",
        "during tummy time she pushes up like a little seal",
    ],
    "leg_drags": [
        "the other one drags her blanket everywhere",
        "she drags her feet at bedtime",
        "her cousin drags one leg",
        "my other son drags a leg",
        "the dog's back leg trails",
    ],
    "both_sides_even": [
        "no difference between her legs",
        "both legs moving together when he crawls",
        "she doesn't use both hands",
        "my friend's girl passes toys from hand to hand",
    ],
    "standing_time_growing": [
        "her naps are getting longer every day",
        "it was 10 seconds last month, now only 3",
        "dropped from 10 to 3 seconds",
        "my nephew lasts a bit longer each time",
        "I can count to ten with her now",
    ],
    "standing_time_not_growing": [
        "her weight is the same as last month",
        "same as her brother",
        "she's the same size as last month",
        "her standing is getting better",
    ],
    "toe_walking_one_foot": [
        "just his right foot is sore",
        "his left heel is sore",
        "tiptoes on both feet",
        "my friend's boy only tiptoes on the left",
    ],
    "toe_walking_both_feet": [
        "she grabs both her toes",
        "both my girls do ballet",
        "both of us tiptoe round the house when she naps",
        "only the right foot, the left heel goes down fine",
    ],
    "w_sitting": [
        "she sits cross legged with her knees in front",
        "lies with her legs out to the sides like a frog",
        "he's learning to write the letter W",
        "she sits with her legs out wide in a V",
        "she never sits in a W",
    ],
    "stands_for_long": [
        "she stands leaning on the sofa for ages",
        "stands at the coffee table for ages",
        "she's been standing alone for ages",
        "she can't stand alone for long",
        "my cousin's baby stands alone for ages",
        "when will she stand alone for a minute?",
        "she used to stand alone for ages but not anymore",
    ],
}

# Near misses for walking alone and hip imaging: help to walk, not yet, lost skills, questions, someone else, a scan not done.
WALKING_IMAGING_NEAR_MISSES: Dict[str, List[str]] = {
    "walks_alone": [
        "walks holding my hands",
        "walks with the walker",
        "walks with her push toy",
        "walks along the furniture",
        "can't walk",
        "isn't walking",
        "my older one walked at 10 months",
        "when do babies walk?",
        "trying to walk",
        "when do babies start walking?",
        "she's nearly walking",
        "she stopped walking",
        "is she walking yet?",
        "worried about late walking",
        "we went walking in the park",
        "I walk her up and down the hall",
        "waiting for her first steps",
        "only walks if I hold her hands",
        "why isn't my son walking",
        "my friend's baby walked at 9 months",
        "most babies walk by 15 months",
        "he walks round the coffee table holding on",
        "learning to walk with a push along trolley",
        "she's a late walker like her dad",
        "stretches for a child who walks on tiptoe",
        "should my 12 month old be walking by now?",
        "what's the average age for first steps",
        "first steps still haven't happened and she's 14 months",
    ],
    "not_walking": [
        "she walks everywhere",
        "is it normal not to walk at 14 months?",
        "doesnt walk on her toes",
        "not walking far, wants carrying",
        "not only walking but running",
        "my nephew isn't walking yet",
        "not sure if she's walking or just cruising",
        "most babies are not walking at 10 months",
        "we can't go for a walk because of the rain",
        "he isn't walking normally, he limps",
        "she refuses to take weight on her legs",
        "she dosent drag her leg",
    ],
    "hips_imaged": [
        "waiting for a hip scan",
        "should she have a hip ultrasound?",
        "is the hip scan painful?",
        "my friend's baby had a hip scan",
        "her older sister had her hips scanned",
        "she never had a hip scan",
        "the 20 week scan showed she was breech",
        "they examined her hips at 6 weeks",
        "I read that breech babies get a hip scan",
        "not sure if she had a hip scan",
        "she's been referred for a hip ultrasound",
        "what happens at a hip scan?",
    ],
    "hips_not_imaged": [
        "she had a hip scan",
        "nothing showed on the scan",
        "no problems on the hip scan",
        "I don't remember if she had a scan",
        "never had a growth scan in pregnancy",
        "she only felt better after some calpol",
        "just had her 6 week check",
        "she's not walking so they scanned her hips",
        "my sister's baby never had a hip scan",
        "not sure whether they scanned her hips",
    ],
}

for _obs, _texts in WALKING_IMAGING_NEAR_MISSES.items():
    NEAR_MISSES.setdefault(_obs, []).extend(_texts)

for _obs, _texts in RECALL_NEAR_MISSES.items():
    NEAR_MISSES.setdefault(_obs, []).extend(_texts)


# Facts told in an opening, so the assistant does not ask again: whole families per observation (born on time, hedged
# "I don't think anyone checked", a limp that dips, kneeling but not standing, breech late vs early, non-native sitting).
OPENING_POSITIVES: Dict[str, List[str]] = {
    "born_on_time": [
        "my daughter arrived right on time at 40 weeks",
        "he came bang on his due date",
        "she was a full term baby, no complications",
        "I carried him all the way to term",
        "he's a term baby, normal delivery",
        "she came exactly on the day she was due",
        "he was not premature",
        "she wasn't born early at all",
        "baby born in time, no problem",
        "our son was born at term by c-section",
        "she arrived on her actual due date",
        "he was right on time, 40+2",
    ],
    "hips_not_checked": [
        "i don't think anybody has looked at her hips",
        "I dont think his hips were ever examined",
        "don't think they've ever been checked tbh",
        "I don't believe the GP looked at them",
        "I don't think she's had a hip scan",
        "i doubt anyone has ever examined his hips",
    ],
    "hips_checked": [
        "the GP felt her hips at the 8 week check and said fine",
        "she had a hip ultrasound at 5 weeks and it was normal",
        "when he was little they scanned his hips",
        "at her one year review they checked her hips",
        "his hip scan came back clear",
        "the health visitor looked at his hips last month",
    ],
    "limp_or_waddle": [
        "she seems to limp a little when she's tired",
        "he's started to hobble on his left side",
        "she kind of dips onto her left side with each step",
        "my toddler walks a bit wonky",
        "his right hip drops when he takes a step",
        "she walks oddly on one leg",
        "he puts less weight on his right foot when walking",
        "she hobbles round the living room",
    ],
    "pulls_up": [
        "she hauls herself up on the sofa all day",
        "he's been cruising round the coffee table for weeks",
        "she pulls to stand on the cot bars",
        "he gets himself up to standing holding the sofa",
        "she walks along the furniture holding on",
        "climbs up my legs to get to standing",
    ],
    "not_pulling_up": [
        "she gets onto her knees at the sofa but can't get to her feet",
        "he kneels up at the table, never to standing",
        "up on her knees at the coffee table but never any higher",
        "he goes up onto his knees by the sofa but not to his feet",
        "she kneels against the couch and then no further",
        "my son kneels at the toy box but doesn't get to his feet",
    ],
    "family_hip_history": [
        "her big brother wore a harness for his hips as a baby",
        "my wife had DDH when she was born",
        "I was treated for clicky hips as a newborn",
        "his dad had a dislocated hip at birth",
        "my husband had hip problems as a baby that needed a brace",
        "our eldest had DDH and was in a Pavlik harness",
    ],
    "no_family_hip_history": [
        "neither me nor his dad had any hip trouble",
        "we don't have hip problems in the family",
        "only her cousin had a harness",
        "just my niece had clicky hips, nobody closer",
        "my dad had his hip replaced but that's old age",
        "my partner broke her hip skiing, never as a baby though",
        "we never had hip problems ourselves",
    ],
    "was_breech": [
        "she was still breech at 37 weeks",
        "he was breech at 36 weeks and they did an ECV",
        "they tried to turn her at 37 weeks but she stayed put",
        "we had an ECV at 36 weeks",
        "the consultant turned him at 37 weeks",
        "she was bottom down until the end",
    ],
    "not_breech": [
        "he was breech at the 20 week scan but turned head down later",
        "she was breech until about 28 weeks then flipped",
        "he was breech early on but was head down by the end",
        "she turned head down by herself at 30 weeks",
        "he was breech for a while but turned by himself",
        "at 24 weeks she was breech but she moved round on her own",
    ],
    "w_sitting": [
        "she sits w nearly all the time",
        "he's always sitting w style on the floor",
        "she W's when she plays",
        "he sits in a w shape whenever he plays",
        "her legs make a W when she's on the floor",
        "he W-sits when he watches tv",
    ],
    "sits_alone": [
        "he sit good on his own",
        "she can sit up already",
        "my son sit with no help now",
        "she sit by herself long time",
        "he sits on own now",
        "she sitting very strong",
    ],
    "both_sides_even": [
        "both hands seem even to me",
        "honestly it looks pretty even",
        "she hasn't got a favourite yet",
        "seems balanced between left and right",
        "no favourite that I can see",
        "he's pretty even, no preferred side",
    ],
}

# Their near misses: questions about checks in general, a limp that went away, hips broken or replaced as an adult,
# breech only early on, an ECV, other things on time, "not sure" hedges.
OPENING_NEAR_MISSES: Dict[str, List[str]] = {
    "born_on_time": [
        "she's always late for nursery",
        "we were late for the check",
        "we got to the appointment on time",
        "he came 5 weeks early",
        "she wasn't born on time",
        "was he full term?",
        "she started a full term at nursery",
        "he was nearly full term, 36 weeks",
        "he was a pre-term baby",
        "my friend's baby came on her due date",
        "she wasn't early to crawl",
        "it was half term last week",
    ],
    "hips_not_checked": [
        "I'm not sure anyone has looked at her hips",
        "I don't know if they checked her hips",
        "I don't think they checked his ears",
        "I don't think her hips are a worry",
        "not sure whether anyone checked them",
    ],
    "hips_checked": [
        "what do they look for at a hip check?",
        "can you explain a baby hip scan?",
        "when do babies have their hips checked?",
        "how do they check a newborn's hips?",
        "tell me about hip screening",
        "I don't think anyone ever checked her hips",
    ],
    "limp_or_waddle": [
        "she limped for a few days after falling off the slide but it went away",
        "he had a limp after the fall last week, fine now",
        "she stopped limping after a day",
        "the mattress dips on one side",
        "she seems to go limp when she's sleepy",
    ],
    "pulls_up": [
        "she gets onto her knees at the sofa but not to her feet",
        "he pulls himself to kneeling at the table",
        "she pulls up onto her knees by the sofa",
        "he kneels up holding the coffee table but never stands",
    ],
    "not_pulling_up": [
        "she kneels at the sofa and then pulls up to stand",
        "he pulls up on the sofa and cruises along",
        "my niece kneels at the sofa but not onto her feet",
        "she gets onto her knees but not happy about it",
    ],
    "family_hip_history": [
        "my partner had hip surgery at 30 after a car crash",
        "her dad broke his hip playing football",
        "my mum needed a hip replacement at 65",
        "I had hip pain in pregnancy",
        "my husband had a hip operation as an adult",
    ],
    "no_family_hip_history": [
        "my husband had hip dysplasia as a baby",
        "her sister wore a harness as a baby",
        "my nephew had clicky hips",
        "grandma had a hip replacement at age 70",
        "not sure about hip problems in the family",
    ],
    "was_breech": [
        "she was breech at the 20 week scan and head down after",
        "he was breech until 30 weeks then turned",
        "she was breech for a bit but turned on her own",
        "my sister had an ECV",
        "she was breech at 28 weeks but she moved",
    ],
    "not_breech": [
        "she was breech at 37 weeks and they turned her, born head first",
        "they did an ECV and he came out head down",
        "he was breech until 36 weeks then turned by himself",
        "she turns her head down on the mat",
    ],
    "w_sitting": [
        "she sits w/ cushions round her",
        "he sits w his legs out in front",
        "she never sits W",
        "what's W sitting?",
    ],
    "sits_alone": [
        "can he sit up now?",
        "she can't sit up yet",
        "he sits good with support",
        "she sits fine in her highchair",
        "my niece can sit alone good",
    ],
    "both_sides_even": [
        "her creases look even",
        "she's even more clingy now",
        "no favourite toy yet",
        "is it even?",
        "his legs look even",
    ],
}

for _obs, _texts in OPENING_POSITIVES.items():
    POSITIVES.setdefault(_obs, []).extend(_texts)
for _obs, _texts in OPENING_NEAR_MISSES.items():
    NEAR_MISSES.setdefault(_obs, []).extend(_texts)


@pytest.mark.parametrize(
    "text, slot, value",
    [
        ("she was a full term baby, no complications", "weeks_early", 0),
        ("I don't think anybody has looked at her hips", "hips_checked", "no"),
        ("up on her knees at the coffee table but never any higher", "pulls_to_stand", "no"),
        ("he was breech at 36 weeks and they did an ECV", "breech", "yes"),
        ("he was breech at the 20 week scan but turned head down later", "breech", "no"),
        ("my dad had his hip replaced but that's old age", "hip_family_history", "no"),
    ],
)
def test_opening_facts_answer_their_questions(catalogue: ObservationCatalogue, text: str, slot: str, value: object) -> None:
    assert understand(text, catalogue).value_for(slot) == value


@pytest.mark.parametrize(
    "text, absent",
    [
        ("he was breech at the 20 week scan but turned head down later", "was_breech"),  # early breech, turned on its own
        ("she was still breech at 37 weeks, they turned her and she was born head first", "not_breech"),  # an ECV
        ("I had hip surgery at 30 after a bike accident, nothing as a baby", "family_hip_history"),
        ("she gets onto her knees at the sofa but can't get to her feet", "pulls_up"),
        ("what happens at a hip check?", "hips_not_checked"),
    ],
)
def test_opening_facts_do_not_give_the_neighbouring_observation(catalogue: ObservationCatalogue, text: str, absent: str) -> None:
    assert absent not in found(catalogue, text)


@pytest.mark.parametrize("observation_id, text", [(obs, text) for obs, texts in NEAR_MISSES.items() for text in texts])
def test_near_misses_do_not_give_the_observation(catalogue: ObservationCatalogue, observation_id: str, text: str) -> None:
    assert observation_id not in found(catalogue, text)


@pytest.mark.parametrize(
    "text, slot, value",
    [
        ("she can stand on her own for ages", "stands_alone_seconds", 60),
        ("his legs stiffen to stand on my lap", "bears_weight", "yes"),
        ("she curls her legs up every time we try", "bears_weight", "no"),
        ("it's only with pillows round her, she keels over otherwise", "sits_alone", "no"),
        ("the GP checked them at her review, all fine", "hips_checked", "yes"),
        ("he gets up onto his knees at the table but no further", "pulls_to_stand", "no"),
        ("she just lies there, not even trying", "rolls_over", "no"),
    ],
)
def test_recall_families_answer_their_questions(catalogue: ObservationCatalogue, text: str, slot: str, value: object) -> None:
    assert understand(text, catalogue).value_for(slot) == value


@pytest.mark.parametrize(
    "text, absent",
    [
        ("his legs stiffen to stand on my lap", "stiff_scissoring_legs"),  # weight bearing, not the sign
        ("he gets up onto his knees at the table but no further", "pulls_up"),
        ("she just lies there, not even trying", "does_not_move_about"),  # for a young baby it is about rolling
        ("a bit like a seal, pulling herself along with her arms", "lifts_head"),  # a crawling style
        ("she stands leaning on the coffee table for ages", "stands_for_long"),  # holding on is not alone
    ],
)
def test_recall_families_do_not_give_the_neighbouring_observation(
    catalogue: ObservationCatalogue, text: str, absent: str
) -> None:
    assert absent not in found(catalogue, text)


def test_a_description_gives_its_answers_and_a_warning_wins_a_clash(catalogue: ObservationCatalogue) -> None:
    text = "he always reaches with his left, the right hand stays tucked in a fist, and he was breech"
    hits = catalogue.detect(text)
    assert [h.observation_id for h in hits] == ["one_side_favoured", "hand_fisted", "was_breech"]
    assert understand(text, catalogue).stated() == {"uses_both_sides": "no", "breech": "yes"}
    clash_text = "she uses both hands equally but always reaches with her right"
    assert {h.observation_id for h in catalogue.detect(clash_text)} == {"both_sides_even", "one_side_favoured"}
    assert understand(clash_text, catalogue).value_for("uses_both_sides") == "no"  # the sign, not the reassurance


@pytest.mark.parametrize(
    "text, slot, value",
    [
        ("none, she sits back down the second I let go", "stands_alone_seconds", 0),
        ("one of her legs looks shorter when I change her", "hip_signs", "yes"),
        ("he drags his left leg when he crawls", "uses_both_sides", "no"),
        ("had his hips scanned at 6 weeks and they were fine", "hips_checked", "yes"),
        ("she sits on air when I hold her up", "bears_weight", "no"),
    ],
)
def test_the_issue_examples_answer_their_questions(catalogue: ObservationCatalogue, text: str, slot: str, value: object) -> None:
    assert understand(text, catalogue).value_for(slot) == value


def test_provider_signs_carry_advice_sources_and_routes(catalogue: ObservationCatalogue) -> None:
    stiff = catalogue.observations["stiff_scissoring_legs"]
    assert stiff.referral == "provider" and stiff.say and set(stiff.sources) == {"CDC-CP", "CDC-OLD"}
    assert stiff.answers == {}
    assert catalogue.observations["leg_drags"].routes_to == ("hip_health",)
    assert catalogue.observations["both_sides_even"].referral is None
    keys = {source.key for source in catalogue.sources}
    for observation in catalogue.observations.values():
        assert set(observation.sources) <= keys
        assert observation.say_back == observation.say_back.strip() and not observation.say_back.endswith(".")
        if observation.referral:
            assert observation.referral == "provider" and observation.sources
            assert 1 <= observation.say.count(". ") + 1 <= 2, observation.id  # one or two sentences
    assert catalogue.source("GGC").url.startswith("https://")


def test_hit_offsets_point_into_the_original_text(catalogue: ObservationCatalogue) -> None:
    text = "Hi!  My LO (10 months) ALWAYS reaches with her LEFT hand…"
    [hit] = catalogue.detect(text)
    assert hit == ObservationHit("one_side_favoured", hit.start, hit.end, text[hit.start : hit.end])
    assert hit.text == "ALWAYS reaches with her LEFT"


@pytest.mark.parametrize("text", ["", "   ", "ok", "thanks!", "?", "12 months"])
def test_empty_and_trivial_messages(catalogue: ObservationCatalogue, text: str) -> None:
    assert catalogue.detect(text) == []


# ---------------------------------------------------------------------------------------------------
# The engine option: a past that is over (drop_past), and the generic error wording

PAST_DEFINITIONS = [
    {
        "id": "leg",
        "patterns": {"tokens": [[{"NORM": {"IN": ["drags", "dragged", "drag", "dragging"]}}, {"GAP": 2}, {"NORM": "leg"}]]},
    },
    {"id": "fist", "patterns": {"phrases": ["hand in a fist"]}},
]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("she drags her leg", ["leg"]),
        ("she used to drag her leg", []),
        ("she used to always drag her leg when crawling", []),
        ("she drags her leg but not any more", []),
        ("she dragged her leg, but not anymore", []),
        ("she doesn't drag her leg any more", []),  # negated anyway
        ("she dragged her leg for a week after the fall but not anymore", []),
        ("she dragged her leg for a while, but she doesn't now", []),
        ("she dragged her leg, but it isn't happening now", ["leg"]),  # "happening" is more than a short subject
        ("he drags his leg no longer", []),
        ("she kept her hand in a fist as a newborn but it isn't now", []),
        ("she used to crawl but now she drags her leg", ["leg"]),  # "used to" belongs to the other clause
        ("she drags her leg and she doesn't walk anymore", ["leg"]),  # "anymore" belongs to the next clause
        ("she's used to dragging her leg behind her", ["leg"]),  # accustomed, not the past
        ("she drags her leg. Not any more than her brother did.", ["leg"]),
        ("she used to, and she still drags her leg", ["leg"]),
    ],
)
def test_drop_past_drops_a_past_that_is_over(text: str, expected: List[str]) -> None:
    detector = RedFlagDetector.from_definitions(PAST_DEFINITIONS, drop_past=True, kind="observation")
    assert [h.flag_id for h in detector.detect(text)] == expected


def test_without_drop_past_the_past_still_fires() -> None:
    detector = RedFlagDetector.from_definitions(PAST_DEFINITIONS)
    assert [h.flag_id for h in detector.detect("she used to drag her leg but not any more")] == ["leg"]


@pytest.mark.parametrize(
    "definitions, message",
    [
        ([{"id": "x", "patterns": {}}], r"^observation 'x': patterns are missing or empty$"),
        ([{"id": "x", "patterns": {"tokens": [[{"NORM": "@nope"}]]}}], r"^observation 'x': .*unknown word list '@nope'"),
        ([{"patterns": {"phrases": ["x"]}}], r"^observation #1 has no id$"),
        ([], r"^observation definitions must be a non-empty list$"),
    ],
)
def test_engine_errors_name_the_kind(definitions: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedFlagDetector.from_definitions(definitions, drop_past=True, kind="observation")
    with pytest.raises(ValueError, match=message.replace("observation", "red flag")):
        RedFlagDetector.from_definitions(definitions)


# ---------------------------------------------------------------------------------------------------
# Speed: super-linear blow-ups on long messages (per-message time is measured by `make bench`)


@pytest.mark.parametrize(
    "chunk",
    [
        "She is 11 months, crawls backwards, pulls up on the sofa but sits back down when I let go. ",
        "my cousin's baby drags a leg and mine always reaches with her left hand, is that normal? ",
        "he was breech and had his hips scanned, the creases look even, no limp, not sitting alone yet ",
        "a",
        "not not , and ",
    ],
)
def test_100k_message_takes_linear_time_and_still_finds_an_observation_at_the_end(
    catalogue: ObservationCatalogue, chunk: str
) -> None:
    tail = " Also she keeps one hand in a fist."

    def text(size: int) -> str:
        return (chunk * (size // len(chunk) + 1))[: size - len(tail)] + tail

    quarter, full = text(25_000), text(100_000)
    catalogue.detect(quarter)  # warm up the vocabulary
    started = time.process_time()  # CPU time: a loaded machine stretches wall time, not this
    catalogue.detect(quarter)
    quarter_time = time.process_time() - started
    started = time.process_time()
    hits = catalogue.detect(full)
    full_time = time.process_time() - started
    assert "hand_fisted" in [h.observation_id for h in hits]
    assert all(h.end <= len(full) for h in hits)
    # Four times the text: linear takes ~4x (3.6-4.8x measured), quadratic 16x. Below 0.2 s, noise rules.
    assert full_time < 8 * quarter_time or full_time < 0.2


# ---------------------------------------------------------------------------------------------------
# The module contract


def test_import_is_cheap_and_never_imports_rasa_spacy_or_yaml() -> None:
    code = "import sys, bot.nlu.observations; print(sorted(m for m in ('spacy', 'rasa', 'rasa_sdk', 'yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_default_catalogue_reads_the_knowledge_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the working directory never matters
    assert set(load_observations().observations) == set(default_catalogue().observations)


def test_the_detector_is_built_lazily_once(tmp_path: Path) -> None:
    path = tmp_path / "observations.yml"
    path.write_text(TINY_OBSERVATIONS, encoding="utf-8")
    catalogue = load_observations(path)
    assert catalogue._detector is None
    assert found(catalogue, "she pulls up on the sofa") == ["pulls_up"]
    detector = catalogue.detector()
    assert catalogue.detector() is detector
    assert isinstance(catalogue.observations["pulls_up"], Observation)


def test_project_knowledge_loads_observations_with_a_compiled_detector() -> None:
    knowledge = load_knowledge(PROJECT_ROOT / "knowledge")
    assert knowledge.observations is not None
    assert set(knowledge.observations.observations) == set(POSITIVES)
    assert knowledge.observations._detector is not None  # compiled by validation, reused
    for observation in knowledge.observations.observations.values():
        for topic in observation.routes_to:
            assert topic in knowledge.topics


# ---------------------------------------------------------------------------------------------------
# Validation in the knowledge build: each mistake fails with file:line

TINY_OBSERVATIONS = """\
sources:
  - key: CDC-CP
    title: "CDC early signs of cerebral palsy"
    url: https://eastersealsucp.com/early-signs-of-cerebral-palsy/
observations:
  - id: pulls_up
    label: "Pulls up"
    say_back: "pulls up to stand"
    answers: {pulls_to_stand: "yes"}
    routes_to: [demo_topic]
    patterns:
      phrases: ["pulls up"]
  - id: stiff_legs
    label: "Stiff legs"
    say_back: "legs go stiff"
    referral: provider
    say: "Please ask a provider to look at the stiffness soon."
    sources: [CDC-CP]
    patterns:
      tokens:
        - [{NORM: legs}, {GAP: 2}, {NORM: stiff}]
"""

GGC_SOURCE = """\
  - key: GGC
    title: "Motor Skill Development"
    url: https://rhc.nhsggc.org.uk/kids-for-families/im-concerned-about/motor-skill-development
"""


def _write(tmp_path: Path, observations: str) -> Path:
    from tests.test_knowledge_build import write_knowledge

    return write_knowledge(tmp_path / "knowledge", files={"observations.yml": observations})


def test_tiny_observations_are_valid(tmp_path: Path) -> None:
    knowledge = load_knowledge(_write(tmp_path, TINY_OBSERVATIONS))
    assert knowledge.observations is not None
    assert found(knowledge.observations, "his legs go stiff") == ["stiff_legs"]
    assert knowledge.observations.observations["pulls_up"].routes_to == ("demo_topic",)


def test_knowledge_without_observations_still_loads(tmp_path: Path) -> None:
    from tests.test_knowledge_build import write_knowledge

    assert load_knowledge(write_knowledge(tmp_path / "knowledge")).observations is None


BAD_OBSERVATIONS = [
    pytest.param(('{pulls_to_stand: "yes"}', '{pulls_too: "yes"}'), 9, "answers unknown question 'pulls_too'", id="unknown-slot"),
    pytest.param(('{pulls_to_stand: "yes"}', '{pulls_to_stand: "maybe"}'), 9, "can be 'yes', 'no', 'unsure'", id="bad-choice"),
    pytest.param(('{pulls_to_stand: "yes"}', "{pulls_to_stand: yes}"), 9, "not True", id="unquoted-yes"),
    pytest.param(('{pulls_to_stand: "yes"}', '{age_months: "ten"}'), 9, "'age_months' is a number (months)", id="not-a-number"),
    pytest.param(("referral: provider", "referral: soon"), 16, "referral 'soon' is not one of provider", id="unknown-referral"),
    pytest.param(("referral: provider", "referral: urgent"), 16, "urgent signs belong in red_flags.yml", id="urgent-referral"),
    pytest.param(
        ('    say: "Please ask a provider to look at the stiffness soon."\n', ""), 16, "needs 'say'", id="referral-without-say"
    ),
    pytest.param(("    sources: [CDC-CP]\n", ""), 16, "needs 'sources'", id="referral-without-sources"),
    pytest.param(("sources: [CDC-CP]", "sources: [CDC-CP, NOPE]"), 18, "unknown source 'NOPE'", id="unknown-source"),
    pytest.param(("observations:\n", GGC_SOURCE + "observations:\n"), 5, "source 'GGC' is not cited", id="unused-source"),
    pytest.param(
        ("routes_to: [demo_topic]", "routes_to: [nowhere]"), 10, "routes to unknown topic 'nowhere'", id="unknown-topic"
    ),
    pytest.param(("id: stiff_legs", "id: pulls_up"), 13, "'pulls_up' is defined twice (first at line 6)", id="duplicate-id"),
    pytest.param(
        ("{NORM: legs}", "{BOGUS: legs}"),
        19,
        "observation 'stiff_legs': patterns.tokens[1] is not a valid spaCy pattern",
        id="pattern-does-not-compile",
    ),
    pytest.param(("{NORM: legs}", '{NORM: "@nope"}'), 19, "unknown word list '@nope'", id="unknown-word-list"),
    pytest.param(
        ('phrases: ["pulls up"]', "phrase: [pulls up]"),
        11,
        "observation 'pulls_up': unknown pattern keys phrase",
        id="unknown-pattern-key",
    ),
    pytest.param(
        ('say_back: "legs go stiff"', 'say_back: "Legs go stiff."'), 15, "say_back continues a sentence", id="say-back-form"
    ),
    pytest.param(
        ('    answers: {pulls_to_stand: "yes"}\n', ""),
        6,
        "neither answers a question nor carries a referral",
        id="no-answer-no-referral",
    ),
    pytest.param(('    label: "Pulls up"\n', ""), 6, "observation 'pulls_up' is missing 'label'", id="missing-label"),
    pytest.param(("referral: provider", "refferal: provider"), 16, "unknown key(s) refferal", id="misspelt-key"),
    pytest.param(("  - id: stiff_legs", "  - id: stiff_legs\n    say_back: [x"), 15, "invalid YAML", id="broken-yaml"),
]


@pytest.mark.parametrize("change, line, message", BAD_OBSERVATIONS)
def test_invalid_observations_fail_naming_file_and_line(tmp_path: Path, change: tuple, line: int, message: str) -> None:
    old, new = change
    assert old in TINY_OBSERVATIONS
    root = _write(tmp_path, TINY_OBSERVATIONS.replace(old, new, 1))
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(root)
    assert error.value.path.name == "observations.yml"
    assert message in error.value.message, error.value.message
    assert error.value.line == line, str(error.value)
    assert f"observations.yml:{line}: " in str(error.value)


def test_the_runtime_loader_rejects_what_needs_no_other_file(tmp_path: Path) -> None:
    path = tmp_path / "observations.yml"
    path.write_text(TINY_OBSERVATIONS.replace("id: stiff_legs", "id: pulls_up"), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"observations.yml:13: observation 'pulls_up' is defined twice"):
        load_observations(path)
    path.write_text("sources: []\nobservations: []\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="no sources"):
        load_observations(path)


@pytest.mark.parametrize(
    "text",
    ["my 10 month old has never crawled, she rolls everywhere to get her toys", "he never crawled, he scoots about on his bum"],
)
def test_a_negation_does_not_reach_across_a_comma_into_the_next_clause(text: str) -> None:
    found = {h.observation_id for h in default_catalogue().detect(text)}
    assert not found & {"does_not_move_about", "not_rolling"}


# ---------------------------------------------------------------------------------------------------
# Walking alone and hip imaging (issue 12): the slots they fill, through a whole reading of the message


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "my 22 month old still bottom shuffles and doesn't walk",
            {"age_months": 22.0, "gets_around": "yes", "walks_alone": "no"},
        ),
        ("he's 13 months and walking everywhere", {"age_months": 13.0, "walks_alone": "yes"}),
        ("she had a hip scan at 6 weeks because she was breech", {"hips_checked": "yes", "hips_imaged": "yes", "breech": "yes"}),
        ("they only examined her hips by moving her legs about", {"hips_checked": "yes", "hips_imaged": "no"}),
        ("her hips were never scanned", {"hips_checked": "no", "hips_imaged": "no"}),
        ("my older one walked at 10 months but this one is 15 months and not walking", {"age_months": 15.0, "walks_alone": "no"}),
        ("when do babies start walking?", {}),
    ],
)
def test_walking_and_hip_imaging_fill_their_slots(
    catalogue: ObservationCatalogue, text: str, expected: Dict[str, object]
) -> None:
    assert understand(text, catalogue).stated() == expected


def test_a_scan_fills_both_hip_questions_and_an_exam_only_the_check(catalogue: ObservationCatalogue) -> None:
    scanned = understand("they did an ultrasound of his hips at 6 weeks", catalogue)
    assert scanned.value_for("hips_checked") == "yes" and scanned.value_for("hips_imaged") == "yes"
    examined = understand("the GP examined her hips at her 8 week check", catalogue)
    assert examined.value_for("hips_checked") == "yes" and examined.value_for("hips_imaged") is None


@pytest.mark.parametrize(
    "text",
    ["she can't walk anymore", "she stopped walking last week", "she was walking last week and now she can only crawl"],
)
def test_a_lost_walking_skill_never_says_the_child_walks(catalogue: ObservationCatalogue, text: str) -> None:
    # the loss itself is a red flag (knowledge/red_flags.yml, loss_of_skills), found by its own detector
    assert "walks_alone" not in found(catalogue, text)


def test_the_new_observations_carry_no_referral_and_route_only_the_clear_openings(catalogue: ObservationCatalogue) -> None:
    routes = {
        obs: catalogue.observations[obs].routes_to for obs in ("walks_alone", "not_walking", "hips_imaged", "hips_not_imaged")
    }
    assert routes == {"walks_alone": (), "not_walking": ("late_walking",), "hips_imaged": (), "hips_not_imaged": ("hip_health",)}
    assert all(catalogue.observations[obs].referral is None for obs in routes)
