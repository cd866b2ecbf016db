"""One deal's page: the deal as stored, the lines it produces in every statement it touches, and whether the
caller may change it.

Who sees what is the existing rules, asked here rather than restated:

- **the deal**: the same visibility as the deal list (``people.service.visible_person_ids``: a rep their own deals
  and the ones they share by a split, a manager their reporting tree's, finance and admins all). A deal one may not
  see is the same ``DealNotFound`` (404) as one that does not exist, so no id can be probed.
- **its lines**: those of the statements the caller may read (``people.access``): their own, their reports' for a
  manager, everyone's for finance; none for admins (they run the system, they do not read pay).
- **changing it**: ``deals.rules.decide`` through ``DealWriter.decide``, the rule every door uses; this only says
  whether to offer the buttons, the save itself is decided again by ``record_one``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from commissions.core.errors import InputProblem
from commissions.core.i18n import N_
from commissions.core.money import to_minor
from commissions.core.periods import CLOSED_STATES
from commissions.core.principal import Principal
from commissions.deals.ingest import DealWriter, deal_out
from commissions.deals.rules import DealForbidden
from commissions.deals.schemas import DealOut
from commissions.deals.unpaid import Unpaid, why_unpaid
from commissions.models import AuditEvent, Deal, DealApproval, DealRevision, DealSplit, PayoutLine, Period, Person
from commissions.people.service import visible_person_ids

MAX_LINES = 1000  # a deal's lines in force: its people's and their managers' (a handful); a bound all the same


class DealNotFound(InputProblem):
    status_code = 404

    def __init__(self) -> None:
        super().__init__("deal", "no deal with this number that you may see")


@dataclass(frozen=True, slots=True)
class DealLine:
    id: int
    period: str
    period_state: str
    person_email: str
    person_name: str
    component: str
    kind: str
    amount_minor: int
    currency: str
    text: str
    original_period: str | None  # a prior-period adjustment or clawback: the locked period it corrects


@dataclass(frozen=True, slots=True)
class LockedPeriod:
    key: str
    state: str


@dataclass(frozen=True)
class KeptVersion:
    """An earlier version of the deal, kept because it closed in a locked or paid period (``DealRevision``)."""

    period_key: str
    period_state: str
    replaced_at: datetime
    replaced_by: str
    deal: dict[str, Any]  # as the API shows a deal
    amount_minor: int  # its amount, for the one money format

    @classmethod
    def of(cls, row: DealRevision) -> KeptVersion:
        amount = to_minor(Decimal(str(row.deal.get("amount", "0"))), str(row.deal.get("currency", "USD")))
        return cls(row.period_key, row.period_state, row.replaced_at, row.replaced_by, row.deal, amount)


@dataclass(frozen=True)
class NotBooked:
    """A change of the deal touched a locked period, but its statements there could not be recomputed for these
    people, so nothing was booked for them (``period.prior_adjustment_skipped``)."""

    period_key: str
    at: datetime
    people: list[tuple[str, str]]  # (name, why)


def _not_booked(session: Session, external_id: str) -> list[NotBooked]:
    """The latest refusal per locked period of the deal's changes (its own audit events, by the object index)."""
    events = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "deal",
            AuditEvent.object_id == external_id,
            AuditEvent.action == "period.prior_adjustment_skipped",
        )
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    ids = {int(p["person_id"]) for e in events for p in (e.detail or {}).get("people", [])}
    names = dict(session.exec(select(Person.id, Person.name).where(col(Person.id).in_(ids))).all()) if ids else {}
    latest: dict[str, NotBooked] = {}
    for event in events:
        detail = event.detail or {}
        people = [(names.get(int(p["person_id"]), "?"), str(p.get("why", ""))) for p in detail.get("people", [])]
        key = str(detail.get("period", ""))
        latest[key] = NotBooked(key, event.at, people)
    return sorted(latest.values(), key=lambda n: n.period_key)


