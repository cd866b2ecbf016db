"""Recording lead lifecycle events: the one service behind the API and the CSV import.

Idempotent on (lead external id, stage): the same body again changes nothing, a changed
body updates the event (and the lead's owner, campaign, name and account). After every
write the lead's stage flags are recomputed (``metrics.stage_flags``), so an SQL that
arrives before its MQL is flagged until the MQL arrives, and counted from then on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.errors import InputProblem
from commissions.core.money import MoneyError, from_minor, to_minor
from commissions.core.principal import Principal
from commissions.marketing.metrics import stage_flags
from commissions.marketing.schemas import LeadEventIn, LeadEventOut
from commissions.models import Lead, LeadEvent, Person
from commissions.models.base import utcnow
from commissions.people.queries import person_by_email


class LeadEventError(InputProblem):
    pass


@dataclass
class LeadEventResult:
    event: LeadEvent
    lead: Lead
    outcome: str  # created | updated | unchanged
    people: set[int] = field(default_factory=set)  # owners before and after: their statements are recomputed
    days: set[date] = field(default_factory=set)  # event dates before and after


def body_hash(data: LeadEventIn) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class LeadEventWriter:
    """Records events inside the caller's transaction, caching people and leads (a CSV file repeats them)."""

    def __init__(self, session: Session, by: Principal | None) -> None:
        self.session = session
        self.by = by
        self._people: dict[str, Person | None] = {}
        self._seen: set[tuple[str, str]] = set()

    def person(self, email: str) -> Person | None:
        if email not in self._people:
            self._people[email] = person_by_email(self.session, email)
        return self._people[email]

    def write(self, data: LeadEventIn) -> LeadEventResult:
        session = self.session
        if (data.lead, data.stage) in self._seen:
            raise LeadEventError("stage", f"lead {data.lead} has its {data.stage} event twice")
        self._seen.add((data.lead, data.stage))
        owner = self.person(data.owner)
        if owner is None:
            raise LeadEventError("owner", f"no person with email {data.owner}")
        amount_minor = None
        if data.amount is not None:
            try:
                amount_minor = to_minor(data.amount, data.currency)
            except MoneyError as exc:
                raise LeadEventError("amount", str(exc)) from exc
        digest = body_hash(data)
        now = utcnow()
        lead = session.exec(select(Lead).where(Lead.external_id == data.lead)).first()
        event = None
        if lead is not None:
            event = session.exec(
                select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.stage == data.stage)
            ).first()
        if lead is not None and event is not None and event.body_hash == digest:
            return LeadEventResult(event, lead, "unchanged")
        people: set[int] = {stored_id(owner)}
        days = {data.occurred_at}
        if lead is None:
            lead = Lead(external_id=data.lead, owner_id=stored_id(owner))
        else:
            people.add(lead.owner_id)
            # a new owner moves every event of the lead, and a stage arriving out of order can make the
            # lead's other events count (or not): every period holding one of them may change
            days |= set(session.exec(select(col(LeadEvent.occurred_on)).where(LeadEvent.lead_id == lead.id)).all())
        lead.owner_id, lead.campaign, lead.updated_at = stored_id(owner), data.campaign, now
        lead.name, lead.account = data.name or lead.name, data.account or lead.account
        session.add(lead)
        session.flush()
        outcome = "created" if event is None else "updated"
        if event is None:
            event = LeadEvent(lead_id=stored_id(lead), stage=data.stage, occurred_on=data.occurred_at)
        event.occurred_on, event.amount_minor = data.occurred_at, amount_minor
        event.currency = data.currency if amount_minor is not None else None
        event.body_hash, event.updated_at = digest, now
        session.add(event)
        session.flush()
        refresh_flags(session, stored_id(lead))
        record_event(
            session,
            self.by,
            f"lead_event.{outcome}",
            "lead",
            lead.external_id,
            {
                "stage": data.stage,
                "occurred_at": data.occurred_at.isoformat(),
                "amount": None if data.amount is None else str(data.amount),
                "currency": event.currency,
                "flag": event.flag,
            },
        )
        return LeadEventResult(event, lead, outcome, people, days)


def queue_recompute(session: Session, people: set[int], days: set[date]) -> int:
    """Queue the statements a lead event can change (plans on mqls, sqls or pipeline): the owners and
    everyone above them, in the open periods containing the dates; ``commissions worker`` recomputes."""
    from commissions.calculation.state import touch_days, with_managers

    return touch_days(session, with_managers(session, people), days)


def refresh_flags(session: Session, lead_id: int) -> None:
    events = session.exec(select(LeadEvent).where(LeadEvent.lead_id == lead_id)).all()
    flags = stage_flags({e.stage: e.occurred_on for e in events})
    for event in events:
        if event.flag != flags[event.stage]:
            event.flag = flags[event.stage]
            session.add(event)
    session.flush()


def record_lead_event(session: Session, data: LeadEventIn, *, by: Principal | None) -> LeadEventResult:
    return LeadEventWriter(session, by).write(data)


def event_out(session: Session, result: LeadEventResult) -> LeadEventOut:
    event, lead = result.event, result.lead
    owner = session.get(Person, lead.owner_id)
    return LeadEventOut(
        lead=lead.external_id,
        stage=event.stage,
        occurred_at=event.occurred_on,
        owner=owner.email if owner else "",
        campaign=lead.campaign,
        amount=None if event.amount_minor is None else str(from_minor(event.amount_minor, event.currency or "USD")),
        currency=event.currency,
        in_order=not event.flag,
        flag=event.flag,
    )
