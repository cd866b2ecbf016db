"""What is payable in a period once release on cash and holds are applied (docs/finance.md).

A layer over the ledger, read when a statement or the payroll export is shown: the ledger keeps the
earned lines as the engine computed them; this works out, per person and currency, how much of them is
still *earned, waiting for payment* (plans with ``release``), how much earlier waiting commission the
period's payments released, and how much finance holds. Everything comes from stored rows, so a locked
period always gives the same figures: a payment recorded after its period was locked counts in the
next period that was not locked yet when it came in, and a hold released after its period was locked
is paid in the period named on the hold.

Figures of period P, per person and currency (W: waiting at the end of a period, cumulative):
    payable = ledger total − (W(P) − W(P−1)) − held + holds released into P
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions.calculation.ledger import totals_query
from commissions.calculation.loader import parsed_version, plan_catalogue
from commissions.calculation.rows import stored_id
from commissions.core.money import from_minor
from commissions.core.periods import CLOSED_STATES, key_of_day, parse_period_key, period_row
from commissions.engine.errors import EngineError
from commissions.engine.plan import Release
from commissions.holds.release import payment_releases
from commissions.models import CommissionHold, Deal, InvoicePayment, LedgerTotal, PayoutLine, Period

Key = tuple[int, str]  # (person id, currency)


@dataclass
class CashFigures:
    """One person's figures in one currency and period, in minor units."""

    currency: str
    earned_minor: int = 0  # the ledger's lines in force (the statement's total)
    waiting_minor: int = 0  # earned, waiting for payment at the end of the period (rolled forward)
    newly_waiting_minor: int = 0  # W(P) − W(P−1): what the period's waiting adds (negative: released)
    released_minor: int = 0  # earlier or this period's earnings that payments released in this period
    held_minor: int = 0  # held by finance in this period (not paid until released)
    hold_released_minor: int = 0  # holds of earlier, locked periods released into this one
    holds: list[str] = field(default_factory=list)  # "held by finance: <reason>"

    @property
    def payable_minor(self) -> int:
        return self.earned_minor - self.newly_waiting_minor - self.held_minor + self.hold_released_minor

    @property
    def change_minor(self) -> int:
        """What payroll pays beyond (or short of) the ledger total."""
        return self.payable_minor - self.earned_minor

    def money(self, minor: int) -> Decimal:
        return from_minor(minor, self.currency)


@dataclass
class _DealWaiting:
    before: int = 0  # W at the end of the previous period
    now: int = 0
    released_now: int = 0  # released in this period


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _release_rules(session: Session) -> dict[int, Release]:
    """Plan version id → its release rule, for the versions that have one."""
    catalogue = plan_catalogue(session)
    rules: dict[int, Release] = {}
    for versions in catalogue.versions.values():
        for version in versions:
            try:
                plan = parsed_version(version, catalogue.custom_fields)
            except EngineError:  # a version stored before a check existed: its statements say so, not this
                continue
            if plan.release is not None:
                rules[stored_id(version)] = plan.release
    return rules


class _Calendar:
    """Periods of one kind: which period a day falls in, and where a late payment lands."""

    def __init__(self, session: Session, kind: str) -> None:
        self.kind = kind
        self.rows = {p.key: p for p in session.exec(select(Period).where(Period.kind == kind)).all()}

    def start_of_day(self, day: date) -> date:
        return parse_period_key(key_of_day(self.kind, day)).starts_on

    def payable_start(self, paid_at: date, recorded_at: datetime) -> date:
        """The period a payment is payable in: its paid_at's, or the first after it not locked when it came in."""
        key = parse_period_key(key_of_day(self.kind, paid_at))
        for _ in range(1000):
            row = self.rows.get(key.key)
            locked_at = row.locked_at if row is not None and row.state in CLOSED_STATES else None
            if locked_at is None or _naive_utc(locked_at) > _naive_utc(recorded_at):
                return key.starts_on
            key = parse_period_key(key_of_day(self.kind, key.ends_on + timedelta(days=1)))
        return key.starts_on


