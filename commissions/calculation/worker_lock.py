"""One recompute worker per part of the queue at a time, on any number of hosts.

Several hosts may each run `commissions worker` (for failover): the first to take a part's lock
computes it, the others stand by and take over when it stops or loses its database connection.
Two workers never compute the same statements side by side (the store's ``claim`` would keep
the results right, but the work of one would be thrown away).

PostgreSQL: a session-level advisory lock held on a connection of its own for as long as the
worker runs (the database releases it when that connection ends, a crashed host included).
SQLite (one host by nature): an exclusive ``flock`` on a file beside the database.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger("quotaboard.worker")

#: The advisory lock of a part: its first key names the database and schema (advisory locks are per
#: database, and one PostgreSQL server may hold several installs in schemas of one database), its second the
#: part (k and n).
_TRY_LOCK = text(
    "SELECT pg_try_advisory_lock(hashtext(current_database() || '.' || current_schema() || '.quotaboard-worker'), :part)"
)


class PartLock:
    def __init__(self, engine: Engine, part: tuple[int, int]) -> None:
        self.engine = engine
        self.part = part
        self._connection: Connection | None = None
        self._file: IO[Any] | None = None

    @property
    def part_key(self) -> int:
        k, n = self.part
        return n * 256 + k

    def hold(self) -> bool:
        """Whether this process holds the part's lock now (taking it if free; checking a held one is alive)."""
        if self.engine.dialect.name == "postgresql":
            return self._hold_advisory()
        return self._hold_file()

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a connection already gone
                self._connection.close()  # ends the session: the advisory lock goes with it
            self._connection = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def _hold_advisory(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except Exception:  # the connection died and the lock with it: try to take it again
                log.warning("worker part %s/%s lost its database connection; taking the lock again", *self.part)
                self.release()
        connection = self.engine.connect()
        try:
            taken = connection.execute(_TRY_LOCK, {"part": self.part_key}).scalar()
            connection.commit()
        except Exception:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def _hold_file(self) -> bool:
        if self._file is not None:
            return True
        database = make_url(self.engine.url).database
        if not database or database == ":memory:":
            return True  # nothing to share with
        k, n = self.part
        handle = Path(f"{database}.worker-{k}-of-{n}.lock").open("a")  # noqa: SIM115  (held while the worker runs)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True
