"""Backups, restores and moving a SQLite install to PostgreSQL (issue 20): consistent, checked, never destructive by surprise."""

from __future__ import annotations

import os
import threading
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, func, select, text
from sqlmodel import Session

from commissions.app.extensions import load_extensions
from commissions.calculation.check import check_period
from commissions.cli import main
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.demo import load_demo
from commissions.maintenance import copy as copying
from commissions.maintenance.backup import BackupError, backup, restore
from commissions.maintenance.copy import copy_database
from commissions.models import Deal, PayeeSummary, PayoutLine, Person
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES, postgres_schema_url

load_extensions()  # the leaderboard's tables are part of an install
TODAY = date(2026, 2, 15)


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def demo_sqlite(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = make_engine(url)
    upgrade(engine=engine)
    load_demo(engine, today=TODAY)
    yield url, engine
    engine.dispose()


def test_a_sqlite_backup_is_a_checked_copy_taken_while_writers_write(demo_sqlite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, engine = demo_sqlite
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:  # a busy app: people keep being added while the backup runs
        n = 0
        while not stop.is_set():
            with transaction(engine) as session:
                session.add(Person(email=f"new{n}@example.com", name=f"New {n}"))
            n += 1
            written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = backup(url, tmp_path / "copy.db")
    finally:
        stop.set()
        thread.join()
    assert report.kind == "sqlite" and report.tables > 30 and report.revision
    copy = make_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    with copy.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    # one consistent moment: every statement and line of the live database, the people up to some instant
    assert count(copy, PayoutLine) == count(engine, PayoutLine) > 0
    assert count(copy, PayeeSummary) == count(engine, PayeeSummary)
    assert count(copy, Person) <= count(engine, Person)
    copy.dispose()
    # and it restores to a consistent database: every statement equals a fresh calculation
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    restored = make_engine(restored_url)
    restore(restored_url, tmp_path / "copy.db", restored)
    with restored.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        keys = (
            connection.execute(
                text("SELECT period_key FROM statement_state UNION SELECT period_key FROM statement_result")
            )
            .scalars()
            .all()
        )
    assert keys
    for key in keys:
        result = check_period(restored, key)
        assert result.differences == [], (key, result.differences[:3])
    restored.dispose()


def test_a_backup_never_overwrites_a_file(demo_sqlite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, _ = demo_sqlite
    target = tmp_path / "taken.db"
    target.write_bytes(b"somebody's file")
    with pytest.raises(BackupError, match="exists"):
        backup(url, target)
    assert target.read_bytes() == b"somebody's file"


def test_restore_refuses_to_replace_data_without_force_then_puts_the_backup_back(demo_sqlite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, engine = demo_sqlite
    backup(url, tmp_path / "before.db")
    deals = count(engine, Deal)
    with transaction(engine) as session:  # a mistake after the backup
        session.exec(text("DELETE FROM payout_line"))  # type: ignore[call-overload]
    with pytest.raises(BackupError, match="--force"):
        restore(url, tmp_path / "before.db", engine)
    assert count(engine, PayoutLine) == 0  # refused: nothing changed
    restore(url, tmp_path / "before.db", engine, force=True)
    assert count(engine, PayoutLine) > 0
    assert count(engine, Deal) == deals


def test_a_damaged_or_foreign_file_is_refused_before_anything_is_replaced(demo_sqlite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, engine = demo_sqlite
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match=r"not a SQLite database|cannot be opened"):
        restore(url, junk, engine, force=True)
    foreign = tmp_path / "foreign.db"
    other = create_engine(f"sqlite:///{foreign}")
    with other.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    other.dispose()
    with pytest.raises(BackupError, match="not a Quotaboard database"):
        restore(url, foreign, engine, force=True)
    assert count(engine, PayoutLine) > 0


def test_the_cli_says_what_went_wrong(demo_sqlite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from commissions.core.settings import get_settings

    url, _ = demo_sqlite
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        made = runner.invoke(main, ["backup", str(tmp_path / "b.db")])
        assert made.exit_code == 0, made.output
        assert "checked" in made.output
        again = runner.invoke(main, ["backup", str(tmp_path / "b.db")])
        assert again.exit_code == 1 and "exists" in again.output
        refused = runner.invoke(main, ["restore", str(tmp_path / "b.db")])
        assert refused.exit_code == 1 and "--force" in refused.output
    finally:
        get_settings.cache_clear()


needs_postgres = pytest.mark.skipif(SKIP_POSTGRES, reason="PostgreSQL is not available (QUOTABOARD_SKIP_POSTGRES=1)")


@needs_postgres
def test_copying_sqlite_into_an_empty_postgresql_keeps_every_row_and_statement(demo_sqlite) -> None:  # type: ignore[no-untyped-def]
    _, source = demo_sqlite
    target = make_engine(postgres_schema_url(f"qb_copy_{os.getpid()}"))
    try:
        report = copy_database(source, target)
        assert report.rows["payout_line"] == count(source, PayoutLine) > 0
        assert report.statements_compared == count(source, PayeeSummary) > 0
        assert report.periods_checked  # the ledger equals a fresh calculation on the copy
        for model in (Person, Deal, PayoutLine, PayeeSummary):
            assert count(target, model) == count(source, model)
        with transaction(target) as session:  # the copy takes new rows: its ids carry on after the copied ones
            person = Person(email="after-the-move@example.com", name="After")
            session.add(person)
            session.flush()
            assert person.id is not None and person.id > count(source, Person)
        with pytest.raises(BackupError, match="holds data"):  # never into a database in use
            copy_database(source, target)
    finally:
        target.dispose()


@needs_postgres
def test_a_copy_that_lost_a_row_is_not_trusted(demo_sqlite, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _, source = demo_sqlite
    target = make_engine(postgres_schema_url(f"qb_copy_bad_{os.getpid()}"))
    original = copying._copy_table

    def lossy(source: Engine, target: Engine, table, later):  # type: ignore[no-untyped-def]
        copied = original(source, target, table, later)
        if table.name == "payout_line":
            with target.begin() as connection:
                connection.execute(text("DELETE FROM payout_line WHERE id = (SELECT max(id) FROM payout_line)"))
        return copied

    monkeypatch.setattr(copying, "_copy_table", lossy)
    try:
        with pytest.raises(BackupError, match="payout_line"):
            copy_database(source, target, check=False)
    finally:
        target.dispose()


@needs_postgres
def test_a_postgresql_backup_is_a_checked_pg_dump_and_restores(tmp_path: Path) -> None:
    name = f"qb_backup_{os.getpid()}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:
        upgrade(engine=engine)
        load_demo(engine, today=TODAY)
        lines = count(engine, PayoutLine)
        report = backup(url, tmp_path / "pay.dump")
        assert report.kind == "postgresql" and report.revision and report.tables > 30
        with transaction(engine) as session:
            session.exec(text("DELETE FROM payout_line"))  # type: ignore[call-overload]
        with pytest.raises(BackupError, match="--force"):
            restore(url, tmp_path / "pay.dump", engine)
        restore(url, tmp_path / "pay.dump", engine, force=True)
        assert count(engine, PayoutLine) == lines > 0
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