def _deal_waiting(session: Session, period: Period, person_id: int | None) -> dict[Key, dict[int, _DealWaiting]]:
    """Per person, currency and deal under a release rule: waiting before and after the period."""
    rules = _release_rules(session)
    if not rules:
        return {}
    periods = {
        stored_id(p): p
        for p in session.exec(
            select(Period).where(Period.kind == period.kind, Period.starts_on <= period.starts_on)
        ).all()
    }
    reversal = aliased(PayoutLine)
    query = (
        sa_select(
            col(PayoutLine.person_id),
            col(PayoutLine.currency),
            col(PayoutLine.deal_id),
            col(PayoutLine.period_id),
            col(PayoutLine.plan_version_id),
            func.sum(col(PayoutLine.amount_minor)),
        )
        .where(
            col(PayoutLine.period_id).in_(periods),
            col(PayoutLine.plan_version_id).in_(rules),
            col(PayoutLine.deal_id).is_not(None),
            col(PayoutLine.kind) == "earning",
            ~exists().where(col(reversal.reverses_id) == PayoutLine.id),
        )
        .group_by(
            col(PayoutLine.person_id),
            col(PayoutLine.currency),
            col(PayoutLine.deal_id),
            col(PayoutLine.period_id),
            col(PayoutLine.plan_version_id),
        )
    )
    if person_id is not None:
        query = query.where(col(PayoutLine.person_id) == person_id)
    earned: dict[tuple[int, str, int, int], dict[bool, int]] = defaultdict(lambda: {True: 0, False: 0})
    for pid, currency, deal_id, period_id, version_id, total in session.execute(query).all():
        in_period = period_id == period.id
        earned[(pid, currency, deal_id, version_id)][in_period] += int(total)
    if not earned:
        return {}
    deal_ids = {deal_id for _, _, deal_id, _ in earned}
    deals = {stored_id(d): d for d in session.exec(select(Deal).where(col(Deal.id).in_(deal_ids))).all()}
    calendar = _Calendar(session, period.kind)
    payments: dict[int, list[tuple[date, date, str, int]]] = defaultdict(list)
    for payment in session.exec(select(InvoicePayment).where(col(InvoicePayment.deal_id).in_(deal_ids))).all():
        start = calendar.payable_start(payment.paid_at, payment.created_at)
        payments[payment.deal_id].append((start, payment.paid_at, payment.invoice, payment.amount_minor))
    previous_start = period.starts_on - timedelta(days=1)  # "up to the previous period": starts before P

    def released(rule: Release, deal: Deal, earned_minor: int, upto: date) -> int:
        if rule.on == "payment":
            ordered = sorted(payments.get(stored_id(deal), []))
            amounts = [amount for start, _, _, amount in ordered]
            releases = payment_releases(earned_minor, deal.amount_minor, amounts, pro_rata=rule.pro_rata)
            return sum(r for (start, _, _, _), r in zip(ordered, releases, strict=True) if start <= upto)
        due = rule.after if rule.after is not None else deal.closed_at + timedelta(days=rule.after_days or 0)
        return earned_minor if calendar.start_of_day(due) <= upto else 0

    out: dict[Key, dict[int, _DealWaiting]] = defaultdict(dict)
    for (pid, currency, deal_id, version_id), sums in earned.items():
        rule, deal = rules[version_id], deals[deal_id]
        before_earned, now_earned = sums[False], sums[False] + sums[True]
        released_before = released(rule, deal, before_earned, previous_start)
        released_now = released(rule, deal, now_earned, period.starts_on)
        entry = out[(pid, currency)].setdefault(deal_id, _DealWaiting())
        entry.before += before_earned - released_before
        entry.now += now_earned - released_now
        entry.released_now += released_now - released_before
    return out


def _ledger_totals(session: Session, period: Period, person_id: int | None) -> dict[Key, int]:
    query = totals_query(
        stored_id(period), LedgerTotal.person_id, LedgerTotal.currency, func.sum(LedgerTotal.amount_minor)
    ).group_by(LedgerTotal.person_id, LedgerTotal.currency)
    if person_id is not None:
        query = query.where(LedgerTotal.person_id == person_id)
    return {(pid, currency): int(total) for pid, currency, total in session.execute(query).all()}


def _deal_lines(session: Session, period: Period, deal_id: int) -> dict[Key, int]:
    reversal = aliased(PayoutLine)
    query = (
        select(PayoutLine.person_id, PayoutLine.currency, func.sum(PayoutLine.amount_minor))
        .where(
            PayoutLine.period_id == period.id,
            PayoutLine.deal_id == deal_id,
            PayoutLine.kind != "reversal",
            ~exists().where(col(reversal.reverses_id) == PayoutLine.id),
        )
        .group_by(col(PayoutLine.person_id), col(PayoutLine.currency))
    )
    return {(pid, currency): int(total) for pid, currency, total in session.exec(query).all()}


def _base_figures(
    session: Session, period: Period, person_id: int | None
) -> tuple[dict[Key, CashFigures], dict[Key, dict[int, _DealWaiting]]]:
    """Figures before holds: ledger totals and release on cash."""
    figures: dict[Key, CashFigures] = {}
    for key, total in _ledger_totals(session, period, person_id).items():
        figures[key] = CashFigures(currency=key[1], earned_minor=total)
    waiting = _deal_waiting(session, period, person_id)
    for key, deals in waiting.items():
        entry = figures.setdefault(key, CashFigures(currency=key[1]))
        entry.waiting_minor = sum(d.now for d in deals.values())
        entry.newly_waiting_minor = sum(d.now - d.before for d in deals.values())
        entry.released_minor = sum(d.released_now for d in deals.values())
    return figures, waiting


