"""Deliveries that arrive together are written together (issue 14, ingestion under load).

One transaction per batch: a refused deal leaves no trace and does not stop the others (it is
refused before it writes; one that fails after it began writing makes the batch run again, a
delivery at a time); a repeated external id in one batch is recorded as if the two had come one
after the other; the people credited are computed before the answer; a manager's lines are
not rewritten by every new deal of the team; and on PostgreSQL deal writers share the
period lock that the period workflow takes alone.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, text
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from commissions.calculation.check import check_period
from commissions.calculation.queue import drain
from commissions.calculation.state import freshness
from commissions.core.db import transaction
from commissions.core.periods import lock_period
from commissions.core.principal import Principal
from commissions.core.rounds import Rounds
from commissions.deals.ingest import DealError
from commissions.deals.schemas import DealIn
from commissions.deals.service import _Delivery, _record_and_settle, _record_batch, record_one, take_period_locks
from commissions.models import AuditEvent, Deal, PayoutLine, Person
from tests.calc_fixtures import store_plan, store_quota
from tests.conftest import read
from tests.finance_fixtures import person_id

TEAM_PLAN = """\
name: Managers
currency: USD
period: quarter
quota: bookings
credit: {scope: team}
components:
  - name: Team attainment
    kind: tiered
    mode: retroactive
    tiers: [{to: 100%, rate: 0.5%}, {rate: 0.8%}]
  - {name: Override, kind: override, rate: 1%}
"""

CRM = Principal(role="admin", person_id=None, email=None, name="crm", via_token=True)
REPS = ["ana@example.com", "bo@example.com"]


def deal(external_id: str, owner: str = "ana@example.com", amount: int = 10_000, day: int = 10) -> DealIn:
    return DealIn(external_id=external_id, owner=owner, amount=Decimal(amount), closed_at=date(2026, 2, day))


@pytest.fixture
def team(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("mia@example.com", "manager")
    for email in REPS:
        make_person(email, manager="mia@example.com")
    store_plan(engine, REPS)
    store_plan(engine, ["mia@example.com"], document=TEAM_PLAN, name="Managers")
    for email in REPS:
        store_quota(engine, email, 100_000)
    store_quota(engine, "mia@example.com", 150_000)


def test_a_refused_deal_in_a_batch_leaves_no_trace_and_the_others_land(engine: Engine, team: None) -> None:
    batch = [
        _Delivery(deal("B-1"), CRM),
        _Delivery(deal("B-2", owner="nobody@example.com"), CRM),
        _Delivery(deal("B-3", owner="bo@example.com"), CRM),
    ]
    _record_batch(engine, batch)
    assert [d.result.outcome if d.result else None for d in batch] == ["created", None, "created"]
    assert isinstance(batch[1].error, DealError) and "nobody@example.com" in str(batch[1].error)
    stored = read(engine, lambda s: sorted(s.exec(select(Deal.external_id)).all()))
    assert stored == ["B-1", "B-3"]
    audited = read(
        engine, lambda s: sorted(s.exec(select(AuditEvent.object_id).where(AuditEvent.object_type == "deal")).all())
    )
    assert audited == ["B-1", "B-3"]  # the refused one wrote nothing, not even its audit row


def test_a_delivery_failing_after_it_began_writing_is_undone_and_the_others_land_alone(
    engine: Engine, team: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commissions.deals import service

    real = service.book_locked

    def failing(session, result, **kwargs):  # type: ignore[no-untyped-def]
        if result.deal is not None and result.deal.external_id == "H-2":
            raise RuntimeError("the disk is full")
        return real(session, result, **kwargs)

    monkeypatch.setattr(service, "book_locked", failing)
    batch = [
        _Delivery(deal("H-1"), CRM),
        _Delivery(deal("H-2"), CRM),
        _Delivery(deal("H-3", owner="bo@example.com"), CRM),
    ]
    _record_batch(engine, batch)
    assert [d.result.outcome if d.result else None for d in batch] == ["created", None, "created"]
    assert isinstance(batch[1].error, RuntimeError)
    assert read(engine, lambda s: sorted(s.exec(select(Deal.external_id)).all())) == ["H-1", "H-3"]
    assert read(
        engine, lambda s: sorted(s.exec(select(AuditEvent.object_id).where(AuditEvent.object_type == "deal")).all())
    ) == ["H-1", "H-3"]


def test_the_same_external_id_twice_in_one_batch_is_recorded_in_order(engine: Engine, team: None) -> None:
    batch = [
        _Delivery(deal("B-9", amount=10_000), CRM),
        _Delivery(deal("B-9", amount=12_000), CRM),
        _Delivery(deal("B-9", amount=12_000), CRM),
    ]
    _record_batch(engine, batch)
    assert [d.result.outcome for d in batch] == ["created", "updated", "unchanged"]
    amounts = read(engine, lambda s: s.exec(select(Deal.amount_minor).where(Deal.external_id == "B-9")).all())
    assert amounts == [1_200_000]


def test_two_callers_sending_the_same_new_deal_in_one_batch_are_recorded_in_order(engine: Engine, team: None) -> None:
    """Each caller has its own writer; the first one's held-back insert is stored before the second looks."""
    finance = Principal(role="finance", person_id=None, email=None, name="another integration", via_token=True)
    batch = [
        _Delivery(deal("T-1", amount=10_000), CRM),
        _Delivery(deal("T-1", amount=11_000), finance),
        _Delivery(deal("T-2"), CRM),
    ]
    _record_batch(engine, batch)
    assert [d.error for d in batch] == [None, None, None]
    assert [d.result.outcome for d in batch] == ["created", "updated", "created"]
    assert read(engine, lambda s: s.exec(select(Deal.amount_minor).where(Deal.external_id == "T-1")).all()) == [
        1_100_000
    ]


