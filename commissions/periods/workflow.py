"""The period workflow: open → approved → locked → paid, by finance only, each step audited.

- **approve** (open → approved): first recomputes the statements still waiting in the
  recompute queue for the period, so what is approved is what the data says; the audit
  event carries the totals per person and component.
- **lock** (approved → locked): the period never changes again; later changes that
  touch it become prior-period adjustment lines (``commissions.adjustments.prior_period``).
  Queued statements are recomputed first; if that changes any figure the period drops
  back to open and the lock is refused (approve the new figures first).
- **pay** (locked → paid): payroll has paid it; still locked.

A recomputation that changes the figures of an *approved* period drops it back to open
(``reopen_after_change``, audited as ``period.reopened``): approval is of figures, and
the figures changed. Locking serialises with deal deliveries through
``core.periods.lock_period`` (PostgreSQL advisory lock; SQLite writes are
serial), so a deal lands either in the period before the lock or as an adjustment after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.calculation.ledger import totals_query
from commissions.calculation.rows import stored_id
from commissions.core import mail, outbox
from commissions.core.audit import record_event
from commissions.core.errors import Conflict, InputProblem
from commissions.core.i18n import gettext
from commissions.core.money import from_minor
from commissions.core.periods import (
    ORDER,
    get_period,
    normalise_key,
)
from commissions.core.principal import Principal
from commissions.models import AuditEvent, Deal, LedgerTotal, PayoutLine, Period, Person
from commissions.models.base import utcnow

# action: (state it needs, state it leaves, the timestamp/actor columns it sets)
TRANSITIONS: dict[str, tuple[str, str, str]] = {
    "approve": ("open", "approved", "approved"),
    "lock": ("approved", "locked", "locked"),
    "pay": ("locked", "paid", "paid"),
}
NEXT_ACTION = {"open": "approve", "approved": "lock", "locked": "pay"}


@dataclass
class PersonTotals:
    person_id: int
    email: str
    name: str
    currency: str
    components: dict[str, int] = field(default_factory=dict)
    total_minor: int = 0


@dataclass
class PeriodTotals:
    people: list[PersonTotals]
    components: list[str]
    component_totals: dict[str, int]
    grand_totals: dict[str, int]  # per currency

    def as_audit(self) -> dict[str, Any]:
        return {
            "grand_totals": {cur: str(from_minor(v, cur)) for cur, v in self.grand_totals.items()},
            "components": {name: v for name, v in self.component_totals.items()},
            "people": {
                p.email: {
                    "total": str(from_minor(p.total_minor, p.currency)),
                    "currency": p.currency,
                    "components": {c: str(from_minor(v, p.currency)) for c, v in p.components.items()},
                }
                for p in self.people
            },
        }


@dataclass
class Change:
    """A ledger line written since the baseline (``reversed`` lines show the line they take back)."""

    email: str
    name: str
    component: str
    kind: str
    deal: str | None
    amount_minor: int
    currency: str
    text: str
    created_at: datetime


@dataclass
class ChangesSince:
    since: datetime | None
    label: str
    lines: list[Change]
    net_by_person: list[NetChange]  # by email
    truncated: bool = False


@dataclass(frozen=True)
class NetChange:
    email: str
    name: str
    currency: str
    amount_minor: int


def period_totals(session: Session, period: Period) -> PeriodTotals:
    """Totals per person and per component of the lines in force (what the statements show).

    Read from the ledger's running totals (``calculation.ledger``), a few rows per person: the page
    costs its people, not the ledger's lines (it loaded every line before: 173 s at 2.1M lines).
    People come by name, each one's components in the order they first appeared in the ledger."""
    people: dict[int, PersonTotals] = {}
    components: dict[str, int] = {}
    grand: dict[str, int] = {}
    for person_id, email, name, component, currency, amount, _ in session.execute(
        _person_groups(stored_id(period))
    ).all():
        amount = _add_group(people, person_id, email, name, component, currency, amount)
        components[component] = components.get(component, 0) + amount
        grand[currency] = grand.get(currency, 0) + amount
    return PeriodTotals(list(people.values()), list(components), components, grand)


