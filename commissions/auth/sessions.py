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
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

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


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        new_id = connection.scope.get(_NEW_ID_KEY)  # type: ignore[call-overload]
        return new_id or super().get_session_id(connection)

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if not session_id:
            return {}
        store = self.config.get_store_from_app(connection.scope["app"])
        raw = await store.get(session_id)  # no renewal on read: store_in_message renews when due
        if raw is None:
            return {}
        connection.scope[_LOADED_KEY] = raw  # type: ignore[literal-required]
        return self.deserialize_data(raw)

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        scope = connection.scope
        if scope_session is not Empty and not scope.get(_NEW_ID_KEY):  # type: ignore[call-overload]
            loaded = scope.get(_LOADED_KEY)  # type: ignore[call-overload]
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
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]


async def rotate_session(connection: ASGIConnection, data: dict[str, Any]) -> None:
    """Drop the pre-sign-in session and store ``data`` under a new, unguessable id."""
    config: RotatingSessionConfig = connection.app.state["session_config"]
    old_id = connection.cookies.get(config.key)
    if old_id:
        await config.get_store_from_app(connection.app).delete(old_id)
    connection.scope[_NEW_ID_KEY] = secrets.token_hex(config.session_id_bytes)  # type: ignore[literal-required]
    connection.set_session(data)
