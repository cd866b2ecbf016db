"""What a subscriber can count on (issue 18): every event type arrives signed, a receiver failing three times
gets the event on the fourth try, and a dispatcher killed in the middle of a send loses nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import Engine

from commissions.core import outbox
from commissions.core.db import transaction
from commissions.core.migrate import PROJECT_ROOT
from commissions.models.base import utcnow
from commissions.outbound.dispatcher import dispatch_once
from tests.outbound.conftest import SECRET_KEY, Receiver, attempts, deliveries, subscribe


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(headers["webhook-signature"], expected)


def test_every_event_type_reaches_the_receiver_with_a_valid_signature(engine: Engine, receiver: Receiver) -> None:
    _, secret = subscribe(engine, receiver.url, list(outbox.EVENT_TYPES))
    with transaction(engine) as s:
        for kind in outbox.EVENT_TYPES:
            assert outbox.record_event(s, kind, {"about": kind})
    report = dispatch_once(engine, secret_key=SECRET_KEY, now=utcnow())
    assert report.delivered == len(outbox.EVENT_TYPES)
    got = {json.loads(r.body)["type"]: r for r in receiver.received}
    assert set(got) == set(outbox.EVENT_TYPES)
    for kind, received in got.items():
        assert _verify(secret, received.headers, received.body), kind
        assert json.loads(received.body)["data"] == {"about": kind}


def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_try(engine: Engine, receiver: Receiver) -> None:
    _, secret = subscribe(engine, receiver.url, ["deal.recorded"])
    with transaction(engine) as s:
        outbox.record_event(s, "deal.recorded", {"external_id": "SF-9"})
    receiver.statuses = [503, 500, 502]
    now = utcnow()
    for wait in (0, 40, 110, 250):  # the backoff: 30 s, 60 s, 120 s (each ± 10 %) after each failure
        dispatch_once(engine, secret_key=SECRET_KEY, now=now + timedelta(seconds=wait))
    assert [a.status_code for a in attempts(engine)] == [503, 500, 502, 200]
    [delivery] = deliveries(engine)
    assert delivery.status == "delivered" and delivery.attempts == 4
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(receiver.received) == 4 and len(ids) == 1  # the same event id every time: the receiver dedupes
    assert _verify(secret, receiver.received[-1].headers, receiver.received[-1].body)


@pytest.fixture
def hanging_receiver() -> Iterator[dict]:  # type: ignore[type-arg]
    """Answers nothing while ``state["hang"]`` is set (a send in flight when its process dies), 200 after."""
    state: dict = {"hang": True, "got": [], "first": threading.Event()}  # type: ignore[type-arg]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            state["got"].append(body)
            state["first"].set()
            while state["hang"]:
                time.sleep(0.05)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    state["hang"] = False
    server.shutdown()
    server.server_close()


def test_a_dispatcher_killed_in_the_middle_of_a_send_loses_nothing(engine: Engine, hanging_receiver: dict) -> None:  # type: ignore[type-arg]
    subscribe(engine, hanging_receiver["url"], ["period.locked"])
    with transaction(engine) as s:
        outbox.record_event(s, "period.locked", {"period": "2026-Q1"})
    script = (
        "import sys; from commissions.core.db import make_engine; from commissions.outbound.dispatcher import dispatch_once;"
        "dispatch_once(make_engine(sys.argv[1]), secret_key=sys.argv[2])"
    )
    url = engine.url.render_as_string(hide_password=False)
    process = subprocess.Popen([sys.executable, "-c", script, url, SECRET_KEY], cwd=PROJECT_ROOT, env=dict(os.environ))
    try:
        assert hanging_receiver["first"].wait(60), "the doomed dispatcher never sent"
    finally:
        os.kill(process.pid, signal.SIGKILL)  # dies mid-send: no answer read, nothing recorded
        process.wait(10)
    [claimed] = deliveries(engine)
    assert claimed.status != "delivered"
    hanging_receiver["hang"] = False
    assert dispatch_once(engine, secret_key=SECRET_KEY, now=utcnow()).sent == 0  # its claim still holds
    later = dispatch_once(engine, secret_key=SECRET_KEY, now=utcnow() + timedelta(seconds=61))  # the lease ran out
    assert later.delivered == 1
    [delivery] = deliveries(engine)
    assert delivery.status == "delivered"
    assert len(hanging_receiver["got"]) == 2  # sent again by the next dispatcher: at least once, never lost
