"""A full recalculation goes through the people of a period a bounded chunk at a time, each chunk in its own
transaction (issue 16: one transaction of 2.1M lines took 5.4 GiB), and stores exactly what one pass stores."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from commissions.calculation.check import check_period
from commissions.calculation.service import _weighted_chunks, recalc_period
from commissions.core.db import transaction
from commissions.demo import load_demo
from commissions.models import CalculationRun, Deal, LedgerTotal, Period, Person

TODAY = date(2026, 11, 20)


def _unrecomputed_deals(engine: Engine, key: str) -> None:
    """New won deals written behind the app's back (nothing queued): only a full recalculation sees them."""
    with transaction(engine) as s:
        period = s.exec(select(Period).where(Period.key == key)).one()
        owners = s.exec(select(Deal.owner_id).distinct().order_by(Deal.owner_id).limit(4)).all()
        for n, owner in enumerate(owners):
            s.add(
                Deal(
                    external_id=f"CHUNK-{n}",
                    name=f"Chunked {n}",
                    owner_id=owner,
                    amount_minor=1_234_500 + n,
                    currency="USD",
                    closed_at=period.starts_on,
                    status="won",
                )
            )


def test_a_chunked_recalculation_stores_what_the_engine_computes_one_transaction_per_chunk(engine: Engine) -> None:
    key = load_demo(engine, today=TODAY).period
    _unrecomputed_deals(engine, key)
    assert not check_period(engine, key).ok  # the new deals are not in the stored statements yet
    with Session(engine) as s:
        runs_before = s.exec(select(func.count()).select_from(CalculationRun)).one()
        people = s.exec(select(func.count()).select_from(Person)).one()

    report = recalc_period(engine, key, trigger="chunked", chunk_people=3, chunk_lines=10)

    assert report.people  # the owners of the new deals and their managers changed
    result = check_period(engine, key)
    assert result.ok, result.differences[:5]
    with Session(engine) as s:
        runs = s.exec(select(CalculationRun).where(CalculationRun.trigger == "chunked")).all()
        assert s.exec(select(func.count()).select_from(CalculationRun)).one() == runs_before + len(runs)
    assert len(runs) > 1 and len(runs) >= people // 3 // 2  # many transactions, never one for everyone
    again = recalc_period(engine, key, trigger="again", chunk_people=3, chunk_lines=10)
    assert again.people == set() and again.computed == report.computed  # nothing left to change


def test_chunks_hold_at_most_so_many_people_and_about_so_many_lines() -> None:
    weights = {1: 50, 2: 5, 3: 5, 4: 5, 5: 100, 6: 1}
    assert _weighted_chunks([1, 2, 3, 4, 5, 6, 7], weights, 20, 2) == [[1], [2, 3], [4], [5], [6, 7]]
    assert _weighted_chunks([1, 2, 3], {}, 20, 500) == [[1, 2, 3]]  # a first computation: no lines yet
    assert _weighted_chunks([], weights, 20, 2) == []


def test_the_running_totals_are_the_lines_after_a_chunked_recalculation(engine: Engine) -> None:
    key = load_demo(engine, today=TODAY).period
    _unrecomputed_deals(engine, key)
    recalc_period(engine, key, chunk_people=2, chunk_lines=5)
    with Session(engine) as s:
        rows = s.exec(select(LedgerTotal).where(LedgerTotal.lines > 0)).all()
    assert rows and check_period(engine, key).ok  # the check compares every running total with its lines
