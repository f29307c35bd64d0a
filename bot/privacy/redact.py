"""Redact personal identifiers from chat text before it is stored: emails, phone numbers, long ID numbers.

What stays: ages, durations, weeks, decimals and short dates as parents write them ("10 months",
"born at 34 weeks", "for 5 seconds", "since 12/03/2024"). Dates written with dots or dashes in full
("12.03.2024", "2024-03-12") look like ID numbers and are replaced; a date of birth is identifying anyway.

Redaction takes time linear in the length of the text, whatever its shape: it runs on Rasa's event loop
for every stored event and on every log record. So each pattern starts a match only where the previous
character cannot belong to it (one start per run of characters, no rescanning), repeats groups a bounded
number of times (Python's re keeps state for every repetition of a group), and is skipped outright when
the text lacks what every match needs ('@', '://', 4 or 7 digits).
"""

from __future__ import annotations

import re
from typing import Any, List

EMAIL_LABELS = 32  # at most this many domain labels after the first per match; real domains have a few
EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+){{1,{EMAIL_LABELS}}}")
# A phone or ID number: 7+ digits, optionally with a leading + or 00, spaces, dots, dashes or brackets (at
# most two between digits). Same matches as `\d(?:[\s().-]{0,2}\d){6,}` with the digits counted afterwards
# and at most NUMBER_GROUPS groups per match; what follows a match cut there is replaced too (_redact_numbers).
NUMBER_GROUPS = 32
LONG_NUMBER = re.compile(rf"(?<![\w/])(?:\+|00)?\(?\d+(?:[\s().-]{{1,2}}\d+){{0,{NUMBER_GROUPS}}}(?![\w/])")
NUMBER_GAP = re.compile(r"[\s().-]{1,2}(?=\d)")  # where a number cut at NUMBER_GROUPS goes on
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
# A link with a query string: http(s)://, then a run without whitespace, '?' or '#', then '?' and the query.
# As one regex, `\bhttps?://[^\s?#]+\?[^\s#]+`, this is quadratic ("http://" * N tries each "http" of one
# long run and rescans the run from each), so links are found in two steps (_redact_links).
LINK_RUN = re.compile(r"(?<![^\s?#])[^\s?#]+(?=\?[^\s#])")  # a whole run directly followed by a query
LINK_START = re.compile(r"\bhttps?://(?=[^\s?#])", re.IGNORECASE)
LINK_QUERY = re.compile(r"\?[^\s#]+")
AT_LEAST_4_DIGITS = re.compile(r"\d(?:\D*\d){3}")
AT_LEAST_7_DIGITS = re.compile(r"\d(?:\D*\d){6}")


def _redact_links(text: str) -> str:
    """text with every http(s) link that has a query string replaced by "[link]".

    The matches of `\\bhttps?://[^\\s?#]+\\?[^\\s#]+`, leftmost first, in one pass: each run of characters
    other than whitespace, '?' and '#' directly followed by a query is found once, then searched once
    for its first link start.
    """
    parts: List[str] = []
    kept_from = search_from = 0
    while True:
        run = LINK_RUN.search(text, search_from)
        if run is None:
            break
        start = LINK_START.search(text, run.start(), run.end())
        if start is None:  # no link in this run: its query may begin one
            search_from = run.end() + 1
            continue
        query = LINK_QUERY.match(text, run.end())
        assert query is not None  # LINK_RUN's lookahead saw it
        parts += [text[kept_from : start.start()], "[link]"]
        kept_from = search_from = query.end()
    parts.append(text[kept_from:])
    return "".join(parts)


def _redact_numbers(text: str) -> str:
    """text with every LONG_NUMBER match of 7 digits or more replaced by "[number]".

    Ages, weeks and short dates have fewer digits and are kept, unless they directly continue a match
    that was cut at NUMBER_GROUPS groups (then they are the rest of one long number).
    """
    parts: List[str] = []
    kept_from = 0
    gap = None  # after a replaced match, the separators by which its number could go on
    for match in LONG_NUMBER.finditer(text):
        continues = gap is not None and gap.start() < match.start() <= gap.end()
        if continues or AT_LEAST_7_DIGITS.search(match.group()):
            parts += [text[kept_from : match.start()], "[number]"]
            kept_from = match.end()
            gap = NUMBER_GAP.match(text, match.end())
        else:
            gap = None
    parts.append(text[kept_from:])
    return "".join(parts)


def redact_text(text: str) -> str:
    """text with emails, phone/ID numbers, IP addresses and links with query strings replaced."""
    if "://" in text:  # first: a domain label can eat a link's "https" ("a@b.org.https://x?q")
        text = _redact_links(text)
    if "@" in text:
        text = EMAIL.sub("[email]", text)
    if "." in text and AT_LEAST_4_DIGITS.search(text):
        text = IPV4.sub("[ip address]", text)
    if AT_LEAST_7_DIGITS.search(text):
        text = _redact_numbers(text)
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