@dataclass
class DealView:
    id: int
    deal: DealOut
    owner_name: str
    amount_minor: int
    updated_at: object
    lines: list[DealLine] = field(default_factory=list)
    lines_shown: bool = True  # False for admins: they do not read pay
    lines_scope: str = ""
    locked: list[LockedPeriod] = field(default_factory=list)  # locked or paid periods containing the close date
    adjustments: list[DealLine] = field(default_factory=list)  # lines booked for a locked period
    may_change: bool = False
    change_held: bool = False  # a change by the caller would wait for approval
    pending_change: bool = False  # a held change of this deal waits for approval
    revisions: list[KeptVersion] = field(default_factory=list)  # earlier versions kept for locked periods, newest first
    not_booked: list[NotBooked] = field(
        default_factory=list
    )  # locked periods the deal's change could not be booked for
    split_names: dict[str, str] = field(default_factory=dict)  # split partner email -> name, as the approvals say it
    closed_states: dict[str, str] = field(default_factory=dict)  # adjustments' original periods -> locked | paid
    unpaid: Unpaid | None = None  # a won deal without lines: the plans that leave it out, whom no plan pays


def _visible_deal(session: Session, principal: Principal, deal_id: int) -> Deal:
    largest = 2**31 if session.get_bind().dialect.name == "postgresql" else 2**63  # deal.id: INTEGER
    deal = session.get(Deal, deal_id) if 0 < deal_id < largest else None
    if deal is None:
        raise DealNotFound()
    people = visible_person_ids(session, principal)
    if people is None or deal.owner_id in people:
        return deal
    shared = session.exec(
        select(DealSplit.id).where(DealSplit.deal_id == deal_id, col(DealSplit.person_id).in_(people))
    ).first()
    if shared is None:
        raise DealNotFound()
    return deal


def line_readers(session: Session, principal: Principal) -> set[int] | None:
    """Whose statement lines the caller may read (None: everyone), as ``people.access.may_read_statement``."""
    if principal.role == "finance":
        return None
    if principal.role == "admin" or principal.person_id is None:
        return set()
    return visible_person_ids(session, principal) or set()


def deal_lines(session: Session, deal_id: int, readers: set[int] | None) -> list[DealLine]:
    """The deal's lines in force (neither reversals nor reversed) in every period, of the people in ``readers``."""
    if readers is not None and not readers:
        return []
    reversal = aliased(PayoutLine)
    original = aliased(Period)
    query = (
        sa_select(
            col(PayoutLine.id),
            col(Period.key),
            col(Period.state),
            col(Person.email),
            col(Person.name),
            col(PayoutLine.component),
            col(PayoutLine.kind),
            col(PayoutLine.amount_minor),
            col(PayoutLine.currency),
            col(PayoutLine.text),
            col(original.key),
        )
        .join(Period, col(Period.id) == PayoutLine.period_id)
        .join(Person, col(Person.id) == PayoutLine.person_id)
        .outerjoin(original, col(original.id) == PayoutLine.original_period_id)
        .where(
            col(PayoutLine.deal_id) == deal_id,
            col(PayoutLine.kind) != "reversal",
            ~exists().where(col(reversal.reverses_id) == PayoutLine.id),
        )
        .order_by(col(Period.starts_on), col(Period.kind), Person.name, col(PayoutLine.id))
        .limit(MAX_LINES)
    )
    if readers is not None:
        query = query.where(col(PayoutLine.person_id).in_(readers))
    return [DealLine(*row) for row in session.execute(query).all()]


def _may_change(session: Session, principal: Principal, deal: Deal) -> tuple[bool, bool]:
    """(may change, a change would be held): the rule every door uses, for the deal's people as they are."""
    writer = DealWriter(session, principal)
    try:
        decision = writer.decide(deal.owner_id, writer.credited_ids(deal), deal, deal.source_campaign)
    except DealForbidden:
        return False, False
    return True, decision == "hold"


