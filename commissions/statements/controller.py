"""Statement pages, the statements API and the what-if box."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session, select

from commissions.auth.guards import requires_person, requires_role
from commissions.disputes.service import dispute_context
from commissions.engine import PeriodError, parse_period
from commissions.errors import InputProblem
from commissions.models import PayeeSummary, PayoutLine, Period, Person
from commissions.money import from_minor
from commissions.periods.keys import quarter_of
from commissions.statements.service import (
    StatementNotFound,
    find_statement_person,
    read_statement,
    visible_payees,
)
from commissions.statements.whatif import what_if
from commissions.web.dependencies import CurrentPrincipal, DbSession
from commissions.web.rendering import page, page_or_partial

readers = requires_role("rep", "manager", "finance")


def _period_key(db: Session, person: Person | None, text: str | None) -> str:
    if text:
        try:
            return parse_period(text).key
        except PeriodError as exc:
            raise InputProblem("period", str(exc)) from exc
    if person is not None:
        latest = db.exec(
            select(Period.key).join(PayeeSummary, PayeeSummary.period_id == Period.id)
            .where(PayeeSummary.person_id == person.id).order_by(Period.ends_on.desc())
        ).first()
        if latest:
            return latest
    return quarter_of(date.today()).key


def _periods_of(db: Session, person: Person, shown: str | None = None) -> list[str]:
    """Periods with a statement for the person: computed figures or any line (an adjustment alone counts)."""
    keys = set(db.exec(select(Period.key).join(PayeeSummary, PayeeSummary.period_id == Period.id)
                       .where(PayeeSummary.person_id == person.id)).all())
    keys |= set(db.exec(select(Period.key).join(PayoutLine, PayoutLine.period_id == Period.id)
                        .where(PayoutLine.person_id == person.id)).all())
    if shown:
        keys.add(shown)
    return sorted(keys, reverse=True)


class LineOut(BaseModel):
    deal: str | None
    amount: str
    kind: str
    text: str


class ComponentOut(BaseModel):
    name: str
    amount: str
    lines: list[LineOut]


class AdjustmentLineOut(BaseModel):
    kind: str  # adjustment | clawback
    component: str  # Prior-period adjustment | Clawback | Manual adjustment
    original_period: str | None
    deal: str | None
    amount: str
    text: str  # for a manual adjustment: its reason
    manual: bool


class PlanOut(BaseModel):
    plan: str
    version: int
    metric: str
    credited: str
    quota: str | None
    attainment: str | None
    total: str | None
    errors: list[str]
    draw_balance_in: str | None = None
    draw_balance_out: str | None = None


class StatementOut(BaseModel):
    person: str
    name: str
    period: str
    state: str
    currency: str
    total: str
    plans: list[PlanOut]
    components: list[ComponentOut]
    adjustments: list[AdjustmentLineOut] = []


def _measure(minor: int | None, metric: str, currency: str) -> str | None:
    if minor is None:
        return None
    return str(Decimal(minor).scaleb(-2)) if metric in ("deals", "mqls", "sqls") else str(from_minor(minor, currency))


class StatementsController(Controller):
    guards = [readers]

    @get("/statements", include_in_schema=False, sync_to_thread=True)
    def index(self, db: DbSession, principal: CurrentPrincipal, period: FromQuery[str | None] = None) -> Template | Redirect:
        me = db.get(Person, principal.person_id) if principal.person_id else None
        if principal.role == "rep" and me is not None:
            return Redirect(f"/statements/{quote(me.email)}" + (f"?period={quote(period)}" if period else ""))
        key = _period_key(db, me, period)
        period_row = db.exec(select(Period).where(Period.key == key)).first()
        rows = visible_payees(db, principal, period_row) if period_row else []
        return page("pages/statements/index.html", {"rows": rows, "period": key, "me": me})

    @get("/statements/{email:str}", include_in_schema=False, sync_to_thread=True)
    def statement_page(
        self, request: Request, db: DbSession, principal: CurrentPrincipal, email: FromPath[str],
        period: FromQuery[str | None] = None, component: FromQuery[str | None] = None,
    ) -> Template:
        person = find_statement_person(db, principal, email)
        key = _period_key(db, person, period)
        try:
            statement = read_statement(db, person, key, component=component or None)
        except StatementNotFound:
            statement = None
        context = {
            "statement": statement, "person": person, "period": key, "component": component or "",
            "periods": _periods_of(db, person, key), "own": person.id == principal.person_id, "answers": None,
            **dispute_context(db, principal, person, statement),
            "finance": principal.role == "finance",
        }
        return page_or_partial(request, "pages/statements/show.html", "partials/statements/lines.html", context)

    @post("/statements/what-if", include_in_schema=False, sync_to_thread=True, status_code=200,
          guards=[requires_role("rep", "manager"), requires_person])
    def what_if_box(
        self, request: Request, db: DbSession, principal: CurrentPrincipal,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        """Only about one's own statement: nothing is saved."""
        me = db.get(Person, principal.person_id)
        key = _period_key(db, me, str(data.get("period") or "") or None)
        raw = str(data.get("amount", "")).strip().replace(",", "")
        context: dict[str, Any] = {"period": key, "amount": raw, "answers": None, "error": None}
        try:
            amount = Decimal(raw)
            if not amount.is_finite() or amount <= 0 or amount > Decimal("1000000000000"):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            context["error"] = "Enter the deal amount as a positive number, e.g. 40000."
        else:
            context["answers"] = what_if(db, me, key, amount, product=str(data.get("product") or "") or None)
        return page_or_partial(request, "pages/statements/what_if.html", "partials/statements/what_if.html", context)

    @get("/api/v1/statements/{email:str}", tags=["statements"], sync_to_thread=True,
         summary="A person's statement: payout lines with explanations (self, manager chain, finance)")
    def statement_api(self, db: DbSession, principal: CurrentPrincipal, email: FromPath[str],
                      period: FromQuery[str | None] = None) -> StatementOut:
        if principal.role not in ("rep", "manager", "finance"):
            raise PermissionDeniedException("Statements are for the person, their managers and finance.")
        person = find_statement_person(db, principal, email)
        key = _period_key(db, person, period)
        st = read_statement(db, person, key)
        cur = st.currency
        return StatementOut(
            person=person.email, name=person.name, period=key, state=st.period.state, currency=cur,
            total=str(from_minor(st.total_minor, cur)),
            plans=[PlanOut(plan=p.plan, version=p.version, metric=p.metric,
                           credited=_measure(p.credited_minor, p.metric, cur) or "0",
                           quota=_measure(p.quota_minor, p.metric, cur),
                           attainment=None if p.attainment_ppm is None else str((Decimal(p.attainment_ppm) / 1_000_000).quantize(Decimal("0.0001"))),
                           total=None if p.total_minor is None else str(from_minor(p.total_minor, cur)), errors=p.errors,
                           draw_balance_in=None if p.draw_balance_in_minor is None else str(from_minor(p.draw_balance_in_minor, cur)),
                           draw_balance_out=None if p.draw_balance_minor is None else str(from_minor(p.draw_balance_minor, cur)))
                   for p in st.plans],
            adjustments=[AdjustmentLineOut(kind=a.kind, component=a.component, original_period=a.original_period, deal=a.deal,
                                           amount=str(from_minor(a.amount_minor, cur)), text=a.text, manual=a.manual)
                         for a in st.adjustments],
            components=[ComponentOut(name=c.name, amount=str(from_minor(c.amount_minor, cur)), lines=[
                LineOut(deal=line.deal, amount=str(from_minor(line.amount_minor, cur)), kind=line.kind, text=line.text)
                for line in c.lines]) for c in st.components],
        )


