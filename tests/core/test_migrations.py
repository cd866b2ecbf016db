"""Alembic is the only way the schema changes: both directions work, and models match migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from commissions.core.db import make_engine
from commissions.core.migrate import downgrade, head_revisions, upgrade
from commissions.models.base import metadata
from tests.conftest import BACKENDS, fresh_database_url

CORE_TABLES = {
    "team",
    "person",
    "period",
    "quota",
    "campaign",
    "deal",
    "deal_split",
    "custom_field",
    "plan",
    "plan_version",
    "plan_assignment",
    "calculation_run",
    "payout_line",
    "adjustment",
    "api_token",
    "audit_event",
}


def _diff(engine) -> list:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, metadata)


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_downgrade_upgrade_and_models_agree(backend: str, tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url(backend, tmp_path, "migrations"))
    try:
        upgrade(engine=engine)
        assert set(inspect(engine).get_table_names()) >= CORE_TABLES
        assert _diff(engine) == [], "models and migrations disagree: run alembic revision --autogenerate"

        downgrade("base", engine=engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        upgrade(engine=engine)
        assert set(inspect(engine).get_table_names()) >= CORE_TABLES
        assert _diff(engine) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_database_enforces_constraints(backend: str, tmp_path: Path) -> None:
    """Checks live in the database, not only in Python: a raw INSERT that breaks one is refused."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    engine = make_engine(fresh_database_url(backend, tmp_path, "constraints"))
    try:
        upgrade(engine=engine)
        bad_statements = [
            "INSERT INTO person (email, name, role, active, session_version, created_at) "
            "VALUES ('x@y.com', 'X', 'emperor', true, 1, CURRENT_TIMESTAMP)",
            "INSERT INTO person (email, name, role, active, session_version, created_at) "
            "VALUES ('Upper@Y.com', 'X', 'rep', true, 1, CURRENT_TIMESTAMP)",
            "INSERT INTO period (key, kind, starts_on, ends_on, state) VALUES ('2026-Q1', 'quarter', '2026-03-31', '2026-01-01', 'open')",
            "INSERT INTO period (key, kind, starts_on, ends_on, state) VALUES ('2026-Q1', 'quarter', '2026-01-01', '2026-03-31', 'closed')",
        ]
        for statement in bad_statements:
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(statement))
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO person (email, name, role, active, session_version, created_at) "
                    "VALUES ('a@y.com', 'A', 'rep', true, 1, CURRENT_TIMESTAMP)"
                )
            )
        with pytest.raises(IntegrityError), engine.begin() as conn:  # unique email
            conn.execute(
                text(
                    "INSERT INTO person (email, name, role, active, session_version, created_at) "
                    "VALUES ('a@y.com', 'A2', 'rep', true, 1, CURRENT_TIMESTAMP)"
                )
            )
        with pytest.raises(IntegrityError), engine.begin() as conn:  # deal owner must exist
            conn.execute(
                text(
                    "INSERT INTO deal (external_id, name, account, owner_id, amount_minor, currency, closed_at, type, product,"
                    " status, custom_fields, body_hash, created_at, updated_at) VALUES ('D-1', 'n', '', 999, 100, 'USD',"
                    " '2026-01-01', 'new', '', 'won', '{}', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
    finally:
        engine.dispose()


def test_cli_db_upgrade_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    db_file = tmp_path / "fresh" / "quotaboard.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_file}"}
    result = subprocess.run(
        [sys.executable, "-m", "commissions.cli", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "upgraded" in result.stdout
    engine = make_engine(f"sqlite:///{db_file}")
    assert set(inspect(engine).get_table_names()) >= CORE_TABLES
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_a_database_with_people_in_teams_keeps_them(backend: str, tmp_path: Path) -> None:
    """Every migration after the first ones runs on databases in use: a team with members, a plan, a deal
    (a migration that copies and drops a table others refer to fails there, never on an empty test database)."""
    from sqlalchemy import text

    engine = make_engine(fresh_database_url(backend, tmp_path, "populated"))
    try:
        upgrade("0012_deal_approval", engine=engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO team (name, kind, created_at) VALUES ('East', 'sales', CURRENT_TIMESTAMP)"))
            team_id = conn.execute(text("SELECT id FROM team")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO person (email, name, role, team_id, active, session_version, created_at) "
                    "VALUES ('mia@example.com', 'Mia', 'manager', :t, true, 1, CURRENT_TIMESTAMP)"
                ),
                {"t": team_id},
            )
            manager_id = conn.execute(text("SELECT id FROM person")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO person (email, name, role, team_id, manager_id, active, session_version, created_at) "
                    "VALUES ('ana@example.com', 'Ana', 'rep', :t, :m, true, 1, CURRENT_TIMESTAMP)"
                ),
                {"t": team_id, "m": manager_id},
            )
        upgrade(engine=engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT email, team_id FROM person ORDER BY email")).all()
            assert rows == [("ana@example.com", team_id), ("mia@example.com", team_id)]
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == sorted(
                head_revisions()
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_migration_runs_started_together_apply_once(backend: str, tmp_path: Path) -> None:
    """Two replicas starting at once both run ``commissions db upgrade`` (deploy/entrypoint.sh): one migrates,
    the other waits for it and finds nothing to do; neither fails on a table the other created."""
    url = fresh_database_url(backend, tmp_path, "together")
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "commissions.cli", "db", "upgrade"]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outcomes = [(run.wait(timeout=180), run.stderr.read() if run.stderr else "") for run in runs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
        assert versions == sorted(head_revisions())  # one row: applied once, at head
        assert set(inspect(engine).get_table_names()) >= CORE_TABLES
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_named_by_the_old_revision_ids_upgrades(backend: str, tmp_path: Path) -> None:
    """Before issue 15 the migrations' ids were out of order (marketing was 0011 and ran before 0010); a database
    upgraded then names its revision by the old id. Halfway (old 0011: marketing, not yet hardening) it goes on from
    there; at the old head it is at the new head."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from commissions.core.migrate import OLD_REVISION_IDS, alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert OLD_REVISION_IDS["0014"] == "0013_sign_in_limits_and_password"  # the old head, now one before the head
    engine = make_engine(fresh_database_url(backend, tmp_path, "old_ids"))
    try:
        upgrade("0009_marketing", engine=engine)
        assert "webhook_integration" not in inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0011'"))  # the old id of marketing
        upgrade(engine=engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        assert _diff(engine) == []

        downgrade(OLD_REVISION_IDS["0014"], engine=engine)  # as a database upgraded to the old head was
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0014'"))  # the old head's old id
        upgrade(engine=engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    finally:
        engine.dispose()


def test_the_migrations_are_numbered_in_the_order_they_run() -> None:
    from alembic.script import ScriptDirectory

    from commissions.core.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    chain = [revision.revision for revision in reversed(list(script.walk_revisions()))]
    assert [int(revision[:4]) for revision in chain] == list(range(1, len(chain) + 1))
    files = sorted(path.name for path in (Path(script.dir) / "versions").glob("*.py"))
    assert [name.split("_")[1] for name in files] == [revision[:4] for revision in chain]