def deal_view(session: Session, principal: Principal, deal_id: int) -> DealView:
    """The deal page's content; ``DealNotFound`` for a deal the caller may not see (or none)."""
    deal = _visible_deal(session, principal, deal_id)
    owner = session.get(Person, deal.owner_id)
    readers = line_readers(session, principal)
    lines = deal_lines(session, deal_id, readers)
    locked = session.exec(
        select(Period.key, Period.state)
        .where(
            col(Period.state).in_(CLOSED_STATES),
            col(Period.starts_on) <= deal.closed_at,
            col(Period.ends_on) >= deal.closed_at,
        )
        .order_by(col(Period.starts_on))
    ).all()
    may_change, held = _may_change(session, principal, deal)
    pending = (
        session.exec(
            select(DealApproval.id).where(DealApproval.external_id == deal.external_id, DealApproval.state == "pending")
        ).first()
        is not None
    )
    originals = sorted({line.original_period for line in lines if line.original_period})
    closed_states = (
        dict(session.exec(select(Period.key, Period.state).where(col(Period.key).in_(originals))).all())
        if originals
        else {}
    )
    shown = deal_out(session, deal)
    partners = [split["person"] for split in shown.splits]
    split_names = (
        dict(session.exec(select(Person.email, Person.name).where(col(Person.email).in_(partners))).all())
        if partners
        else {}
    )
    shows_lines = readers is None or bool(readers)
    unpaid = why_unpaid(session, deal) if shows_lines and not lines and deal.status == "won" else None
    return DealView(
        id=deal_id,
        deal=shown,
        unpaid=unpaid,
        split_names=split_names,
        closed_states=closed_states,
        owner_name=owner.name if owner else "",
        amount_minor=deal.amount_minor,
        updated_at=deal.updated_at,
        lines=lines,
        lines_shown=shows_lines,
        lines_scope=_scope(principal),
        locked=[LockedPeriod(key, state) for key, state in locked],
        adjustments=[line for line in lines if line.original_period],
        may_change=may_change,
        change_held=held,
        pending_change=pending,
        not_booked=_not_booked(session, deal.external_id),
        revisions=[
            KeptVersion.of(row)
            for row in session.exec(
                select(DealRevision)
                .where(DealRevision.deal_id == deal_id)
                .order_by(col(DealRevision.replaced_at).desc(), col(DealRevision.id).desc())
            ).all()
        ],
    )


def _scope(principal: Principal) -> str:
    return {
        "rep": N_("your statements"),
        "manager": N_("your statements and your team's"),
        "finance": N_("any statement"),
    }.get(principal.role, "")


def editable_deal(session: Session, principal: Principal, deal_id: int) -> tuple[DealOut, Deal]:
    """A deal the caller may see, as the edit form starts from it (``DealNotFound`` otherwise)."""
    deal = _visible_deal(session, principal, deal_id)
    return deal_out(session, deal), deal


def may_change(session: Session, principal: Principal, deal_id: int) -> bool:
    deal = _visible_deal(session, principal, deal_id)
    return _may_change(session, principal, deal)[0]


@dataclass
class Recorded:
    """What the list's "recorded" notice says of a deal just saved."""

    deal_id: int
    closed_in_locked: str | None  # the locked or paid period it closed in: what it pays is a prior-period adjustment


def find_recorded(session: Session, principal: Principal, external_id: str) -> Recorded | None:
    """The deal with this external id if the caller may see it (the list's "recorded" notice), and the locked or
    paid period it closed in, if any."""
    found = session.exec(select(col(Deal.id), col(Deal.closed_at)).where(Deal.external_id == external_id)).first()
    if found is None:
        return None
    deal_id, closed_at = int(found[0] or 0), found[1]
    try:
        _visible_deal(session, principal, deal_id)
    except DealNotFound:
        return None
    locked = session.exec(
        select(Period.key)
        .where(Period.starts_on <= closed_at, Period.ends_on >= closed_at, col(Period.state).in_(CLOSED_STATES))
        .order_by(Period.key)
    ).first()
    return Recorded(deal_id, locked)
