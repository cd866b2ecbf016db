"""Shared set-up for the finance tests: the worked example with a finance person and tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from commissions.calculation.ledger import current_lines_query
from commissions.models import PayeeSummary, PayoutLine, Period, Person
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import read
from tests.deals.test_deals_api import token_for

__all__ = ["example_deal", "ledger_of", "lines_in", "period_row", "person_id", "setup_books", "snapshot", "statement"]


def setup_books(engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """ana and bo (reports of mia) on the worked example's plan, quota 100000 each in 2026-Q1; fin is finance."""
    make_person("mia@example.com", "manager")
    make_person("ana@example.com", manager="mia@example.com")
    make_person("bo@example.com", manager="mia@example.com")
    make_person("fin@example.com", "finance")
    make_person("root@example.com", "admin")
    store_plan(engine, ["ana@example.com", "bo@example.com"])
    store_quota(engine, "ana@example.com", 100_000)
    store_quota(engine, "bo@example.com", 100_000)
    return {
        "crm": token_for(engine, "admin"),
        "finance": token_for(engine, "finance", "fin@example.com"),
        "rep": token_for(engine, "rep", "ana@example.com"),
        "manager": token_for(engine, "manager", "mia@example.com"),
        "admin": token_for(engine, "admin", "root@example.com"),
    }


def person_id(engine: Engine, email: str) -> int:
    return read(engine, lambda s: s.exec(select(Person.id).where(Person.email == email)).one())


def period_row(engine: Engine, key: str) -> Period | None:
    return read(engine, lambda s: s.exec(select(Period).where(Period.key == key)).first())


def snapshot(engine: Engine, key: str) -> tuple[list[tuple], list[tuple]]:
    """Every ledger row and summary of a period, as plain tuples (byte-for-byte comparison)."""

    def take(s) -> tuple[list[tuple], list[tuple]]:  # type: ignore[no-untyped-def]
        pid = s.exec(select(Period.id).where(Period.key == key)).one()
        lines = [
            tuple(row.model_dump().items())
            for row in s.exec(select(PayoutLine).where(PayoutLine.period_id == pid).order_by(PayoutLine.id)).all()
        ]
        summaries = [
            tuple(row.model_dump().items())
            for row in s.exec(select(PayeeSummary).where(PayeeSummary.period_id == pid).order_by(PayeeSummary.id)).all()
        ]
        return lines, summaries

    return read(engine, take)


def lines_in(engine: Engine, email: str, key: str) -> list[PayoutLine]:
    """The lines in force of a person in a period."""
    pid = person_id(engine, email)
    return read(
        engine,
        lambda s: list(
            s.exec(
                current_lines_query(pid, s.exec(select(Period.id).where(Period.key == key)).one()).order_by(
                    PayoutLine.id
                )
            ).all()
        ),
    )


def ledger_of(engine: Engine, email: str, key: str) -> list[PayoutLine]:
    pid = person_id(engine, email)
    return read(
        engine,
        lambda s: list(
            s.exec(
                select(PayoutLine)
                .join(Period, Period.id == PayoutLine.period_id)
                .where(PayoutLine.person_id == pid, Period.key == key)
                .order_by(PayoutLine.id)
            ).all()
        ),
    )


def statement(client, headers: dict[str, str], email: str, key: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/statements/{email}?period={key}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
