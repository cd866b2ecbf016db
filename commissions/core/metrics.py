"""The counters and gauges a process keeps for ``/metrics`` (Prometheus; docs/operations.md).

Request rate and latency by route come from Litestar's Prometheus middleware (app assembly);
the figures here are the ones only the code knows: deals recorded by door, sign-in failures,
worker errors, open live streams. Queue depth and age are read from the database when
``/metrics`` is scraped (``commissions.app.metrics``), so they are right whichever process
filled the queue.

``commissions run`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before it starts
the web workers and the recompute worker: every process then writes its figures there and a
scrape of any one of them adds them all up (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, multiprocess

PREFIX = "quotaboard"

DEALS_RECORDED = Counter(
    f"{PREFIX}_deals_recorded",
    "Deals created, updated or cancelled, by the door they came through",
    ["door", "outcome"],
)
SIGN_IN_FAILURES = Counter(
    f"{PREFIX}_sign_in_failures",
    "Sign-ins refused: a wrong email or password (wrong_credentials), the sign-in limits (limited), single sign-on (sso)",
    ["reason"],
)
WORKER_ERRORS = Counter(
    f"{PREFIX}_worker_errors",
    "Failures of the worker's rounds (the work stays queued and is retried)",
    ["task"],
)
STATEMENTS_RECOMPUTED = Counter(
    f"{PREFIX}_statements_recomputed",
    "Statements the recompute worker computed",
)
SSE_CONNECTIONS = Gauge(
    f"{PREFIX}_sse_connections",
    "Live leaderboard streams open now",
    multiprocess_mode="livesum",
)


def multiprocess_dir() -> str | None:
    """The shared directory of multiprocess mode, when this process writes there."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_registry() -> CollectorRegistry:
    """Every process's figures in multiprocess mode; this process's otherwise."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY
