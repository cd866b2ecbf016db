"""Readiness and Prometheus metrics (issue 20): what an orchestrator and a scraper are told."""

from __future__ import annotations

import contextlib
import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import Engine, text

from commissions.app.assembly import create_app
from commissions.app.health import redis_state
from commissions.app.metrics import QueueCollector
from commissions.calculation.state import touch
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.core.settings import Settings
from tests.conftest import PASSWORD, SKIP_POSTGRES, csrf_from, postgres_schema_url
from tests.deals.test_deals_api import BODY, token_for

TOKEN = "scrape-" + "x" * 30


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text answer, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(body: str, name: str, **labels: str) -> float:
    return sum(
        value
        for (sample, found), value in samples(body).items()
        if sample == name and all((k, v) in found for k, v in labels.items())
    )


@pytest.fixture
def metered(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    settings.metrics_token = SecretStr(TOKEN)
    with TestClient(app=create_app(settings, engine=engine), base_url="http://127.0.0.1:8000") as c:
        yield c


def scrape(client: TestClient) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=1.0.0; charset=utf-8"  # the charset once
    return response.text


def test_liveness_is_plain_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


def test_ready_when_the_database_answers_and_is_migrated(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "migrations": "ok",
        "redis": "not configured",
    }
    assert response.headers["cache-control"] == "no-store"


def test_redis_is_checked_when_configured(engine: Engine, settings: Settings) -> None:
    settings.redis_url = "redis://127.0.0.1:6379/0"
    with TestClient(app=create_app(settings, engine=engine), base_url="http://127.0.0.1:8000") as c:
        assert c.get("/readyz").json()["redis"] == "ok"
    # an app whose Redis is gone does not even start its channels; the check itself says so
    settings.redis_url = "redis://127.0.0.1:1/0"  # nothing listens there
    assert redis_state(settings) == "unreachable"


def test_not_ready_when_the_migrations_are_not_the_codes(engine: Engine, client: TestClient) -> None:
    with engine.begin() as connection:
        (current,) = connection.execute(text("SELECT version_num FROM alembic_version")).one()
        connection.execute(text("UPDATE alembic_version SET version_num = 'an_older_one'"))
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["migrations"] == "not current"
        assert response.json()["database"] == "ok"
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})


def test_metrics_are_off_without_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


def test_metrics_refuse_a_wrong_or_missing_token(metered: TestClient) -> None:
    assert metered.get("/metrics").status_code == 401
    assert metered.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert metered.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401


