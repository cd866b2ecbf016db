"""Reading exchange rates: the paged list (API and page) and a pair's history (from the audit log)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from commissions.models import AuditEvent, ExchangeRate
from commissions.models.rates import plain_rate
from commissions.rates.service import AUDIT_OBJECT


@dataclass(frozen=True, slots=True)
class RateRow:
    id: int
    source: str
    target: str
    rate: Decimal
    effective_from: date


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime | None
    by: str
    effective_from: str
    before: str | None
    after: str


def list_rates(
    session: Session,
    *,
    source: str | None = None,
    target: str | None = None,
    currency: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[RateRow]:
    """Rates in id order (the order they were first set), filtered by ``from``/``to`` or by a currency on either side."""
    query = sa_select(  # five columns: beyond sqlmodel's typed overloads
        col(ExchangeRate.id),
        col(ExchangeRate.source),
        col(ExchangeRate.target),
        col(ExchangeRate.rate),
        col(ExchangeRate.effective_from),
    )
    conditions: list[Any] = []
    if source:
        conditions.append(ExchangeRate.source == source.strip().upper())
    if target:
        conditions.append(ExchangeRate.target == target.strip().upper())
    if currency:
        code = currency.strip().upper()
        conditions.append(or_(col(ExchangeRate.source) == code, col(ExchangeRate.target) == code))
    if after_id is not None:
        conditions.append(col(ExchangeRate.id) > after_id)
    rows = session.execute(query.where(*conditions).order_by(col(ExchangeRate.id)).limit(limit)).all()
    return [RateRow(int(i), s, t, plain_rate(r), d) for i, s, t, r, d in rows]


def rates_for_page(session: Session, currency: str | None, *, limit: int = 500) -> list[RateRow]:
    """The page's table: by pair, the newest date first (filtered by a currency on either side)."""
    rows = list_rates(session, currency=currency, limit=100_000)
    rows.sort(key=lambda r: (r.source, r.target, -r.effective_from.toordinal()))
    return rows[:limit]


def pair_history(session: Session, source: str, target: str) -> list[HistoryEntry]:
    """Every setting and correction of the pair's rates, the newest first (the audit log's ``rate.set``)."""
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.object_type == AUDIT_OBJECT, AuditEvent.object_id == f"{source.upper()}/{target.upper()}")
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    ).all()
    return [
        HistoryEntry(
            at=event.at,
            by=event.actor_label,
            effective_from=str(event.detail.get("effective_from", "")),
            before=event.detail.get("before"),
            after=str(event.detail.get("after", "")),
        )
        for event in events
    ]
