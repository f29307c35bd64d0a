"""The names and numbers the whole project shares, defined once: intents, slots, referral levels, id prefixes and
the calendar. Rasa's domain (domain/*.yml) and the design's public contract use the same names; tests state the
expected values literally, so a change here has to be made on purpose."""

from __future__ import annotations

from typing import Optional

# Intents the code (not only the model) acts on.
RED_FLAG_INTENT = "report_red_flag"
REQUEST_HUMAN_INTENT = "request_human"
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
# After an answer: "was this helpful?" (yes / no) and the rest of the advice, one part per intent.
HELPFUL_INTENT = "feedback_helpful"
UNHELPFUL_INTENT = "feedback_unhelpful"
MORE_INTENTS = {"ask_more_try": "try", "ask_more_why": "why", "ask_more_when": "when", "ask_more_sources": "sources"}

# Slots of the public contract, and the ones the safety code reads.
TOPIC_SLOT = "topic"
AGE_SLOT = "age_months"
REFERRAL_SLOT = "referral"
RED_FLAG_SLOT = "red_flag"
WEEKS_EARLY_SLOT = "weeks_early"
# The last answer given ({"subject", "not_yet", "part"}), and the "was this helpful?" votes and comments.
ADVISED_SLOT = "advised"
FEEDBACK_SLOT = "feedback"
# Set by Rasa (rasa_components/adaptations.py) to the name of a custom action that could not run; None once one works.
ACTION_FAILED_SLOT = "action_failed"

# Referral levels, lowest first. "pending" is the dashboard's name for a conversation with no advice yet.
NO_REFERRAL = "none"
PROVIDER = "provider"
URGENT = "urgent"
REFERRAL_LEVELS = (NO_REFERRAL, PROVIDER, URGENT)
PENDING = "pending"

# The answer types a follow-up question can have (knowledge/questions.yml `type`).
ANSWER_TYPES = ("months", "weeks_early", "seconds", "yes_no_unsure")

# Prefixes of the ids recorded in `advice_rules` (and, for milestones, of the subject in the `topic` slot while a
# milestone question is under way). Topic rule ids have none.
MILESTONE_PREFIX = "milestone:"
SAFETY_PREFIX = "safety:"
OBSERVATION_PREFIX = "observation:"
UNSURE_SUFFIX = ":unsure"

# The calendar: an average Gregorian month, and a full-term pregnancy.
DAYS_PER_MONTH = 365.25 / 12  # 30.44
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7  # 4.348
TERM_WEEKS = 40.0


def referral_rank(level: Optional[str]) -> int:
    """0 for no referral yet (or an unknown value), then 1, 2, 3 for none, provider, urgent."""
    return REFERRAL_LEVELS.index(level) + 1 if level in REFERRAL_LEVELS else 0
