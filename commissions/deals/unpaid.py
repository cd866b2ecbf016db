"""Why a won deal pays nobody: the plans that see it and leave it out (their ``credit.when``), or no plan at all.

The deal page said "No lines yet: it pays nobody in your statements, or its statements are still being
computed" for a renewal under a plan counting only new business (plans.md's example, ``credit.when:
type != "renewal"``), which left the rep guessing. The plans a deal meets are the recalculation's own
(``calculation.loader.plans_in_period``, as ``deals.currency`` finds them), and each plan's condition is the
engine's compiled one, so the page and the calculation cannot disagree. A deal in another currency than a
plan's is converted before conditions on ``amount`` read it: such a plan is not judged here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlmodel import Session, col, select

from commissions import engine as eng
from commissions.calculation.loader import custom_texts, plan_period_kinds, plans_in_period
from commissions.core.money import from_minor
from commissions.core.periods import key_of_day
from commissions.engine.inputs import LEAD_METRICS
from commissions.models import Deal, DealSplit, Person


@dataclass(frozen=True)
class LeftOut:
    """A plan that sees the deal's people and does not count the deal."""

    plan: str
    when: str  # the plan's credit.when, as written
    people: list[str] = field(default_factory=list)  # names of the deal's people on that plan


@dataclass(frozen=True)
class Unpaid:
    left_out: list[LeftOut]
    no_plan: list[str]  # names of the deal's people on no plan in the periods around its close date
    periods: list[str]  # the periods looked at (one per plan period kind in use)


def why_unpaid(session: Session, deal: Deal) -> Unpaid:
    """For a won deal without lines: which plans leave it out, and whose pay no plan computes."""
    shares = session.exec(select(DealSplit.person_id, DealSplit.share_bp).where(DealSplit.deal_id == deal.id)).all()
    credited = {deal.owner_id} | {person_id for person_id, _ in shares}
    people = {
        pid: (email, name)
        for pid, email, name in session.exec(
            select(Person.id, Person.email, Person.name).where(col(Person.id).in_(credited))
        ).all()
        if pid is not None
    }
    email_of = {pid: email for pid, (email, _) in people.items()}
    as_engine = eng.Deal(
        external_id=deal.external_id,
        owner=email_of.get(deal.owner_id, ""),
        amount=from_minor(deal.amount_minor, deal.currency),
        currency=deal.currency,
        closed_at=deal.closed_at,
        name=deal.name or "",
        account=deal.account or "",
        type=deal.type,
        product=deal.product or "",
        term_months=deal.term_months,
        source_campaign=deal.source_campaign or "",
        status=deal.status,
        cancelled_at=deal.cancelled_at,
        splits=tuple(sorted((email_of.get(pid, ""), Decimal(bp) / 100) for pid, bp in shares)),
        custom=custom_texts(deal.custom_fields or {}),
    )
    left_out: list[LeftOut] = []
    on_a_plan: set[int] = set()
    periods = []
    for kind in sorted(plan_period_kinds(session)):
        period = eng.parse_period(key_of_day(kind, deal.closed_at))
        periods.append(period.key)
        for plan in plans_in_period(session, period, credited, invalid={}):
            assigned = sorted({a.person_id for a in plan.assignments} & credited)
            on_a_plan.update(assigned)
            condition = plan.parsed.credit.condition
            if plan.parsed.quota in LEAD_METRICS or condition is None or plan.parsed.currency != deal.currency:
                continue
            if not condition(as_engine):
                names = [people[pid][1] or people[pid][0] for pid in assigned if pid in people]
                left_out.append(LeftOut(plan.plan.name, plan.parsed.credit.when or "", names))
    no_plan = sorted(people[pid][1] or people[pid][0] for pid in credited - on_a_plan if pid in people)
    return Unpaid(left_out, no_plan, periods)
