"""action_appointment_summary: a summary of the advice to show or send to the provider (a link, or text)."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_io import answers_from, knowledge_base, observations_so_far, previous_referral, topic_slot
from bot.contract import RED_FLAG_SLOT, URGENT
from bot.privacy.summary_links import link_key
from bot.settings import get_settings
from bot.triage.appointment import Record, record_of
from bot.triage.appointment_library import current_library
from bot.triage.appointment_reply import Links, appointment_reply


def record_from(tracker: Tracker) -> Optional[Record]:
    """What the latest advice rested on (ids and typed values only), or None when no advice was given yet."""
    referral = previous_referral(tracker)
    if referral is None:
        return None
    advised = tracker.get_slot("advised")
    advised = advised if isinstance(advised, dict) else {}
    subject = advised.get("subject") if isinstance(advised.get("subject"), str) else topic_slot(tracker)
    rules = tracker.get_slot("advice_rules")
    return record_of(
        subject,
        referral,
        answers_from(tracker, knowledge_base()),
        observations_so_far(tracker),
        [str(r) for r in rules] if isinstance(rules, list) else [],
        not_yet=bool(advised.get("not_yet")),
        red_flag=tracker.get_slot(RED_FLAG_SLOT) if referral == URGENT else None,
        made_at=time.time(),
    )


def links() -> Links:
    """Signed links to the web server's summary page (WEB_PUBLIC_URL, APPOINTMENT_LINK_DAYS)."""
    settings = get_settings()
    return Links(settings.web_public_url, link_key(settings), settings.appointment_link_days)


class ActionAppointmentSummary(Action):
    """Sends the summary as a signed link (web chat, REST) or as text (Telegram, WhatsApp); says so when none yet."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_appointment_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        """Reply with the summary, or with what is needed first."""
        for text in appointment_reply(record_from(tracker), tracker.get_latest_input_channel(), links, current_library):
            dispatcher.utter_message(text=text)
        return []
