"""Won bookings against the bookings quota, per person, for dashboards.

This is the raw measure (won deals, split shares pro rata) before any plan's
``credit.when`` rules; statements show the plan-exact figures from the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from commissions.calculation.rows import id_col
from commissions.core.money import from_minor
from commissions.core.periods import PeriodKey
from commissions.models import Deal, DealSplit, Period, Person, Quota


@dataclass(frozen=True, slots=True)
class Progress:
    person_id: int
    email: str
    name: str
    won_minor: int
    deals: Decimal
    quota_minor: int | None
    currency: str = "USD"

    @property
    def won(self) -> Decimal:
        return from_minor(self.won_minor, self.currency)

    @property
    def quota(self) -> Decimal | None:
        return None if self.quota_minor is None else from_minor(self.quota_minor, self.currency)

    @property
    def percent(self) -> Decimal | None:
        if not self.quota_minor:
            return None
        return (Decimal(self.won_minor) * 100 / Decimal(self.quota_minor)).quantize(Decimal("0.1"))

    @property
    def bar_percent(self) -> int:
        """Width of the progress bar, capped at 100 so the bar never overflows."""
        return min(100, int(self.percent or 0))


def progress_rows(session: Session, person_ids: list[int], period: PeriodKey) -> list[Progress]:
    if not person_ids:
        return []
    wanted = set(person_ids)
    in_period = (Deal.closed_at >= period.starts_on, Deal.closed_at <= period.ends_on, Deal.status == "won")
    won: dict[int, Decimal] = dict.fromkeys(wanted, Decimal(0))
    count: dict[int, Decimal] = dict.fromkeys(wanted, Decimal(0))
    split_deal_ids: set[int] = set()
    for deal_id, person_id, amount, share_bp in session.exec(
        select(DealSplit.deal_id, DealSplit.person_id, Deal.amount_minor, DealSplit.share_bp)
        .join(Deal, col(Deal.id) == DealSplit.deal_id)
        .where(*in_period)
    ):
        split_deal_ids.add(deal_id)
        if person_id in wanted:
            share = Decimal(share_bp) / 10000
            won[person_id] += Decimal(amount) * share
            count[person_id] += share
    for deal_id, owner_id, amount in session.exec(
        select(id_col(Deal.id), Deal.owner_id, Deal.amount_minor).where(*in_period, col(Deal.owner_id).in_(wanted))
    ):
        if deal_id not in split_deal_ids:
            won[owner_id] += amount
            count[owner_id] += 1
    quotas = dict(
        session.exec(
            select(Quota.person_id, Quota.target_minor)
            .join(Period, col(Period.id) == Quota.period_id)
            .where(Period.key == period.key, Quota.metric == "bookings", col(Quota.person_id).in_(wanted))
        ).all()
    )
    people = session.exec(select(id_col(Person.id), Person.email, Person.name).where(col(Person.id).in_(wanted))).all()
    rows = [Progress(pid, email, name, int(won[pid]), count[pid], quotas.get(pid)) for pid, email, name in people]
    return sorted(rows, key=lambda r: (-(r.percent or Decimal(-1)), r.name))