def test_concurrent_deliveries_are_answered_with_their_statements_computed(engine: Engine, team: None) -> None:
    errors: list[BaseException] = []
    results: dict[str, str] = {}

    def post(n: int) -> None:
        try:
            result, out = record_one(
                engine, deal(f"C-{n}", owner=REPS[n % 2], amount=1_000 + n, day=1 + n % 27), by=CRM
            )
            results[out.external_id] = result.outcome
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results.values()) == ["created"] * 24
    reps = read(engine, lambda s: dict(s.exec(select(Person.email, Person.id).where(Person.email.in_(REPS))).all()))
    for email in REPS:  # the people a deal credits are computed before the answer; managers wait for the worker
        assert read(engine, lambda s, e=email: freshness(s, reps[e], "2026-Q1")).pending is False
    drain(engine)
    assert check_period(engine, "2026-Q1").differences == []


def test_a_new_deal_does_not_rewrite_the_managers_lines_it_leaves_unchanged(engine: Engine, team: None) -> None:
    for n in range(5):
        record_one(engine, deal(f"M-{n}", owner=REPS[n % 2]), by=CRM)
    drain(engine)
    mia = read(engine, lambda s: s.exec(select(Person.id).where(Person.email == "mia@example.com")).one())

    def reversals() -> int:
        return read(
            engine,
            lambda s: s.exec(
                select(func.count())
                .select_from(PayoutLine)
                .where(PayoutLine.person_id == mia, PayoutLine.kind == "reversal")
            ).one(),
        )

    before = reversals()
    record_one(engine, deal("M-new", amount=1_000), by=CRM)  # attainment moves, no tier is crossed
    drain(engine)
    assert reversals() == before
    assert check_period(engine, "2026-Q1").differences == []


def test_rounds_take_everyone_who_joined_before_the_round_started() -> None:
    rounds: Rounds[int] = Rounds()
    first_running, release = threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def run(items: list[int]) -> int:
        seen.append(sorted(items))
        if items == [0]:
            first_running.set()
            release.wait(5)
        return len(items)

    led: dict[int, bool] = {}
    threads = [
        threading.Thread(target=lambda n=n: led.__setitem__(n, rounds.join("slot", n, run)[0])) for n in range(6)
    ]
    threads[0].start()
    assert first_running.wait(5)
    for thread in threads[1:]:
        thread.start()
    while True:  # the five others wait for the next round
        with rounds._lock:
            waiting = rounds._gathering.get("slot")
            if waiting is not None and len(waiting.items) == 5:
                break
    release.set()
    for thread in threads:
        thread.join(5)
    assert seen == [[0], [1, 2, 3, 4, 5]]
    assert sum(led.values()) == 2 and led[0] is True


def test_on_postgresql_deal_writers_share_the_period_lock_the_workflow_takes_alone(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite writes are serial")
    with transaction(engine) as first:
        take_period_locks(first, {date(2026, 2, 3)})
        with transaction(engine) as second:  # another delivery of the same period does not wait
            second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            take_period_locks(second, {date(2026, 2, 20)})
        with pytest.raises(OperationalError), transaction(engine) as workflow:  # approve/lock would wait
            workflow.execute(text("SET LOCAL lock_timeout = '200ms'"))
            lock_period(workflow, "2026-Q1")


def test_a_round_led_by_an_unchanged_delivery_still_reports_what_it_recomputed(engine: Engine, team: None) -> None:
    """The round's reports go to a delivery whose request announces them (``deals.events`` says nothing for an
    unchanged one), so the leaderboard hears of the new deal even when a repeat came first."""
    _record_and_settle(engine, [_Delivery(deal("U-1"), CRM)])
    batch = [_Delivery(deal("U-1"), CRM), _Delivery(deal("U-2", owner="bo@example.com"), CRM)]
    _record_and_settle(engine, batch)
    repeat, new = (d.result for d in batch)
    assert repeat is not None and new is not None
    assert repeat.outcome == "unchanged" and repeat.reports == []
    assert new.outcome == "created"
    assert [report.people for report in new.reports] == [{person_id(engine, "bo@example.com")}]
