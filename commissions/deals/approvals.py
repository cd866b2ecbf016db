"""The approval queue: deal changes a rep entered that credit other people (deals/rules.py).

A held change lives in ``deal_approval`` and pays nobody. Approving applies it through the
one deal path (``DealWriter.write`` then ``apply_recorded``, which marks pending the statements of
the people it credits and of everyone above them) in the approver's transaction, and the people it
credits are computed as soon as that commits (``calculation/settle.py``); rejecting drops it (the row stays, marked, as the record of who decided).
Both are audited (``deal.approved``, ``deal.rejected``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.calculation.settle import settle
from commissions.core.audit import record_event
from commissions.core.db import transaction, write
from commissions.core.errors import Conflict
from commissions.core.money import to_minor
from commissions.core.principal import Principal
from commissions.custom_fields.service import check_deal
from commissions.deals.ingest import DealWriter, RecordResult
from commissions.deals.rules import may_approve
from commissions.deals.schemas import STORED, DealIn
from commissions.deals.service import apply_recorded, take_period_locks
from commissions.models import Campaign, Deal, DealApproval, DealSplit, Person
from commissions.models.base import utcnow
from commissions.people.queries import people_by_email
from commissions.people.service import visible_person_ids


class ApprovalNotFound(LookupError):
    """No such held change, or not one the caller may decide (indistinguishable: 404)."""


@dataclass(frozen=True, slots=True)
class Held:
    id: int
    external_id: str
    name: str
    owner: str
    amount_minor: int
    currency: str
    closed_at: date
    status: str
    splits: list[tuple[str, Decimal]]
    requested_by: str
    requested_at: datetime
    is_change: bool  # of an existing deal (else a new deal)
    may_decide: bool
    names: dict[str, str]  # email -> name, for pages (the API answers with the emails)
    source_campaign: str | None = None
    sourced_by: str | None = None  # the email of the campaign's owner, credited in full (sourced revenue)


def _credited(data: DealIn, people: dict[str, int], marketers: dict[str, int]) -> set[int]:
    """Whom the held change credits: the owner or the split partners, and the owner of its source campaign (a
    marketer's sourced revenue is pay too: deals/rules.py). ``people``: email -> id; ``marketers``: code -> id."""
    emails = {data.owner, *(s.person for s in data.splits)}
    marketer = marketers.get(data.source_campaign or "")
    return {people[e] for e in emails if e in people} | ({marketer} if marketer is not None else set())


def campaign_owners(session: Session, codes: set[str | None]) -> dict[str, int]:
    """The owner of each named campaign (codes naming none are left out)."""
    wanted = sorted(code for code in codes if code)
    if not wanted:
        return {}
    return {
        code: owner
        for code, owner in session.exec(
            select(Campaign.code, Campaign.owner_id).where(col(Campaign.code).in_(wanted))
        ).all()
    }


Credit = dict[int, tuple[str, int]]  # person id -> (currency, amount in minor units x share in basis points)


def _with_sourced(credit: Credit, marketer: int | None, currency: str, amount_minor: int) -> Credit:
    """``credit`` and the source campaign owner's credit: the whole amount (plans.md 3, sourced revenue)."""
    if marketer is None:
        return credit
    had = credit.get(marketer)
    total = amount_minor * 10_000 + (had[1] if had is not None and had[0] == currency else 0)
    return {**credit, marketer: (currency, total)}


def _credit_after(data: DealIn, people: dict[str, int], marketers: dict[str, int]) -> Credit:
    """What the held change credits each person (a cancellation credits nobody)."""
    if data.status == "cancelled":
        return {}
    amount = to_minor(data.amount, data.currency)
    shares = {data.owner: 10_000} if not data.splits else {s.person: int(s.share * 100) for s in data.splits}
    credit = {people[e]: (data.currency, amount * bp) for e, bp in shares.items() if e in people}
    return _with_sourced(credit, marketers.get(data.source_campaign or ""), data.currency, amount)


def _credit_before(session: Session, external_ids: set[str]) -> dict[str, Credit]:
    """What each existing deal credits each person now, by external id (one read for the deals, one for splits)."""
    if not external_ids:
        return {}
    deals = session.exec(select(Deal).where(col(Deal.external_id).in_(sorted(external_ids)))).all()
    marketers = campaign_owners(session, {deal.source_campaign for deal in deals})
    splits: dict[int, dict[int, int]] = {}
    for deal_id, person_id, share_bp in session.exec(
        select(DealSplit.deal_id, DealSplit.person_id, DealSplit.share_bp).where(
            col(DealSplit.deal_id).in_([d.id for d in deals])
        )
    ).all():
        splits.setdefault(deal_id, {})[person_id] = share_bp
    out: dict[str, Credit] = {}
    for deal in deals:
        shares = splits.get(stored_id(deal)) or {deal.owner_id: 10_000}
        out[deal.external_id] = (
            {}
            if deal.status == "cancelled"
            else _with_sourced(
                {pid: (deal.currency, deal.amount_minor * bp) for pid, bp in shares.items()},
                marketers.get(deal.source_campaign or ""),
                deal.currency,
                deal.amount_minor,
            )
        )
    return out


def _lowered(before: Credit, after: Credit) -> set[int]:
    """Whose credit the change lowers: gone, smaller, or moved to another currency (not comparable)."""
    return {
        pid
        for pid, (currency, value) in before.items()
        if pid not in after or after[pid][0] != currency or after[pid][1] < value
    }


def held_for(session: Session, principal: Principal) -> list[Held]:
    """The held changes the caller may decide, and the ones they asked for themselves, oldest first."""
    rows = session.exec(
        select(DealApproval)
        .where(DealApproval.state == "pending")
        .order_by(col(DealApproval.created_at), col(DealApproval.id))
    ).all()
    if not rows:
        return []
    visible = visible_person_ids(session, principal)
    bodies = {row.id: DealIn.model_validate(row.body, context={STORED: True}) for row in rows}
    emails = {e for d in bodies.values() for e in (d.owner, *(s.person for s in d.splits))}
    found = people_by_email(session, emails)
    people = {email: stored_id(person) for email, person in found.items()}
    labels = {email: person.name or email for email, person in found.items()}
    names = dict(
        session.exec(
            select(Person.id, Person.email).where(col(Person.id).in_({row.requested_by_id for row in rows}))
        ).all()
    )
    before = _credit_before(session, {row.external_id for row in rows if row.base_hash})
    marketers = campaign_owners(session, {data.source_campaign for data in bodies.values()})
    marketer_rows = session.exec(
        select(Person.id, Person.email, Person.name).where(col(Person.id).in_(set(marketers.values())))
    ).all()
    marketer_email = {pid: email for pid, email, _ in marketer_rows}
    labels.update((email, name or email) for _, email, name in marketer_rows)
    out = []
    for row in rows:
        data = bodies[row.id]
        decide = may_approve(
            principal,
            requester_id=row.requested_by_id,
            credited=_credited(data, people, marketers),
            visible=visible,
            lowered=_lowered(before.get(row.external_id, {}), _credit_after(data, people, marketers)),
        )
        if not decide and row.requested_by_id != principal.person_id:
            continue
        out.append(
            Held(
                id=stored_id(row),
                external_id=row.external_id,
                name=data.name or data.external_id,
                owner=data.owner,
                amount_minor=to_minor(data.amount, data.currency),
                currency=data.currency,
                closed_at=data.closed_at,
                status=data.status,
                splits=[(s.person, s.share) for s in data.splits],
                requested_by=names.get(row.requested_by_id, ""),
                requested_at=row.created_at,
                is_change=bool(row.base_hash),
                may_decide=decide,
                names=labels,
                source_campaign=data.source_campaign or None,
                sourced_by=marketer_email.get(marketers.get(data.source_campaign or "", -1)),
            )
        )
    return out


def _decidable(session: Session, approval_id: int, by: Principal, *, lock: bool = True) -> tuple[DealApproval, DealIn]:
    """The held change if the caller may decide it (else 404), still pending (else 409); row-locked (PostgreSQL)."""
    query = select(DealApproval).where(DealApproval.id == approval_id).execution_options(populate_existing=True)
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None:
        raise ApprovalNotFound(approval_id)
    data = DealIn.model_validate(row.body, context={STORED: True})
    emails = {data.owner, *(s.person for s in data.splits)}
    people = {email: stored_id(person) for email, person in people_by_email(session, emails).items()}
    before = _credit_before(session, {row.external_id}).get(row.external_id, {})
    marketers = campaign_owners(session, {data.source_campaign})
    if not may_approve(
        by,
        requester_id=row.requested_by_id,
        credited=_credited(data, people, marketers),
        visible=visible_person_ids(session, by),
        lowered=_lowered(before, _credit_after(data, people, marketers)),
    ):
        raise ApprovalNotFound(approval_id)
    if row.state != "pending":
        raise Conflict("approval", f"this change of deal {row.external_id} was already {row.state}")
    return row, data


def confirmed_notices(session: Session, principal: Principal, **asked: str | None) -> dict[str, str | None]:
    """Which of the deal ids a page's notice names (``held``, ``approved``, ``rejected``) are true of the caller.

    The ids come from the redirect after a decision; a link anyone can write must not make a page say
    that a deal was approved, so each one is kept only if the caller asked for (held) or decided it.
    """
    states = {"held": "pending", "approved": "approved", "rejected": "rejected"}
    confirmed: dict[str, str | None] = {}
    for notice, external_id in asked.items():
        confirmed[notice] = None
        if not external_id or principal.person_id is None:
            continue
        who = DealApproval.requested_by_id if notice == "held" else DealApproval.decided_by_id
        row = session.exec(
            select(DealApproval.id).where(
                DealApproval.external_id == external_id[:128],
                DealApproval.state == states[notice],
                who == principal.person_id,
            )
        ).first()
        confirmed[notice] = external_id if row is not None else None
    return confirmed


def _decide(session: Session, row: DealApproval, by: Principal, state: str) -> None:
    row.state, row.decided_by_id, row.decided_at = state, by.person_id, utcnow()
    session.add(row)


def approve(engine: Engine, approval_id: int, *, by: Principal) -> RecordResult:
    """Apply the held change as its requester entered it, recompute, drop it from the queue: one transaction."""

    def attempt(session: Session) -> tuple[RecordResult, DealIn, set[str]]:
        _, data = _decidable(session, approval_id, by, lock=False)
        existing = session.exec(select(Deal).where(Deal.external_id == data.external_id)).first()
        # the period locks first (as every deal write takes them), then the row: no waiting in a cycle
        take_period_locks(session, {data.closed_at} | ({existing.closed_at} if existing else set()))
        row, data = _decidable(session, approval_id, by)
        existing = session.exec(
            select(Deal).where(Deal.external_id == data.external_id).execution_options(populate_existing=True)
        ).first()
        if (existing.body_hash if existing is not None else "") != row.base_hash:
            raise Conflict(
                "deal",
                f"deal {data.external_id} changed after this request was made: reject it and ask for a new one",
            )
        check_deal(session, custom_fields=data.custom_fields)
        result = DealWriter(session, by, approved_for=row.requested_by_id).write(data)
        keys = apply_recorded(session, result, by=by, trigger=f"deal {data.external_id} approved")
        record_event(
            session,
            by,
            "deal.approved",
            "deal",
            data.external_id,
            {"requested_by": row.requested_by_id, "outcome": result.outcome},
        )
        _decide(session, row, by, "approved")
        return result, data, keys

    result, data, keys = write(engine, attempt)
    result.reports.extend(settle(engine, keys, result.people, trigger=f"deal {data.external_id} approved"))
    return result


def reject(engine: Engine, approval_id: int, *, by: Principal) -> str:
    """Drop the held change (it never paid anyone); returns its deal's external id."""
    with transaction(engine) as session:
        row, data = _decidable(session, approval_id, by)
        record_event(session, by, "deal.rejected", "deal", data.external_id, {"requested_by": row.requested_by_id})
        _decide(session, row, by, "rejected")
        return data.external_id


def pending_count(session: Session, principal: Principal) -> int:
    return sum(1 for held in held_for(session, principal) if held.may_decide)
