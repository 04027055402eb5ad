"""The store: engine, table definitions and transactions.

SQLite (WAL, foreign keys, busy timeout) by default; PostgreSQL through psycopg 3.
Tables are SQLAlchemy Core; Alembic migrations in ``syndicate/core/migrations`` create
them and a test checks that the migrations and these definitions agree.
Times are stored in UTC and always come back aware.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    func,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from syndicate.core.dburl import DatabaseUrlError, normalise, require_folder
from syndicate.core.errors import StoreError

log = logging.getLogger(__name__)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and returned aware; naive input is a bug."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")

articles = Table(
    "articles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("uid", String(200), nullable=False, unique=True),  # stable feed id, minted once
    Column("slug", String(200), nullable=False, unique=True),
    Column("source", String(1000), nullable=True, unique=True),  # identity of the source file
    Column("source_format", String(20), nullable=False),
    Column("title", Text, nullable=False),
    Column("author_name", Text, nullable=True),
    Column("author_email", Text, nullable=True),
    Column("summary", Text, nullable=False, default=""),
    Column("content_html", Text, nullable=False),
    Column("content_text", Text, nullable=False),
    Column("image_url", Text, nullable=True),
    Column("image_type", String(100), nullable=True),
    Column("image_length", BigInteger, nullable=True),
    # An audio attachment (podcast episode): exact byte length, duration in seconds.
    Column("audio_url", Text, nullable=True),
    Column("audio_type", String(100), nullable=True),
    Column("audio_length", BigInteger, nullable=True),
    Column("audio_duration", Integer, nullable=True),
    Column("published_at", UtcDateTime, nullable=False, index=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("draft", Boolean, nullable=False, default=False),
    Column("content_hash", String(64), nullable=False, index=True),  # follows renames
    Column("imported_at", UtcDateTime, nullable=False),
    # The sanitise policy content_html was cleaned with (sanitize.policy_key); NULL: unknown.
    Column("sanitized_with", String(64), nullable=True),
)

article_tags = Table(
    "article_tags",
    metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(200), primary_key=True),
    Index("ix_article_tags_tag", "tag"),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    # local part as given + lower-cased domain: the uniqueness key
    Column("email_key", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    # pending | active | unsubscribed | bounced | complained
    Column("status", String(20), nullable=False, index=True),
    Column("timezone", String(64), nullable=True),
    Column("soft_bounces", Integer, nullable=False, default=0),
    Column("status_reason", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Column("status_changed_at", UtcDateTime, nullable=True),
    # Bumped to revoke the private feed's URL (its token carries the value it was made with).
    Column("feed_key", Integer, nullable=False, default=0, server_default="0"),
    sqlite_autoincrement=True,  # ids never reused: links are signed for an id
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("subscriber_id", ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    # The reader's topics (sorted tags joined by commas); NULL: every topic.
    Column("topics", Text, nullable=True),
    Index("ix_subscriptions_digest", "digest"),
)

editions = Table(
    "editions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False),
    Column("period", String(40), nullable=False),  # the slot, ISO 8601 UTC
    Column("period_start", UtcDateTime, nullable=False),
    Column("period_end", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),  # composed | skipped | empty
    Column("subject", Text, nullable=False, default=""),
    Column("html", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("article_count", Integer, nullable=False, default=0),
    Column("more_count", Integer, nullable=False, default=0),
    Column("html_bytes", Integer, nullable=False, default=0),
    Column("reason", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Set in the transaction that queued the edition's rows: NULL on a composed edition
    # means its queueing is unfinished and the digest job completes it.
    Column("queued_at", UtcDateTime, nullable=True),
    UniqueConstraint("digest", "period", name="uq_editions_digest_period"),
)

# An article appears in at most one edition of a digest: the database enforces it.
edition_articles = Table(
    "edition_articles",
    metadata,
    Column("edition_id", ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    UniqueConstraint("digest", "article_id", name="uq_edition_articles_digest_article"),
)

# An edition as readers with one choice (topics, or articles they already had through
# another frequency) receive it: cut from the edition rendered once (digest/variants.py).
edition_variants = Table(
    "edition_variants",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("edition_id", ForeignKey("editions.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),  # "t:" + the topic set, or "a:" + article ids
    Column("subject", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("article_ids", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("edition_id", "key", name="uq_edition_variants_edition_key"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("edition_id", ForeignKey("editions.id", ondelete="CASCADE"), nullable=False),
    # NULL: the edition as composed; else the variant this reader receives.
    Column("variant_id", ForeignKey("edition_variants.id", ondelete="CASCADE"), nullable=True),
    Column("subscriber_id", ForeignKey("subscribers.id", ondelete="SET NULL"), nullable=True),
    Column("email", String(320), nullable=False),  # the address as it was when queued
    Column("name", String(200), nullable=False, default=""),
    # queued | sending | sent | deferred | failed | suppressed
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("uncertain_attempts", Integer, nullable=False, default=0),
    Column("not_before", UtcDateTime, nullable=False),  # earliest next try
    Column("lease_until", UtcDateTime, nullable=True),
    Column("claimed_by", String(100), nullable=True),
    Column("message_id", String(300), nullable=False),
    Column("provider_id", String(300), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    UniqueConstraint("edition_id", "subscriber_id", name="uq_deliveries_edition_subscriber"),
    Index("ix_deliveries_status_not_before", "status", "not_before"),
    sqlite_autoincrement=True,  # ids never reused: links are signed for an id
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job", String(100), nullable=False),
    Column("slot", String(60), nullable=False),
    Column("status", String(20), nullable=False),  # running | ok | failed | skipped
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("counts", JSON, nullable=True),
    Column("error", Text, nullable=True),
    # A running claim is held while ``lease_until`` is in the future (a heartbeat
    # extends it); an expired claim is taken over by the next process that runs it.
    Column("holder", String(200), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    UniqueConstraint("job", "slot", name="uq_job_runs_job_slot"),
    Index("ix_job_runs_started_at", "started_at"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

workers = Table(
    "workers",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("role", String(20), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
    Column("sent", BigInteger, nullable=False, default=0),
)

host_files = Table(
    "host_files",
    metadata,
    Column("host", String(64), primary_key=True),
    Column("path", String(1000), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("pushed_at", UtcDateTime, nullable=False),
)

pushes = Table(
    "pushes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("host", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("uploaded", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("deleted", Integer, nullable=False, default=0),
    Column("bytes", BigInteger, nullable=False, default=0),
    Column("hubs_pinged", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("provider", String(20), primary_key=True),
    Column("event_id", String(300), primary_key=True),
    Column("received_at", UtcDateTime, nullable=False),
)

# Feed sources: what the last pull of each configured source learnt (conditional GET
# validators, the URL after permanent redirects, its state), and which article each
# feed entry became (minted once from the entry's guid/id; kept when the entry leaves).
sources = Table(
    "sources",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("config_url", Text, nullable=False),  # as configured; a new one resets the row
    Column("url", Text, nullable=False),  # after permanent redirects
    Column("etag", Text, nullable=True),
    Column("last_modified", Text, nullable=True),
    # ok | unchanged | failed | deferred | gone
    Column("state", String(20), nullable=False),
    Column("detail", Text, nullable=True),
    Column("pulled_at", UtcDateTime, nullable=True),
    Column("succeeded_at", UtcDateTime, nullable=True),
    Column("not_before", UtcDateTime, nullable=True),  # Retry-After
    Column("counts", JSON, nullable=True),
)

source_entries = Table(
    "source_entries",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("entry_key", String(64), primary_key=True),  # sha256 of the guid/id
    Column("guid", Text, nullable=False),
    # NULL once the operator removed the article: the entry is not imported again
    Column("article_id", ForeignKey("articles.id", ondelete="SET NULL"), nullable=True),
    Column("link", Text, nullable=True),
    Column("entry_hash", String(64), nullable=False),
    Column("complete", Boolean, nullable=False, default=True),  # False: page still to fetch
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Index("ix_source_entries_article_id", "article_id"),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)


# -- the operator console (migration 0006) ----------------------------------------------

operators = Table(
    "operators",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),  # lower-cased
    Column("role", String(20), nullable=False),  # viewer | editor | owner
    Column("password_hash", Text, nullable=True),  # argon2id; None until set
    Column("setup_hash", String(64), nullable=True),  # sha256 of the one-time link token
    Column("setup_expires_at", UtcDateTime, nullable=True),
    Column("totp_secret", String(64), nullable=True),
    Column("totp_last_step", BigInteger, nullable=True),  # a code is accepted once
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_set_at", UtcDateTime, nullable=True),
    Column("last_login_at", UtcDateTime, nullable=True),
    sqlite_autoincrement=True,  # ids never reused: links are signed for an id
)

operator_sessions = Table(
    "operator_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the cookie value
    Column(
        "operator_id", ForeignKey("operators.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("actor", String(320), nullable=False),  # operator email, or "cli"
    Column("action", String(60), nullable=False),
    Column("target", String(400), nullable=False, default=""),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
)

# [stats] clicks = "aggregate": one counter per (edition, link); nothing about who.
link_clicks = Table(
    "link_clicks",
    metadata,
    Column("edition_id", ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True),
    Column("url_hash", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("clicks", BigInteger, nullable=False, default=0),
)

# Feed audience: aggregators' reported subscribers, and one row per distinct reader per
# day identified only by a hash with a salt that is deleted the next day.
feed_audience = Table(
    "feed_audience",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("feed", String(400), primary_key=True),
    Column("agent", String(100), primary_key=True),
    Column("subscribers", BigInteger, nullable=False),
)

feed_readers = Table(
    "feed_readers",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("feed", String(400), primary_key=True),
    Column("reader", String(64), primary_key=True),
)

# -- the HTTP API and outbound webhooks (migration 0006_api) ------------------------------

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("prefix", String(16), nullable=False),  # shown in lists, to tell tokens apart
    Column("scopes", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# One row per (token, Idempotency-Key): claimed before the work (status NULL), then the
# response the first request got, replayed to every retry with the same body.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("token_id", ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("response", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False, index=True),
)

# Events are written in the transaction that made the change; the webhook worker fans
# each one out to the configured endpoints (dispatched_at) and delivers it.
events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("webhook_id", String(40), nullable=False, unique=True),  # stable across retries
    Column("type", String(40), nullable=False),
    # For events that may happen once only (edition.sent:ID): a second record is dropped.
    Column("once_key", String(100), nullable=True, unique=True),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("dispatched_at", UtcDateTime, nullable=True, index=True),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("url", String(2000), primary_key=True),
    Column("state", String(20), nullable=False),  # active | disabled
    Column("reason", Text, nullable=True),
    Column("changed_at", UtcDateTime, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2000), nullable=False),
    # pending | sending | delivered | failed (retries spent) | held (endpoint disabled)
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    UniqueConstraint("event_id", "url", name="uq_webhook_deliveries_event_url"),
    Index("ix_webhook_deliveries_status_not_before", "status", "not_before"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("at", UtcDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
)

# Dashboard aggregates: per-day groupings stay on an index, not a table scan.
Index("ix_deliveries_status_created", deliveries.c.status, deliveries.c.created_at)
Index("ix_deliveries_edition_status", deliveries.c.edition_id, deliveries.c.status)
Index("ix_subscribers_created_at", subscribers.c.created_at)
# One person's deliveries (their history, the reach trigger, erasure's SET NULL).
Index("ix_deliveries_subscriber", deliveries.c.subscriber_id, deliveries.c.id)
# Covering (migration 0010): the dashboard's per-day counts read these indexes alone.
Index("ix_subscribers_confirmed_status", subscribers.c.confirmed_at, subscribers.c.status)
Index(
    "ix_subscribers_changed_status",
    subscribers.c.status_changed_at,
    subscribers.c.status,
    subscribers.c.confirmed_at,
)
# Subscriber search by prefix of the lower-cased address or name (a range on these),
# compared in the "C" collation, where a prefix is a range. SQLite compares bytes
# already: migration 0010 builds them there without the COLLATE.
Index("ix_subscribers_email_prefix", func.lower(subscribers.c.email_key).collate("C"))
Index("ix_subscribers_name_prefix", func.lower(subscribers.c.name).collate("C"))

# Each edition's delivery rows per state, kept by triggers on ``deliveries`` (migration
# 0010): the console reads these few rows instead of counting the deliveries. One row
# per writer slot (PostgreSQL: the backend's pid, so concurrent writers never share a
# row); the count is the sum over slots.
edition_counts = Table(
    "edition_counts",
    metadata,
    Column("edition_id", Id, primary_key=True, autoincrement=False),
    Column("status", String(20), primary_key=True),
    Column("slot", BigInteger, primary_key=True, autoincrement=False),
    Column("row_count", BigInteger, nullable=False),
)

# Subscribers per state, kept the same way (migration 0010).
subscriber_counts = Table(
    "subscriber_counts",
    metadata,
    Column("status", String(20), primary_key=True),
    Column("slot", BigInteger, primary_key=True, autoincrement=False),
    Column("row_count", BigInteger, nullable=False),
)

# Tables the triggers of migration 0010 keep: never written directly (``db copy``
# rebuilds them by inserting the rows they count).
TRIGGER_KEPT = frozenset({"edition_counts", "subscriber_counts"})

# Per edition, the people it reached who then bounced, complained or unsubscribed
# within seven days (migration 0011): counted by a trigger on ``subscribers`` when
# they leave, in the same slots as ``edition_counts``. An event count, not derivable
# from the rows later, so ``db copy`` copies it. (On SQLite, rebuilding subscribers,
# deliveries or editions needs the trigger dropped first: see the migration.)
edition_reach = Table(
    "edition_reach",
    metadata,
    Column("edition_id", Id, primary_key=True, autoincrement=False),
    Column("outcome", String(20), primary_key=True),
    Column("slot", BigInteger, primary_key=True, autoincrement=False),
    Column("row_count", BigInteger, nullable=False),
)

# Subscribers per state at the end of each UTC day that is over (migration 0011):
# written by housekeeping, read by the dashboard's chart.
subscriber_days = Table(
    "subscriber_days",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("status", String(20), primary_key=True),
    Column("row_count", BigInteger, nullable=False),
)

# The console's login attempts (per account and per address) in the store, so the
# limits hold across restarts and processes; ``key`` is an HMAC, not the address.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_login_attempts_key_at", "key", "at"),
    Index("ix_login_attempts_at", "at"),
)


# -- engine -----------------------------------------------------------------------------


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def dialect_insert(conn: Connection) -> Any:
    """The dialect's ``insert`` (it has ``on_conflict_do_nothing``; the generic one has not)."""
    return dialect_insert_for(conn.dialect.name)


