"""What keeps the hot routes cheap, and that it never serves anything wrong or late.

Sessions are written only when they change or are due for renewal; a signed-in person is
re-read at most every ``principal_cache_seconds``; leaderboard tables are served from
memory until the period's figures change (leaderboard/table_cache.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from litestar.channels import ChannelsPlugin
from litestar.testing import TestClient
from sqlalchemy import Engine, update

from commissions.app.assembly import create_app
from commissions.auth import middleware, sessions
from commissions.core.db import transaction
from commissions.core.settings import Settings
from commissions.models import ApiToken, PayeeSummary, Person
from commissions.models.base import utcnow
from commissions.people.service import set_active
from leaderboard.table_cache import TABLES, TableCache
from tests.conftest import sign_in
from tests.leaderboard.test_leaderboard import FIGURES, PERIOD, _summaries

HTMX = {"HX-Request": "true"}


@pytest.fixture
def patient_client(engine: Engine, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The production defaults for both caches (the test environment turns them off)."""
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        database_url="sqlite://",
        secret_key="t" * 40,
        principal_cache_seconds=60,
        leaderboard_max_staleness_seconds=60,
    )
    with TestClient(app=create_app(settings, engine=engine), base_url="http://127.0.0.1:8000") as client:
        yield client
    middleware._principals.clear()
    middleware._tokens.clear()


