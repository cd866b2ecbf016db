"""Sign-in rate limiting and lock-out, absolute session timeout, and every way a session ends."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from commissions.app.assembly import create_app
from commissions.auth import sessions, throttle
from commissions.auth.sessions import SESSION_COOKIE
from commissions.core.db import transaction
from commissions.models import AuditEvent, Person
from commissions.people.service import set_active, set_password
from tests.conftest import PASSWORD, csrf_from, read, sign_in

LOCKED = "Too many failed sign-ins for this account; try again in 15 minutes."


def events(engine: Engine, action: str) -> int:
    return read(
        engine, lambda s: s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)).one()
    )


def later(monkeypatch: pytest.MonkeyPatch, module, seconds: float) -> None:  # type: ignore[no-untyped-def]
    now = module.clock()
    monkeypatch.setattr(module, "clock", lambda: now + seconds)


@pytest.mark.parametrize("email", ["ana@example.com", "nobody@example.com"])
def test_five_failures_lock_the_account_with_the_same_message_whether_it_exists_or_not(
    client, make_person, engine: Engine, email: str
) -> None:
    make_person("ana@example.com")
    for _ in range(4):
        response = sign_in(client, email, "wrong password!")
        assert response.status_code == 401 and "Email or password is wrong." in response.text
    fifth = sign_in(client, email, "wrong password!")
    assert fifth.status_code == 429
    assert LOCKED in fifth.text
    assert fifth.headers["retry-after"] == "900"
    # while locked, even the right password is refused without being checked
    right = sign_in(client, email, PASSWORD)
    assert right.status_code == 429 and LOCKED in right.text
    assert client.get("/", follow_redirects=False).status_code in (302, 303)
    assert events(engine, "auth.locked_out") == 1
    assert events(engine, "auth.sign_in_throttled") == 1
    assert events(engine, "auth.sign_in_failed") == 5


def test_the_lock_ends_after_the_lockout_and_other_accounts_are_unaffected(
    client, make_person, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")
    for _ in range(5):
        sign_in(client, "ana@example.com", "wrong password!")
    assert sign_in(client, "bo@example.com").status_code in (302, 303)  # the address is not locked by one account
    later(monkeypatch, throttle, 14 * 60)
    response = sign_in(client, "ana@example.com")
    assert response.status_code == 429 and "try again in 1 minutes" in response.text
    later(monkeypatch, throttle, 15 * 60 + 1)
    assert sign_in(client, "ana@example.com").status_code in (302, 303)


def test_a_successful_sign_in_resets_the_account_count(client, make_person) -> None:
    make_person("ana@example.com")
    for _ in range(4):
        sign_in(client, "ana@example.com", "wrong password!")
    assert sign_in(client, "ana@example.com").status_code in (302, 303)
    for _ in range(4):
        assert sign_in(client, "ana@example.com", "wrong password!").status_code == 401


def test_failures_across_many_accounts_lock_the_client_address(engine: Engine, settings, make_person) -> None:
    make_person("ana@example.com")
    app = create_app(settings.model_copy(update={"login_max_failures_per_ip": 3}), engine=engine)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        for email in ["a@example.com", "b@example.com"]:
            assert sign_in(client, email, "wrong").status_code == 401
        spray = sign_in(client, "c@example.com", "wrong")
        assert spray.status_code == 429
        assert "Too many failed sign-ins from your network; try again in 15 minutes." in spray.text
        assert sign_in(client, "ana@example.com").status_code == 429
    assert events(engine, "auth.locked_out") == 1


def test_a_session_ends_12_hours_after_sign_in_however_busy(client, make_person, monkeypatch) -> None:
    make_person("ana@example.com")
    sign_in(client, "ana@example.com")
    later(monkeypatch, sessions, 11 * 3600)
    assert client.get("/").status_code == 200
    later(monkeypatch, sessions, 12 * 3600)
    response = client.get("/deals", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=%2Fdeals&reason=expired"
    assert "Your session has expired; please sign in again." in client.get(response.headers["location"]).text
    assert SESSION_COOKIE not in client.cookies or client.cookies[SESSION_COOKIE] in ("", "null")


class Devices:
    """Several sessions (browsers) through one client: each device's cookies are swapped in before it is used."""

    def __init__(self, client: TestClient) -> None:
        self.client, self.jars = client, {}

    def sign_in(self, device: str, email: str) -> None:
        self.client.cookies.clear()
        assert sign_in(self.client, email).status_code in (302, 303)
        self.jars[device] = dict(self.client.cookies)

    def use(self, device: str) -> TestClient:
        self.client.cookies.clear()
        for k, v in self.jars[device].items():
            self.client.cookies.set(k, v)
        return self.client


