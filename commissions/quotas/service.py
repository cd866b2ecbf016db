"""Quota targets: who may set whose, the grid, validated changes with optimistic locking, copy, proration.

Keyword-friendly functions that take the session; the caller owns the transaction
(``commissions.core.db.transaction``), so a refused batch leaves nothing half-written.

Units: ``Quota.target_minor`` is minor units of the person's plan currency for money
metrics (bookings, sourced_revenue) and hundredths for ``deals``. Everything outside
the database is ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, delete, update
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.db import write
from commissions.core.errors import Conflict, InputProblem
from commissions.core.periods import (
    CLOSED_STATES,
    PeriodKey,
    ensure_period,
    period_row,
    previous_period,
)
from commissions.core.principal import Principal
from commissions.models import Person, Quota
from commissions.models.base import utcnow
from commissions.quotas.access import editable_person_ids
from commissions.quotas.batches import PreviewRow, RawRow, fingerprint, preview, resolve_rows
from commissions.quotas.grid import Cell, load_cell
from commissions.quotas.proration import plan_currencies
from commissions.quotas.targets import (
    DEFAULT_CURRENCY,
    GRID_METRICS,
    Change,
    Outcome,
    QuotaConflict,
    check_open,
    is_money,
    parse_target,
    plain_target,
    target_value,
)


def _fmt(minor: int | None, metric: str, currency: str) -> str | None:
    return None if minor is None else plain_target(target_value(minor, metric, currency), metric, currency)


def _audit(
    session: Session,
    by: Principal | None,
    action: str,
    quota_id: int | None,
    change: Change,
    old: int | None,
    new: int | None,
    version: int,
    source: str,
    **extra: object,
) -> None:
    detail = {
        "person": change.email,
        "metric": change.metric,
        "period": change.period.key,
        "old": _fmt(old, change.metric, change.currency),
        "new": _fmt(new, change.metric, change.currency),
        "unit": change.currency if is_money(change.metric) else "count",
        "version": version,
        "source": source,
        **extra,
    }
    record_event(session, by, action, "quota", quota_id, detail)


def _conflict(quota: Quota | None, change: Change) -> QuotaConflict:
    now = _fmt(quota.target_minor if quota else None, change.metric, change.currency)
    where = f"{change.where}: " if change.where else ""
    return QuotaConflict(
        f"{where}changed by someone else since you loaded it: it is now {now if now is not None else 'empty'}",
        current_minor=quota.target_minor if quota else None,
        current_version=quota.version if quota else 0,
    )


def apply_change(
    session: Session, change: Change, *, by: Principal | None, source: str = "grid", closed_ok: bool = False
) -> Outcome:
    """Set or remove one quota with optimistic locking; audited; raises QuotaConflict or Conflict.

    Only open periods, unless ``closed_ok``: then a locked or paid period's quota is recorded and
    the difference it makes is booked as a prior-period adjustment in the earliest open period.
    """
    if closed_ok:
        from commissions.core.periods import lock_period

        lock_period(session, change.period.key)
    return _queue_recompute(session, _apply_change(session, change, by=by, source=source, closed_ok=closed_ok), by=by)


def _apply_change(
    session: Session, change: Change, *, by: Principal | None, source: str, closed_ok: bool = False
) -> Outcome:
    period = (
        ensure_period(session, change.period) if change.target_minor is not None else period_row(session, change.period)
    )
    if period is None:  # removing a quota from a period that does not exist: nothing to do
        return Outcome(change, "unchanged", None, None)
    if not closed_ok:
        check_open(period)
    quota = session.exec(
        select(Quota).where(
            Quota.period_id == period.id, Quota.person_id == change.person_id, Quota.metric == change.metric
        )
    ).first()
    old = quota.target_minor if quota else None
    if old == change.target_minor:  # the same value again (a double submit) is never a conflict
        return Outcome(change, "unchanged", old, quota)
    if change.version is not None and change.version != (quota.version if quota else 0):
        raise _conflict(quota, change)
    if quota is None:
        if change.target_minor is None:  # removing a quota that is not there: unchanged (old == None above)
            return Outcome(change, "unchanged", None, None)
        quota = Quota(
            person_id=change.person_id,
            metric=change.metric,
            period_id=stored_id(period),
            target_minor=change.target_minor,
            version=1,
        )
        session.add(quota)
        session.flush()
        _audit(session, by, "quota.set", quota.id, change, None, change.target_minor, 1, source)
        return Outcome(change, "created", None, quota)
    seen_version = quota.version
    if change.target_minor is None:
        result = cast(
            "CursorResult[Any]",
            session.execute(delete(Quota).where(col(Quota.id) == quota.id, col(Quota.version) == seen_version)),
        )
        if result.rowcount != 1:
            session.expire(quota)
            raise _conflict(session.get(Quota, quota.id), change)
        session.expunge(quota)
        _audit(session, by, "quota.delete", quota.id, change, old, None, seen_version, source)
        return Outcome(change, "deleted", old, None)
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(Quota)
            .where(col(Quota.id) == quota.id, col(Quota.version) == seen_version)
            .values(target_minor=change.target_minor, version=seen_version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    session.expire(quota)
    if result.rowcount != 1:  # a concurrent writer got there between our read and our write
        raise _conflict(session.get(Quota, quota.id), change)
    session.refresh(quota)
    _audit(session, by, "quota.set", quota.id, change, old, change.target_minor, quota.version, source)
    return Outcome(change, "updated", old, quota)


def apply_changes(
    session: Session, changes: list[Change], *, by: Principal | None, source: str, closed_ok: bool = False
) -> list[Outcome]:
    from commissions.core.periods import lock_period

    for key in sorted({change.period.key for change in changes}):  # in key order, like every writer: no deadlock
        lock_period(session, key)
    return [apply_change(session, change, by=by, source=source, closed_ok=closed_ok) for change in changes]


def _queue_recompute(session: Session, outcome: Outcome, *, by: Principal | None = None) -> Outcome:
    """A changed target changes attainment: the person's statement is recomputed by the worker
    (in a locked period: the difference is booked at once as a prior-period adjustment)."""
    if outcome.action != "unchanged":
        from commissions.calculation.state import touch

        period = period_row(session, outcome.change.period)
        if period is not None and period.state in CLOSED_STATES:
            from commissions.adjustments.prior_period import book_locked_change

            c = outcome.change
            what = (
                f"quota change ({c.metric}: {_fmt(outcome.old_minor, c.metric, c.currency) or 'none'} → "
                f"{_fmt(c.target_minor, c.metric, c.currency) or 'none'})"
            )
            book_locked_change(
                session,
                period=period,
                people={c.person_id},
                deal=None,
                what=what,
                actor=by,
                trigger=f"quota {c.email} {c.metric} {c.period.key}",
            )
        else:
            touch(session, {outcome.change.person_id}, {outcome.change.period.key})
    return outcome


def cell_change(
    session: Session,
    principal: Principal,
    *,
    person_id: int,
    metric: str,
    key: PeriodKey,
    target: str,
    version: int | None,
) -> Change:
    """Validate one grid cell edit (the caller has checked that the person is editable)."""
    person = session.get(Person, person_id)
    if person is None:
        raise InputProblem("person", "no such person")
    currency = plan_currencies(session, [person_id], key).get(person_id, DEFAULT_CURRENCY)
    return Change(person_id, person.email, metric, key, parse_target(target, metric, currency), currency, version)


# ---------------------------------------------------------------- copy from the last period


@dataclass(frozen=True, slots=True)
class CopyResult:
    source: str
    copied: int
    people: int


def copy_from_previous(session: Session, principal: Principal, key: PeriodKey, *, by: Principal | None) -> CopyResult:
    """Copy the previous period's (same kind) quotas of the caller's people into ``key`` for
    everyone who has no quota in ``key`` yet. Only active people get copies."""
    source_key = previous_period(key)
    source = period_row(session, source_key)
    if source is None:
        return CopyResult(source_key.key, 0, 0)
    ids = editable_person_ids(session, principal)
    if ids is not None and not ids:
        return CopyResult(source_key.key, 0, 0)
    query = (
        select(Quota, Person.email)
        .join(Person, col(Person.id) == Quota.person_id)
        .where(Quota.period_id == source.id, col(Quota.metric).in_(GRID_METRICS), Person.active)
        .order_by(Person.email, Quota.metric)
    )
    if ids is not None:
        query = query.where(col(Quota.person_id).in_(ids))
    previous = session.exec(query).all()
    if not previous:
        return CopyResult(source_key.key, 0, 0)
    target = ensure_period(session, key)
    check_open(target)
    have = set(
        session.exec(
            select(Quota.person_id).where(Quota.period_id == target.id, col(Quota.person_id).is_not(None))
        ).all()
    )
    # the join with Person leaves team quotas (no person_id) out
    currencies = plan_currencies(session, {q.person_id for q, _e in previous if q.person_id is not None}, key)
    copied, people = 0, set[int]()
    for quota, email in previous:
        person_id = quota.person_id
        if person_id is None or person_id in have:
            continue
        new = Quota(
            person_id=person_id,
            metric=quota.metric,
            period_id=stored_id(target),
            target_minor=quota.target_minor,
            version=1,
        )
        session.add(new)
        session.flush()
        change = Change(
            person_id,
            email,
            quota.metric,
            key,
            quota.target_minor,
            currencies.get(person_id, DEFAULT_CURRENCY),
        )
        _audit(
            session, by, "quota.set", new.id, change, None, quota.target_minor, 1, "copy", copied_from=source_key.key
        )
        copied += 1
        people.add(person_id)
    if people:  # new targets change attainment: their statements are recomputed
        from commissions.calculation.state import touch

        touch(session, people, {key.key})
    return CopyResult(source_key.key, copied, len(people))


# ---------------------------------------------------------------- the pages' and the API's transactions


class CellNotFound(LookupError):
    """No such quota cell, or not one the caller may edit (the person left their team meanwhile)."""


class PreviewStale(Conflict):
    """Quotas of a previewed file changed since the preview: ``rows`` is the new preview."""

    def __init__(self, rows: list[PreviewRow]) -> None:
        super().__init__("file", "some of these quotas changed since the preview: check the new preview")
        self.rows = rows


def save_cell(
    engine: Engine, principal: Principal, *, person_id: int, metric: str, key: PeriodKey, target: str, version: int
) -> Cell:
    """One grid cell edit in its own transaction (retried on a race); returns the cell as stored, marked saved."""

    def work(session: Session) -> Cell:
        if load_cell(session, principal, person_id, metric, key) is None:  # checked again, in the write
            raise CellNotFound()
        change = cell_change(
            session, principal, person_id=person_id, metric=metric, key=key, target=target, version=version
        )
        apply_change(session, change, by=principal, source="grid")
        cell = load_cell(session, principal, person_id, metric, key)
        assert cell is not None
        cell.saved = True
        return cell

    return write(engine, work)


def copy_previous(engine: Engine, principal: Principal, key: PeriodKey) -> CopyResult:
    """``copy_from_previous`` in its own transaction (retried on a race)."""
    return write(engine, lambda s: copy_from_previous(s, principal, key, by=principal))


def confirm_upload(engine: Engine, principal: Principal, raw: list[RawRow], previewed: str) -> tuple[int, str]:
    """Apply the rows of a previewed quotas.csv if nothing they change moved since the preview (``previewed``: the
    preview's fingerprint; else PreviewStale with the new preview). Returns how many quotas changed and the first
    row's period."""

    def work(session: Session) -> tuple[int, str]:
        changes = resolve_rows(session, principal, raw)
        rows = preview(session, changes)
        if fingerprint(rows) != previewed:
            raise PreviewStale(rows)
        outcomes = apply_changes(session, changes, by=principal, source="csv")
        return sum(o.action != "unchanged" for o in outcomes), changes[0].period.key

    return write(engine, work)


@dataclass(frozen=True, slots=True)
class StoredQuota:
    """A quota as the API answers it after a write (target as plain text, unit: the currency or "count")."""

    person: str
    metric: str
    period: str
    target: str | None
    unit: str
    version: int


def _stored(outcome: Outcome) -> StoredQuota:
    c = outcome.change
    target = (
        None
        if outcome.quota is None
        else plain_target(target_value(outcome.quota.target_minor, c.metric, c.currency), c.metric, c.currency)
    )
    unit = c.currency if is_money(c.metric) else "count"
    return StoredQuota(c.email, c.metric, c.period.key, target, unit, outcome.version)


def set_quotas(engine: Engine, principal: Principal, rows: list[RawRow]) -> list[StoredQuota]:
    """The API's batch: all or nothing, closed periods included (prior-period adjustments), in request order; the
    stored quotas are read in the transaction."""

    def work(session: Session) -> list[StoredQuota]:
        outcomes = apply_changes(
            session,
            resolve_rows(session, principal, rows, closed_ok=True),
            by=principal,
            source="api",
            closed_ok=True,
        )
        return [_stored(o) for o in outcomes]

    return write(engine, work)
