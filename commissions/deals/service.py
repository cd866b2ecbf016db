"""Deal transactions: one delivery in one short transaction (retried if a concurrent delivery
won the race), then the statements of the people it credits brought up to date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from commissions.calculation.loader import PLANS_UNCHANGED, periods_touching
from commissions.calculation.settle import round_trigger, settle_together
from commissions.calculation.state import touch
from commissions.core import stored_versions
from commissions.core.db import RACES, write, write_session
from commissions.core.periods import CLOSED_STATES, lock_period
from commissions.core.principal import Principal
from commissions.core.rounds import Rounds
from commissions.custom_fields.service import check_deal
from commissions.deals.ingest import DealWriter, RecordResult, closed_periods, deal_out
from commissions.deals.schemas import DealIn, DealOut
from commissions.models import Deal, Period

ATTEMPTS = 3


def take_period_locks(session: Session, days: set[date]) -> frozenset[str]:
    """Serialise with the period workflow (a lock in flight) before reading any period's state.

    Shared, so deliveries do not wait for each other; exclusive when a day falls in a locked or
    paid period (its prior-period adjustment reads, then books, into the next open period).
    Keys are taken in sorted order so two deliveries never wait for each other in a cycle.
    Returns the periods now locked (``touch`` then need not lock them again).
    """
    keys = periods_touching(session, days)
    closed = set(
        session.exec(select(Period.key).where(col(Period.key).in_(keys), col(Period.state).in_(CLOSED_STATES))).all()
    )
    for key in sorted(keys):
        lock_period(session, key, shared=not closed)
    # the plans a delivery checks are read under the locks, so a plan change committed while this waited is
    # seen (the catalogue's version was read before them: read it again)
    stored_versions.read_again(session)
    return frozenset(keys)


def book_locked(session: Session, result: RecordResult, *, by: Principal | None, trigger: str) -> set[str]:
    """Book prior-period adjustments for the locked periods a deal change touches; returns the other keys."""
    from commissions.adjustments.prior_period import book_locked_change

    open_keys = set()
    closed = {period.key for period in closed_periods(session)}  # read under the period locks: they stay so
    for key in sorted(periods_touching(session, result.days)):
        if key not in closed:
            open_keys.add(key)
            continue
        period = session.exec(select(Period).where(Period.key == key).execution_options(populate_existing=True)).first()
        if period is not None and period.state in CLOSED_STATES:
            result.booked.append(
                book_locked_change(
                    session,
                    period=period,
                    people=result.people | result.chain,
                    deal=result.deal,
                    what=f"deal {result.deal.external_id if result.deal else ''}",
                    actor=by,
                    trigger=trigger,
                )
            )
        else:
            open_keys.add(key)
    return open_keys


def apply_recorded(session: Session, result: RecordResult, *, by: Principal | None, trigger: str) -> set[str]:
    """After a deal change, in its transaction: book prior-period adjustments for the locked periods it
    touches and mark pending the statements it alters in the open ones (its people and everyone above
    them, last: the managers' rows are the ones every delivery touches). Returns the open periods,
    whose statements of ``result.people`` the caller settles once this commits."""
    if result.outcome in ("unchanged", "held"):
        return set()
    keys = book_locked(session, result, by=by, trigger=trigger)
    touch(session, result.people | result.chain, keys)
    return keys


@dataclass
class _Delivery:
    """One request's deal, and what became of it in the batch that wrote it."""

    data: DealIn
    by: Principal | None
    result: RecordResult | None = None
    out: DealOut | None = None
    keys: set[str] = field(default_factory=set)  # open periods whose statements it marked pending
    error: BaseException | None = None


_DELIVERIES: Rounds[_Delivery] = Rounds()


def record_one(engine: Engine, data: DealIn, *, by: Principal | None) -> tuple[RecordResult, DealOut]:
    """Record a delivery, then bring the statements of the people it credits up to date.

    Deliveries arriving together are handled together (``commissions/core/rounds.py``): one
    transaction writes them all, a refused deal being refused before it writes, so it changes
    nothing and the others still land; the answer is exactly what recording it alone would
    give. After the commit the same round computes the people they credit, together
    (``calculation/settle.py``), so the rep's statement has the deal when the answer arrives.
    Their managers' statements, which read the whole team's deals, are left pending for the
    worker. One round does both: with the writing and the computing in rounds of their own,
    each took half the callers and the two halves' rounds took turns (docs/benchmarks.md).
    """
    delivery = _Delivery(data, by)
    _DELIVERIES.join(str(engine.url), delivery, lambda batch: _record_and_settle(engine, batch))
    if delivery.error is not None:
        raise delivery.error
    result, out = delivery.result, delivery.out
    assert result is not None and out is not None
    return result, out


def _record_and_settle(engine: Engine, batch: list[_Delivery]) -> None:
    """A round of deliveries: write them, then compute the people they credit. The reports of what changed go
    to the first delivery that moved pay, whose request announces them (``deals.events``: an unchanged or
    held delivery announces nothing)."""
    _record_batch(engine, batch)
    moved = [d for d in batch if d.error is None and d.result is not None and d.keys]
    people: dict[str, set[int]] = {}
    for delivery in moved:
        assert delivery.result is not None
        for key in delivery.keys:
            people.setdefault(key, set()).update(delivery.result.people)
    if not people:
        return
    triggers = [f"deal {d.data.external_id} {d.result.outcome}" for d in moved if d.result is not None]
    first = moved[0].result
    assert first is not None
    first.reports.extend(settle_together(engine, people, trigger=round_trigger(triggers)))


class _HalfWritten(Exception):
    """A delivery failed after it began writing: the batch's transaction cannot be kept."""


def _record_batch(engine: Engine, batch: list[_Delivery]) -> None:
    """Write the batch in one transaction; every delivery gets its result or its own error.

    A deal refused by a check (a missing person, a foreign deal, a currency no plan pays) is
    refused before it writes anything, so the others go on in the same transaction. Should a
    delivery fail after it began writing (nothing known does), the transaction is rolled back
    and every delivery is recorded again on its own. A unique-key race with a concurrent
    delivery in another process, or a lock wait that failed, runs the whole batch again; a deal
    that repeats one before it in the batch is recorded after it, as if the two had come one
    after the other."""
    try:
        write(engine, lambda session: _write_batch(session, batch), attempts=ATTEMPTS)
    except _HalfWritten as exc:
        if len(batch) == 1:
            batch[0].error = exc.__cause__
            return
        for delivery in batch:
            _record_batch(engine, [delivery])
    except RACES as exc:  # lost the race every time
        for delivery in batch:
            delivery.error = exc
    except Exception as exc:
        for delivery in batch:
            delivery.error = exc


def _write_batch(session: Session, batch: list[_Delivery]) -> None:
    """One try of the batch's transaction (``_record_batch``): every delivery starts afresh."""
    for delivery in batch:
        delivery.result, delivery.out, delivery.keys, delivery.error = None, None, set(), None
    session.info[PLANS_UNCHANGED] = True
    ids = sorted({d.data.external_id for d in batch})
    before = set(session.exec(select(col(Deal.closed_at)).where(col(Deal.external_id).in_(ids))).all())
    locked = take_period_locks(session, {d.data.closed_at for d in batch} | before)
    pending: dict[str, set[int]] = {}
    writers: dict[Principal | None, DealWriter] = {}  # one per caller: people, chains, plans read once
    for delivery in batch:
        if delivery.by not in writers:
            writers[delivery.by] = writer = DealWriter(session, delivery.by, defer_new=True)
            if len(batch) > 1:  # their people, deals and the manager tree in a handful of queries
                mine = [d.data for d in batch if d.by == delivery.by]
                writer.preload(
                    {e for d in mine for e in (d.owner, *(s.person for s in d.splits))},
                    {d.external_id for d in mine},
                    {d.closed_at for d in mine},
                )
        for other in writers.values():  # another caller's held-back new deal of this id: stored first
            if other is not writers[delivery.by] and other.holds(delivery.data.external_id):
                other.finish()
                writers[delivery.by].forget(delivery.data.external_id)
        _record_in_batch(session, writers[delivery.by], delivery, pending)
    for writer in writers.values():  # the batch's new deals, in one statement each for rows and audit
        writer.finish()
    closed = {period.key for period in closed_periods(session)} if pending else set()  # read under the locks
    for key in sorted(pending):  # last, and in one order: the managers' rows every batch touches
        touch(session, pending[key], {key}, locked=locked, closed_under_locks=closed)


def _record_in_batch(session: Session, writer: DealWriter, delivery: _Delivery, pending: dict[str, set[int]]) -> None:
    data = delivery.data
    writer.writing = False
    try:
        check_deal(
            session, custom_fields=data.custom_fields
        )  # declared custom fields: a value that cannot be read is refused
        result = writer.write(data)
        keys: set[str] = set()
        if result.outcome not in ("unchanged", "held"):
            keys = book_locked(session, result, by=delivery.by, trigger=f"deal {data.external_id} {result.outcome}")
        out = (
            held_out(data)
            if result.outcome == "held"
            else deal_out(
                session, result.stored_deal(), unsplit=not data.splits and result.outcome in ("created", "updated")
            )
        )
    except (IntegrityError, OperationalError):
        raise
    except Exception as exc:
        if writer.writing:
            raise _HalfWritten() from exc
        delivery.error = exc  # this delivery's own refusal, before it wrote anything
        return
    delivery.result, delivery.out, delivery.keys = result, out, keys
    for key in keys:
        pending.setdefault(key, set()).update(result.people | result.chain)


def held_out(data: DealIn) -> DealOut:
    """The change as submitted, marked pending: what the deal will be once approved."""
    return DealOut(
        external_id=data.external_id,
        name=data.name or data.external_id,
        account=data.account,
        owner=data.owner,
        amount=str(data.amount),
        currency=data.currency,
        closed_at=data.closed_at,
        type=data.type,
        product=data.product,
        term_months=data.term_months,
        source_campaign=data.source_campaign,
        status=data.status,
        cancelled_at=data.cancelled_at,
        splits=[{"person": s.person, "share": str(s.share)} for s in data.splits],
        custom_fields=data.model_dump(mode="json")["custom_fields"],
        approval="pending",
    )


def dry_run(engine: Engine, data: DealIn, principal: Principal) -> None:
    """Everything a save would check (people exist, permission, locked periods), then roll back: raises the
    InputProblem or Forbidden the save would raise."""
    with write_session(engine) as session:
        session.begin()
        try:
            check_deal(session, custom_fields=data.custom_fields)
            DealWriter(session, principal).write(data)
        finally:
            session.rollback()