def dialect_insert_for(dialect: str) -> Any:
    """``dialect_insert`` by the dialect's name (for statements built once and cached)."""

    return sqlite_insert if dialect == "sqlite" else pg_insert


def tuples(result: Iterable[Row[Any]]) -> Iterable[tuple[Any, ...]]:
    """Rows to unpack (``for a, b in tuples(rows)``), typed as plain tuples.

    SQLAlchemy 2.1 types a row of untyped columns so that unpacking it gives
    ``object``, and deprecates ``Result.tuples()``; a row already is a tuple.
    """
    return cast(Iterable[tuple[Any, ...]], iter(result))  # not the Result: dict() reads its keys()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control so BEGIN IMMEDIATE works (pysqlite's default
    # would open transactions lazily and deadlock writers into "database is locked").
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "syndicate_read_only"  # the execution option ``reading`` sets


def _sqlite_begin(conn: Connection) -> None:
    # One writer at a time: take the write lock at BEGIN, not at the first write,
    # so two writers never both read then fail to upgrade their lock. A connection
    # that only reads (``reading``) begins deferred: in WAL mode it reads one snapshot
    # and neither waits for a writer nor holds one off.
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Create the engine; SQLite gets WAL, foreign keys and a busy timeout."""

    try:
        url = normalise(url)
        require_folder(url)
    except DatabaseUrlError as exc:
        raise DatabaseUrlError(
            f"cannot use database {redact(url)}: {exc.message}", hint=exc.hint
        ) from None
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot use database {redact(url)}: {exc}") from None
    return engine


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid url>"


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction; commits on success, rolls back on error."""
    try:
        with engine.begin() as conn:
            yield conn
    except OperationalError as exc:
        raise StoreError(f"database error: {exc.orig}") from exc


