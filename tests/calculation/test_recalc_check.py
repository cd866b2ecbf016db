"""The self-audit: `commissions recalc --check` recomputes a period in memory, names every difference
from what is stored (person, component, stored, fresh), exits 1 on any and writes nothing but its
audit event; the finance period page and `GET /api/v1/periods/{p}` show it, the pending recomputes
and whose calculation failed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text, update
from sqlmodel import select

from commissions.calculation.check import check_period
from commissions.calculation.queue import drain
from commissions.cli import main
from commissions.core.db import transaction
from commissions.models import AuditEvent, LedgerTotal, PayeeSummary, PayoutLine, StatementResult
from tests.conftest import read, sign_in
from tests.finance_fixtures import example_deal, lines_in, person_id, setup_books, snapshot

Q1 = "2026-Q1"


@pytest.fixture
def books(client, engine: Engine, make_person, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, str]]:
    """The worked example, computed and quiet; the command talks to this test's database."""
    import commissions.calculation.check

    monkeypatch.setattr(commissions.calculation.check, "get_engine", lambda: engine)
    tokens = setup_books(engine, make_person)
    for body in (
        example_deal("D-1", "60000", "2026-01-10"),
        example_deal("D-2", "45000", "2026-02-03", product="Enterprise", term_months=36),
        example_deal("B-1", "30000", "2026-02-10", owner="bo@example.com"),
    ):
        assert client.post("/api/v1/deals", json=body, headers=tokens["crm"]).status_code == 201
    drain(engine)
    return tokens


def recalc_check(key: str = Q1):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["recalc", "--period", key, "--check"])


def checks(engine: Engine) -> list[AuditEvent]:
    return read(
        engine,
        lambda s: list(
            s.exec(select(AuditEvent).where(AuditEvent.action == "period.checked").order_by(AuditEvent.id)).all()
        ),
    )


def test_a_clean_period_has_0_differences_and_the_check_writes_nothing_else(books, engine: Engine) -> None:
    before = snapshot(engine, Q1)
    result = recalc_check()
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("0 differences")
    assert "2 statement(s) checked" in result.output  # ana and bo on the plan
    assert snapshot(engine, Q1) == before  # not one ledger line or summary written
    [event] = checks(engine)
    assert event.object_id == Q1 and event.detail["differences"] == 0 and event.detail["checked"] is True


def test_a_changed_stored_amount_is_named_with_person_component_stored_and_fresh(books, engine: Engine) -> None:
    line = next(x for x in lines_in(engine, "ana@example.com", Q1) if x.component == "Commission")
    with transaction(engine) as s:  # tampering behind the app's back: 100.00 more than the engine says
        s.execute(update(PayoutLine).where(PayoutLine.id == line.id).values(amount_minor=line.amount_minor + 10_000))
        s.execute(  # and its running total with it: only the statement differs from the engine
            update(LedgerTotal)
            .where(LedgerTotal.person_id == line.person_id, LedgerTotal.component == "Commission")
            .values(amount_minor=LedgerTotal.amount_minor + 10_000)
        )
    before = snapshot(engine, Q1)
    result = recalc_check()
    assert result.exit_code == 1, result.output
    stored, fresh = (
        sum_of(engine, "ana@example.com", "Commission"),
        sum_of(engine, "ana@example.com", "Commission") - 10_000,
    )
    assert (f"ana@example.com [AE 2026] Commission: stored {money(stored)}, fresh {money(fresh)}") in result.output
    assert "bo@example.com" not in result.output  # only what differs
    assert result.output.strip().endswith("1 difference")
    assert snapshot(engine, Q1) == before
    [event] = checks(engine)
    assert event.detail["differences"] == 1
    assert event.detail["first"] == [
        {
            "person": "ana@example.com",
            "plan": "AE 2026",
            "component": "Commission",
            "stored": money(stored),
            "fresh": money(fresh),
        }
    ]


def test_a_planted_line_for_someone_no_calculation_pays_is_found(books, engine: Engine) -> None:
    mia = person_id(engine, "mia@example.com")  # a manager on no plan: nothing should pay her
    ana_line = lines_in(engine, "ana@example.com", Q1)[0]
    with transaction(engine) as s:
        s.add(
            PayoutLine(
                person_id=mia,
                period_id=ana_line.period_id,
                plan_version_id=ana_line.plan_version_id,
                component="Commission",
                kind="earning",
                amount_minor=12_345,
                currency="USD",
                text="planted",
            )
        )
    result = recalc_check()
    assert result.exit_code == 1
    assert "mia@example.com [AE 2026] Commission: stored 123.45 USD, fresh not paid" in result.output


def test_lines_that_differ_with_the_same_sum_are_named(books, engine: Engine) -> None:
    line = next(x for x in lines_in(engine, "ana@example.com", Q1) if x.deal_id is not None)
    with transaction(engine) as s:
        s.execute(update(PayoutLine).where(PayoutLine.id == line.id).values(text="Something else entirely"))
    result = recalc_check()
    assert result.exit_code == 1
    assert f"ana@example.com [AE 2026] {line.component} (lines): stored D-" in result.output
    assert "'Something else entirely'" in result.output and f"'{line.text}'" in result.output


