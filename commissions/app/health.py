"""Probes for load balancers and orchestrators (public, touch nothing, say nothing of the data).

``/healthz``: the process is alive (liveness; restart it if not). ``/readyz``: it can serve
(readiness; send it traffic): the database answers, its migrations are the code's, and Redis
answers when one is configured. Each check is named in the answer so an operator sees which
failed; nothing else (no URL, no version, no error text) is said.
"""

from __future__ import annotations

import threading
from typing import Any

from litestar import Request, get
from litestar.response import Response
from sqlalchemy import Engine, text

from commissions.core.migrate import current_revisions, head_revisions
from commissions.core.settings import Settings

NO_STORE = {"Cache-Control": "no-store"}
_heads: set[str] | None = None
_heads_lock = threading.Lock()


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> Response[str]:
    return Response("ok", media_type="text/plain", headers=NO_STORE)


@get("/readyz", include_in_schema=False, sync_to_thread=True)
def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    checks = {
        **_database_checks(request.app.state["engine"]),
        "redis": redis_state(request.app.state["settings"]),
    }
    ready = all(value in ("ok", "not configured") for value in checks.values())
    return Response(
        {"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503, headers=NO_STORE
    )


def _code_heads() -> set[str]:
    global _heads
    with _heads_lock:
        if _heads is None:
            _heads = head_revisions()
        return _heads


def _database_checks(engine: Engine) -> dict[str, str]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            at = current_revisions(connection)
    except Exception:  # any failure to answer is "not ready"; the log of the database says why
        return {"database": "unreachable", "migrations": "unknown"}
    return {"database": "ok", "migrations": "ok" if at == _code_heads() else "not current" if at else "missing"}


def redis_state(settings: Settings) -> str:
    if not settings.redis_url:
        return "not configured"
    from redis import Redis

    try:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return "ok" if client.ping() else "unreachable"
        finally:
            client.close()  # type: ignore[no-untyped-call]
    except Exception:  # unreachable, refused, timed out
        return "unreachable"