def test_requests_are_counted_by_route_template_never_by_address(metered: TestClient, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com", "finance")
    before = total(scrape(metered), "quotaboard_requests_total", path="/login", method="GET")
    for _ in range(3):
        metered.get("/login")
    body = scrape(metered)
    assert total(body, "quotaboard_requests_total", path="/login", method="GET") - before == 3
    assert total(body, "quotaboard_request_duration_seconds_count", path="/login") >= 3
    metered.get("/api/v1/statements/ana@example.com")  # anonymous: refused, still counted by its template
    body = scrape(metered)
    assert total(body, "quotaboard_requests_total", path="/api/v1/statements/{email}") >= 1
    assert "ana@example.com" not in body
    assert 'path="/metrics"' not in body  # the scraper's own requests are not counted


def test_deals_recorded_and_sign_in_failures_are_counted(metered: TestClient, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    make_person("bo@example.com")
    crm = token_for(engine, "admin")
    body = scrape(metered)
    deals_before = total(body, "quotaboard_deals_recorded_total", door="api")
    failures_before = total(body, "quotaboard_sign_in_failures_total", reason="wrong_credentials")
    assert metered.post("/api/v1/deals", json=BODY, headers=crm).status_code == 201
    assert metered.post("/api/v1/deals", json=BODY, headers=crm).status_code == 200  # unchanged: counted as such
    token = csrf_from(metered)
    wrong = metered.post("/login", data={"email": "ana@example.com", "password": PASSWORD + "x", "_csrf_token": token})
    assert wrong.status_code == 401
    body = scrape(metered)
    assert total(body, "quotaboard_deals_recorded_total", door="api") - deals_before == 2
    assert total(body, "quotaboard_deals_recorded_total", door="api", outcome="created") >= 1
    assert total(body, "quotaboard_deals_recorded_total", door="api", outcome="unchanged") >= 1
    assert total(body, "quotaboard_sign_in_failures_total", reason="wrong_credentials") - failures_before == 1
    assert "ana@example.com" not in body


def test_the_queue_depth_and_age_are_read_from_the_database(metered: TestClient, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    body = scrape(metered)
    assert total(body, "quotaboard_recompute_queue_depth") == 0
    assert total(body, "quotaboard_recompute_queue_oldest_seconds") == 0
    people = [make_person(f"rep{i}@example.com").id for i in range(3)]
    with transaction(engine) as session:
        assert touch(session, [p for p in people if p is not None], ["2026-Q1"]) == 3
    assert total(scrape(metered), "quotaboard_recompute_queue_depth") == 3
    later = datetime.now(UTC) + timedelta(minutes=10)
    ages = {m.name: m.samples[0].value for m in QueueCollector(engine, now=later).collect()}
    assert 590 <= ages["quotaboard_recompute_queue_oldest_seconds"] <= 700


def test_a_failing_worker_round_is_counted(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from commissions import cli
    from commissions.calculation import queue
    from commissions.core.metrics import WORKER_ERRORS

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(queue, "drain", broken)
    monkeypatch.setattr(cli, "_extension_worker_tasks", lambda: [])
    before = WORKER_ERRORS.labels("recompute")._value.get()
    cli._work(logging.getLogger("test"), engine, 0, True, False, (0, 1), tasks=False)
    assert WORKER_ERRORS.labels("recompute")._value.get() == before + 1


def test_live_streams_are_counted_while_open() -> None:
    import anyio

    from commissions.core.metrics import SSE_CONNECTIONS
    from leaderboard import stream

    class Request:
        headers: dict[str, str] = {}
        scope: dict[str, object] = {"user": None}  # no one signed in: the stream has no viewer of its own

        class app:
            state = {"engine": None}

            class template_engine:
                @staticmethod
                def get_template(name: str) -> object:
                    return type("Template", (), {"render": staticmethod(lambda **context: "")})()

    seen: list[float] = []

    async def fake_stream(*args: object) -> object:
        seen.append(SSE_CONNECTIONS._value.get())
        yield "one message"

    async def run() -> None:
        stream_before = SSE_CONNECTIONS._value.get()
        messages = [m async for m in stream.events(Request(), None)]  # type: ignore[arg-type]
        assert messages == ["one message"]
        assert seen == [stream_before + 1]
        assert SSE_CONNECTIONS._value.get() == stream_before

    original = stream._stream
    stream._stream = fake_stream  # type: ignore[assignment]
    try:
        anyio.run(run)
    finally:
        stream._stream = original


def test_the_grafana_dashboard_only_queries_metrics_the_app_exports(metered: TestClient) -> None:
    import json
    import re

    from commissions.core.migrate import PROJECT_ROOT

    dashboard = json.loads((PROJECT_ROOT / "deploy" / "grafana-dashboard.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"quotaboard_[a-z_]+", target["expr"])
    }
    metered.get("/login")  # so the request families have a sample
    body = scrape(metered)
    families = re.findall(r"^# TYPE (\S+) (\S+)$", body, flags=re.MULTILINE)
    suffixes = {"counter": ("", "_total"), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    exported = {name + suffix for name, kind in families for suffix in suffixes.get(kind, ("",))}
    assert queried, "the dashboard queries nothing"
    assert queried <= exported, queried - exported


class TcpRelay:
    """A relay in front of PostgreSQL that can be cut and restored: the database "goes down" for the app."""

    def __init__(self, target: tuple[str, int]) -> None:
        import socket

        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.open: list[Any] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: Any, sink: Any) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.close()

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for end in self.open:
                with contextlib.suppress(OSError):
                    end.close()
            self.open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.mark.skipif(SKIP_POSTGRES, reason="PostgreSQL is not available")
def test_readiness_fails_while_the_database_is_down_and_recovers(settings: Settings, tmp_path: Any) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_schema_url(f"qb_ready_{os.getpid()}"))
    upgrade(url=url.render_as_string(hide_password=False))
    relay = TcpRelay((url.host or "127.0.0.1", url.port or 5432))
    engine = make_engine(url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False))
    try:
        with TestClient(app=create_app(settings, engine=engine), base_url="http://127.0.0.1:8000") as c:
            assert c.get("/readyz").status_code == 200
            relay.cut()
            down = c.get("/readyz")
            assert down.status_code == 503
            assert down.json()["database"] == "unreachable"
            assert c.get("/healthz").status_code == 200  # alive: not to be restarted for its database
            relay.restore()
            back = c.get("/readyz")
            assert back.status_code == 200, back.text
            assert back.json()["database"] == "ok"
    finally:
        relay.close()
        engine.dispose()
