"""Tables of the review dashboard, kept in the tracker store's database next to Rasa's `events`.

`events` is Rasa's table (declared here to query it; Rasa creates it). The rest are ours and are
created by `create_tables`. `review_conversations` is a per-conversation summary kept in step with
`events` by bot.review.index, so lists and charts never scan every event.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

events = sa.Table(  # Rasa's SQLTrackerStore.SQLEvent
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

conversations = sa.Table(
    "review_conversations",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False, index=True),
    sa.Column("last_at", sa.Float, nullable=False, index=True),
    sa.Column("channel", sa.String(64), index=True),
    sa.Column("topic", sa.String(64), index=True),
    sa.Column("referral", sa.String(16), index=True),  # highest level given: none < provider < urgent
    sa.Column("red_flag", sa.String(64)),
    sa.Column("had_fallback", sa.Boolean, nullable=False, default=False),  # the classifier fell back (nlu_fallback)
    sa.Column("low_confidence", sa.Boolean, nullable=False, default=False),  # an intent below LOW_CONFIDENCE
    # The assistant failed the parent on some turn (bot.review.signals), and why: reasons joined by commas.
    sa.Column("misunderstood", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("misunderstood_reasons", sa.String(255)),
    sa.Column("asked_person", sa.Boolean, nullable=False, default=False),
    sa.Column("user_messages", sa.Integer, nullable=False, default=0),
    sa.Column("first_message", sa.Text),
    sa.Column("search_text", sa.Text),  # lower-cased user and bot text, for free-text search
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("reviewed_by", sa.String(64)),
    sa.Column("reviewed_at", sa.Float),
)

index_state = sa.Table(
    "review_index_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("last_event_id", sa.Integer, nullable=False),
)

# Which version of the summaries the index holds (bot.review.index.SUMMARY_VERSION): an older one is recomputed.
summary_version = sa.Table(
    "review_summary_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

tags = sa.Table(
    "review_tags",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("tag", sa.String(64), primary_key=True, index=True),
    sa.Column("added_by", sa.String(64), nullable=False),
    sa.Column("added_at", sa.Float, nullable=False),
)

notes = sa.Table(
    "review_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("written_at", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

corrections = sa.Table(
    "review_corrections",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True),  # the user message's row in `events`
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("predicted_intent", sa.String(255)),
    sa.Column("intent", sa.String(255), nullable=False),
    sa.Column("corrected_by", sa.String(64), nullable=False),
    sa.Column("corrected_at", sa.Float, nullable=False),
)

users = sa.Table(
    "review_users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # reviewer | admin
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

sessions = sa.Table(
    "review_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
)

login_attempts = sa.Table(
    "review_login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("address", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
)

audit_log = sa.Table(
    "review_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("username", sa.String(64)),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(255)),
    sa.Column("detail", sa.Text),
)

sa.Index("ix_review_conversations_topic_last", conversations.c.topic, conversations.c.last_at)
sa.Index("ix_review_conversations_referral_last", conversations.c.referral, conversations.c.last_at)


def create_tables(engine: Engine) -> None:
    """Create the dashboard's own tables where missing (never Rasa's `events`), and add the summary columns an
    older dashboard's `review_conversations` lacks."""
    metadata.create_all(engine, checkfirst=True)
    have = {column["name"] for column in sa.inspect(engine).get_columns(conversations.name)}
    for column in conversations.c:
        if column.name in have:
            continue
        ddl = sa.schema.CreateColumn(column).compile(dialect=engine.dialect)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(f"ALTER TABLE {conversations.name} ADD COLUMN {ddl}"))
        except sa.exc.DBAPIError:  # another process added it meanwhile
            if column.name not in {c["name"] for c in sa.inspect(engine).get_columns(conversations.name)}:
                raise


def events_table_exists(engine: Engine) -> bool:
    """Whether Rasa has created its `events` table yet."""
    return bool(sa.inspect(engine).has_table("events"))
