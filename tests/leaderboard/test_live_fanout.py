"""Two app processes behind one database stay in step: with REDIS_URL, an event announced by
one app reaches the other's subscribers (its live streams and its leaderboard listener);
with the in-memory default it stays in its own process.

Redis comes from QUOTABOARD_TEST_REDIS_URL (default: the local server). Pub/sub channels
are global to a Redis server, so each test waits for its own deal's unique external id.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import ExitStack, contextmanager

from litestar.channels import ChannelsPlugin
from litestar.testing import TestClient
from sqlalchemy import Engine

from commissions.app.assembly import create_app
from commissions.core.settings import Settings
from tests.finance_fixtures import example_deal, setup_books

REDIS_URL = os.environ.get("QUOTABOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def _two_apps(engine: Engine, tmp_path, redis_url: str | None) -> Iterator[tuple[TestClient, TestClient]]:  # type: ignore[no-untyped-def]
    with ExitStack() as stack:
        clients = []
        for name in ("a", "b"):
            settings = Settings(
                environment="test",
                data_dir=tmp_path / name,
                database_url="sqlite://",
                secret_key="t" * 40,
                redis_url=redis_url,
            )
            clients.append(
                stack.enter_context(
                    TestClient(app=create_app(settings, engine=engine), base_url="http://127.0.0.1:8000")
                )
            )
        yield clients[0], clients[1]


def _first_event_about(listener: TestClient, external_id: str):  # type: ignore[no-untyped-def]
    channels = listener.app.plugins.get(ChannelsPlugin)

    async def wait() -> dict:
        async with channels.start_subscription(["deals"]) as subscriber:
            listener.subscribed = True  # type: ignore[attr-defined]
            async for raw in subscriber.iter_events():
                event = json.loads(raw)
                if event.get("external_id") == external_id:
                    return event
        raise AssertionError("the channel closed")

    return listener.blocking_portal.start_task_soon(wait)


def _deliver_through(sender: TestClient, listener: TestClient, engine: Engine, make_person, timeout: float):  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    external_id = f"FANOUT-{uuid.uuid4().hex}"
    listener.subscribed = False  # type: ignore[attr-defined]
    future = _first_event_about(listener, external_id)
    for _ in range(200):  # the subscription is live before the deal is sent
        if listener.subscribed:  # type: ignore[attr-defined]
            break
        time.sleep(0.01)
    time.sleep(0.2)  # Redis has confirmed the SUBSCRIBE
    response = sender.post("/api/v1/deals", json=example_deal(external_id, "1000", "2026-01-10"), headers=tokens["crm"])
    assert response.status_code == 201, response.text
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        return None


def test_with_redis_an_event_of_one_app_reaches_the_other(engine: Engine, make_person, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with _two_apps(engine, tmp_path, REDIS_URL) as (sender, listener):
        event = _deliver_through(sender, listener, engine, make_person, timeout=10)
        assert event is not None, f"app b never heard of app a's deal through Redis at {REDIS_URL}"
        assert event["event"] == "deal.created"


def test_in_memory_events_stay_in_their_own_app(engine: Engine, make_person, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with _two_apps(engine, tmp_path, None) as (sender, listener):
        assert _deliver_through(sender, listener, engine, make_person, timeout=1.5) is None
