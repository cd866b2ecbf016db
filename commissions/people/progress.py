"""Progress to quota, per person, for Home, My team and the leaderboard.

``plan_progress`` is what Home and My team show: each person's figures from their own plan's stored
calculation (``payee_summary``: credited, quota, attainment, as the statement shows them) and their pay
so far from the ledger's running totals (``ledger_total``, the statement's total). Nothing is recomputed
here, so a page never tells someone a figure their statement does not (docs/metrics.md, "Showing figures").

``progress_rows`` is the raw count of won deals (split shares pro rata, before any plan's
``credit.when``): the leaderboard's "deals" metric ranks by it. It is never shown as attainment.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.calculation.ledger import totals_query
from commissions.calculation.rows import id_col
from commissions.core.money import from_minor
from commissions.core.periods import PeriodKey
from commissions.engine.plan_yaml import load_plan_document
from commissions.models import Deal, DealSplit, LedgerTotal, PayeeSummary, Period, Person, Plan, PlanVersion


@dataclass(frozen=True, slots=True)
class Progress:
    """Raw won deals and bookings of one person (no plan rules): the leaderboard's deal count."""

    person_id: int
    email: str
    name: str
    won_minor: int
    deals: Decimal
    currency: str = "USD"

    @property
    def won(self) -> Decimal:
        return from_minor(self.won_minor, self.currency)


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
    people = session.exec(select(id_col(Person.id), Person.email, Person.name).where(col(Person.id).in_(wanted))).all()
    rows = [Progress(pid, email, name, int(won[pid]), count[pid]) for pid, email, name in people]
    return sorted(rows, key=lambda r: (r.name.casefold(), r.person_id))


@dataclass(frozen=True, slots=True)
class PlanProgress:
    """One person's figures on one plan in one period, as their statement shows them.

    ``plan`` is None for someone without a computed statement in the period (a new hire without a plan,
    or a plan not yet computed): pages show an empty state, never a zero.
    """

    person_id: int
    email: str
    name: str
    role: str
    plan: str | None = None
    metric: str = "bookings"
    currency: str = "USD"
    credited_minor: int = 0  # minor units, or hundredths for a counted metric (deals, MQLs, SQLs)
    quota_minor: int | None = None
    attainment_ppm: int | None = None
    pay_minor: int | None = None  # the statement's total so far (every plan and adjustment of the period)
    errors: tuple[str, ...] = ()
    scope: str = "own"  # the plan's credit scope: own, or team (a manager's plan credits the team's deals)
    credit_when: str | None = None  # the plan's credit rule, e.g. 'type != "renewal"'

    @property
    def has_plan(self) -> bool:
        return self.plan is not None


_CREDIT_RULES: dict[str, tuple[str, str | None]] = {}  # a plan document -> (scope, credit.when)


def _credit_rule(document: str) -> tuple[str, str | None]:
    """The plan's credit scope and condition, read once per document (what the figure counts, in words)."""
    found = _CREDIT_RULES.get(document)
    if found is None:
        try:
            credit = load_plan_document(document).get("credit") or {}
        except Exception:  # a document the engine would refuse: its figures still show, without the rule
            credit = {}
        if not isinstance(credit, dict):
            credit = {}
        when = credit.get("when")
        found = (str(credit.get("scope") or "own"), str(when) if when not in (None, "") else None)
        if len(_CREDIT_RULES) > 256:
            _CREDIT_RULES.clear()
        _CREDIT_RULES[document] = found
    return found


def plan_progress(session: Session, person_ids: list[int], period: PeriodKey) -> list[PlanProgress]:
    """Each person's stored figures in the period (one row per plan; one empty row without any),
    by attainment (highest first; people without a quota or plan last), then name."""
    if not person_ids:
        return []
    wanted = set(person_ids)
    people = session.exec(
        select(id_col(Person.id), Person.email, Person.name, Person.role).where(col(Person.id).in_(wanted))
    ).all()
    period_id = session.exec(select(Period.id).where(Period.key == period.key)).first()
    summaries: dict[int, list[tuple[PayeeSummary, str, int]]] = {}
    documents: dict[int, str] = {}
    pay: dict[int, int] = {}
    if period_id is not None:
        for summary, plan_name in session.exec(
            select(PayeeSummary, Plan.name)
            .join(Plan, col(Plan.id) == PayeeSummary.plan_id)
            .where(PayeeSummary.period_id == period_id, col(PayeeSummary.person_id).in_(wanted))
            .order_by(col(Plan.name), col(PayeeSummary.plan_id))
        ):
            summaries.setdefault(summary.person_id, []).append((summary, plan_name, summary.plan_version_id))
        versions = {version for found in summaries.values() for _, _, version in found}
        if versions:  # each plan version's document once, however many people are on it
            documents = dict(
                session.exec(
                    select(id_col(PlanVersion.id), PlanVersion.document).where(col(PlanVersion.id).in_(versions))
                ).all()
            )
        for person_id, amount in session.exec(
            totals_query(period_id, LedgerTotal.person_id, func.sum(LedgerTotal.amount_minor))
            .where(col(LedgerTotal.person_id).in_(wanted))
            .group_by(col(LedgerTotal.person_id))
        ):
            pay[person_id] = int(amount or 0)
    rows: list[PlanProgress] = []
    for pid, email, name, role in people:
        found = summaries.get(pid)
        if not found:
            rows.append(PlanProgress(pid, email, name, role, pay_minor=pay.get(pid)))
            continue
        for summary, plan_name, version in found:
            scope, when = _credit_rule(documents.get(version, ""))
            rows.append(
                PlanProgress(
                    pid,
                    email,
                    name,
                    role,
                    plan_name,
                    summary.metric,
                    summary.currency,
                    summary.credited_minor,
                    summary.quota_minor,
                    summary.attainment_ppm,
                    pay.get(pid, 0),
                    tuple(summary.errors),
                    scope,
                    when,
                )
            )
    return sorted(
        rows,
        key=lambda r: (
            r.attainment_ppm is None,
            -(r.attainment_ppm or 0),
            r.name.casefold(),
            r.person_id,
            r.plan or "",
        ),
    )
