"""Reading statements from the ledger, with the caller's right to see them checked first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date

from sqlalchemy import func
from sqlmodel import Session, col, select

from commissions.calculation.ledger import current_lines_query
from commissions.calculation.rows import id_col, stored_id
from commissions.calculation.state import Freshness, freshness
from commissions.core.errors import InputProblem
from commissions.core.periods import quarter_of
from commissions.core.principal import Principal
from commissions.engine import PeriodError, parse_period
from commissions.models import (
    Deal,
    PayeeSummary,
    PayoutLine,
    Period,
    Person,
    Plan,
    PlanVersion,
)
from commissions.people.access import StatementNotFound
from commissions.people.service import report_ids


@dataclass(frozen=True, slots=True)
class StatementLine:
    component: str
    kind: str
    deal: str | None
    amount_minor: int
    text: str
    original_period: str | None = None  # adjustment and clawback lines: the period they correct
    line_id: int | None = None
    manual: bool = False  # a manual adjustment by finance (text = its reason)
    by: str = ""


ADJUSTMENT_KINDS = ("adjustment", "clawback")


@dataclass
class ComponentTotal:
    name: str
    amount_minor: int = 0
    lines: list[StatementLine] = field(default_factory=list)


@dataclass
class PlanFigures:
    plan: str
    version: int
    metric: str
    credited_minor: int
    quota_minor: int | None
    attainment_ppm: int | None
    total_minor: int | None
    errors: list[str]
    draw_balance_in_minor: int | None = None  # recoverable draws: the balance carried in and out
    draw_balance_minor: int | None = None

    @property
    def attainment_percent(self) -> float | None:  # display only, never money
        return None if self.attainment_ppm is None else self.attainment_ppm / 10_000

    @property
    def bar_percent(self) -> int:
        return 0 if self.attainment_ppm is None else min(100, self.attainment_ppm // 10_000)


@dataclass
class Statement:
    person: Person
    period: Period
    currency: str
    plans: list[PlanFigures]
    components: list[ComponentTotal]
    total_minor: int
    adjustments: list[StatementLine] = field(default_factory=list)  # prior-period, clawback and manual lines

    @property
    def adjustments_minor(self) -> int:
        return sum(line.amount_minor for line in self.adjustments)

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]


def read_statement(session: Session, person: Person, period_key: str, *, component: str | None = None) -> Statement:
    period = session.exec(select(Period).where(Period.key == period_key)).first()
    if period is None:
        raise StatementNotFound("period", f"no period {period_key} has been computed")
    summaries = session.exec(
        select(PayeeSummary, Plan.name, PlanVersion.version)
        .join(Plan, col(Plan.id) == PayeeSummary.plan_id)
        .join(PlanVersion, col(PlanVersion.id) == PayeeSummary.plan_version_id)
        .where(PayeeSummary.person_id == person.id, PayeeSummary.period_id == period.id)
        .order_by(Plan.name)
    ).all()
    plans = [
        PlanFigures(
            name,
            version,
            s.metric,
            s.credited_minor,
            s.quota_minor,
            s.attainment_ppm,
            s.total_minor,
            list(s.errors),
            s.draw_balance_in_minor,
            s.draw_balance_minor,
        )
        for s, name, version in summaries
    ]
    rows = session.exec(
        current_lines_query(stored_id(person), stored_id(period), Deal.external_id)
        .join(Deal, Deal.id == PayoutLine.deal_id, isouter=True)
        .order_by(PayoutLine.id)
    ).all()
    components: dict[str, ComponentTotal] = {}
    currency = summaries[0][0].currency if summaries else "USD"
    total = 0
    adjustments: list[StatementLine] = []
    period_keys: dict[int, str] | None = None
    for line, external_id in rows:
        total += line.amount_minor
        currency = line.currency
        if line.kind in ADJUSTMENT_KINDS:
            if period_keys is None:
                period_keys = dict(session.exec(select(id_col(Period.id), Period.key)).all())
            basis = line.basis or {}
            adjustments.append(
                StatementLine(
                    line.component,
                    line.kind,
                    external_id,
                    line.amount_minor,
                    line.text,
                    period_keys.get(line.original_period_id) if line.original_period_id else None,
                    line.id,
                    bool(basis.get("manual")),
                    str(basis.get("by", "")),
                )
            )
            continue
        entry = components.setdefault(line.component, ComponentTotal(line.component))
        entry.amount_minor += line.amount_minor
        if component is None or component == line.component:
            entry.lines.append(
                StatementLine(line.component, line.kind, external_id, line.amount_minor, line.text, line_id=line.id)
            )
    return Statement(person, period, currency, plans, list(components.values()), total, adjustments)


def visible_payees(session: Session, principal: Principal, period: Period) -> list[tuple[Person, PayeeSummary]]:
    """The statements the caller may open in a period (finance: everyone; managers: self and reports)."""
    query = (
        select(Person, PayeeSummary)
        .join(PayeeSummary, col(PayeeSummary.person_id) == Person.id)
        .where(PayeeSummary.period_id == period.id)
    )
    if principal.role != "finance":
        ids = {principal.person_id} if principal.person_id else set()
        if principal.role == "manager" and principal.person_id:
            ids |= report_ids(session, principal.person_id)
        query = query.where(col(Person.id).in_(ids))
    return list(session.exec(query.order_by(Person.name)).all())


def statement_freshness(session: Session, principal: Principal, person: Person, period_key: str) -> Freshness:
    """When the statement was computed, whether changes wait for it, and why its last calculation failed.

    The reason is shown to everyone who may read the statement: it names the person's own deals and
    plan, which they all see anyway (and the API's plan errors already showed it). A statement computed before
    statement states were kept has none: its summaries' last update is when it was computed.
    """
    state = freshness(session, stored_id(person), period_key)
    computed_at = state.computed_at
    if computed_at is None:
        computed_at = session.exec(
            select(func.max(PayeeSummary.updated_at))
            .join(Period, col(Period.id) == PayeeSummary.period_id)
            .where(PayeeSummary.person_id == person.id, Period.key == period_key)
        ).one()
    if computed_at is not None:
        computed_at = computed_at.replace(tzinfo=UTC) if computed_at.tzinfo is None else computed_at.astimezone(UTC)
    # whoever may read the statement (the person, their managers, finance) may read why it failed:
    # the reason names the person's own deals and plan, which they all see anyway
    return Freshness(computed_at, state.pending, state.error)


# --- what the statement pages and API read besides the statement --------------------------------------------------


def signed_in_person(session: Session, principal: Principal) -> Person | None:
    """The caller's own person row (none for an admin or a token without a person)."""
    return session.get(Person, principal.person_id) if principal.person_id else None


def period_key(session: Session, person: Person | None, text: str | None) -> str:
    """The period asked for, else the person's latest statement's, else this quarter."""
    if text:
        try:
            return parse_period(text).key
        except PeriodError as exc:
            raise InputProblem("period", str(exc)) from exc
    if person is not None:
        latest = session.exec(
            select(Period.key)
            .join(PayeeSummary, col(PayeeSummary.period_id) == Period.id)
            .where(PayeeSummary.person_id == person.id)
            .order_by(col(Period.ends_on).desc())
        ).first()
        if latest:
            return latest
    return quarter_of(date.today()).key


def periods_of(session: Session, person: Person, shown: str | None = None) -> list[str]:
    """Periods with a statement for the person: computed figures or any line (an adjustment alone counts)."""
    keys = set(
        session.exec(
            select(Period.key)
            .join(PayeeSummary, col(PayeeSummary.period_id) == Period.id)
            .where(PayeeSummary.person_id == person.id)
        ).all()
    )
    keys |= set(
        session.exec(
            select(Period.key)
            .join(PayoutLine, col(PayoutLine.period_id) == Period.id)
            .where(PayoutLine.person_id == person.id)
        ).all()
    )
    if shown:
        keys.add(shown)
    return sorted(keys, reverse=True)