def _person_groups(period_id: int, people: list[int] | None = None) -> Any:
    """Each person's running totals per component and currency (of ``people``, or everyone), by name, then
    person, each one's components in the order they first appeared in the ledger."""
    query = (
        totals_query(
            period_id,
            LedgerTotal.person_id,
            Person.email,
            Person.name,
            LedgerTotal.component,
            LedgerTotal.currency,
            func.sum(LedgerTotal.amount_minor),
            func.min(LedgerTotal.first_line_id),
        )
        .join(Person, col(Person.id) == LedgerTotal.person_id)
        .group_by(LedgerTotal.person_id, Person.email, Person.name, LedgerTotal.component, LedgerTotal.currency)
        .order_by(Person.name, LedgerTotal.person_id, func.min(LedgerTotal.first_line_id))
    )
    return query if people is None else query.where(col(LedgerTotal.person_id).in_(people))


def _add_group(
    people: dict[int, PersonTotals], person_id: int, email: str, name: str, component: str, currency: str, amount: Any
) -> int:
    """Add one group of ``_person_groups`` to its person's totals; its amount in minor units."""
    minor = int(amount)
    entry = people.setdefault(person_id, PersonTotals(person_id, email, name, currency))
    entry.components[component] = entry.components.get(component, 0) + minor
    entry.total_minor += minor
    return minor


def period_totals_page(
    session: Session, period: Period, *, limit: int, after: tuple[str, int] | None = None
) -> tuple[PeriodTotals, tuple[str, int] | None]:
    """The period's totals per currency and component, and one page of people (by name, then id, after
    ``after``): what the paged period API answers. The people on the page cost the page, the totals one
    grouped query (20,000 people made a 3.7 MB answer). Returns the totals and the key of the page's last
    person when more follow."""
    period_id = stored_id(period)
    components: dict[str, int] = {}
    grand: dict[str, int] = {}
    for component, currency, amount, _ in session.execute(
        totals_query(
            period_id,
            LedgerTotal.component,
            LedgerTotal.currency,
            func.sum(LedgerTotal.amount_minor),
            func.min(LedgerTotal.first_line_id),
        )
        .group_by(LedgerTotal.component, LedgerTotal.currency)
        .order_by(func.min(LedgerTotal.first_line_id))
    ).all():
        components[component] = components.get(component, 0) + int(amount)
        grand[currency] = grand.get(currency, 0) + int(amount)
    page = (
        totals_query(period_id, Person.id, Person.name)
        .select_from(LedgerTotal)
        .join(Person, col(Person.id) == LedgerTotal.person_id)
        .distinct()
        .order_by(Person.name, Person.id)
        .limit(limit + 1)
    )
    if after is not None:
        name, person_id = after
        page = page.where((col(Person.name) > name) | ((col(Person.name) == name) & (col(Person.id) > person_id)))
    chosen = session.execute(page).all()
    more = len(chosen) > limit
    chosen = chosen[:limit]
    people: dict[int, PersonTotals] = {}
    if chosen:
        for person_id, email, name, component, currency, amount, _ in session.execute(
            _person_groups(period_id, [pid for pid, _ in chosen])
        ).all():
            _add_group(people, person_id, email, name, component, currency, amount)
    last = (chosen[-1][1], chosen[-1][0]) if more and chosen else None
    return PeriodTotals(list(people.values()), list(components), components, grand), last


