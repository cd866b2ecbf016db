"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from QUOTABOARD_TEST_POSTGRES_URL (default: the local server,
database ``test``). If it is unreachable the PostgreSQL half of the suite fails,
never skips: set QUOTABOARD_SKIP_POSTGRES=1 to run SQLite only, knowingly.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.stores.memory import MemoryStore
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

import commissions.models  # noqa: F401
from commissions.app.assembly import create_app
from commissions.core import mail
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.core.settings import Settings
from commissions.models import Person
from commissions.models.base import metadata
from commissions.people.service import create_person


def pytest_configure(config: pytest.Config) -> None:
    """The collector, tuned for a test process: each test builds an app (381 handlers), and the collector's
    full passes rescanned every module imported so far on each of them, 40 % of building it (0.61 -> 0.35 s,
    measured; half of the suite's time was fixtures). What is loaded by now is frozen out of its scans, and
    a full pass comes after 20 M allocations rather than 0.5 M. Cyclic garbage is still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


POSTGRES_URL = os.environ.get("QUOTABOARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SKIP_POSTGRES = os.environ.get("QUOTABOARD_SKIP_POSTGRES") == "1"
BACKENDS = ["sqlite"] if SKIP_POSTGRES else ["sqlite", "postgres"]
PASSWORD = "correct horse battery"


_SCHEMAS_MADE: list[str] = []  # by this process: dropped when its session ends (``_drop_the_schemas_made``)


def postgres_schema_url(schema: str) -> str:
    """The test database with its own schema, so test runs never touch other tables in ``test``."""
    _SCHEMAS_MADE.append(schema)
    base = create_engine(POSTGRES_URL)
    try:
        with base.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is unreachable ({exc.__class__.__name__}): start it or set QUOTABOARD_SKIP_POSTGRES=1"
        )
    finally:
        base.dispose()
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


def fresh_database_url(backend: str, tmp_path: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / (name + '.db')}"
    return postgres_schema_url(re.sub(r"\W", "_", f"qb_{name}_{os.getpid()}").lower())


@pytest.fixture(autouse=True)
def _period_window_around_the_suites_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's fixtures are dated 2026: the period window (two years back, one ahead) is centred on
    a fixed day so that they stay inside it whatever day the suite runs (tests of the window set their own)."""
    from datetime import date

    from commissions.core import periods as keys

    monkeypatch.setattr(keys, "today", lambda: date(2026, 12, 4))


@pytest.fixture(scope="session", autouse=True)
def _drop_the_schemas_made() -> Iterator[None]:
    """A run's schemas go when it ends: left behind, a hundred runs' worth slowed the same PostgreSQL for whatever
    ran next (a benchmark's p95 52 ms against 44 ms once they were dropped). A schema still in use elsewhere is
    left after a short wait rather than holding the run's end."""
    yield
    if not _SCHEMAS_MADE:
        return
    base = create_engine(POSTGRES_URL)
    try:
        for schema in dict.fromkeys(_SCHEMAS_MADE):
            try:
                with base.begin() as conn:
                    conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            except Exception:  # cleaning up: a schema left behind is no failure of the run
                continue
    finally:
        base.dispose()


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2() -> Iterator[None]:
    """Still Argon2id, with test-sized cost parameters: production keeps pwdlib's defaults."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from commissions.auth import passwords

    original = passwords._hasher
    passwords._hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    yield
    passwords._hasher = original


@pytest.fixture(scope="session", params=BACKENDS)
def db_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = fresh_database_url(request.param, tmp_path_factory.mktemp("db"), "suite")
    engine = make_engine(url)
    upgrade(engine=engine)
    yield engine
    engine.dispose()


def _forget_process_caches() -> None:
    """Caches that trust the database not to be emptied under a running process (true outside tests)."""
    from commissions.calculation import loader
    from commissions.core import stored_versions
    from leaderboard import service as leaderboard_service
    from leaderboard.table_cache import TABLES

    leaderboard_service._SNAPSHOTS_SEEN.clear()
    TABLES.clear()
    loader._PARSED.clear()  # keyed by plan version id: another database reuses the ids
    stored_versions.forget()  # keyed by a stored version: an emptied database starts it again


@pytest.fixture
def engine(db_engine: Engine) -> Iterator[Engine]:
    """The suite's database, emptied after each test (and the process's memory of it forgotten)."""
    yield db_engine
    empty_database(db_engine)


def empty_database(db_engine: Engine) -> None:
    """Delete every row (and forget the process's memory of them)."""
    _forget_process_caches()
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    if db_engine.dialect.name == "postgresql":
        # DELETE with the foreign-key triggers off, then every sequence of the schema back to 1: what TRUNCATE ...
        # RESTART IDENTITY does, in 4 ms instead of 100 (TRUNCATE makes new files for all 50 tables; once per test).
        # Switching the triggers off takes a superuser, as the suite's PostgreSQL user is; TRUNCATE otherwise.
        with db_engine.begin() as conn:
            if conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar():
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                conn.exec_driver_sql("; ".join(f'DELETE FROM "{t}"' for t in tables))
                conn.exec_driver_sql(
                    "SELECT setval(s.oid, 1, false) FROM pg_class s"
                    " WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace"
                )
            else:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        return
    raw = db_engine.raw_connection()  # autocommit: RESTRICT keys are checked per row, so switch them off
    try:
        raw.execute("PRAGMA foreign_keys=OFF")
        for table in tables:
            raw.execute(f'DELETE FROM "{table}"')
        raw.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path, database_url="sqlite://", secret_key="t" * 40)


