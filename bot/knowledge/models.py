"""SQLAlchemy tables of the built knowledge base (SQLite file, plus an FTS5 index)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base

if TYPE_CHECKING:

    class Base:
        """What mypy needs of the declarative base (SQLAlchemy 1.4 ships no types; its columns read as Any)."""

        metadata: Any

        def __init__(self, **values: Any) -> None: ...

else:
    Base = declarative_base()

FTS_TABLE = "passage_index"
FTS_CREATE = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "topic_id UNINDEXED, section UNINDEXED, title, body, tokenize='porter unicode61')"
)


class BuildInfo(Base):
    """Key/value facts about the build (input fingerprint, schema version)."""

    __tablename__ = "build_info"
    key = Column(String(64), primary_key=True)
    value = Column(Text, nullable=False)


class QuestionRow(Base):
    """A follow-up question definition."""

    __tablename__ = "questions"
    slot = Column(String(64), primary_key=True)
    position = Column(Integer, nullable=False)
    type = Column(String(32), nullable=False)
    ask = Column(Text, nullable=False)
    example = Column(Text, nullable=False)
    why = Column(Text, nullable=False)
    buttons = Column(JSON, nullable=False)
    all_clear = Column(String(8), nullable=False, default="yes")
    say_back = Column(JSON, nullable=False, default=dict)
    clarify = Column(JSON, nullable=True)
    reads = Column(JSON, nullable=False, default=dict)


class TopicRow(Base):
    """A topic document's metadata, questions and rules."""

    __tablename__ = "topics"
    id = Column(String(64), primary_key=True)
    title = Column(Text, nullable=False)
    intent = Column(String(64), nullable=False, unique=True)
    summary = Column(Text, nullable=False)
    questions = Column(JSON, nullable=False)
    rules = Column(JSON, nullable=False)
    short = Column(JSON, nullable=False)  # first_steps, check_again, section_sources
    path = Column(Text, nullable=False)


class SectionRow(Base):
    """One body section of a topic document."""

    __tablename__ = "sections"
    id = Column(Integer, primary_key=True)
    topic_id = Column(String(64), ForeignKey("topics.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    key = Column(String(16), nullable=False)
    heading = Column(Text, nullable=False)
    body = Column(Text, nullable=False)


class SourceRow(Base):
    """A source cited by a topic, a milestone or the milestone overview."""

    __tablename__ = "sources"
    id = Column(Integer, primary_key=True)
    owner = Column(String(80), nullable=False, index=True)  # "topic:<id>", "milestone:<id>" or "milestones:overview"
    position = Column(Integer, nullable=False)
    key = Column(String(64), nullable=False)
    title = Column(Text, nullable=False)
    url = Column(Text, nullable=False)


class MilestoneRow(Base):
    """One row of the milestone table, as parsed (sources are SourceRows owned by "milestone:<id>")."""

    __tablename__ = "milestones"
    id = Column(String(64), primary_key=True)
    position = Column(Integer, nullable=False)
    data = Column(JSON, nullable=False)
