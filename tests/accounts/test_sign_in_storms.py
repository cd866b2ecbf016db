"""Sign-in limits under real concurrency, on SQLite and PostgreSQL (issue 14).

Each attempt is counted before its password is checked, in one short write; Argon2 runs outside
any write transaction. Threads post at once through the test client (one event loop, handlers in
worker threads, as in production).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from commissions.app.assembly import create_app
from commissions.auth import passwords
from commissions.core.db import make_engine
from commissions.models import AuditEvent
from tests.conftest import PASSWORD, csrf_from, read, sign_in


def _storm(client: TestClient, attempts: list[tuple[str, str]]) -> list[int]:
    token = csrf_from(client)
    cookies = {"csrftoken": token}
    start = threading.Barrier(len(attempts))

    def post(attempt: tuple[str, str]) -> int:
        email, password = attempt
        start.wait()
        response = client.post(
            "/login",
            data={"email": email, "password": password, "next": "/", "_csrf_token": token},
            cookies=cookies,
            follow_redirects=False,
        )
        return response.status_code

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(post, attempts))


def _count(engine: Engine, action: str) -> int:
    return read(
        engine, lambda s: s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)).one()
    )


def test_concurrent_wrong_passwords_lock_the_account_and_the_right_one_is_refused_afterwards(
    client, make_person, engine: Engine
) -> None:
    make_person("ana@example.com")
    statuses = _storm(client, [("ana@example.com", "wrong password!")] * 60 + [("ana@example.com", PASSWORD)])
    assert 500 not in statuses
    # at most the account's budget (5) reached Argon2; everything else was refused unchecked
    assert _count(engine, "auth.sign_in_failed") + _count(engine, "auth.sign_in") <= 5
    assert statuses.count(401) + statuses.count(302) <= 5 and statuses.count(429) >= 56
    after = sign_in(client, "ana@example.com")
    assert after.status_code == 429 and "Too many failed sign-ins for this account" in after.text


def test_concurrent_spraying_from_one_address_checks_at_most_its_limit(engine: Engine, settings, make_person) -> None:
    make_person("ana@example.com")
    app = create_app(settings.model_copy(update={"login_max_failures_per_ip": 10}), engine=engine)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        statuses = _storm(client, [(f"user{i}@example.com", "wrong password!") for i in range(40)])
        assert 500 not in statuses
        assert statuses.count(401) <= 10 and statuses.count(429) >= 30
        assert _count(engine, "auth.sign_in_failed") <= 10
        assert sign_in(client, "ana@example.com").status_code == 429  # the address is locked, right password or not


def test_sqlite_sign_in_storm_gives_no_server_error(
    engine: Engine, settings, make_person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Password checks that take a realistic 0.1 s (production Argon2 takes about 0.5 s) and a 1 s busy
    timeout: a check inside a write transaction would make the other writers give up with
    "database is locked" (a 500), as 40 concurrent sign-ins did with the 15 s timeout in production."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the storm that made SQLite answer 500 ('database is locked')")
    import time

    from commissions.accounts import service

    make_person("ana@example.com")
    make_person("bo@example.com")

    def slow_verify(password: str, password_hash: str | None) -> tuple[bool, str | None]:
        time.sleep(0.1)
        return passwords.verify_password(password, password_hash)

    monkeypatch.setattr(service, "verify_password", slow_verify)
    short = make_engine(str(engine.url), busy_timeout_ms=1000)
    try:
        app = create_app(settings, engine=short)
        with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
            attempts = [
                (f"{'ana' if i % 2 else 'bo'}@example.com" if i % 4 else f"nobody{i}@example.com", "wrong password!")
                for i in range(40)
            ]
            statuses = _storm(client, attempts)
        assert 500 not in statuses and set(statuses) <= {401, 429}
    finally:
        short.dispose()