def test_sign_out_everywhere_ends_every_session_of_that_person_only(client, make_person, engine: Engine) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")
    devices = Devices(client)
    devices.sign_in("phone", "ana@example.com")
    devices.sign_in("bo", "bo@example.com")
    devices.sign_in("laptop", "ana@example.com")
    laptop = devices.use("laptop")
    response = laptop.post(
        "/account/sign-out-everywhere", data={"_csrf_token": csrf_from(laptop)}, follow_redirects=False
    )
    assert response.status_code in (302, 303) and response.headers["location"] == "/login?reason=ended"
    assert "Your session was ended" in laptop.get("/login?reason=ended").text
    assert devices.use("laptop").get("/", follow_redirects=False).status_code in (302, 303)
    ended = devices.use("phone").get("/", follow_redirects=False)
    assert ended.status_code in (302, 303) and ended.headers["location"].endswith("&reason=ended")
    assert devices.use("bo").get("/").status_code == 200
    assert events(engine, "auth.sign_out_everywhere") == 1
    devices.sign_in("phone", "ana@example.com")  # signing in again works
    assert devices.use("phone").get("/").status_code == 200


@pytest.mark.parametrize("change", ["deactivate", "password"])
def test_deactivation_and_a_new_password_end_every_session(client, make_person, engine: Engine, change: str) -> None:
    ana = make_person("ana@example.com")
    devices = Devices(client)
    devices.sign_in("phone", "ana@example.com")
    devices.sign_in("laptop", "ana@example.com")
    assert devices.use("phone").get("/").status_code == 200
    with transaction(engine) as s:
        person = s.get(Person, ana.id)
        if change == "deactivate":
            set_active(s, person, False, by=None)
        else:
            set_password(s, person, "a brand new password", by=None)
    for device in ("phone", "laptop"):
        assert devices.use(device).get("/", follow_redirects=False).status_code in (302, 303)


def test_sign_out_ends_every_session_of_that_person_and_is_audited(client, make_person, engine: Engine) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")
    devices = Devices(client)
    devices.sign_in("phone", "ana@example.com")
    devices.sign_in("bo", "bo@example.com")
    devices.sign_in("laptop", "ana@example.com")
    laptop = devices.use("laptop")
    assert 'action="/logout"' in laptop.get("/").text
    laptop.post("/logout", data={"_csrf_token": csrf_from(laptop)})
    assert devices.use("laptop").get("/", follow_redirects=False).status_code in (302, 303)
    assert devices.use("phone").get("/", follow_redirects=False).status_code in (302, 303)
    assert devices.use("bo").get("/").status_code == 200  # someone else's sessions stand
    assert events(engine, "auth.sign_out") == 1
    devices.sign_in("phone", "ana@example.com")  # signing in again works
    assert devices.use("phone").get("/").status_code == 200


def test_an_idle_session_expires_from_the_store_after_the_idle_timeout(client, app, make_person) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    make_person("ana@example.com")
    sign_in(client, "ana@example.com")
    store = app.stores.get("sessions")
    stored = store._store[client.cookies[SESSION_COOKIE]]  # MemoryStore in tests
    assert 8 * 3600 - 60 < stored.expires_in <= 8 * 3600  # SESSION_MAX_AGE_SECONDS from the last renewal
    assert client.get("/").status_code == 200
    stored.expires_at = datetime.now(UTC) - timedelta(seconds=1)  # 8 h without a request
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login?next=")
