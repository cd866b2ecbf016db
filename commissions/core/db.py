"""Database engine and sessions.

Sync SQLAlchemy sessions: handlers run in a thread pool (``sync_to_thread``).
SQLite gets WAL, a busy timeout and foreign keys; a *write* session starts with
``BEGIN IMMEDIATE`` so read-then-write transactions take the write lock up front
instead of failing with "database is locked" half-way.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import JSON, Connection, Engine, Table, any_, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlmodel import Session

from commissions.core import stored_versions  # its engine events bump the cache versions
from commissions.core.settings import get_settings

_IMMEDIATE = "quotaboard_immediate"
T = TypeVar("T")
#: What a write that lost a race to another writer raises: a unique key taken meanwhile (IntegrityError),
#: PostgreSQL's deadlock victim or SQLite busy past its timeout (OperationalError). Tried again, it succeeds
#: or fails for a reason of its own.
RACES: tuple[type[Exception], ...] = (IntegrityError, OperationalError)


def make_engine(url: str, *, busy_timeout_ms: int = 5000, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
        _ping_after_idle(engine)
        return engine

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        # WAL readers do not block each other: a small pool would make a burst of requests queue
        # for connections (at 100 concurrent clients the default 5 + 10 stalled the server).
        pool_size=20,
        max_overflow=60,
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_IMMEDIATE) else "BEGIN")

    return engine


def among(session: Session, column: Any, values: Any) -> Any:
    """``column IN values``, written as PostgreSQL reads it best: one array parameter (``= ANY``).

    A list of a few thousand ids as ``IN`` is a placeholder per id, which SQLAlchemy renders, psycopg
    splits and PostgreSQL parses and plans afresh every time: a sales VP's recompute (4,800 deals) spent
    two thirds of its 150 ms on the text of its queries. SQLite keeps ``IN`` (its parameters cost nothing)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def among_param(dialect: str, column: Any, name: str) -> Any:
    """``among`` for a statement built once and bound per call (``.params(name=[...])``)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)


def read_session(engine: Engine | None = None) -> Session:
    return Session(engine or get_engine(), expire_on_commit=False)


def write_session(engine: Engine | None = None) -> Session:
    """A session whose transaction takes the write lock at its first statement (SQLite)."""
    engine = engine or get_engine()
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(**{_IMMEDIATE: True})
    return Session(engine, expire_on_commit=False)


_WROTE = "quotaboard.db.wrote"  # connection.info: this transaction sent a statement that may write
_WRITING = re.compile(r"\s*(INSERT|UPDATE|DELETE|MERGE|COPY|CREATE|DROP|ALTER|TRUNCATE)\b", re.IGNORECASE)
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)
_MODIFYING = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)  # in a CTE (or FOR UPDATE: kept safe)


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if _WRITING.match(statement) or (_WITH.match(statement) and _MODIFYING.search(statement)):
        conn.info[_WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_writes(conn: Connection) -> None:
    if not conn.invalidated:  # a lost connection is being discarded: its info with it (asking would raise)
        conn.info.pop(_WROTE, None)


#: A pooled connection unused for longer than this is tested before it is lent (``_ping_after_idle``).
IDLE_PING_SECONDS = 5.0
_RETURNED = "quotaboard.returned"  # connection record's info: when it last went back to the pool (monotonic)


def _ping_after_idle(engine: Engine) -> None:
    """Test a connection before lending it only when it sat in the pool for a while.

    SQLAlchemy's ``pool_pre_ping`` sends a round trip at every checkout: three of a deal's POST (its write,
    its statement's computation and store, each a checkout). A connection that was in use a moment ago was
    alive then; one idle for longer may have been closed by a database restart or a firewall, and is tested.
    A connection found dead raises ``DisconnectionError``, on which the pool replaces it (SQLAlchemy's
    documented pessimistic recipe); one that dies in between fails its statement, and SQLAlchemy then
    invalidates the whole pool (its optimistic handling): a write is tried again (``retrying``)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:  # just made, or alive until just now
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_RETURNED, 0.0) < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"a pooled connection did not answer: {exc}") from exc


def end_read(session: Session) -> None:
    """End a transaction that only read with COMMIT, not ROLLBACK (it has the same effect then).

    psycopg forgets its prepared statements at every ROLLBACK (and sends ``DEALLOCATE ALL``), so
    with reads ended by rollback PostgreSQL parsed and planned every query of a request afresh:
    committing them was 2 ms of a deal's 34 (POST and statement read back). A transaction that sent
    anything that may write is rolled back, as closing the session would."""
    transaction = session.get_transaction()
    if transaction is None:
        return
    if (
        not transaction.is_active
        or session.new
        or session.dirty
        or session.deleted
        or session.connection().info.get(_WROTE)
    ):
        session.rollback()
        return
    try:
        session.commit()
    except Exception:  # a read that failed in the database (an aborted transaction): ended the usual way
        session.rollback()


