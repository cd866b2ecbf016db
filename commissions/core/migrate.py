"""Run Alembic from code (CLI, app start-up, tests) without an alembic.ini lookup by the caller."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect, text

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

#: Revision ids before the migrations were numbered in the order they run (issue 15): a database upgraded
#: then still names its revision by the old id, which is translated before Alembic reads it. The new ids carry
#: their subject, so no old id can be mistaken for a new one.
OLD_REVISION_IDS = {
    "0001": "0001_core_domain",
    "0002": "0002_payee_summary",
    "0003": "0003_recompute_queue",
    "0004": "0004_leaderboard_snapshots",
    "0005": "0005_badges",
    "0006": "0006_contests",
    "0008": "0007_disputes",
    "0009": "0008_finance",
    "0011": "0009_marketing",
    "0010": "0010_hardening",
    "0012": "0011_statement_state",
    "0013": "0012_deal_approval",
    "0014": "0013_sign_in_limits_and_password",
}


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(engine: Engine | None, url: str | None, action, *args) -> None:  # type: ignore[no-untyped-def]
    config = alembic_config(url)
    if engine is None:  # the CLI: an engine of its own for the URL (or the settings'), closed afterwards
        from commissions.core.db import make_engine
        from commissions.core.settings import get_settings

        own = make_engine(url or get_settings().database_url)
        try:
            _run(own, url, action, *args)
        finally:
            own.dispose()
        return
    if engine.dialect.name == "sqlite":  # BEGIN IMMEDIATE: the write lock before the current revision is read
        engine = engine.execution_options(quotaboard_immediate=True)
    with engine.connect() as connection, _sqlite_foreign_keys_off(connection), connection.begin():
        one_migrator_at_a_time(connection)
        adopt_old_revision_ids(connection)
        config.attributes["connection"] = connection
        action(config, *args)
        _check_foreign_keys(connection)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite's way to change a table others refer to (https://www.sqlite.org/lang_altertable.html): foreign
    keys off *outside* the transaction, the migration copies and drops the table (Alembic's batch mode), the
    references are checked before the commit (``_check_foreign_keys``), and foreign keys go back on. With them
    on, dropping the old copy of a table that rows refer to is refused (ON DELETE RESTRICT), so every such
    migration would fail on a database in use and pass on the empty databases of the tests."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")  # no transaction is open yet: the pragma takes effect
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")


#: The PostgreSQL advisory lock every migration run takes (an arbitrary constant: "QBMIGRAT").
MIGRATION_LOCK = 0x5142_4D49_4752_4154


def one_migrator_at_a_time(connection: Connection) -> None:
    """Two processes migrating at once (two replicas starting together) take turns: the second waits for
    the first's commit, then finds the database at head and does nothing. PostgreSQL: a transaction-level
    advisory lock; SQLite: the write lock that ``BEGIN IMMEDIATE`` took."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def adopt_old_revision_ids(connection: Connection) -> None:
    """Rename an old revision id in ``alembic_version`` to the id the same migration has now."""
    if not inspect(connection).has_table("alembic_version"):
        return
    for (current,) in connection.execute(text("SELECT version_num FROM alembic_version")).all():
        if current in OLD_REVISION_IDS:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
                {"new": OLD_REVISION_IDS[current], "old": current},
            )


def upgrade(revision: str = "head", *, engine: Engine | None = None, url: str | None = None) -> None:
    _run(engine, url, command.upgrade, revision)


def downgrade(revision: str = "base", *, engine: Engine | None = None, url: str | None = None) -> None:
    _run(engine, url, command.downgrade, revision)


def head_revisions() -> set[str]:
    """The revision(s) the code's migrations end at (what a current database is at)."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    """The revision(s) the database is at (empty before the first migration)."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version")).all()}