def test_a_changed_summary_total_is_found(books, engine: Engine) -> None:
    ana = person_id(engine, "ana@example.com")
    with transaction(engine) as s:
        s.execute(update(PayeeSummary).where(PayeeSummary.person_id == ana).values(total_minor=1))
    result = recalc_check()
    assert result.exit_code == 1
    assert "ana@example.com [AE 2026] total: stored 0.01 USD, fresh " in result.output


def test_a_locked_period_is_not_recomputed(books, client, engine: Engine) -> None:
    for step in ("approve", "lock"):
        assert client.post(f"/api/v1/periods/{Q1}/{step}", headers=books["finance"]).status_code == 200
    result = recalc_check()
    assert result.exit_code == 0
    assert "locked: not recomputed" in result.output


def test_a_bad_period_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["recalc", "--period", "2026-Q9", "--check"])
    assert result.exit_code == 2


def test_pending_recomputes_are_said_not_hidden(books, client, engine: Engine) -> None:
    """A change the worker has not applied yet: the check shows the difference and says it may be work in progress."""
    from commissions.models import Quota

    ana = person_id(engine, "ana@example.com")
    response = client.put(
        "/api/v1/quotas",
        json=[{"person": "ana@example.com", "metric": "bookings", "period": Q1, "target": "50000"}],
        headers=books["admin"],
    )
    assert response.status_code == 200, response.text
    assert read(engine, lambda s: s.exec(select(Quota.target_minor).where(Quota.person_id == ana)).one()) == 5_000_000
    result = recalc_check()
    assert result.exit_code == 1
    assert "ana@example.com [AE 2026] Commission" in result.output
    assert "1 statement(s) of 2026-Q1 are waiting for a recompute" in result.output
    drain(engine)
    assert recalc_check().exit_code == 0


def test_the_period_page_and_api_show_pending_failures_and_the_last_check(books, client, engine: Engine) -> None:
    fin = books["finance"]
    shown = client.get(f"/api/v1/periods/{Q1}", headers=fin).json()
    assert shown["pending"] == 0 and shown["failed"] == [] and shown["last_check"] is None

    assert recalc_check().exit_code == 0
    ana, bo = person_id(engine, "ana@example.com"), person_id(engine, "bo@example.com")
    with transaction(engine) as s:  # a change not yet recomputed, and a failure as the worker records one
        from commissions.calculation.state import touch

        touch(s, {ana}, {Q1})
        s.execute(
            update(StatementResult)
            .where(StatementResult.person_id == bo, StatementResult.period_key == Q1)
            .values(error="Deal B-9: currency EUR is not paid by plan AE 2026 (USD)")
        )
    shown = client.get(f"/api/v1/periods/{Q1}", headers=fin).json()
    assert shown["pending"] == 1
    assert shown["failed"] == [
        {"person": "bo@example.com", "error": "Deal B-9: currency EUR is not paid by plan AE 2026 (USD)"}
    ]
    assert shown["last_check"]["differences"] == 0 and shown["last_check"]["checked"] is True
    assert shown["last_check"]["statements"] == 2 and shown["last_check"]["at"]

    sign_in(client, "fin@example.com")
    page = client.get(f"/finance/periods/{Q1}").text
    assert "1 statement pending" in page
    assert "bo@example.com" in page and "currency EUR is not paid by plan AE 2026" in page
    assert "Last check:" in page and "0 differences" in page

    with transaction(engine) as s:
        s.execute(text("UPDATE payout_line SET amount_minor = amount_minor + 1 WHERE person_id = :p"), {"p": bo})
    from tests.conftest import csrf_from

    done = client.post(f"/finance/periods/{Q1}/check", data={"_csrf_token": csrf_from(client)}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(f"/finance/periods/{Q1}").text
    assert "Last check:" in page and "differences</strong>" in page
    last = client.get(f"/api/v1/periods/{Q1}", headers=fin).json()["last_check"]
    assert last["differences"] == check_period_differences(engine) > 0
    assert checks(engine)[-1].actor_label == "fin@example.com"


def test_the_command_runs_as_installed(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DATA_DIR": str(tmp_path)}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "commissions.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run("db", "upgrade").returncode == 0
    checked = run("recalc", "--period", Q1, "--check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "2026-Q1: 0 statement(s) checked, 0 differences"


def check_period_differences(engine: Engine) -> int:
    return len(check_period(engine, Q1).differences)


def sum_of(engine: Engine, email: str, component: str) -> int:
    return sum(x.amount_minor for x in lines_in(engine, email, Q1) if x.component == component)


def money(minor: int) -> str:
    from commissions.core.money import format_money

    return format_money(minor, "USD")


def test_a_running_total_that_drifted_from_its_lines_is_named(books, engine: Engine) -> None:
    """The running totals (what period totals, the finance dashboard and payroll read) are checked against
    the lines in force: a total changed behind the ledger's back is a difference, even with every line right."""
    with transaction(engine) as s:
        s.execute(
            update(LedgerTotal)
            .where(LedgerTotal.person_id == person_id(engine, "bo@example.com"), LedgerTotal.component == "Commission")
            .values(amount_minor=LedgerTotal.amount_minor + 1)
        )
    result = recalc_check()
    assert result.exit_code == 1, result.output
    assert "bo@example.com [AE 2026] running total of Commission (earning, USD): stored" in result.output
    assert "ana@example.com" not in result.output
    assert result.output.strip().endswith("1 difference")