def _count_session_writes(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    store = client.app.stores.get("sessions")
    writes: list[str] = []
    original = type(store).set

    async def counting_set(self, key, value, expires_in=None):  # type: ignore[no-untyped-def]
        if self is store:
            writes.append(key)
        return await original(self, key, value, expires_in=expires_in)

    monkeypatch.setattr(type(store), "set", counting_set)
    return writes


# --- sessions ---------------------------------------------------------------------------------------------


def test_anonymous_requests_store_no_session_and_set_no_session_cookie(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    writes = _count_session_writes(client, monkeypatch)
    for path in ("/healthz", "/login", "/static/app.css"):
        response = client.get(path)
        assert "qb_session" not in response.headers.get("set-cookie", ""), path
    assert writes == []


def test_a_session_is_written_when_it_changes_or_is_due_for_renewal_only(client, make_person, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    writes = _count_session_writes(client, monkeypatch)
    assert sign_in(client, "ana@example.com").status_code == 302
    assert len(writes) == 1  # sign-in stores the new session
    session_id = client.cookies["qb_session"]
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert len(writes) == 1  # unchanged, renewed a moment ago: nothing written
    now = time.time()
    monkeypatch.setattr(sessions.time, "time", lambda: now + sessions.RENEW_AFTER_SECONDS + 1)
    response = client.get("/")
    assert response.status_code == 200 and writes == [session_id, session_id]  # renewed: the idle timeout restarts
    assert f"qb_session={session_id}" in response.headers["set-cookie"]
    client.get("/")
    assert len(writes) == 2


def test_sign_out_still_ends_the_session(client, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    sign_in(client, "ana@example.com")
    client.post("/logout", data={"_csrf_token": client.cookies["csrftoken"]})
    assert client.get("/", follow_redirects=False).status_code in (302, 303, 401)


# --- the signed-in person ---------------------------------------------------------------------------------


def test_deactivation_in_this_process_ends_a_cached_session_at_once(patient_client, engine, make_person) -> None:  # type: ignore[no-untyped-def]
    ana = make_person("ana@example.com")
    sign_in(patient_client, "ana@example.com")
    assert patient_client.get("/").status_code == 200
    with transaction(engine) as s:
        set_active(s, s.get(Person, ana.id), False, by=None)
    assert patient_client.get("/", follow_redirects=False).status_code in (302, 303, 401)


def test_a_change_from_another_process_applies_within_the_cache_time(
    patient_client,
    engine,
    make_person,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    ana = make_person("ana@example.com")
    sign_in(patient_client, "ana@example.com")
    assert patient_client.get("/").status_code == 200
    with transaction(engine) as s:  # as another process would: straight to the database, no forget_person
        s.execute(update(Person).where(Person.id == ana.id).values(active=False))
    assert patient_client.get("/").status_code == 200  # trusted for principal_cache_seconds
    later = time.monotonic() + 61
    monkeypatch.setattr(middleware, "_clock", lambda: later)
    assert patient_client.get("/", follow_redirects=False).status_code in (302, 303, 401)


# --- API tokens -------------------------------------------------------------------------------------------


def test_a_token_is_read_once_per_cache_time_and_revocation_in_this_process_applies_at_once(  # type: ignore[no-untyped-def]
    patient_client, engine, make_person, monkeypatch
) -> None:
    from commissions.auth import tokens as token_module
    from commissions.auth.tokens import create_token

    ana = make_person("ana@example.com")
    admin = make_person("root@example.com", "admin")
    with transaction(engine) as s:
        row, clear = create_token(s, name="crm", role="rep", person=s.get(Person, ana.id), created_by=None)
    reads: list[str] = []
    original = token_module.principal_for_token
    monkeypatch.setattr(
        middleware, "principal_for_token", lambda session, value: reads.append(value) or original(session, value)
    )
    bearer = {"Authorization": f"Bearer {clear}"}
    for _ in range(5):
        assert patient_client.get("/api/v1/deals", headers=bearer).status_code == 200
    assert len(reads) == 1  # a CRM's burst costs one lookup, not one per request
    with transaction(engine) as s:  # as another process would: straight to the database
        s.execute(update(ApiToken).where(ApiToken.id == row.id).values(revoked_at=utcnow()))
    assert patient_client.get("/api/v1/deals", headers=bearer).status_code == 200  # trusted for the cache time
    later = time.monotonic() + 61
    monkeypatch.setattr(middleware, "_clock", lambda: later)
    assert patient_client.get("/api/v1/deals", headers=bearer).status_code == 401

    with transaction(engine) as s:  # revoked through the admin page of this process: at once
        row2, clear2 = create_token(s, name="crm2", role="rep", person=s.get(Person, ana.id), created_by=None)
    bearer2 = {"Authorization": f"Bearer {clear2}"}
    assert patient_client.get("/api/v1/deals", headers=bearer2).status_code == 200
    sign_in(patient_client, admin.email)
    csrf = patient_client.cookies["csrftoken"]
    r = patient_client.post(f"/admin/tokens/{row2.id}/revoke", data={"_csrf_token": csrf}, follow_redirects=False)
    assert r.status_code in (302, 303)
    patient_client.cookies.clear()
    assert patient_client.get("/api/v1/deals", headers=bearer2).status_code == 401

    with transaction(engine) as s:  # deactivation in this process: at once
        _row3, clear3 = create_token(s, name="crm3", role="rep", person=s.get(Person, ana.id), created_by=None)
    bearer3 = {"Authorization": f"Bearer {clear3}"}
    assert patient_client.get("/api/v1/deals", headers=bearer3).status_code == 200
    with transaction(engine) as s:
        set_active(s, s.get(Person, ana.id), False, by=None)
    assert patient_client.get("/api/v1/deals", headers=bearer3).status_code == 401


# --- leaderboard tables ----------------------------------------------------------------------------------


def _rank_of(html: str, email: str) -> str:
    return html.split(f'<tr data-person="{email}" data-rank="')[1].split('"')[0]


def _promote_dee(engine: Engine, person_id: int) -> None:
    with transaction(engine) as s:
        s.execute(
            update(PayeeSummary)
            .where(PayeeSummary.person_id == person_id)
            .values(attainment_ppm=5_000_000, credited_minor=50_000_000, updated_at=utcnow())
        )


def test_a_cached_table_follows_an_event_at_once(patient_client, engine, make_person) -> None:  # type: ignore[no-untyped-def]
    ids = _summaries(engine, make_person, FIGURES)
    sign_in(patient_client, "dee@example.com")
    url = f"/leaderboard?period={PERIOD}"
    assert _rank_of(patient_client.get(url, headers=HTMX).text, "dee@example.com") == "4"
    _promote_dee(engine, ids["dee@example.com"])
    # no event yet: served from memory, as every open board is between deals
    assert _rank_of(patient_client.get(url, headers=HTMX).text, "dee@example.com") == "4"
    patient_client.app.plugins.get(ChannelsPlugin).publish({"event": "payouts.recomputed"}, "payouts")
    deadline = time.monotonic() + 5
    while _rank_of(patient_client.get(url, headers=HTMX).text, "dee@example.com") != "1":
        assert time.monotonic() < deadline, "the listener did not pass the event on"
        time.sleep(0.02)


def test_a_cached_table_is_re_checked_after_the_staleness_bound(
    patient_client,
    engine,
    make_person,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    ids = _summaries(engine, make_person, FIGURES)
    sign_in(patient_client, "dee@example.com")
    url = f"/leaderboard?period={PERIOD}"
    assert _rank_of(patient_client.get(url, headers=HTMX).text, "dee@example.com") == "4"
    _promote_dee(engine, ids["dee@example.com"])
    later = time.monotonic() + 61
    monkeypatch.setattr(TABLES, "_clock", lambda: later)
    # stale: answered at once from what this process has, while the version is re-read in the background
    assert _rank_of(patient_client.get(url, headers=HTMX).text, "dee@example.com") == "4"
    deadline = time.monotonic() + 5
    while _rank_of(patient_client.get(url, headers=HTMX).text, "dee@example.com") != "1":
        assert time.monotonic() < deadline, "the background re-read never landed"
        time.sleep(0.02)


def test_each_viewer_gets_their_own_highlighted_table_from_the_cache(patient_client, engine, make_person) -> None:  # type: ignore[no-untyped-def]
    _summaries(engine, make_person, FIGURES)
    url = f"/leaderboard?period={PERIOD}"
    for email in ("ana@example.com", "bo@example.com", "ana@example.com"):
        patient_client.cookies.clear()
        sign_in(patient_client, email)
        html = patient_client.get(url, headers=HTMX).text
        assert re.findall(r'<tr data-person="([^"]+)" data-rank="\d+" class="me"', html) == [email]


def test_table_cache_is_bounded_and_keyed_by_version() -> None:
    now = [0.0]
    cache = TableCache(max_tables=2, clock=lambda: now[0])
    cache.put("a", 1, "A1")
    assert cache.get("a", 1) == "A1" and cache.get("a", 2) is None
    cache.put("b", 1, "B")
    cache.get("a", 1)  # a is now the most recent
    cache.put("c", 1, "C")
    assert cache.get("b", 1) is None and cache.get("a", 1) == "A1" and cache.get("c", 1) == "C"
    cache.remember_version("Q1", (1, 2))
    assert cache.known_version("Q1", 1.0) == ("fresh", (1, 2))
    assert cache.known_version("Q1", 0) == ("unknown", None)  # no staleness allowed: always read
    now[0] = 1.0
    assert cache.known_version("Q1", 1.0) == ("stale", (1, 2))
    cache.remember_version("Q1", (1, 3))
    assert cache.known_version("Q1", 1.0) == ("fresh", (1, 3))
    cache.figures_changed()
    assert cache.known_version("Q1", 1.0) == ("unknown", None)
    assert cache.known_version("Q2", 1.0) == ("unknown", None)


def test_single_flight_shares_one_call_among_concurrent_callers_and_their_failure() -> None:
    import anyio

    from commissions.core.single_flight import SingleFlight

    flights = SingleFlight()
    calls: list[str] = []

    async def slow(value: str) -> str:
        calls.append(value)
        await anyio.sleep(0.01)
        return value

    async def failing() -> str:
        calls.append("boom")
        await anyio.sleep(0.01)
        raise ValueError("boom")

    async def main() -> None:
        results: list[str] = []
        errors: list[Exception] = []

        async def ask(key: str, call) -> None:  # type: ignore[no-untyped-def]
            try:
                results.append(await flights.run(key, call))
            except ValueError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(ask, "a", lambda: slow("A"))
            for _ in range(3):
                tg.start_soon(ask, "b", failing)
        assert results == ["A"] * 5 and len(errors) == 3
        assert sorted(calls) == ["A", "boom"]
        assert await flights.run("a", lambda: slow("again")) == "again"  # nothing in flight any more: a new call

    # its own thread and event loop: Playwright's sync API may hold this thread's loop when browser tests ran first
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, main).result()


def test_the_table_goes_gzipped_to_browsers_that_accept_it_and_plain_to_others(client, engine, make_person) -> None:  # type: ignore[no-untyped-def]
    _summaries(engine, make_person, FIGURES)
    sign_in(client, "dee@example.com")
    url = f"/leaderboard?period={PERIOD}"
    plain = client.get(url, headers={**HTMX, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and 'data-person="dee@example.com"' in plain.text
    for _ in range(2):  # rendered, then from the cache
        squeezed = client.get(url, headers={**HTMX, "Accept-Encoding": "gzip, deflate, br"})
        assert squeezed.headers["content-encoding"] == "gzip" and squeezed.headers["vary"] == "Accept-Encoding"
        assert squeezed.text == plain.text  # the client un-gzipped it
        assert int(squeezed.headers["content-length"]) < len(plain.content) / 2


def test_the_session_store_memory_reads_through_for_ttl_and_writes_through_at_once() -> None:
    from litestar.stores.memory import MemoryStore

    from commissions.auth.sessions import CachedSessionStore

    async def main() -> None:
        now = [0.0]
        inner = MemoryStore()
        store = CachedSessionStore(inner, ttl=2.0, monotonic=lambda: now[0])
        await store.set("s1", b"ana")
        assert await store.get("s1") == b"ana"
        await inner.delete("s1")  # another process signs ana out
        assert await store.get("s1") == b"ana"  # trusted for ttl seconds
        now[0] = 2.0
        assert await store.get("s1") is None  # then read again: gone
        await inner.set("s2", b"bo")
        assert await store.get("s2") == b"bo"
        await store.delete("s2")  # a sign-out in this process applies at once
        assert await store.get("s2") is None and await inner.get("s2") is None
        await store.set("s3", "cy")
        assert await store.get("s3") == b"cy" and await store.exists("s3")

    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, main).result()


def test_the_session_store_shares_concurrent_misses_and_refreshes_ahead_of_its_ttl() -> None:
    """At expiry under load, a hundred requests must not all read the store at once (the p99 of issue 5)."""
    from litestar.stores.memory import MemoryStore

    from commissions.auth.sessions import CachedSessionStore

    reads: list[str] = []

    class SlowStore(MemoryStore):
        async def get(self, key, renew_for=None):  # type: ignore[no-untyped-def]
            reads.append(key)
            value = await super().get(key, renew_for)
            await anyio.sleep(0.02)  # the value is read; the answer is on its way back
            return value

    async def main() -> None:
        now = [0.0]
        inner = SlowStore()
        store = CachedSessionStore(inner, ttl=2.0, monotonic=lambda: now[0])
        await inner.set("s1", b"ana")
        results: list[bytes | None] = []

        async def ask() -> None:
            results.append(await store.get("s1"))

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(ask)
        assert results == [b"ana"] * 20 and reads == ["s1"]  # one read for twenty misses

        now[0] = 1.5  # past half the ttl: answered from memory at once, re-read behind the answer
        await inner.set("s1", b"ana, renewed elsewhere")
        assert await store.get("s1") == b"ana" and len(reads) == 1
        await anyio.sleep(0.1)
        assert len(reads) == 2
        assert await store.get("s1") == b"ana, renewed elsewhere"  # the renewed memory, no third read
        assert len(reads) == 2

        # a write in this process while a read is in flight: the older read must not overwrite it
        now[0] = 10.0
        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            await anyio.sleep(0.005)
            await store.set("s1", "signed out")
        assert await store.get("s1") == b"signed out"

        # a sign-out while a read is in flight: a request after it must not share that older read
        now[0] = 20.0
        after: list[bytes | None] = []

        async def ask_after_sign_out() -> None:
            await anyio.sleep(0.005)
            await store.delete("s1")
            after.append(await store.get("s1"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            tg.start_soon(ask_after_sign_out)
        assert after == [None]

    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, main).result()


def test_concurrent_requests_past_the_principal_cache_read_the_person_once(
    patient_client,
    make_person,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    import httpx

    make_person("ana@example.com")
    sign_in(patient_client, "ana@example.com")
    cookies = {"qb_session": patient_client.cookies["qb_session"]}
    reads: list[int] = []
    original = middleware._from_session

    def slow_read(engine, data):  # type: ignore[no-untyped-def]
        reads.append(data["pid"])
        time.sleep(0.05)
        return original(engine, data)

    monkeypatch.setattr(middleware, "_from_session", slow_read)
    middleware._principals.clear()
    clock = [time.monotonic()]
    monkeypatch.setattr(middleware, "_clock", lambda: clock[0])

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=patient_client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000", cookies=cookies) as http:

            async def whoami() -> int:
                return (await http.get("/", follow_redirects=False)).status_code

            statuses: list[int] = []

            async def ask() -> None:
                statuses.append(await whoami())

            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(ask)
            assert len(reads) == 1  # twenty requests, one read of the person
            clock[0] += 31  # past half of principal_cache_seconds (60): answered at once, re-read behind
            statuses.append(await whoami())
            await anyio.sleep(0.3)
            assert len(reads) == 2
            statuses.append(await whoami())
            assert len(reads) == 2  # renewed: no read in the way of the next request
            return statuses

    with ThreadPoolExecutor(1) as pool:
        statuses = pool.submit(anyio.run, main).result()
    assert statuses == [200] * 22


def test_a_request_after_deactivation_does_not_share_a_read_from_before_it(
    patient_client,
    engine,
    make_person,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    import httpx

    ana = make_person("ana@example.com")
    sign_in(patient_client, "ana@example.com")
    cookies = {"qb_session": patient_client.cookies["qb_session"]}
    original = middleware._from_session

    def read_then_linger(engine, data):  # type: ignore[no-untyped-def]
        found = original(engine, data)  # read while ana is still active ...
        time.sleep(0.1)  # ... and answered a moment later
        return found

    monkeypatch.setattr(middleware, "_from_session", read_then_linger)
    middleware._principals.clear()

    async def main() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=patient_client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000", cookies=cookies) as http:
            statuses: dict[str, int] = {}

            async def before() -> None:
                statuses["before"] = (await http.get("/", follow_redirects=False)).status_code

            async def after() -> None:
                await anyio.sleep(0.03)
                with transaction(engine) as s:  # an admin deactivates ana in this process
                    set_active(s, s.get(Person, ana.id), False, by=None)
                statuses["after"] = (await http.get("/", follow_redirects=False)).status_code

            async with anyio.create_task_group() as tg:
                tg.start_soon(before)
                tg.start_soon(after)
            return statuses["before"], statuses["after"]

    with ThreadPoolExecutor(1) as pool:
        before, after = pool.submit(anyio.run, main).result()
    assert before == 200
    assert after in (302, 303, 401)
