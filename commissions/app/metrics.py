"""``GET /metrics``: Prometheus figures for whoever holds ``METRICS_TOKEN`` (docs/operations.md).

Requests by route (rate, latency, errors) come from Litestar's Prometheus middleware, the
code's own counters from ``commissions.core.metrics``; the recompute queue's depth and the age
of its oldest statement are read from the database at each scrape, so they are the same from
whichever process answers. Without a configured token the endpoint does not exist (404): pay
data never leaves through it, but request paths and volumes are not everyone's business.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlmodel import Session, col

from commissions.calculation.state import pending_select
from commissions.core.metrics import PREFIX, process_registry
from commissions.core.settings import Settings
from commissions.models import StatementState

EXPOSITION_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")  # Litestar appends the charset to text/ types


def request_metrics() -> PrometheusConfig:
    """Request rate and latency by route template (``/statements/{email:str}``, never an address)."""
    return PrometheusConfig(
        app_name="quotaboard",
        prefix=PREFIX,
        group_path=True,
        exclude_unhandled_paths=True,
        exclude=["/metrics", "/healthz", "/readyz", "/static"],
    )


class QueueCollector(Collector):
    """The recompute queue, read when scraped: statements waiting and how long the oldest has waited."""

    def __init__(self, engine: Engine, now: datetime | None = None) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with Session(self.engine) as session:
            depth, oldest = session.exec(pending_select(func.count(), func.min(col(StatementState.changed_at)))).one()
        now = self.now or datetime.now(UTC)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily(f"{PREFIX}_recompute_queue_depth", "Statements waiting to be recomputed", value=depth)
        yield GaugeMetricFamily(
            f"{PREFIX}_recompute_queue_oldest_seconds",
            "How long the oldest waiting statement has waited (0 when none waits)",
            value=age,
        )


def _authorised(request: Request[Any, Any, Any], settings: Settings) -> bool:
    if settings.metrics_token is None or not settings.metrics_token.get_secret_value():
        raise NotFoundException()
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode(), expected)


@get("/metrics", include_in_schema=False, sync_to_thread=True)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    if not _authorised(request, request.app.state["settings"]):  # a scraper, not a person: no sign-in page
        return Response(
            b"a Bearer token is needed: METRICS_TOKEN\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
        )
    queue = CollectorRegistry(auto_describe=False)
    queue.register(QueueCollector(request.app.state["engine"]))
    body = generate_latest(process_registry()) + generate_latest(queue)
    # Litestar adds "; charset=utf-8" to a text/ type itself: prometheus_client's constant carries it already
    return Response(body, media_type=EXPOSITION_TYPE, headers={"Cache-Control": "no-store"})