def held_amounts(session: Session, period: Period, holds: list[CommissionHold]) -> dict[int, dict[Key, int]]:
    """Hold id → what it holds in its period, per person and currency (the payable before holds).

    A person hold takes the person's whole payable; a deal hold that deal's lines in force plus what
    the period released of it, less what waits for payment; a deal hold on a person who is also held
    as a whole adds nothing (never held twice)."""
    if not holds:
        return {}
    figures, waiting = _base_figures(session, period, None)
    held_people = {h.person_id for h in holds if h.person_id is not None}
    out: dict[int, dict[Key, int]] = {}
    for hold in holds:
        amounts: dict[Key, int] = {}
        if hold.person_id is not None:
            for key, entry in figures.items():
                if key[0] == hold.person_id:
                    amounts[key] = entry.earned_minor - entry.newly_waiting_minor
        elif hold.deal_id is not None:
            keys = set(_deal_lines(session, period, hold.deal_id).items())
            lines = dict(keys)
            for key in set(lines) | {k for k, deals in waiting.items() if hold.deal_id in deals}:
                if key[0] in held_people:
                    continue
                deal = waiting.get(key, {}).get(hold.deal_id, _DealWaiting())
                amounts[key] = lines.get(key, 0) - (deal.now - deal.before)
        out[stored_id(hold)] = {key: amount for key, amount in amounts.items() if amount}
    return out


def holds_touch(period: Any) -> Any:
    """A column saying whether any hold keeps money of ``period`` back or is released into it (to select with the
    period's row: a statement learns in the same read whether holds concern it at all)."""
    return (
        exists()
        .where(or_(CommissionHold.period_id == period.id, CommissionHold.payable_period_key == period.key))
        .label("any_hold")
    )


def releases_on_cash(session: Session) -> bool:
    """Whether any plan version releases commission on cash or after a date (the cached catalogue: no read)."""
    return bool(_release_rules(session))


def _holds_of(session: Session, period: Period) -> list[CommissionHold]:
    """Holds that keep money of this period back: still held, or released only into a later period."""
    return list(
        session.exec(
            select(CommissionHold)
            .where(
                CommissionHold.period_id == period.id,
                or_(
                    col(CommissionHold.state) == "held",
                    col(CommissionHold.payable_period_key).is_not(None)
                    & (col(CommissionHold.payable_period_key) != period.key),
                ),
            )
            .order_by(col(CommissionHold.id))
        ).all()
    )


def cash_figures(session: Session, period: Period, *, person_id: int | None = None) -> dict[Key, CashFigures]:
    """Each person's (or one person's) figures in the period: earned, waiting, released, held, payable."""
    figures, _ = _base_figures(session, period, person_id)
    holds = _holds_of(session, period)
    for hold_id, amounts in held_amounts(session, period, holds).items():
        hold = next(h for h in holds if h.id == hold_id)
        for key, amount in amounts.items():
            if person_id is not None and key[0] != person_id:
                continue
            entry = figures.setdefault(key, CashFigures(currency=key[1]))
            entry.held_minor += amount
            entry.holds.append(f"held by finance: {hold.reason}")
    incoming = session.exec(
        select(CommissionHold, Period)
        .join(Period, col(Period.id) == CommissionHold.period_id)
        .where(CommissionHold.payable_period_key == period.key, CommissionHold.period_id != period.id)
        .order_by(col(CommissionHold.id))
    ).all()
    for hold, original in incoming:
        for key, amount in held_amounts(session, original, [hold]).get(stored_id(hold), {}).items():
            if person_id is not None and key[0] != person_id:
                continue
            figures.setdefault(key, CashFigures(currency=key[1])).hold_released_minor += amount
    return figures


def payable_changes(session: Session, period: Period) -> dict[Key, int]:
    """Per person and currency, what payroll pays beyond the ledger total (negative: waiting or held)."""
    return {key: entry.change_minor for key, entry in cash_figures(session, period).items() if entry.change_minor}


def held_by_person(session: Session, period_key: str) -> dict[int, Decimal]:
    """Each person's amount held by finance in the period (all currencies added: one per person in practice)."""
    period = session.exec(select(Period).where(Period.key == period_key)).first()
    if period is None:
        return {}
    out: dict[int, Decimal] = {}
    for (pid, _), entry in cash_figures(session, period).items():
        if entry.held_minor:
            out[pid] = out.get(pid, Decimal(0)) + entry.money(entry.held_minor)
    return out


def held_of_person(session: Session, person_id: int, period_key: str) -> dict[str, int]:
    """What finance holds back of one person's pay in the period, by currency, in minor units (Home's "Pay so far"
    is what their statement earns, holds included, so it says how much of it is held). Read only when a hold
    concerns the period: otherwise one small query."""
    period = period_row(session, period_key)
    if period is None or not session.exec(select(holds_touch(period))).one():
        return {}
    figures = cash_figures(session, period, person_id=person_id)
    return {currency: entry.held_minor for (_pid, currency), entry in figures.items() if entry.held_minor}
