"""What the assistant says when a parent asks for a summary for the appointment: why it can't make one yet, a signed
link to the printable page (web chat, REST), or the summary itself as text (Telegram, WhatsApp)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional

from bot.channels.messaging import TELEGRAM_LIMIT, WHATSAPP_LIMIT
from bot.knowledge.messages import say
from bot.privacy.summary_links import make_token
from bot.triage.appointment import Library, Record, compose, worth_a_summary
from bot.triage.appointment_text import summary_messages

TEXT_CHANNELS = {"telegram": TELEGRAM_LIMIT, "whatsapp": WHATSAPP_LIMIT}  # the summary as messages, not a link
SUMMARY_PATH = "/summary/"


@dataclass(frozen=True)
class Links:
    """Makes signed links to the summary page on the web server at base_url, valid for `days`."""

    base_url: str
    key: bytes
    days: float

    def url(self, record: Record) -> str:
        """The page's address for this record."""
        return self.base_url.rstrip("/") + SUMMARY_PATH + make_token(record, self.key, self.days)


def appointment_reply(
    record: Optional[Record],
    channel: Optional[str],
    links: Callable[[], Links],
    library: Callable[[], Library],
) -> List[str]:
    """The messages answering "make a summary for my appointment". record is None before any advice."""
    if record is None:
        return [say("appointment.no_advice")]
    if not worth_a_summary(record.referral):
        return [say("appointment.no_referral")]
    limit = TEXT_CHANNELS.get(channel or "")
    if limit:
        return [say("appointment.text_intro"), *summary_messages(compose(record, library()), limit)]
    maker = links()
    return [say("appointment.link", url=maker.url(record), days=maker.days)]
