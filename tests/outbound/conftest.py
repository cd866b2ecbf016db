"""A real HTTP receiver on 127.0.0.1 for outbound deliveries, and helpers to subscribe and dispatch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.core.principal import Principal
from commissions.models import Delivery, DeliveryAttempt, OutboxEvent
from commissions.outbound.service import add_subscription

SECRET_KEY = "t" * 40  # the tests' settings (tests/conftest.py)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next scripted status (then 200), keeping what it received."""

    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # sent with every scripted (non-default) status
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            r = holder["r"]
            with r.lock:
                r.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                scripted = bool(r.statuses)
                status = r.statuses.pop(0) if scripted else 200
            self.send_response(status)
            for name, value in (r.headers if scripted else {}).items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["r"]
    server.shutdown()
    server.server_close()


FINANCE = Principal(role="finance", person_id=None, email=None, name="finance test")
ADMIN = Principal(role="admin", person_id=None, email=None, name="admin test")


def subscribe(engine: Engine, url: str, events: list[str], *, include_pay: bool = False) -> tuple[int, str]:
    row, secret = add_subscription(
        engine,
        url=url,
        events=events,
        include_pay=include_pay,
        by=FINANCE if include_pay else ADMIN,
        secret_key=SECRET_KEY,
        allow_http=False,
    )
    assert row.id is not None
    return row.id, secret


def events(engine: Engine, type: str | None = None) -> list[OutboxEvent]:
    with Session(engine) as s:
        query = select(OutboxEvent).order_by(OutboxEvent.id)
        if type:
            query = query.where(OutboxEvent.type == type)
        return list(s.exec(query).all())


def deliveries(engine: Engine) -> list[Delivery]:
    with Session(engine) as s:
        return list(s.exec(select(Delivery).order_by(Delivery.id)).all())


def attempts(engine: Engine) -> list[DeliveryAttempt]:
    with Session(engine) as s:
        return list(s.exec(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all())
