"""Per-process caches of rows that rarely change, trusted only while a version stored in the database says so.

Plans, their versions and assignments, custom fields, campaigns and the reporting tree are read by
every deal delivery and every recompute: a dozen round trips a request on PostgreSQL for rows that change a few times a
quarter. Several app processes and the worker share one database, so a process may keep them only
as long as nobody changed them anywhere, which only the database knows.

**The version.** Table ``cache_version`` holds one row per group of tables (``CATALOGUE``: plan,
plan_version, plan_assignment, custom_field, campaign, exchange_rate; ``PEOPLE``: person, team; ``OUTBOUND``: subscription):
a counter and an epoch. Every INSERT,
UPDATE or DELETE of a watched table, by any writer through SQLAlchemy (ORM flush, ORM or Core bulk
statements), bumps the counter **in the same transaction**, from an engine event
(``_bump_on_write``): no writer has to know of the cache, and the change and the bump commit
together or not at all. A row deleted and created again (an emptied database) gets a new random
epoch, so an old (version, epoch) never comes back.

**A read** (``cached``) reads the (version, epoch) once per transaction and takes the value kept for
exactly that pair; otherwise it loads the rows in the same transaction and keeps them under that
pair only if the version read again afterwards is unchanged (under READ COMMITTED a change may have
committed between the two reads; in a snapshot nothing can). A transaction that wrote a watched
table itself never uses nor fills the cache (its own change is not committed, and may roll back).
Without the row (a database whose watched tables were emptied by hand), nothing is cached.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column, Connection, Engine, event, text
from sqlalchemy.pool import Pool
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Field, Session, SQLModel

T = TypeVar("T")

CATALOGUE = "catalogue"
PEOPLE = "people"
OUTBOUND = "outbound"
WATCHED: dict[str, str] = {  # table -> the version its writes bump
    "plan": CATALOGUE,
    "plan_version": CATALOGUE,
    "plan_assignment": CATALOGUE,
    "custom_field": CATALOGUE,
    "campaign": CATALOGUE,
    "exchange_rate": CATALOGUE,
    "person": PEOPLE,
    "team": PEOPLE,
    "subscription": OUTBOUND,
}


class CacheVersion(SQLModel, table=True):
    """One row per group of watched tables: bumped in the transaction of every write to them."""

    __tablename__ = "cache_version"

    name: str = Field(primary_key=True, max_length=40)
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    epoch: str = Field(max_length=32)


_BUMP = text(
    "INSERT INTO cache_version (name, version, epoch) VALUES (:name, 1, :epoch) "
    "ON CONFLICT (name) DO UPDATE SET version = cache_version.version + 1"
)
_READ = text("SELECT name, version, epoch FROM cache_version")  # a row per group: a few
_WROTE = "quotaboard.stored_versions.wrote"  # connection.info: this transaction wrote these groups
_SEEN = "quotaboard.stored_versions.seen"  # connection.info: the versions this transaction read
_BUMPING = "quotaboard.stored_versions.bumping"


@event.listens_for(Engine, "before_execute")
def _bump_on_write(
    conn: Connection, clauseelement: Any, _multiparams: Any, _params: Any, _execution_options: Any
) -> None:
    """A write to a watched table bumps its group's version first, in the same transaction."""
    if not isinstance(clauseelement, UpdateBase):
        return
    group = WATCHED.get(getattr(getattr(clauseelement, "table", None), "name", None) or "")
    if group is None or conn.info.get(_BUMPING):
        return
    wrote: set[str] = conn.info.setdefault(_WROTE, set())
    conn.info.pop(_SEEN, None)  # what it read before its own write is not what it sees now
    if group in wrote:
        return  # once per transaction is enough: the row stays locked and changed until it ends
    conn.info[_BUMPING] = True
    try:
        conn.execute(_BUMP, {"name": group, "epoch": uuid.uuid4().hex})
    finally:
        conn.info[_BUMPING] = False
    wrote.add(group)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_ended(conn: Connection) -> None:
    if conn.invalidated:  # a lost connection is being discarded, its info with it (asking would raise)
        return
    conn.info.pop(_WROTE, None)
    conn.info.pop(_SEEN, None)


@event.listens_for(Pool, "reset")
def _connection_reset(_dbapi_connection: Any, record: Any, _reset_state: Any) -> None:
    """A connection back in the pool (rolled back there, not through a ``Connection``) forgets too."""
    record.info.pop(_WROTE, None)
    record.info.pop(_SEEN, None)


def _read_versions(conn: Connection) -> dict[str, tuple[int, str]]:
    return {str(name): (int(version), str(epoch)) for name, version, epoch in conn.execute(_READ).all()}


def stored_version(session: Session, group: str = CATALOGUE) -> tuple[int, str] | None:
    """The group's (version, epoch) as this transaction sees it (every group's read at once, once per
    transaction), or None when this transaction wrote the group itself or the row is missing: then nothing
    may be cached."""
    conn = session.connection()
    if group in conn.info.get(_WROTE, ()):
        return None
    seen: dict[str, tuple[int, str]] | None = conn.info.get(_SEEN)
    if seen is None:
        seen = conn.info[_SEEN] = _read_versions(conn)
    return seen.get(group)


_RESTORE = text(
    "INSERT INTO cache_version (name, version, epoch) VALUES (:name, 1, :epoch) ON CONFLICT (name) DO NOTHING"
)


def restore_missing(session: Session, group: str) -> None:
    """Put back the group's row if it is missing (its tables were emptied by hand, or no write ever bumped it),
    in the caller's write transaction, so the next transactions may cache again. A fresh random epoch: no value
    kept before can match it."""
    conn = session.connection()
    if group in conn.info.get(_WROTE, ()) or stored_version(session, group) is not None:
        return
    conn.execute(_RESTORE, {"name": group, "epoch": uuid.uuid4().hex})
    conn.info.pop(_SEEN, None)


def read_again(session: Session) -> None:
    """Forget the versions this transaction read: the next ``cached`` reads them again (after taking a lock
    that a writer of the cached rows holds while it changes them, under READ COMMITTED)."""
    session.connection().info.pop(_SEEN, None)


_CACHE: dict[tuple[str, str, str], tuple[tuple[int, str], Any]] = {}  # (database, group, what) -> (version, value)
_LOCK = threading.Lock()
#: Each engine's database as a cache key, rendered once: hashing a ``URL`` renders and quotes it every time
#: (40,000 reads of one import spent 0.8 s there).
_DATABASES: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _database(engine: Engine) -> str:
    key = _DATABASES.get(engine)
    if key is None:
        key = _DATABASES[engine] = engine.url.render_as_string()
    return key


def cached(session: Session, what: str, load: Callable[[Session], T], *, group: str = CATALOGUE) -> T:
    """``load(session)``, or what it returned in this process at the version this transaction sees.

    ``load`` must read only tables of ``group`` (their changes are what move the version)."""
    version = stored_version(session, group)
    if version is None:
        return load(session)
    slot = (_database(session.connection().engine), group, what)
    with _LOCK:
        kept = _CACHE.get(slot)
    if kept is not None and kept[0] == version:
        return kept[1]  # type: ignore[no-any-return]
    value = load(session)
    if _read_versions(session.connection()).get(group) == version:  # nothing committed in between
        with _LOCK:
            kept = _CACHE.get(slot)
            if kept is None or kept[0][1] != version[1] or kept[0][0] < version[0]:  # an old snapshot keeps the new
                _CACHE[slot] = (version, value)
    return value


def forget() -> None:
    """Drop every cached value (tests that empty a database under a running process)."""
    with _LOCK:
        _CACHE.clear()
