"""Redact personal identifiers from chat text before it is stored: emails, phone numbers, long ID numbers.

What stays: ages, durations, weeks, decimals and short dates as parents write them ("10 months",
"born at 34 weeks", "for 5 seconds", "since 12/03/2024"). Dates written with dots or dashes in full
("12.03.2024", "2024-03-12") look like ID numbers and are replaced; a date of birth is identifying anyway.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# A phone or ID number: 7+ digits, optionally with a leading + or 00, spaces, dots, dashes or brackets.
LONG_NUMBER = re.compile(r"(?<![\w/])(?:\+|00)?\(?\d(?:[\s().-]{0,2}\d){6,}(?![\w/])")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
URL_WITH_QUERY = re.compile(r"\bhttps?://[^\s?#]+\?[^\s#]+", re.IGNORECASE)

PLACEHOLDERS = ((EMAIL, "[email]"), (URL_WITH_QUERY, "[link]"), (IPV4, "[ip address]"), (LONG_NUMBER, "[number]"))


def redact_text(text: str) -> str:
    """text with emails, phone/ID numbers, IP addresses and links with query strings replaced."""
    for pattern, placeholder in PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return text


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with every string redacted (dict keys are kept as they are)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value