@contextmanager
def snapshot(engine: Engine | None = None) -> Iterator[Session]:
    """A read-only transaction whose every query sees the same moment (PostgreSQL REPEATABLE READ;
    a SQLite read transaction keeps its WAL snapshot until it ends). Nothing is written."""
    engine = engine or get_engine()
    with Session(engine, expire_on_commit=False) as session:  # closing ends the transaction, objects stay loaded
        if engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
        yield session
        end_read(session)


_WRITERS: dict[str, threading.RLock] = {}
_WRITERS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> threading.RLock | None:
    """SQLite: one write transaction at a time per process, queued here rather than in SQLite's busy
    handler, which polls with sleeps of up to 100 ms (at 100 concurrent deliveries it made the p95
    seconds long). Other processes still meet the busy timeout. Reentrant: a transaction opened inside
    another one of the same thread would wait for itself."""
    if engine.dialect.name != "sqlite":
        return None
    key = str(engine.url)
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(key, threading.RLock())


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Session]:
    """One write transaction: committed when the block ends, rolled back on any exception."""
    engine = engine or get_engine()
    lock = _writer_lock(engine)
    if lock is None:
        with write_session(engine) as session, session.begin():
            yield session
        return
    with lock, write_session(engine) as session, session.begin():
        yield session


def retrying(
    attempt: Callable[[], T], *, attempts: int = 3, on: tuple[type[Exception], ...] = RACES, pause: float = 0.0
) -> T:
    """``attempt()`` again (at most ``attempts`` times in all) when it raised one of ``on``; the last failure is
    raised. ``pause``: seconds of back-off times the try's number, with jitter, so storms of writers spread out.
    Each try must be a transaction of its own: the one place for "retry the write transaction"."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except on:
            if number == attempts:
                raise
            if pause:
                time.sleep(pause * number + random.random() * 2 * pause)
    raise AssertionError("unreachable")


def write(
    engine: Engine | None,
    work: Callable[[Session], T],
    *,
    attempts: int = 3,
    on: tuple[type[Exception], ...] = RACES,
    pause: float = 0.0,
) -> T:
    """``work(session)`` in one write transaction, run again in a fresh one when it lost a race (``retrying``)."""

    def attempt() -> T:
        with transaction(engine) as session:
            return work(session)

    return retrying(attempt, attempts=attempts, on=on, pause=pause)


#: From this many rows ``insert_rows`` sends a batch to PostgreSQL by ``COPY``: from one, measured (a ledger row with
#: its five foreign keys, median of 15): 1 row 1.03 ms inserted, 0.83 ms copied; 10 rows 4.8 and 1.9 ms; 50 rows
#: 15.5 and 6.9 ms (a pipelined executemany still has the server parse, bind and run each row on its own).
#: Tests set it higher to take the INSERT path.
COPY_FROM = 1


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (mappings with the same keys: the columns written) in the connection's transaction.

    On PostgreSQL by ``COPY ... FROM STDIN`` (``COPY_FROM``): each row an executemany sends is parsed, bound and
    executed by the server one at a time (20,000 imported deals: 1.5 s, by COPY 0.45 s; a worker's catch-up writes
    about 160,000 ledger rows, a deal's POST a dozen). COPY skips SQLAlchemy's parameter processing, so the rows
    hold plain values: JSON columns are serialised here as the dialect would, and a column with a Python-side
    default must be given (COPY would not apply it: refused, naming it, on both databases alike). It also goes past
    the engine's events: a table whose writes bump a cache version (``stored_versions.WATCHED``) is inserted.
    Elsewhere one Core ``executemany``.
    """
    if not rows:
        return
    names = list(rows[0])
    defaulted = [c.name for c in table.columns if c.name not in rows[0] and c.default is not None]
    if defaulted:
        raise ValueError(f"rows for {table.name} leave out {', '.join(defaulted)}: give every column with a default")
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM or table.name in stored_versions.WATCHED:
        connection.execute(table.insert(), rows)  # a watched table's write bumps its cache version (an engine event)
        return
    dumps = connection.dialect._json_serializer or json.dumps
    json_at = [i for i, name in enumerate(names) if isinstance(table.c[name].type, JSON)]
    values = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    quote = connection.dialect.identifier_preparer.quote
    command = f"COPY {quote(table.name)} ({', '.join(map(quote, names))}) FROM STDIN"
    connection.info[_WROTE] = True  # COPY goes past the engine's events
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(command) as copy:  # type: ignore[union-attr]
            write = copy.write_row
            for row in rows:
                if json_at:
                    record = list(values(row))
                    for index in json_at:
                        record[index] = dumps(record[index])
                    write(record)
                else:
                    write(values(row))
    except driver_error as exc:  # as SQLAlchemy raises it for an INSERT: IntegrityError, OperationalError (RACES)...
        raise DBAPIError.instance(command, None, exc, driver_error, dialect=connection.dialect) from exc
