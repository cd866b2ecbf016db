"""PostgreSQL connections lent by the pool (``core.db._ping_after_idle``): a connection is tested before it is
lent only after it sat idle, so a busy app sends no ping a checkout, and a connection the server closed is
replaced without the caller seeing it; one lost while in use fails with the driver's error, not a
``PendingRollbackError`` from our own listeners, and the next transaction works."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from commissions.core import db
from commissions.core.db import make_engine, transaction


@pytest.fixture
def pg(engine: Engine) -> Iterator[tuple[Engine, Engine]]:
    if engine.dialect.name != "postgresql":
        pytest.skip("the pool's ping is PostgreSQL's (SQLite has no server to lose)")
    url = engine.url.render_as_string(hide_password=False)
    own, killer = make_engine(url), make_engine(url)
    yield own, killer
    own.dispose()
    killer.dispose()


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(killer: Engine, pid: int) -> None:
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    time.sleep(0.1)  # the server closes the socket


def _pings(engine: Engine) -> list[str]:
    """Every statement the driver is sent on ``engine``'s connections, pings included (they bypass the events)."""
    sent: list[str] = []
    original = engine.dialect.do_ping

    def counting(dbapi_connection):  # type: ignore[no-untyped-def]
        sent.append("ping")
        return original(dbapi_connection)

    engine.dialect.do_ping = counting  # type: ignore[method-assign]
    return sent


def test_a_connection_in_steady_use_is_lent_without_a_ping(pg: tuple[Engine, Engine]) -> None:
    own, _ = pg
    pings = _pings(own)
    _pid(own)  # a new connection: just made, not tested
    for _ in range(20):
        with transaction(own) as session:
            session.execute(text("SELECT 1"))
    assert pings == []


def test_an_idle_connection_is_tested_and_one_the_server_closed_is_replaced(
    pg: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    own, killer = pg
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.05)
    pings = _pings(own)
    first = _pid(own)
    _terminate(killer, first)  # a database restart, a firewall dropping an idle socket
    time.sleep(0.1)
    assert _pid(own) != first  # lent a working connection: the caller never saw the dead one
    assert pings  # found by the test before lending


def test_a_connection_lost_in_use_fails_with_the_drivers_error_and_the_next_transaction_works(
    pg: tuple[Engine, Engine],
) -> None:
    own, killer = pg
    pid = _pid(own)  # just used: lent again untested
    _terminate(killer, pid)
    with pytest.raises(OperationalError), transaction(own) as session:  # ``retrying`` tries it again
        session.execute(text("SELECT 1"))
    with transaction(own) as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
