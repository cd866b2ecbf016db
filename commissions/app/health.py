"""`GET /healthz`: a liveness probe for load balancers (public, touches nothing, says nothing)."""

from __future__ import annotations

from litestar import get
from litestar.response import Response


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> Response[str]:
    return Response("ok", media_type="text/plain", headers={"Cache-Control": "no-store"})