#: Apps already built in this process, with the database and the settings each was built for: building one
#: registers 381 handlers (0.3 s) and about 1,600 tests take the ``app`` fixture, so a test borrows an app
#: built for equal settings.
_BUILT_APPS: list[tuple[Engine, dict[str, object], Litestar]] = []


def _shaping(settings: Settings) -> dict[str, object]:
    """What of the settings shapes an app as it is built (the data directory holds files only outside tests).
    Secrets stay ``SecretStr``, which compare by their values."""
    return settings.model_copy(deep=True).model_dump(exclude={"data_dir"})


def _run_apart(work: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to its end on a thread of its own: this one may have an event loop running already
    (the browser tests' Playwright keeps one for the worker's whole session)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work).result()


def _as_new(app: Litestar, settings: Settings) -> Litestar:
    """A borrowed app made as a fresh one would be: its in-memory stores emptied (sign-in sessions, import
    previews, webhook junk counts), the test's own settings object in its state (tests that change a setting
    after building the app expect the app to see it), and mail configured from it."""
    for name in ("sessions", "imports", "throttle"):
        store = app.stores.get(name)
        assert isinstance(store, MemoryStore), f"a test app keeps {name} in memory"
        _run_apart(store.delete_all())
    app.state["settings"] = settings
    mail.configure(settings)
    return app


@pytest.fixture
def app(engine: Engine, settings: Settings) -> Litestar:
    shaping = _shaping(settings)
    for built_for, built_with, built in _BUILT_APPS:
        if built_for is engine and built_with == shaping:
            return _as_new(built, settings)
    built = create_app(settings, engine=engine)
    _BUILT_APPS.append((engine, shaping, built))
    del _BUILT_APPS[:-4]  # settings made per test (a port of their own) would otherwise keep every app alive
    return built


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient]:
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
def make_person(engine: Engine):  # type: ignore[no-untyped-def]
    def make(
        email: str,
        role: str = "rep",
        *,
        manager: str | None = None,
        team: str | None = None,
        password: str | None = PASSWORD,
    ) -> Person:
        with transaction(engine) as session:
            return create_person(
                session,
                email=email,
                role=role,
                name=email.split("@")[0].title(),
                manager_email=manager,
                team_name=team,
                password=password,
            )

    return make


def csrf_from(client: TestClient) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/login")
    return client.cookies["csrftoken"]


def sign_in(client: TestClient, email: str, password: str = PASSWORD, *, next_path: str = "/"):  # type: ignore[no-untyped-def]
    token = csrf_from(client)
    return client.post(
        "/login",
        data={"email": email, "password": password, "next": next_path, "_csrf_token": token},
        follow_redirects=False,
    )


def read(engine: Engine, fn):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return fn(session)