def reading(engine: Engine) -> Connection:
    """A connection for long work that only reads (a feed build renders and writes
    files for seconds while it holds one): on SQLite its transaction reads one
    snapshot without taking the write lock, so the outbox, the web app and webhooks go
    on writing meanwhile. A write on it is a bug (it could fail with "database is
    locked" at once, where a writer would have waited its turn)."""
    return engine.connect().execution_options(**{READ_ONLY: True})


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One transaction whose statements all read the same moment: REPEATABLE READ on
    PostgreSQL (under READ COMMITTED each statement reads its own); on SQLite the
    write lock BEGIN IMMEDIATE takes holds every writer off already. For work that
    combines several reads into something it stores."""
    if is_sqlite(engine):
        with transaction(engine) as conn:
            yield conn
        return
    try:
        reading = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with reading as conn, conn.begin():
            yield conn
    except OperationalError as exc:
        raise StoreError(f"database error: {exc.orig}") from exc


# -- migrations -------------------------------------------------------------------------

_MIGRATED: set[str] = set()
_MIGRATE_LOCK = threading.Lock()


def alembic_config(url: str) -> Any:
    # local: Alembic loads when a store is opened, not with the table definitions that
    # the CLI and web modules import (start-up time of commands that never open one)
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(engine: Engine) -> str:
    """Apply every migration; returns the revision now in place."""
    # local: Alembic loads when a store is opened (see alembic_config)
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            sqlite = is_sqlite(conn)
            if sqlite:
                # Rebuilding a table (ALTER in SQLite) drops the old one, which must not
                # cascade to its children; the pragma only works outside a transaction.
                _sqlite_foreign_keys(conn, on=False)
            try:
                with conn.begin():
                    if not sqlite:
                        # Two processes starting at once must not both migrate.
                        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(715517)")
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
                    if sqlite:
                        _no_broken_references(conn)
            finally:
                if sqlite:
                    _sqlite_foreign_keys(conn, on=True)
        return current_revision(engine)
    except OperationalError as exc:
        raise StoreError(f"cannot migrate {redact(str(engine.url))}: {exc.orig}") from None


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    """Set the pragma on the DBAPI connection itself: through SQLAlchemy the statement
    would open a transaction first, and inside one SQLite ignores it."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _no_broken_references(conn: Connection) -> None:
    """With foreign keys off during a migration, check them all before committing."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise StoreError(f"migration left {len(broken)} row(s) pointing at nothing: {broken[:3]}")


def current_revision(engine: Engine) -> str:
    # local: Alembic loads when a store is opened (see alembic_config)
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or "base"


def ensure_schema(engine: Engine) -> None:
    """Migrate once per process per database (first use does it automatically)."""
    key = str(engine.url)
    with _MIGRATE_LOCK:
        if key in _MIGRATED:
            return
        upgrade(engine)
        _MIGRATED.add(key)


def open_store(url: str, *, pool_size: int = 5) -> Engine:
    engine = make_engine(url, pool_size=pool_size)
    ensure_schema(engine)
    return engine
