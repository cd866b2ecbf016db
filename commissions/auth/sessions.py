"""Server-side sessions with a fresh session id at every sign-in.

Litestar's server-side backend keeps whatever id the client's cookie carries, so
a planted id would survive sign-in (session fixation). ``rotate_session`` deletes
the old stored session and makes the backend write the data under a new id.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)

SESSION_COOKIE = "qb_session"
_NEW_ID_KEY = "quotaboard.new_session_id"


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        new_id = connection.scope.get(_NEW_ID_KEY)  # type: ignore[call-overload]
        return new_id or super().get_session_id(connection)


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
