"""Review work on a conversation: tags, notes, reviewed marks, intent corrections and their export."""

from __future__ import annotations

import json
import re
import time
from typing import Dict, List

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from bot.review.models import conversations, corrections, events, notes, tags

TAG = re.compile(r"^[\w .:-]{1,40}$")


class WorkError(ValueError):
    """A request the dashboard refuses, with a message for the reviewer."""


def clean_tag(tag: str) -> str:
    tag = (tag or "").strip().lower()
    if not TAG.match(tag):
        raise WorkError("A tag is 1 to 40 letters, digits, spaces, dots, colons or dashes.")
    return tag


def add_tag(engine: Engine, sender_id: str, tag: str, username: str) -> str:
    tag = clean_tag(tag)
    with engine.begin() as connection:
        exists = connection.execute(sa.select(tags.c.tag).where(tags.c.sender_id == sender_id, tags.c.tag == tag)).first()
        if not exists:
            connection.execute(tags.insert().values(sender_id=sender_id, tag=tag, added_by=username, added_at=time.time()))
    return tag


def remove_tag(engine: Engine, sender_id: str, tag: str) -> None:
    with engine.begin() as connection:
        connection.execute(tags.delete().where(tags.c.sender_id == sender_id, tags.c.tag == (tag or "").strip().lower()))


def add_note(engine: Engine, sender_id: str, text: str, username: str) -> None:
    text = (text or "").strip()
    if not text or len(text) > 5000:
        raise WorkError("A note needs some text, up to 5,000 characters.")
    with engine.begin() as connection:
        connection.execute(notes.insert().values(sender_id=sender_id, author=username, written_at=time.time(), text=text))


def set_reviewed(engine: Engine, sender_id: str, reviewed: bool, username: str) -> None:
    values = {"reviewed_by": username, "reviewed_at": time.time()} if reviewed else {"reviewed_by": None, "reviewed_at": None}
    with engine.begin() as connection:
        connection.execute(conversations.update().where(conversations.c.sender_id == sender_id).values(**values))


def correct_intent(engine: Engine, sender_id: str, event_id: int, intent: str, known_intents: List[str], username: str) -> None:
    """Record the right intent for one user message of this conversation."""
    if intent not in known_intents:
        raise WorkError(f"“{intent[:60]}” is not an intent of this assistant.")
    with engine.begin() as connection:
        row = connection.execute(
            sa.select(events.c.data, events.c.intent_name).where(
                events.c.id == event_id, events.c.sender_id == sender_id, events.c.type_name == "user"
            )
        ).first()
        if row is None:
            raise WorkError("That message is not part of this conversation.")
        text = json.loads(row.data or "{}").get("text") or ""
        connection.execute(corrections.delete().where(corrections.c.event_id == event_id))
        connection.execute(
            corrections.insert().values(
                event_id=event_id,
                sender_id=sender_id,
                text=text,
                predicted_intent=row.intent_name,
                intent=intent,
                corrected_by=username,
                corrected_at=time.time(),
            )
        )


class _Block(str):
    """A string YAML writes as a literal block (`|`), as Rasa's training data does."""


class _NluDumper(yaml.SafeDumper):
    pass


_NluDumper.add_representer(_Block, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|"))


def corrections_yaml(engine: Engine) -> str:
    """All corrections as Rasa NLU training data (YAML, format 3.1), grouped by intent."""
    by_intent: Dict[str, List[str]] = {}
    with engine.connect() as connection:
        for intent, text in connection.execute(
            sa.select(corrections.c.intent, corrections.c.text).order_by(corrections.c.intent, corrections.c.event_id)
        ):
            text = " ".join(text.split())
            if text and text not in by_intent.setdefault(intent, []):
                by_intent[intent].append(text)
    return nlu_yaml(by_intent, "Corrected intents exported from the review dashboard")


def nlu_yaml(by_intent: Dict[str, List[str]], what: str) -> str:
    """Examples per intent as Rasa NLU training data (YAML, format 3.1), after a comment saying what they are."""
    nlu = [{"intent": intent, "examples": _Block("".join(f"- {t}\n" for t in texts))} for intent, texts in by_intent.items()]
    header = f"# {what}. Check each example, then add it to data/nlu/.\n"
    return header + yaml.dump({"version": "3.1", "nlu": nlu}, Dumper=_NluDumper, sort_keys=False, allow_unicode=True)
