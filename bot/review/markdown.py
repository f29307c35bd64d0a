"""The assistant's messages as safe HTML for the transcript: the little Markdown they use, everything else escaped.

Bot messages use **bold**, *emphasis*, "- " and "1. " lists and [title](https://...) links (bot/triage/advice.py).
The text is escaped first, so no tag, attribute or entity from a stored message can reach the page; then only those
forms become markup. A link becomes one only for an http(s) address, opens in a new tab without the page's context
(rel="noopener noreferrer nofollow"); any other target stays text.
"""

from __future__ import annotations

import html
import re
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

from markupsafe import Markup, escape

_LINK = re.compile(r"\[([^\[\]\n]{1,500})\]\(([^()\s]{1,2000})\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EMPHASIS = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
MAX_CHARACTERS = 20_000


def safe_url(url: str) -> Optional[str]:
    """The address when it is an absolute http(s) URL with a host, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _emphasis(escaped: str) -> str:
    return _EMPHASIS.sub(r"<em>\1</em>", _BOLD.sub(r"<strong>\1</strong>", escaped))


def inline(text: str) -> str:
    """One line: escaped, then links, bold and emphasis (as HTML text)."""
    escaped = str(escape(text.replace("\x00", "")))
    anchors: List[str] = []

    def link(match: re.Match[str]) -> str:
        label, target = _emphasis(match.group(1)), match.group(2)  # both already escaped
        url = safe_url(html.unescape(target))
        if url is None:
            return f"{label} ({target})"
        anchors.append(f'<a href="{escape(url)}" rel="noopener noreferrer nofollow" target="_blank">{label}</a>')
        return f"\x00{len(anchors) - 1}\x00"

    escaped = _emphasis(_LINK.sub(link, escaped))
    return re.sub("\x00(\\d+)\x00", lambda m: anchors[int(m.group(1))], escaped)


def _kind(line: str) -> Tuple[str, str]:
    """("ul" | "ol" | "p", the line's text without its list marker)."""
    bullet = _BULLET.match(line)
    if bullet:
        return "ul", bullet.group(1)
    numbered = _NUMBERED.match(line)
    return ("ol", numbered.group(1)) if numbered else ("p", line)


def render(text: Optional[str]) -> Markup:
    """A bot message as HTML: paragraphs (blank lines apart, single line breaks kept), lists, links, bold, emphasis."""
    lines = (text or "")[:MAX_CHARACTERS].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: List[str] = []
    block: Optional[str] = None  # the open block: "p", "ul" or "ol"
    for line in lines:
        kind, content = _kind(line) if line.strip() else ("", "")
        if kind != block or kind == "":
            if block:
                out.append(f"</{block}>")
            block = kind or None
            if block:
                out.append(f"<{block}>")
        elif kind == "p":
            out.append("<br>")
        if kind in ("ul", "ol"):
            out.append(f"<li>{inline(content)}</li>")
        elif kind == "p":
            out.append(inline(content))
    if block:
        out.append(f"</{block}>")
    return Markup("".join(out))
