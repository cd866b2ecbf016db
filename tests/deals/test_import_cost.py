"""What an import costs grows with its rows, not with their square (docs/benchmarks.md, session 15): re-importing
deals that exist (a CRM's new export) scanned every object the import had loaded once per row, and every row
asked twice whether a subscription wants its events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Mapper

from commissions.core import outbox
from commissions.deals.csv_import import import_deals

HEADER = "external_id,name,account,owner,amount,currency,closed_at,type,product,term_months,source_campaign,status,cancelled_at,splits\n"


def csv(rows: int, amount: int) -> bytes:
    lines = [
        f"R-{k},Deal {k},Acct,{'ana' if k % 2 else 'bo'}@example.com,{amount + k},USD,2026-02-{1 + k % 28:02d},new,Pro,12,,won,,"
        for k in range(rows)
    ]
    return (HEADER + "\n".join(lines) + "\n").encode()


@pytest.fixture
def people(make_person: Any) -> None:
    make_person("ana@example.com")
    make_person("bo@example.com")


def _identity_map_scans(engine: Engine, rows: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many times SQLAlchemy compared a loaded object's class while ``rows`` existing deals were re-imported
    with new amounts (what an ORM statement's ``synchronize_session="evaluate"`` does for every loaded object)."""
    assert import_deals(engine, csv(rows, 1000), by=None, commit=True).created == rows
    calls = 0
    real = Mapper.isa

    def counting(self: Mapper[Any], other: Mapper[Any]) -> bool:
        nonlocal calls
        calls += 1
        return real(self, other)

    monkeypatch.setattr(Mapper, "isa", counting)
    report = import_deals(engine, csv(rows, 2000), by=None, commit=True)
    monkeypatch.setattr(Mapper, "isa", real)
    assert report.updated == rows
    return calls


def test_a_reimport_of_existing_deals_costs_in_proportion_to_its_rows(
    engine: Engine, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = _identity_map_scans(engine, 40, monkeypatch)
    with engine.begin() as conn:  # start again with twice the rows
        conn.exec_driver_sql("DELETE FROM audit_event")
        conn.exec_driver_sql("DELETE FROM deal_split")
        conn.exec_driver_sql("DELETE FROM deal")
    large = _identity_map_scans(engine, 80, monkeypatch)
    assert large <= 2 * small + 80, (small, large)  # linear: was about 4 times (every row scanned every deal)


def test_an_import_asks_once_per_event_type_whether_anyone_wants_it(
    engine: Engine, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real = outbox.wanted

    def counting(session: Any, type: str) -> bool:
        asked.append(type)
        return real(session, type)

    monkeypatch.setattr(outbox, "wanted", counting)
    assert import_deals(engine, csv(60, 1000), by=None, commit=True).created == 60
    assert sorted(asked) == ["deal.credited", "deal.recorded"]  # was 120 (twice per row)
