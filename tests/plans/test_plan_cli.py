"""`commissions plan apply PLAN.yaml [--effective-from DATE] [--assign EMAIL ...]`: plans as code."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import select

from commissions.core.db import get_engine, make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.core.settings import get_settings
from commissions.models import AuditEvent, Period, Plan, PlanAssignment, PlanVersion
from commissions.people.service import create_person
from commissions.plans.cli import plan_group
from commissions.plans.service import default_effective_from
from tests.conftest import BACKENDS, fresh_database_url, read
from tests.plans.test_plans import AE, AE_V2


@pytest.fixture(params=BACKENDS)
def cli_db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fresh database (SQLite, PostgreSQL) that the CLI finds through DATABASE_URL (settings and engine are cached)."""
    url = fresh_database_url(request.param, tmp_path, "plan_cli")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = make_engine(url)
    upgrade(engine=engine)
    with transaction(engine) as session:
        for email in ("ana@example.com", "bo@example.com"):
            create_person(session, email=email, role="rep")
    yield engine
    engine.dispose()
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def run(tmp_path: Path, text: str, *args: str, name: str = "ae.yaml"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(plan_group, ["apply", str(path), *args], catch_exceptions=False)


def counts(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    return read(
        engine,
        lambda s: tuple(s.exec(select(func.count()).select_from(m)).one() for m in (Plan, PlanVersion, PlanAssignment)),
    )


def test_apply_creates_the_plan_assigns_people_and_prints_what_it_did(cli_db, tmp_path: Path) -> None:
    result = run(
        tmp_path, AE, "--effective-from", "2026-01-01", "--assign", "ana@example.com", "--assign", "BO@example.com"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "AE 2026: created the plan (USD, quarter periods) with version 1, effective from 2026-01-01",
        "ana@example.com: assigned to AE 2026 from 2026-01-01",
        "bo@example.com: assigned to AE 2026 from 2026-01-01",
    ]
    assert counts(cli_db) == (1, 1, 2)
    assert read(cli_db, lambda s: s.exec(select(PlanVersion.document)).one()) == AE
    actors = read(
        cli_db, lambda s: s.exec(select(AuditEvent.actor_label).where(AuditEvent.action.like("plan.%"))).all()
    )
    assert actors == ["cli: plan apply"] * 3


def test_assign_takes_several_emails_after_it_as_cli_md_writes_it(cli_db, tmp_path: Path) -> None:
    """cli.md: ``[--assign EMAIL ...]``. ``--assign a b`` was "Got unexpected extra arguments (b)"."""
    result = run(tmp_path, AE, "--effective-from", "2026-01-01", "--assign", "ana@example.com", "bo@example.com")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "ana@example.com: assigned to AE 2026 from 2026-01-01",
        "bo@example.com: assigned to AE 2026 from 2026-01-01",
    ]
    assert counts(cli_db) == (1, 1, 2)
    stray = CliRunner().invoke(plan_group, ["apply", str(tmp_path / "ae.yaml"), "ana@example.com"])
    assert stray.exit_code == 2 and "write the emails to assign after --assign" in stray.stderr


def test_apply_again_is_unchanged_and_a_new_text_is_the_next_version(cli_db, tmp_path: Path) -> None:
    run(tmp_path, AE, "--effective-from", "2026-01-01", "--assign", "ana@example.com")
    again = run(tmp_path, AE, "--effective-from", "2026-01-01", "--assign", "ana@example.com")
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        "AE 2026: unchanged (identical to version 1, effective from 2026-01-01); nothing stored",
        "ana@example.com: already on AE 2026 from 2026-01-01",
    ]
    assert counts(cli_db) == (1, 1, 1)
    newer = run(tmp_path, AE_V2, "--effective-from", "2026-04-01")
    assert newer.exit_code == 0, newer.output
    assert newer.output.strip() == "AE 2026: saved version 2, effective from 2026-04-01"
    assert counts(cli_db) == (1, 2, 1)


def test_effective_from_defaults_to_the_current_period_start(cli_db, tmp_path: Path) -> None:
    result = run(tmp_path, AE, "--assign", "ana@example.com")
    assert result.exit_code == 0, result.output
    start = default_effective_from("quarter", date.today())
    assert read(cli_db, lambda s: s.exec(select(PlanVersion.effective_from)).one()) == start
    assert read(cli_db, lambda s: s.exec(select(PlanAssignment.starts_on)).one()) == start
    assert f"from {start.isoformat()}" in result.output


def test_an_invalid_plan_exits_2_naming_file_component_and_field(cli_db, tmp_path: Path) -> None:
    bad = AE.replace("{to: 150%, rate: 15%}", "{to: 80%, rate: 15%}").replace("kind: bonus", "kind: jackpot")
    result = run(tmp_path, bad, "--assign", "ana@example.com", name="bad plan.yaml")
    assert result.exit_code == 2
    path = tmp_path / "bad plan.yaml"
    assert f"{path}: component 'Commission', tiers[1].to: tier bounds must rise (80% after 100%)" in result.stderr
    assert f"{path}: component 'Quota club', kind: unknown kind 'jackpot'" in result.stderr
    assert result.stdout == ""
    assert counts(cli_db) == (0, 0, 0)


def test_an_unknown_email_stores_nothing(cli_db, tmp_path: Path) -> None:
    result = run(
        tmp_path, AE, "--effective-from", "2026-01-01", "--assign", "ana@example.com", "--assign", "nobody@example.com"
    )
    assert result.exit_code == 2
    assert "--assign: no person with email nobody@example.com; nothing stored" in result.stderr
    assert counts(cli_db) == (0, 0, 0)
    assert (
        read(
            cli_db,
            lambda s: s.exec(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("plan.%"))
            ).one(),
        )
        == 0
    )


def test_a_locked_period_is_refused_with_exit_1(cli_db, tmp_path: Path) -> None:
    with transaction(cli_db) as session:
        session.add(
            Period(key="2026-Q1", kind="quarter", starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 31), state="locked")
        )
    result = run(tmp_path, AE, "--effective-from", "2026-01-01", "--assign", "ana@example.com")
    assert result.exit_code == 1
    assert "refused, nothing stored: effective_from: period 2026-Q1 is locked" in result.stderr
    assert counts(cli_db) == (0, 0, 0)


def test_a_missing_file_or_a_bad_date_is_bad_input(cli_db, tmp_path: Path) -> None:
    missing = CliRunner().invoke(plan_group, ["apply", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "nope.yaml: cannot read the plan" in missing.stderr
    bad_date = run(tmp_path, AE, "--effective-from", "2026-13-01")
    assert bad_date.exit_code == 2 and "--effective-from" in bad_date.stderr
    assert counts(cli_db) == (0, 0, 0)
