"""Read the built knowledge base: topics, questions, sections, sources, and full-text search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from bot.contract import MILESTONE_PREFIX
from bot.knowledge.documents import Clarify, Condition, Question, Rule, Section, ShortLine, Source, Topic
from bot.knowledge.milestones import Milestone, MilestoneTable, Window
from bot.knowledge.models import FTS_TABLE, BuildInfo, MilestoneRow, QuestionRow, SectionRow, SourceRow, TopicRow
from bot.knowledge.safety_net import SafetyNet, parse_safety_net
from bot.settings import get_settings


class KnowledgeBaseMissing(RuntimeError):
    """The knowledge base file has not been built."""


@dataclass(frozen=True)
class SearchHit:
    """A passage that matched a full-text query."""

    topic_id: str
    section: str
    title: str
    score: float


class KnowledgeBase:
    """Loads the whole (small) knowledge base into memory once; searches go to SQLite FTS5."""

    def __init__(self, db_path: Path) -> None:
        if not db_path.exists():
            raise KnowledgeBaseMissing(f"knowledge base {db_path} not found: run `make knowledge`")
        self._engine = create_engine(f"sqlite:///{db_path}")
        with Session(self._engine) as session:
            self.questions: Dict[str, Question] = {
                row.slot: Question(
                    slot=row.slot,
                    type=row.type,
                    ask=row.ask,
                    example=row.example,
                    why=row.why,
                    buttons=tuple(row.buttons),
                    all_clear=row.all_clear,
                    say_back=dict(row.say_back or {}),
                    clarify=Clarify(
                        text=row.clarify["text"],
                        buttons=tuple(row.clarify["buttons"]),
                        on_unsure=bool(row.clarify.get("on_unsure")),
                    )
                    if row.clarify
                    else None,
                    reads={value: tuple(patterns) for value, patterns in (row.reads or {}).items()},
                )
                for row in session.scalars(select(QuestionRow).order_by(QuestionRow.position))
            }
            sources = self._sources(session)
            sections: Dict[str, List[Section]] = {}
            for row in session.scalars(select(SectionRow).order_by(SectionRow.topic_id, SectionRow.position)):
                sections.setdefault(row.topic_id, []).append(Section(key=row.key, heading=row.heading, body=row.body))
            self.topics: Dict[str, Topic] = {
                row.id: Topic(
                    id=row.id,
                    title=row.title,
                    intent=row.intent,
                    summary=row.summary,
                    sources=tuple(sources.get(f"topic:{row.id}", ())),
                    questions=tuple(row.questions),
                    rules=tuple(
                        Rule(
                            id=r["id"],
                            conditions=tuple(Condition(**c) for c in r["conditions"]),
                            referral=r["referral"],
                            say=r["say"],
                            line=r["line"],
                            always_shown=bool(r.get("always_shown")),
                            sources=tuple(r.get("sources") or ()),
                        )
                        for r in row.rules
                    ),
                    sections=tuple(sections.get(row.id, ())),
                    path=Path(row.path),
                    **_short(row.short),
                )
                for row in session.scalars(select(TopicRow).order_by(TopicRow.id))
            }
            self.milestones: Optional[MilestoneTable] = self._milestones(session, sources)

    @staticmethod
    def _milestones(session: Session, sources: Dict[str, List[Source]]) -> Optional[MilestoneTable]:
        intent = session.get(BuildInfo, "milestone_intent")
        if intent is None:
            return None
        rows = []
        for row in session.scalars(select(MilestoneRow).order_by(MilestoneRow.position)):
            data = dict(row.data)
            for key in ("who", "usual"):
                data[key] = Window(**data[key]) if data[key] else None
            data["words"] = tuple(data["words"])
            rows.append(Milestone(**data, sources=tuple(sources.get(f"{MILESTONE_PREFIX}{row.id}", ()))))
        overview = tuple(sources.get("milestones:overview", ()))
        return MilestoneTable(intent=intent.value, milestones=tuple(rows), sources=overview)

    @staticmethod
    def _sources(session: Session) -> Dict[str, List[Source]]:
        grouped: Dict[str, List[Source]] = {}
        for row in session.scalars(select(SourceRow).order_by(SourceRow.owner, SourceRow.position)):
            grouped.setdefault(row.owner, []).append(Source(key=row.key, title=row.title, url=row.url))
        return grouped

    @cached_property
    def safety_net(self) -> Optional[SafetyNet]:
        """The child-level checks of knowledge/safety_net.yml (validated by the build), read on first use."""
        path = get_settings().knowledge_dir / "safety_net.yml"
        return parse_safety_net(path, self.questions, self.milestones) if path.exists() else None

    def topic(self, topic_id: Optional[str]) -> Optional[Topic]:
        """The topic with this id, if any."""
        return self.topics.get(topic_id or "")

    def search(self, query: str, limit: int = 3) -> List[SearchHit]:
        """Full-text search over topic summaries and sections, best first (BM25)."""
        words = re.findall(r"[a-z]{3,}", query.lower())[:20]
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        sql = text(
            f"SELECT topic_id, section, title, bm25({FTS_TABLE}) "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match ORDER BY bm25({FTS_TABLE}) LIMIT :limit"
        )
        with self._engine.connect() as conn:
            rows = conn.execute(sql, {"match": match, "limit": limit}).all()
        return [SearchHit(topic_id=r[0], section=r[1], title=r[2], score=-float(r[3])) for r in rows]

    def best_topics(self, query: str, limit: int = 2) -> List[Tuple[Topic, float]]:
        """Distinct topics whose passages match the query, best first."""
        seen: Dict[str, float] = {}
        for hit in self.search(query, limit=10):
            seen.setdefault(hit.topic_id, hit.score)
        ranked = sorted(seen.items(), key=lambda item: -item[1])[:limit]
        return [(self.topics[topic_id], score) for topic_id, score in ranked if topic_id in self.topics]


@lru_cache(maxsize=1)
def get_knowledge_base() -> KnowledgeBase:
    """The knowledge base named by settings, loaded on first use."""
    return KnowledgeBase(get_settings().knowledge_db)


def _short(data: Dict[str, Any]) -> Dict[str, Any]:
    """The short answer's data of a topic row, as Topic fields."""

    def line(raw: Dict[str, Any]) -> ShortLine:
        return ShortLine(say=raw["say"], sources=tuple(raw["sources"]), line=raw.get("line", 0))

    return {
        "first_steps": tuple(line(step) for step in data["first_steps"]),
        "check_again": line(data["check_again"]) if data.get("check_again") else None,
        "section_sources": {key: tuple(keys) for key, keys in data["section_sources"].items()},
    }
