"""Recording deals: the one service behind the API, CSV import and the deal form.

``record_deal`` is idempotent on ``external_id``: the same body again changes
nothing, a changed body updates the deal, a cancellation is a status change.
It returns who and which periods the change touches, so the caller recomputes
exactly those statements and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from commissions.audit import record_event
from commissions.auth.principal import Principal
from commissions.deals.schemas import DealIn, DealOut
from commissions.errors import Conflict, Forbidden, InputProblem
from commissions.models import Campaign, Deal, DealSplit, Period, Person
from commissions.models.base import utcnow
from commissions.money import MoneyError, from_minor, to_minor
from commissions.people.service import visible_person_ids


class DealError(InputProblem):
    pass


class DealForbidden(Forbidden):
    pass


class PeriodLocked(Conflict):
    pass


@dataclass
class RecordResult:
    deal: Deal
    outcome: str  # created | updated | unchanged
    people: set[int] = field(default_factory=set)  # whose statements the change touches
    days: set[date] = field(default_factory=set)  # closing dates before and after the change


def body_hash(data: DealIn) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _people_by_email(session: Session, emails: set[str]) -> dict[str, Person]:
    if not emails:
        return {}
    return {p.email: p for p in session.exec(select(Person).where(Person.email.in_(emails))).all()}


def _managers_of(session: Session, person_ids: set[int]) -> set[int]:
    """Everyone above the given people in the reporting tree (their overrides and team credit move too)."""
    parent = dict(session.exec(select(Person.id, Person.manager_id).where(Person.manager_id.is_not(None))).all())
    found: set[int] = set()
    for pid in person_ids:
        current = parent.get(pid)
        while current is not None and current not in found:
            found.add(current)
            current = parent.get(current)
    return found


def _campaign_owner(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    return session.exec(select(Campaign.owner_id).where(Campaign.code == code)).first()


def _credited_ids(session: Session, deal: Deal) -> set[int]:
    ids = {deal.owner_id}
    ids |= set(session.exec(select(DealSplit.person_id).where(DealSplit.deal_id == deal.id)).all())
    return ids


def closed_period_state(session: Session, day: date) -> Period | None:
    """The locked (or paid) period containing ``day``, if any."""
    return session.exec(
        select(Period).where(Period.starts_on <= day, Period.ends_on >= day, Period.state.in_(("locked", "paid")))
    ).first()


def record_deal(session: Session, data: DealIn, *, by: Principal | None) -> RecordResult:
    """Create, update or confirm one deal inside the caller's transaction."""
    emails = {data.owner} | {s.person for s in data.splits}
    people = _people_by_email(session, emails)
    if data.owner not in people:
        raise DealError("owner", f"no person with email {data.owner}")
    for split in data.splits:
        if split.person not in people:
            raise DealError("splits", f"no person with email {split.person}")
    try:
        amount_minor = to_minor(data.amount, data.currency)
    except MoneyError as exc:
        raise DealError("amount", str(exc)) from exc
    involved = {people[e].id for e in emails}
    _check_may_record(session, by, involved)

    digest = body_hash(data)
    existing = session.exec(select(Deal).where(Deal.external_id == data.external_id)).first()
    if existing is not None and existing.body_hash == digest:
        return RecordResult(existing, "unchanged")

    touched_people: set[int] = set()
    touched_days: set[date] = {data.closed_at}
    if existing is not None:
        _check_may_record(session, by, _credited_ids(session, existing))
        for day in {existing.closed_at, data.closed_at}:
            locked = closed_period_state(session, day)
            if locked is not None:
                raise PeriodLocked(
                    "closed_at",
                    f"deal {data.external_id} belongs to period {locked.key}, which is {locked.state}: "
                    "it cannot be edited in place",
                )
        touched_people |= _credited_ids(session, existing)
        if (owner := _campaign_owner(session, existing.source_campaign)) is not None:
            touched_people.add(owner)
        touched_days.add(existing.closed_at)
        deal = existing
        for split in session.exec(select(DealSplit).where(DealSplit.deal_id == deal.id)).all():
            session.delete(split)
        session.flush()
        outcome = "updated"
    else:
        locked = closed_period_state(session, data.closed_at)
        if locked is not None:
            raise PeriodLocked("closed_at", f"period {locked.key} is {locked.state}: a deal closed on "
                               f"{data.closed_at} cannot be added to it")
        deal = Deal(external_id=data.external_id, owner_id=0, amount_minor=0, currency=data.currency,
                    closed_at=data.closed_at, name="")
        outcome = "created"

    deal.name = data.name or data.external_id
    deal.account = data.account
    deal.owner_id = people[data.owner].id
    deal.amount_minor = amount_minor
    deal.currency = data.currency
    deal.closed_at = data.closed_at
    deal.type = data.type
    deal.product = data.product
    deal.term_months = data.term_months
    deal.source_campaign = data.source_campaign
    deal.status = data.status
    deal.cancelled_at = data.cancelled_at
    deal.custom_fields = data.model_dump(mode="json")["custom_fields"]
    deal.body_hash = digest
    deal.updated_at = utcnow()
    session.add(deal)
    session.flush()
    for split in data.splits:
        share_bp = int(split.share * 100)
        session.add(DealSplit(deal_id=deal.id, person_id=people[split.person].id, share_bp=share_bp))
    session.flush()

    touched_people |= involved
    if (owner := _campaign_owner(session, data.source_campaign)) is not None:
        touched_people.add(owner)
    touched_people |= _managers_of(session, touched_people)
    record_event(session, by, f"deal.{outcome}", "deal", deal.external_id,
                 {"amount": str(data.amount), "currency": data.currency, "status": data.status})
    return RecordResult(deal, outcome, touched_people, touched_days)


def _check_may_record(session: Session, by: Principal | None, person_ids: set[int]) -> None:
    """Reps record their own deals, managers their team's, finance and admins anyone's."""
    if by is None:
        return
    visible = visible_person_ids(session, by)
    if visible is None:
        return
    if by.role == "rep" and by.person_id not in person_ids:
        raise DealForbidden("a rep can only record deals they own or share")
    if by.role == "manager" and not person_ids <= visible:
        raise DealForbidden("a manager can only record deals of their own team")


def deal_out(session: Session, deal: Deal) -> DealOut:
    owner = session.get(Person, deal.owner_id)
    splits = session.exec(
        select(Person.email, DealSplit.share_bp).join(Person, Person.id == DealSplit.person_id)
        .where(DealSplit.deal_id == deal.id).order_by(Person.email)
    ).all()
    return DealOut(
        external_id=deal.external_id,
        name=deal.name,
        account=deal.account,
        owner=owner.email if owner else "",
        amount=str(from_minor(deal.amount_minor, deal.currency)),
        currency=deal.currency,
        closed_at=deal.closed_at,
        type=deal.type,
        product=deal.product,
        term_months=deal.term_months,
        source_campaign=deal.source_campaign,
        status=deal.status,
        cancelled_at=deal.cancelled_at,
        splits=[{"person": email, "share": str(Decimal(bp) / 100)} for email, bp in splits],
        custom_fields=deal.custom_fields,
    )
