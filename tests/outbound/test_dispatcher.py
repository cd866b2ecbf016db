"""The dispatcher against a real HTTP receiver: signatures, retries with backoff, dead letters, replay, pay, races."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.core import outbox
from commissions.core.db import transaction
from commissions.models import AuditEvent
from commissions.models.base import utcnow
from commissions.outbound import dispatcher
from commissions.outbound.dispatcher import MAX_ATTEMPTS, dispatch_once
from commissions.outbound.service import replay
from tests.outbound.conftest import ADMIN, SECRET_KEY, Receiver, attempts, deliveries, subscribe


def record(engine: Engine, type: str, data: dict, pay: dict | None = None) -> None:
    with transaction(engine) as s:
        assert outbox.record_event(s, type, data, pay=pay)


def dispatch(engine: Engine, now: datetime) -> dispatcher.Report:
    return dispatch_once(engine, secret_key=SECRET_KEY, now=now)


def test_the_receiver_gets_the_body_signed_with_the_secret(engine: Engine, receiver: Receiver) -> None:
    _, secret = subscribe(engine, receiver.url, ["deal.recorded"])
    record(engine, "deal.recorded", {"external_id": "SF-1", "amount": "100.00"})
    now = utcnow()
    report = dispatch(engine, now)
    assert (report.fanned_out, report.sent, report.delivered) == (1, 1, 1)
    [got] = receiver.received
    body = json.loads(got.body)
    assert set(body) == {"type", "id", "timestamp", "data"}
    assert body["type"] == "deal.recorded" and body["id"].startswith("evt_")
    assert body["data"] == {"external_id": "SF-1", "amount": "100.00"}
    assert datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00")) <= now + timedelta(seconds=1)
    # verified independently of the app's code: HMAC-SHA256 of "id.timestamp.body" under the base64 key
    assert got.headers["webhook-id"] == body["id"]
    assert got.headers["webhook-timestamp"] == str(int(now.timestamp()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.".encode() + got.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert got.headers["webhook-signature"] == f"v1,{expected}"
    [delivery] = deliveries(engine)
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_status_code == 200
    assert dispatch(engine, now + timedelta(hours=1)).sent == 0  # delivered once


def test_a_failing_receiver_is_retried_with_backoff(engine: Engine, receiver: Receiver) -> None:
    subscribe(engine, receiver.url, ["deal.recorded"])
    record(engine, "deal.recorded", {"external_id": "SF-1"})
    receiver.statuses = [500]
    now = utcnow()
    assert dispatch(engine, now).failed == 1
    [delivery] = deliveries(engine)
    assert delivery.status == "failed" and delivery.attempts == 1 and delivery.last_status_code == 500
    wait = delivery.next_attempt_at.replace(tzinfo=UTC) - now  # type: ignore[union-attr]
    assert timedelta(seconds=27) <= wait <= timedelta(seconds=33)  # 30 s ± 10 %
    assert dispatch(engine, now + timedelta(seconds=20)).sent == 0  # not due yet
    assert dispatch(engine, now + timedelta(seconds=40)).delivered == 1
    assert [a.status_code for a in attempts(engine)] == [500, 200]
    assert attempts(engine)[0].error == "the receiver answered 500"
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]


def test_the_backoff_doubles_up_to_its_cap() -> None:
    delays = [dispatcher.backoff(n, jitter=0).total_seconds() for n in range(1, 12)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == dispatcher.MAX_DELAY_SECONDS


def test_dead_after_the_last_attempt_then_replayed(engine: Engine, receiver: Receiver) -> None:
    subscribe(engine, receiver.url, ["deal.recorded"])
    record(engine, "deal.recorded", {"external_id": "SF-1"})
    receiver.statuses = [503] * MAX_ATTEMPTS
    now = utcnow()
    for _ in range(MAX_ATTEMPTS):
        assert dispatch(engine, now).sent == 1
        now += dispatcher.backoff(MAX_ATTEMPTS, jitter=0.2)  # past any next attempt
    [delivery] = deliveries(engine)
    assert delivery.status == "dead" and delivery.attempts == MAX_ATTEMPTS
    assert len(attempts(engine)) == MAX_ATTEMPTS
    assert dispatch(engine, now + timedelta(days=1)).sent == 0  # dead: never sent again by itself

    replay(engine, delivery.id or 0, by=ADMIN, now=now)
    assert deliveries(engine)[0].status == "pending"
    assert dispatch(engine, now).delivered == 1
    assert deliveries(engine)[0].status == "delivered"
    assert len(receiver.received) == MAX_ATTEMPTS + 1
    with Session(engine) as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "subscription.replay")).first() is not None


def test_pay_goes_only_to_the_include_pay_subscription(engine: Engine, receiver: Receiver) -> None:
    subscribe(engine, receiver.url + "?plain", ["statement.changed"])
    subscribe(engine, receiver.url + "?pay", ["statement.changed"], include_pay=True)
    record(
        engine,
        "statement.changed",
        {"person": "ana@example.com", "period": "2026-Q1"},
        pay={"total": "4200.00", "currency": "USD"},
    )
    assert dispatch(engine, utcnow()).delivered == 2
    bodies = {json.loads(r.body)["data"].get("total"): json.loads(r.body) for r in receiver.received}
    assert set(bodies) == {None, "4200.00"}
    assert bodies[None]["data"] == {"person": "ana@example.com", "period": "2026-Q1"}
    assert bodies["4200.00"]["data"]["currency"] == "USD"
    assert bodies[None]["id"] == bodies["4200.00"]["id"]  # the same event
    assert "4200" not in json.dumps(bodies[None])


def test_a_deactivated_subscription_gets_nothing_more(engine: Engine, receiver: Receiver) -> None:
    from commissions.outbound.service import deactivate

    sub_id, _ = subscribe(engine, receiver.url, ["deal.recorded"])
    record(engine, "deal.recorded", {"external_id": "SF-1"})
    dispatcher.fan_out(engine)
    deactivate(engine, sub_id, by=ADMIN)
    assert dispatch(engine, utcnow()).sent == 0
    assert receiver.received == []
    assert deliveries(engine)[0].status == "pending"  # kept in the log


def test_two_dispatchers_at_once_never_send_a_delivery_twice(engine: Engine, receiver: Receiver) -> None:
    subscribe(engine, receiver.url, ["deal.recorded"])
    for n in range(24):
        record(engine, "deal.recorded", {"external_id": f"SF-{n}"})
    now = utcnow()
    start = threading.Barrier(2)
    reports: list[dispatcher.Report] = []

    def run() -> None:
        start.wait()
        reports.append(dispatch(engine, now))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 24
    assert sum(r.sent for r in reports) == 24 and sum(r.fanned_out for r in reports) == 24
    assert all(d.status == "delivered" and d.attempts == 1 for d in deliveries(engine))
    assert len(attempts(engine)) == 24


def test_the_worker_thread_delivers_on_its_own(engine: Engine, receiver: Receiver) -> None:
    import time

    subscribe(engine, receiver.url, ["deal.recorded"])
    stop = dispatcher.run_in_thread(engine, secret_key=SECRET_KEY, poll_seconds=0.05)
    try:
        record(engine, "deal.recorded", {"external_id": "SF-1"})
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert len(receiver.received) == 1
