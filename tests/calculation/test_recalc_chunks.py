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
from commissions.models import CalculationRun, Deal, LedgerTotal, PayoutLine, Period, Person

TODAY = date(2026, 11, 20)


def _unrecomputed_deals(engine: Engine, key: str, prefix: str = "CHUNK") -> None:
    """New won deals written behind the app's back (nothing queued): only a full recalculation sees them."""
    with transaction(engine) as s:
        period = s.exec(select(Period).where(Period.key == key)).one()
        owners = s.exec(select(Deal.owner_id).distinct().order_by(Deal.owner_id).limit(4)).all()
        for n, owner in enumerate(owners):
            s.add(
                Deal(
                    external_id=f"{prefix}-{n}",
                    name=f"{prefix.title()} {n}",
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


def test_a_recalculation_with_nothing_changed_reads_no_stored_lines(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each statement keeps a digest of the lines its computation wrote (``payee_summary.lines_digest``); a
    recalculation that computes the same digest does not read that statement's lines (2.1M at 300k deals)."""
    from commissions.calculation import service

    key = load_demo(engine, today=TODAY).period
    _unrecomputed_deals(engine, key)
    recalc_period(engine, key)
    read: list[set[int]] = []
    real = service._current_lines

    def spy(session, period_id, plan_id, people):  # type: ignore[no-untyped-def]
        read.append(set(people))
        return real(session, period_id, plan_id, people)

    monkeypatch.setattr(service, "_current_lines", spy)
    again = recalc_period(engine, key, chunk_people=4)
    assert again.people == set() and again.computed > 0
    assert read and all(people == set() for people in read)  # asked for nobody's lines
    assert check_period(engine, key).ok

    with transaction(engine) as s:  # behind the app's back: only the new text tells (the amounts are the same)
        deal = s.exec(select(Deal).where(Deal.external_id == "CHUNK-0")).one()
        deal.name = "Renamed deal"
        s.add(deal)
    assert not check_period(engine, key).ok
    read.clear()
    renamed = recalc_period(engine, key, chunk_people=4)
    assert renamed.people and sum(map(len, read)) == len(renamed.people)  # read only the statements that moved
    assert check_period(engine, key).ok


def test_a_deal_recorded_after_the_inputs_were_read_is_never_stored_over(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The chunks compute from the inputs read at the start. A deal recorded (and its owner's statement
    settled) after that read and before the owner's chunk: the chunk's result, computed without the deal,
    is not stored (the owner's input version moved since the read), and the owner is computed again."""
    from commissions.calculation import service
    from commissions.deals.schemas import DealIn
    from commissions.deals.service import record_one

    key = load_demo(engine, today=TODAY).period
    recalc_period(engine, key)
    with Session(engine) as s:
        period = s.exec(select(Period).where(Period.key == key)).one()
        owner_id = s.exec(select(Deal.owner_id).order_by(Deal.owner_id.desc())).first()  # type: ignore[union-attr]
        owner = s.get(Person, owner_id)
        assert owner is not None
        email, start = owner.email, period.starts_on
    real = service.compute
    chunks: list[set[int]] = []

    def compute(session, period_key, *args, **kwargs):  # type: ignore[no-untyped-def]
        chunks.append(set(kwargs.get("person_ids") or ()))
        if len(chunks) == 2:  # the inputs were read before the first chunk: a deal comes in now
            deal = DealIn(external_id="LATE-1", name="Late deal", owner=email, amount="777000", closed_at=start)
            record_one(engine, deal, by=None)
        return real(session, period_key, *args, **kwargs)

    monkeypatch.setattr(service, "compute", compute)
    recalc_period(engine, key, chunk_people=1)
    assert owner_id not in chunks[0] and owner_id not in chunks[1]  # the owner's chunk came after the deal
    result = check_period(engine, key)
    assert result.ok, result.differences[:5]
    with Session(engine) as s:
        late = s.exec(select(Deal.id).where(Deal.external_id == "LATE-1")).one()
        lines = s.exec(select(PayoutLine).where(PayoutLine.deal_id == late, PayoutLine.person_id == owner_id)).all()
    assert sum(line.amount_minor for line in lines) > 0  # the owner's statement has the late deal


def _ledger(engine: Engine) -> list[tuple[object, ...]]:
    """The stored lines, as what they say (ids of runs and rows and the time they were written left out)."""
    with Session(engine) as s:
        rows = s.exec(
            select(
                PayoutLine.person_id,
                PayoutLine.component,
                PayoutLine.kind,
                PayoutLine.deal_id,
                PayoutLine.deal_owner_id,
                PayoutLine.amount_minor,
                PayoutLine.currency,
                PayoutLine.text,
                PayoutLine.basis,
                PayoutLine.plan_version_id,
                PayoutLine.original_period_id,
                PayoutLine.reverses_id.is_(None),  # type: ignore[union-attr]
            ).order_by(PayoutLine.id)
        ).all()
    return [tuple(repr(v) if isinstance(v, dict) else v for v in row) for row in rows]


def test_lines_written_by_copy_read_back_as_lines_written_by_inserts(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL a big batch of ledger rows goes by COPY; the lines it stores are the inserts' own, basis
    (JSON) included, and the running totals and the check agree. On SQLite both runs insert (the same check)."""
    from commissions.core import db
    from tests.conftest import empty_database

    monkeypatch.setattr(db, "COPY_FROM", 10**9)  # every batch inserted
    key = load_demo(engine, today=TODAY).period
    inserted = _ledger(engine)
    empty_database(engine)
    monkeypatch.setattr(db, "COPY_FROM", 1)  # every batch copied (on PostgreSQL)
    assert load_demo(engine, today=TODAY).period == key
    copied = _ledger(engine)
    assert len(copied) > 500 and copied == inserted
    result = check_period(engine, key)
    assert result.ok, result.differences[:5]
    with Session(engine) as s:
        assert s.exec(select(func.sum(LedgerTotal.lines))).one() > 0


def test_a_recalculation_in_forked_processes_stores_what_one_process_stores(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``commissions recalc --processes 2``: the chunks are computed and stored by forked processes sharing the
    inputs read once; the ledger then equals a fresh calculation, every chunk was its own transaction, and a
    second pass finds nothing to change, as with one process."""
    key = load_demo(engine, today=TODAY).period
    _unrecomputed_deals(engine, key)
    assert not check_period(engine, key).ok
    one = recalc_period(engine, key, trigger="one", chunk_people=3, chunk_lines=10, processes=1)
    _unrecomputed_deals(engine, key, "FORKED")  # more, for the forked pass to find
    from commissions.calculation import service

    forks: list[int] = []
    in_processes = service._chunks_in_processes
    monkeypatch.setattr(
        service,
        "_chunks_in_processes",
        lambda *a: forks.append(len(a[3])) or in_processes(*a),  # type: ignore[func-returns-value]
    )
    forked = recalc_period(engine, key, trigger="forked", chunk_people=3, chunk_lines=10, processes=2)
    assert forks and forks[0] > 2  # the chunks went to the forked processes
    assert forked.people and forked.computed == one.computed
    result = check_period(engine, key)
    assert result.ok, result.differences[:5]
    with Session(engine) as s:
        runs = s.exec(select(CalculationRun).where(CalculationRun.trigger == "forked")).all()
    assert len(runs) > 2
    again = recalc_period(engine, key, trigger="again", chunk_people=3, chunk_lines=10, processes=2)
    assert again.people == set() and again.computed == one.computed


def test_a_forked_process_killed_mid_recalculation_stops_it_clearly_and_leaves_a_ledger_to_finish(
    engine: Engine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A process that dies (here: it exits on its third chunk, as the kernel's OOM killer would end it) stops the
    recalculation with a message saying what to do, never a hang; what was stored is whole transactions, and
    running it again leaves the ledger equal to a fresh calculation."""
    import os

    import pytest

    from commissions.calculation import service

    key = load_demo(engine, today=TODAY).period
    _unrecomputed_deals(engine, key)
    chunks_seen = {"n": 0}
    in_chunk = service._recalc_chunk

    def dies_on_the_third(*args: object) -> service.RecomputeReport:
        chunks_seen["n"] += 1  # each process counts its own (forked after the patch)
        if chunks_seen["n"] == 3:
            os._exit(1)
        return in_chunk(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_recalc_chunk", dies_on_the_third)
    with pytest.raises(service.RecalcProcessDied, match="run the recalculation again"):
        recalc_period(engine, key, trigger="killed", chunk_people=3, chunk_lines=10, processes=2)
    monkeypatch.setattr(service, "_recalc_chunk", in_chunk)
    recalc_period(engine, key, trigger="again", chunk_people=3, chunk_lines=10, processes=2)
    result = check_period(engine, key)
    assert result.ok, result.differences[:5]
    with Session(engine) as s:
        for row in s.exec(select(LedgerTotal)).all():  # the running totals are whole: no chunk half-booked
            assert row.lines >= 0


def test_forked_processes_on_sqlite_take_turns_storing_however_long_a_store_takes(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SQLite has one writer: a forked process's ``BEGIN IMMEDIATE`` waited only the busy timeout for the other's
    store, and a first recalculation of 20,000 people failed with "database is locked" (its stores are longer
    than that). Here every store holds the write lock 0.3 s against a busy timeout of 50 ms."""
    import time

    import pytest

    from commissions.calculation import service
    from commissions.core.db import make_engine

    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL stores of different people go on side by side")
    key = load_demo(engine, today=TODAY).period
    _unrecomputed_deals(engine, key)
    impatient = make_engine(str(engine.url), busy_timeout_ms=50)
    in_store = service.store

    def slow_store(*args: object, **kwargs: object) -> service.RecomputeReport:
        report = in_store(*args, **kwargs)  # type: ignore[arg-type]
        time.sleep(0.3)  # still inside the store's transaction: the write lock held
        return report

    monkeypatch.setattr(service, "store", slow_store)
    try:
        report = recalc_period(impatient, key, trigger="turns", chunk_people=3, chunk_lines=10, processes=2)
    finally:
        impatient.dispose()
    assert report.people
    result = check_period(engine, key)
    assert result.ok, result.differences[:5]
