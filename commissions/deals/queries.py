"""Reading deals, always through the caller's visibility (own / team / all)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from litestar.exceptions import ValidationException
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.paging import BadCursor, cursor_parts, make_cursor
from commissions.core.periods import PeriodKey, PeriodKeyError, parse_period_key, quarter_of
from commissions.core.principal import Principal
from commissions.custom_fields.service import list_fields
from commissions.models import Campaign, Deal, DealSplit, Person
from commissions.people.service import visible_person_ids


@dataclass(frozen=True, slots=True)
class DealRow:
    external_id: str
    name: str
    account: str
    owner_email: str
    owner_name: str
    amount_minor: int
    currency: str
    closed_at: date
    type: str
    product: str
    status: str
    term_months: int | None = None
    source_campaign: str | None = None
    cancelled_at: date | None = None
    splits: list[tuple[str, str]] = field(default_factory=list)  # (email, share as POST answers it: "60")


def period_filter(text: str | None, *, default_today: bool) -> PeriodKey | None:
    """The ``period`` query parameter of the deal list (page and API): a 400 if unreadable; empty: this quarter
    (``default_today``) or all periods."""
    if not text:
        return quarter_of(date.today()) if default_today else None
    try:
        return parse_period_key(text)
    except PeriodKeyError as exc:
        raise ValidationException(str(exc), extra={"period": text}) from exc


def deal_cursor(row: DealRow) -> str:
    """An opaque cursor for the page after ``row`` (the list's order: newest close first, then external id)."""
    return make_cursor(row.closed_at.isoformat(), row.external_id)


def read_deal_cursor(text: str) -> tuple[date, str]:
    day, external_id = cursor_parts(text, 2)
    try:
        return date.fromisoformat(day), external_id
    except ValueError as exc:
        raise BadCursor from exc


def visible_deals(
    session: Session,
    principal: Principal,
    period: PeriodKey | None,
    *,
    limit: int = 500,
    after: tuple[date, str] | None = None,
) -> list[DealRow]:
    """The deals the caller may see, newest close first; ``after`` (a ``read_deal_cursor`` result) starts the page
    after that deal (keyset paging: a page costs its own rows, however deep)."""
    query = select(Deal, Person.email, Person.name).join(Person, col(Deal.owner_id) == Person.id)
    people = visible_person_ids(session, principal)
    if people is not None:
        split_deals = select(DealSplit.deal_id).where(col(DealSplit.person_id).in_(people))
        query = query.where(or_(col(Deal.owner_id).in_(people), col(Deal.id).in_(split_deals)))
    if period is not None:
        query = query.where(Deal.closed_at >= period.starts_on, Deal.closed_at <= period.ends_on)
    if after is not None:
        day, external_id = after
        query = query.where(
            or_(col(Deal.closed_at) < day, and_(col(Deal.closed_at) == day, col(Deal.external_id) > external_id))
        )
    query = query.order_by(col(Deal.closed_at).desc(), Deal.external_id).limit(limit)
    found = list(session.exec(query))
    splits: dict[int, list[tuple[str, str]]] = {}
    if found:  # one more read for the page's splits (who shares a deal is why a manager sees another team's deal)
        for deal_id, email, share_bp in session.exec(
            select(DealSplit.deal_id, Person.email, DealSplit.share_bp)
            .join(Person, col(Person.id) == DealSplit.person_id)
            .where(col(DealSplit.deal_id).in_([deal.id for deal, _, _ in found]))
            .order_by(col(DealSplit.deal_id), Person.email)  # as POST answers them (ingest.deal_out)
        ):
            splits.setdefault(deal_id, []).append((email, str(Decimal(share_bp) / 100)))
    return [
        DealRow(
            external_id=deal.external_id,
            name=deal.name,
            account=deal.account,
            owner_email=email,
            owner_name=name,
            amount_minor=deal.amount_minor,
            currency=deal.currency,
            closed_at=deal.closed_at,
            type=deal.type,
            product=deal.product,
            status=deal.status,
            term_months=deal.term_months,
            source_campaign=deal.source_campaign,
            cancelled_at=deal.cancelled_at,
            splits=splits.get(stored_id(deal), []),
        )
        for deal, email, name in found
    ]


def form_choices(session: Session, principal: Principal) -> dict[str, Any]:
    """What the deal form offers: owners the caller may record for, campaigns, colleagues to split with, and the
    declared custom fields."""
    visible = visible_person_ids(session, principal)
    owners = session.exec(
        select(Person.email, Person.name)
        .where(Person.active, col(Person.id).in_(visible or set()))
        .order_by(Person.name)
    ).all()
    campaigns = session.exec(select(Campaign.code, Campaign.name).order_by(Campaign.code)).all()
    colleagues = session.exec(
        select(Person.email, Person.name)
        .where(Person.active, col(Person.role).in_(("rep", "manager")))
        .order_by(Person.name)
    ).all()
    return {"owners": owners, "campaigns": campaigns, "colleagues": colleagues, "custom_fields": list_fields(session)}


def deal_count(session: Session) -> int:
    """How many deals are recorded (finance's home page)."""
    return session.exec(select(func.count()).select_from(Deal)).one()