def changes_since_last_step(session: Session, period: Period, *, limit: int = 500) -> ChangesSince:
    """What the ledger gained since the period's last approval (so also what reopened it).

    Never approved: since the previous calculation run (i.e. what the latest run changed).
    Every line written after that moment is listed (new lines, reversals of old ones,
    adjustments), with the net change per person.
    """
    last_step = session.exec(
        select(AuditEvent.at)
        .where(
            AuditEvent.object_type == "period",
            AuditEvent.object_id == period.key,
            AuditEvent.action == "period.approved",
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    query = (
        select(PayoutLine, Person.email, Person.name, Deal.external_id)
        .join(Person, col(Person.id) == PayoutLine.person_id)
        .join(Deal, col(Deal.id) == PayoutLine.deal_id, isouter=True)
        .where(PayoutLine.period_id == period.id)
    )
    if last_step is not None:
        since, label = (
            last_step,
            gettext("since the last approval (%(at)s UTC)") % {"at": f"{last_step:%Y-%m-%d %H:%M}"},
        )
        query = query.where(PayoutLine.created_at > last_step)
    else:
        from commissions.models import CalculationRun

        runs = session.exec(
            select(CalculationRun.id)
            .where(CalculationRun.period_id == period.id)
            .order_by(col(CalculationRun.id).desc())
            .limit(1)
        ).all()
        since, label = None, gettext("by the latest calculation run (the period was never approved)")
        if not runs:
            return ChangesSince(None, label, [], [])
        query = query.where(PayoutLine.run_id == runs[0])
    rows = session.exec(query.order_by(col(PayoutLine.id)).limit(limit + 1)).all()
    totals = query.with_only_columns(
        col(Person.email), col(Person.name), col(PayoutLine.currency), func.sum(PayoutLine.amount_minor)
    ).group_by(Person.email, Person.name, PayoutLine.currency)
    net = [
        NetChange(email, name, currency, int(total))
        for email, name, currency, total in session.execute(totals.order_by(Person.email, PayoutLine.currency)).all()
        if total
    ]
    lines = []
    for line, email, name, external_id in rows[:limit]:
        lines.append(
            Change(
                email,
                name,
                line.component,
                line.kind,
                external_id,
                line.amount_minor,
                line.currency,
                line.text,
                line.created_at,
            )
        )
    return ChangesSince(since, label, lines, net, truncated=len(rows) > limit)


def refresh_queued(session: Session, key: str) -> set[int]:
    """Its own transaction before a step: recompute the period's queued statements and keep the result
    (an approved period whose figures changed is open again), even if the step is then refused."""
    from commissions.core.periods import lock_period

    key = normalise_key(key)
    lock_period(session, key)
    state = session.exec(select(Period.state).where(Period.key == key)).first()
    return _recompute_queued(session, key) if state in ("open", "approved") else set()


def _recompute_queued(session: Session, key: str) -> set[int]:
    """Recompute, now, the statements of the period still waiting for the worker; returns whose changed.

    Finance never approves or locks stale figures: up to ``APPROVE_REFRESH_LIMIT`` pending statements
    are brought up to date here; more than that (a big import the worker is still digesting) is a 409
    naming how many are pending, rather than a request that holds the period for minutes.
    """
    from commissions.calculation.service import recompute
    from commissions.calculation.state import pending_count, pending_in
    from commissions.core.settings import get_settings

    waiting = pending_in(session, key)
    if not waiting:
        return set()
    limit = get_settings().approve_refresh_limit
    if len(waiting) > limit:
        raise Conflict(
            "period",
            f"{key}: {len(waiting)} statements are still being recomputed (pending); "
            f"finance approves only current figures: try again once the worker has caught up, "
            f"or run `commissions recalc --period {key}`",
        )
    changed = recompute(session, key, person_ids=set(waiting), trigger=f"before the period workflow of {key}").people
    left = pending_count(session, key)
    if left:  # cannot happen while the period's lock is held; refuse rather than approve stale figures
        raise Conflict("period", f"{key}: {left} statements are still pending: try again")
    return changed


def transition(
    session: Session, *, key: str, action: str, actor: Principal, override_reason: str | None = None
) -> tuple[Period, PeriodTotals]:
    """Move a period one step forward, in the caller's transaction; audited with the totals.

    Locking with open items on the close checklist (``periods.checklist``) needs ``override_reason``:
    without one it is a 409 naming the items; with one the lock goes ahead and the audit event
    ``period.lock_overridden`` records the items and the reason."""
    from commissions.core.periods import lock_period

    if action not in TRANSITIONS:
        raise InputProblem("action", f"unknown action {action!r}: approve, lock or pay")
    if actor.role != "finance":
        from commissions.core.errors import Forbidden

        raise Forbidden("only finance runs the period workflow")
    needs, to, column = TRANSITIONS[action]
    key = normalise_key(key)
    lock_period(session, key)  # after any deal delivery in flight, before any later one
    period = get_period(session, key, fresh=True)
    if period.state == needs and action in ("approve", "lock"):
        _recompute_queued(session, key)
        session.refresh(period)
        if period.state != needs:  # figures changed since approval: it is open again
            raise Conflict(
                "period",
                f"{key} changed since it was approved (statements were recomputed): "
                "approve the new figures before locking",
            )
    if period.state != needs:
        raise Conflict("period", _wrong_order(key, period.state, action))
    if action in ("approve", "lock"):
        _refuse_failed_calculations(session, key, action)
    overridden = _check_close_list(session, period, override_reason) if action == "lock" else None
    totals = period_totals(session, period)
    now = utcnow()
    period.state = to
    setattr(period, f"{column}_at", now)
    setattr(period, f"{column}_by_id", actor.person_id)
    session.add(period)
    session.flush()
    if action == "lock":
        freeze_contract_terms(session, period)
    if overridden:
        record_event(session, actor, "period.lock_overridden", "period", key, overridden)
    audit = totals.as_audit()
    record_event(session, actor, f"period.{to}", "period", key, {"from": needs, "to": to, **audit})
    outbox.record_event(
        session,
        f"period.{to}",
        {
            "period": key,
            "from": needs,
            "state": to,
            "at": now.isoformat(),
            "by": actor.label,
            "people": len(totals.people),
        },
        pay={"grand_totals": audit["grand_totals"]},
    )
    if to == "approved":
        _mail_statements_ready(session, key, totals)
    return period, totals


def freeze_contract_terms(session: Session, period: Period) -> None:
    """Keep the close date and term of every deal the period pays commission on, as they stand at the lock
    (deals already kept by an earlier lock keep their first record): the contract-cost schedules of
    ``accounting`` read them, so a later edit of a deal never changes a locked period's journal."""
    from sqlalchemy import insert, literal
    from sqlalchemy import select as sa_select

    from commissions.models import ContractTerm

    kept = sa_select(col(ContractTerm.deal_id))
    deals = (
        sa_select(col(Deal.id), col(Deal.closed_at), col(Deal.term_months), literal(period.id), literal(utcnow()))
        .where(
            col(Deal.id).in_(
                sa_select(col(PayoutLine.deal_id)).where(
                    col(PayoutLine.period_id) == period.id,
                    col(PayoutLine.kind) == "earning",
                    col(PayoutLine.deal_id).is_not(None),
                )
            ),
            col(Deal.id).not_in(kept),
        )
        .order_by(col(Deal.id))
    )
    session.execute(
        insert(ContractTerm).from_select(["deal_id", "closed_on", "term_months", "period_id", "recorded_at"], deals)
    )


def _check_close_list(session: Session, period: Period, override_reason: str | None) -> dict[str, Any] | None:
    """The lock's close checklist: clear, nothing to say; open, a 409 naming the items unless a reason is given
    (then what the audit event records)."""
    from commissions.periods.checklist import close_checklist, describe, open_items

    items = open_items(close_checklist(session, period))
    if not items:
        return None
    reason = (override_reason or "").strip()
    if not reason:
        raise Conflict(
            "period",
            f"{period.key} has open items on its close checklist ({describe(items)}): clear them, "
            "or lock with a reason (override_reason) to override",
        )
    if len(reason) > 1000:
        raise InputProblem("override_reason", "at most 1000 characters")
    return {"reason": reason, "open_items": {item.name: item.count for item in items}}


def _mail_statements_ready(session: Session, key: str, totals: PeriodTotals) -> None:
    """Each active person with a statement in the approved period gets "your statement is ready" (a link, no
    figure: docs/email.md), queued in the approval's transaction."""
    if not mail.enabled() or not totals.people:
        return
    ids = [p.person_id for p in totals.people]
    people = session.exec(select(Person).where(col(Person.id).in_(ids), col(Person.active).is_(True))).all()
    for person in sorted(people, key=lambda p: p.email):
        url = mail.link(f"/statements/{quote(person.email)}?{urlencode({'period': key})}")
        context = {"name": person.name, "period": key, "url": url}
        mail.queue_mail(session, "statement_ready", to=person.email, context=context, locale=person.locale)


def _refuse_failed_calculations(session: Session, key: str, action: str) -> None:
    """A statement whose calculation failed pays nothing from its plan: approving it would approve a zero
    that nobody computed. Finance corrects the inputs (e.g. cancels or corrects the deal) first."""
    from commissions.calculation.state import failed_people

    failed = failed_people(session, key)
    if failed:
        emails = session.exec(select(Person.email).where(col(Person.id).in_(failed)).order_by(Person.email)).all()
        shown = ", ".join(emails[:5]) + (f" and {len(emails) - 5} more" if len(emails) > 5 else "")
        raise Conflict(
            "period",
            f"{key} cannot be {'approved' if action == 'approve' else 'locked'}: the calculation "
            f"of {len(failed)} statement(s) failed ({shown}); correct their inputs first "
            "(each statement shows why)",
        )


def _wrong_order(key: str, state: str, action: str) -> str:
    needs, to, _ = TRANSITIONS[action]
    if ORDER.index(state) >= ORDER.index(to):
        return f"{key} is already {state}: it cannot be {to} again"
    return f"{key} is {state}: it must be {needs} before it can be {to} (next step: {NEXT_ACTION[state]})"
