"""Build the SQLite knowledge base (and the Rasa files it implies) from knowledge/.

Usage: python -m bot.knowledge.build [--force] [--check]
Skips the work when the inputs are unchanged since the last build.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable, List

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bot.contract import MILESTONE_PREFIX
from bot.knowledge.documents import KnowledgeError, Question, Source, Topic
from bot.knowledge.export import write_rasa_files
from bot.knowledge.milestones import MilestoneTable
from bot.knowledge.models import (
    FTS_CREATE,
    FTS_TABLE,
    Base,
    BuildInfo,
    MilestoneRow,
    QuestionRow,
    SectionRow,
    SourceRow,
    TopicRow,
)
from bot.knowledge.validate import Knowledge, load_knowledge
from bot.settings import PROJECT_ROOT, get_settings

SCHEMA_VERSION = "7"


def input_files(root: Path) -> List[Path]:
    """Every file the build reads, in a stable order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml", ".md"})


def fingerprint(root: Path) -> str:
    """Hash of the inputs (names and contents) plus the build code's schema version."""
    digest = hashlib.sha256(SCHEMA_VERSION.encode())
    for path in input_files(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    for module in (
        "documents.py",
        "validate.py",
        "milestones.py",
        "models.py",
        "build.py",
        "export.py",
        "safety_net.py",
        "consistency.py",
        "messages.py",
    ):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()


def current_fingerprint(db_path: Path) -> str:
    """The fingerprint stored in an existing knowledge base, or ''."""
    if not db_path.exists():
        return ""
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT value FROM build_info WHERE key = 'fingerprint'")).first()
            return row[0] if row else ""
    except Exception:  # an unreadable or old file is simply rebuilt
        return ""
    finally:
        engine.dispose()


def write_database(knowledge: Knowledge, db_path: Path, stamp: str) -> None:
    """Write the knowledge base to a temporary file, then move it into place atomically."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(suffix=".db", dir=db_path.parent)
    os.close(handle)
    engine = create_engine(f"sqlite:///{tmp_name}")
    try:
        Base.metadata.create_all(engine)
        with Session(engine) as session, session.begin():
            session.execute(text(FTS_CREATE))
            session.add_all([BuildInfo(key="fingerprint", value=stamp), BuildInfo(key="schema", value=SCHEMA_VERSION)])
            for position, question in enumerate(knowledge.questions.values()):
                session.add(_question_row(question, position))
            for topic in knowledge.topics.values():
                _add_topic(session, topic)
            if knowledge.milestones:
                _add_milestones(session, knowledge.milestones)
    finally:
        engine.dispose()
    os.replace(tmp_name, db_path)


def _question_row(question: Question, position: int) -> QuestionRow:
    return QuestionRow(
        slot=question.slot,
        position=position,
        type=question.type,
        ask=question.ask,
        example=question.example,
        why=question.why,
        buttons=list(question.buttons),
        all_clear=question.all_clear,
        say_back=dict(question.say_back),
        clarify=dataclasses.asdict(question.clarify) if question.clarify else None,
        reads={value: list(patterns) for value, patterns in question.reads.items()},
    )


def _add_topic(session: Session, topic: Topic) -> None:
    """The topic's row, sources and sections, and its summary and sections in the full-text index."""
    session.add(
        TopicRow(
            id=topic.id,
            title=topic.title,
            intent=topic.intent,
            summary=topic.summary,
            questions=list(topic.questions),
            rules=[
                {
                    "id": r.id,
                    "referral": r.referral,
                    "say": r.say,
                    "line": r.line,
                    "always_shown": r.always_shown,
                    "sources": list(r.sources),
                    "conditions": [dataclasses.asdict(c) for c in r.conditions],
                }
                for r in topic.rules
            ],
            short={
                "first_steps": [dataclasses.asdict(step) for step in topic.first_steps],
                "check_again": dataclasses.asdict(topic.check_again) if topic.check_again else None,
                "section_sources": {key: list(keys) for key, keys in topic.section_sources.items()},
            },
            path=str(topic.path.relative_to(PROJECT_ROOT) if topic.path.is_relative_to(PROJECT_ROOT) else topic.path),
        )
    )
    _add_sources(session, f"topic:{topic.id}", topic.sources)
    session.execute(
        text(f"INSERT INTO {FTS_TABLE} (topic_id, section, title, body) VALUES (:t, 'summary', :title, :body)"),
        {"t": topic.id, "title": topic.title, "body": topic.summary},
    )
    for position, section in enumerate(topic.sections):
        session.add(SectionRow(topic_id=topic.id, position=position, key=section.key, heading=section.heading, body=section.body))
        session.execute(
            text(f"INSERT INTO {FTS_TABLE} (topic_id, section, title, body) VALUES (:t, :s, :title, :body)"),
            {"t": topic.id, "s": section.key, "title": topic.title, "body": section.body},
        )


def _add_milestones(session: Session, table: MilestoneTable) -> None:
    session.add(BuildInfo(key="milestone_intent", value=table.intent))
    _add_sources(session, "milestones:overview", table.sources)
    for position, milestone in enumerate(table.milestones):
        data = {k: v for k, v in dataclasses.asdict(milestone).items() if k != "sources"}
        session.add(MilestoneRow(id=milestone.id, position=position, data=data))
        _add_sources(session, f"{MILESTONE_PREFIX}{milestone.id}", milestone.sources)


def _add_sources(session: Session, owner: str, sources: Iterable[Source]) -> None:
    for position, source in enumerate(sources):
        session.add(SourceRow(owner=owner, position=position, key=source.key, title=source.title, url=source.url))


def build(force: bool = False) -> bool:
    """Validate knowledge/ and (re)build the database and Rasa files; True when work was done."""
    settings = get_settings()
    root, db_path = settings.knowledge_dir, settings.knowledge_db
    stamp = fingerprint(root)
    knowledge = load_knowledge(root)  # validation always runs: it is cheap and catches errors early
    rasa_changed = write_rasa_files(knowledge, PROJECT_ROOT)
    if not force and current_fingerprint(db_path) == stamp:
        return rasa_changed
    write_database(knowledge, db_path, stamp)
    return True


def main(argv: List[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")
    parser.add_argument("--check", action="store_true", help="only validate knowledge/, write nothing")
    args = parser.parse_args(argv)
    try:
        if args.check:
            knowledge = load_knowledge(get_settings().knowledge_dir)
            print(
                f"knowledge OK: {len(knowledge.topics)} topics, {len(knowledge.questions)} questions, "
                f"{len(knowledge.red_flags)} red flags"
            )
            return 0
        changed = build(force=args.force)
    except KnowledgeError as error:
        print(f"knowledge build failed: {error}", file=sys.stderr)
        return 1
    print("knowledge base built" if changed else "knowledge base up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
