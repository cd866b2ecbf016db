"""Faults: a crash half-way through an import, a recalculation or a period lock leaves the
database exactly as it was; a lock racing a deal delivery never loses or doubles the deal.

Each test snapshots every table (every row, in primary-key order) before the fault and
compares after it, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Engine, text

from commissions.calculation import service as calculation
from commissions.core import audit
from commissions.core.db import transaction
from commissions.core.principal import Principal
from commissions.deals import csv_import, ingest
from commissions.deals.schemas import DealIn
from commissions.deals.service import record_one
from commissions.models.base import metadata
from commissions.periods import workflow
from tests.adjustments.test_locked_periods import deal_id, post, prior_lines
from tests.finance_fixtures import example_deal, lines_in, period_row, setup_books

FINANCE = Principal(role="finance", person_id=None, email="fin@example.com", name="Fin")
CSV_HEADER = "external_id,name,account,owner,amount,currency,closed_at\n"


class Boom(RuntimeError):
    """The injected crash."""


def everything(engine: Engine, *, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but ``skip``), in primary-key order."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in skip:
                continue
            order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns) or "1"
            out[table.name] = [
                tuple(row) for row in conn.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))
            ]
    return out


def crash_on_call(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, *, after: int = 0) -> list[int]:
    """Make ``owner.name`` raise Boom on its (after+1)-th call; the calls before it run normally."""
    original = getattr(owner, name)
    calls = [0]

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] > after:
            raise Boom(f"{name} crashed on call {calls[0]}")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, crashing)
    return calls


def test_a_crash_in_the_middle_of_an_import_leaves_the_database_as_it_was(
    client,
    engine: Engine,
    make_person,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    tokens = setup_books(engine, make_person)
    post(client, tokens, "D-1", "60000", "2026-01-10")
    before = everything(engine)
    rows = "".join(f"I-{n},Deal {n},Acme,ana@example.com,{1000 * n}.00,USD,2026-02-{n:02d}\n" for n in range(1, 6))
    calls = crash_on_call(monkeypatch, ingest.DealWriter, "write", after=3)  # rows 1-3 written, row 4 crashes
    with pytest.raises(Boom):
        csv_import.import_deals(engine, (CSV_HEADER + rows).encode(), by=FINANCE, commit=True)
    assert calls[0] == 4
    assert everything(engine) == before


def test_a_crash_in_the_middle_of_a_recalculation_leaves_the_database_as_it_was(
    client,
    engine: Engine,  # type: ignore[no-untyped-def]
    make_person,
    monkeypatch,
) -> None:
    tokens = setup_books(engine, make_person)
    post(client, tokens, "D-1", "60000", "2026-01-10")
    post(client, tokens, "D-2", "30000", "2026-02-10", owner="bo@example.com")
    with transaction(engine) as s:  # change a figure behind the ledger's back, so the recalculation has work to do
        s.execute(text("UPDATE deal SET amount_minor = amount_minor * 2"))
    before = everything(engine)
    crash_on_call(monkeypatch, calculation, "_summary", after=1)  # the first person's lines and summary are written
    with pytest.raises(Boom):
        calculation.recalc_period(engine, "2026-Q1")
    assert everything(engine) == before


def test_a_crash_in_the_middle_of_a_period_lock_leaves_the_database_as_it_was(
    client,
    engine: Engine,  # type: ignore[no-untyped-def]
    make_person,
    monkeypatch,
) -> None:
    tokens = setup_books(engine, make_person)
    post(client, tokens, "D-1", "60000", "2026-01-10")
    assert client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"]).status_code == 200
    before = everything(engine)
    # the state is set and flushed, then the audit record crashes: the whole step must roll back
    crash_on_call(monkeypatch, workflow, "record_event")
    with pytest.raises(Boom), transaction(engine) as s:
        workflow.transition(s, key="2026-Q1", action="lock", actor=FINANCE)
    assert everything(engine) == before
    assert period_row(engine, "2026-Q1").state == "approved"
    monkeypatch.setattr(workflow, "record_event", audit.record_event)
    assert client.post("/api/v1/periods/2026-Q1/lock", headers=tokens["finance"]).status_code == 200


@pytest.mark.parametrize("lock_first", [True, False])
def test_a_lock_racing_a_deal_post_never_loses_or_doubles_the_deal(
    client,
    engine: Engine,
    make_person,  # type: ignore[no-untyped-def]
    lock_first: bool,
) -> None:
    """Both orders, each forced: the deal is either in 2026-Q1 before the lock, or an adjustment
    in 2026-Q2 after it, exactly once. A deal landing first changes the approved figures, so the
    period is open again and the lock is refused until finance approves the new figures."""
    tokens = setup_books(engine, make_person)
    post(client, tokens, "D-1", "60000", "2026-01-10")
    assert client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"]).status_code == 200
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            record_one(engine, DealIn(**example_deal("D-9", "30000", "2026-02-15")), by=None)
        except BaseException as exc:
            errors.append(exc)

    def lock() -> None:
        try:
            with transaction(engine) as s:
                workflow.transition(s, key="2026-Q1", action="lock", actor=FINANCE)
        except BaseException as exc:
            errors.append(exc)

    if lock_first:
        with transaction(engine) as s:  # hold the period's lock, then let the delivery start and wait for it
            workflow.transition(s, key="2026-Q1", action="lock", actor=FINANCE)
            racer = threading.Thread(target=deliver)
            racer.start()
    else:
        deliver()
        racer = threading.Thread(target=lock)
        racer.start()
    racer.join(60)
    assert not racer.is_alive()
    d9 = deal_id(engine, "D-9")
    in_q1 = [x for x in lines_in(engine, "ana@example.com", "2026-Q1") if x.deal_id == d9]
    adjusted = [x for x in prior_lines(engine) if x.deal_id == d9]
    if lock_first:
        assert errors == []
        assert (in_q1, [x.amount_minor for x in adjusted]) == ([], [300_000])
        assert period_row(engine, "2026-Q1").state == "locked"
    else:
        assert [type(e).__name__ for e in errors] == ["Conflict"]  # approve the new figures first
        assert in_q1 != [] and adjusted == []
        assert period_row(engine, "2026-Q1").state == "open"


def test_free_races_between_lock_and_delivery_always_count_the_deal_once(
    client,
    engine: Engine,  # type: ignore[no-untyped-def]
    make_person,
) -> None:
    tokens = setup_books(engine, make_person)
    post(client, tokens, "D-1", "60000", "2026-01-10")
    assert client.post("/api/v1/periods/2026-Q1/approve", headers=tokens["finance"]).status_code == 200
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver() -> None:
        start.wait()
        try:
            record_one(engine, DealIn(**example_deal("D-9", "30000", "2026-02-15")), by=None)
        except BaseException as exc:
            errors.append(exc)

    def lock() -> None:
        start.wait()
        try:
            with transaction(engine) as s:
                workflow.transition(s, key="2026-Q1", action="lock", actor=FINANCE)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver), threading.Thread(target=lock)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    locked = period_row(engine, "2026-Q1").state == "locked"
    # the lock either won (the deal is an adjustment) or lost to the deal and was refused (re-approve first)
    assert [type(e).__name__ for e in errors] == ([] if locked else ["Conflict"])
    d9 = deal_id(engine, "D-9")
    in_q1 = sum(x.amount_minor for x in lines_in(engine, "ana@example.com", "2026-Q1") if x.deal_id == d9)
    adjusted = sum(x.amount_minor for x in prior_lines(engine) if x.deal_id == d9)
    # 60000 + 30000 of a 100000 quota at 10%: the deal earns 3000.00, once, wherever it landed
    assert in_q1 + adjusted == 300_000 and 0 in (in_q1, adjusted)
    assert (adjusted == 300_000) == locked
