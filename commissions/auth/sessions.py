"""Server-side sessions with a fresh session id at every sign-in, written only when needed.

Litestar's server-side backend keeps whatever id the client's cookie carries, so
a planted id would survive sign-in (session fixation). ``rotate_session`` deletes
the old stored session and makes the backend write the data under a new id.

Litestar also stores the session on every response (and, with ``renew_on_access``,
rewrites it on every read), and stores an empty one for every anonymous request: two
store writes per request, and a file per health check. This backend writes a session
only when its data changed or its expiry is due for renewal (at most once every
``RENEW_AFTER_SECONDS``: the idle timeout is exact to that), and never stores an
empty one.

Every session also ends ``SESSION_ABSOLUTE_SECONDS`` (12 h) after sign-in however busy
it is: the sign-in time is stored in the session (``ISSUED_KEY``) and checked by the
authentication middleware, which then deletes the session.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty, Message, Scope, ScopeSession

from commissions.core.guards import Connection
from commissions.core.single_flight import SingleFlight

SESSION_COOKIE = "qb_session"
RENEW_AFTER_SECONDS = 60
ISSUED_KEY = "iat"  # in the session data: when the person signed in (epoch seconds)
END_REASON_KEY = "quotaboard.session_ended"  # in the scope: why a session stopped working ("expired" | "ended")
RENEWED_KEY = "_renewed"  # in the session data: when its expiry was last pushed back (epoch seconds)
_NEW_ID_KEY = "quotaboard.new_session_id"
_LOADED_KEY = "quotaboard.session_loaded"  # in the scope: the stored bytes the request came with


def clock() -> float:
    """The time in epoch seconds (a function so tests can move it)."""
    return time.time()


def scope_extras(scope: Scope) -> dict[str, Any]:
    """The scope, for the keys Quotaboard adds to it (its type declares only ASGI's and Litestar's own)."""
    return cast("dict[str, Any]", scope)


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: Connection) -> str:
        new_id = scope_extras(connection.scope).get(_NEW_ID_KEY)
        return new_id if isinstance(new_id, str) and new_id else super().get_session_id(connection)

    async def load_from_connection(self, connection: Connection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if not session_id:
            return {}
        store = self.config.get_store_from_app(connection.scope["app"])
        raw = await store.get(session_id)  # no renewal on read: store_in_message renews when due
        if raw is None:
            return {}
        scope_extras(connection.scope)[_LOADED_KEY] = raw
        return self.deserialize_data(raw)

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: Connection) -> None:
        scope = connection.scope
        extras = scope_extras(scope)
        if scope_session is not Empty and not extras.get(_NEW_ID_KEY):
            loaded = extras.get(_LOADED_KEY)
            if loaded is None and not scope_session:
                return  # anonymous and nothing to remember: no stored session, no cookie
            renewed = scope_session.get(RENEWED_KEY) if isinstance(scope_session, dict) else None
            due = not isinstance(renewed, int) or time.time() - renewed >= RENEW_AFTER_SECONDS
            if loaded is not None and not due and self.serialize_data(scope_session, scope) == loaded:
                return  # unchanged and recently renewed: the stored session and the cookie stand
        if isinstance(scope_session, dict):
            scope_session[RENEWED_KEY] = int(time.time())
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


async def rotate_session(connection: Connection, data: dict[str, Any]) -> None:
    """Drop the pre-sign-in session and store ``data`` under a new, unguessable id."""
    config: RotatingSessionConfig = connection.app.state["session_config"]
    old_id = connection.cookies.get(config.key)
    if old_id:
        await config.get_store_from_app(connection.app).delete(old_id)
    scope_extras(connection.scope)[_NEW_ID_KEY] = secrets.token_hex(config.session_id_bytes)
    connection.set_session(data)


class CachedSessionStore(Store):
    """The session store with a short in-process memory of what it read.

    Reading the session from Redis (or a file) on every request costs as much as the rest of
    a cached page; a live board refetches after every deal. Reads are served from memory for
    ``ttl`` seconds (``PRINCIPAL_CACHE_SECONDS``, 2 s: the same bound the signed-in person is
    cached for); every write and delete in this process goes through and updates the memory at
    once. A sign-out or deletion in another process applies here within ``ttl`` seconds.
    Past half of ``ttl`` a read is renewed in the background, and concurrent misses of one key
    share a single read (commissions/core/single_flight.py).
    """

    MAX_ENTRIES = 10_000

    def __init__(self, inner: Store, *, ttl: float, monotonic: Any = time.monotonic) -> None:
        self.inner, self.ttl, self._monotonic = inner, ttl, monotonic
        self._memory: dict[str, tuple[float, bytes | None]] = {}
        self._writes = 0  # a read that began before a write in this process must not be remembered
        self._reads = SingleFlight()

    def _remember(self, key: str, value: bytes | None, read_at: float) -> None:
        if len(self._memory) >= self.MAX_ENTRIES:
            self._memory.clear()
        self._memory[key] = (read_at, value)

    async def _read(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        read_at, writes = self._monotonic(), self._writes
        value = await self.inner.get(key, renew_for=renew_for)
        if writes == self._writes:
            self._remember(key, value, read_at)
        return value

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        if renew_for is not None:
            return await self._read(key, renew_for)
        seen = self._memory.get(key)
        if seen is not None:
            age = self._monotonic() - seen[0]
            if age < self.ttl:
                if age >= self.ttl / 2:  # refresh-ahead: under load the memory never runs out for everyone at once
                    self._reads.refresh((key, self._writes), lambda: self._read(key))
                return seen[1]
        # keyed by the write count too: a read in flight from before a sign-out is not shared after it
        return await self._reads.run((key, self._writes), lambda: self._read(key))

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        self._writes += 1
        await self.inner.set(key, value, expires_in=expires_in)
        self._remember(key, value.encode() if isinstance(value, str) else value, self._monotonic())

    async def delete(self, key: str) -> None:
        self._writes += 1
        self._memory.pop(key, None)
        await self.inner.delete(key)

    async def delete_all(self) -> None:
        self._writes += 1
        self._memory.clear()
        await self.inner.delete_all()

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        return await self.inner.expires_in(key)
