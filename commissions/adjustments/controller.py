"""Manual adjustments: finance's page and form, the reverse action, and ``POST /api/v1/adjustments``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from commissions.adjustments.service import (
    AdjustmentNotFound,
    add_manual_adjustment,
    line_of,
    recent_manual_lines,
    reverse_adjustment,
)
from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import finance_only
from commissions.core.money import from_minor
from commissions.core.periods import quarter_of
from commissions.core.rendering import page
from commissions.models import Adjustment, Deal, Period, Person
from commissions.people.queries import person_by_email


class AdjustmentIn(BaseModel):
    person: str = Field(description="email of the person whose statement it changes")
    period: str = Field(description="an open period, e.g. 2026-Q2")
    amount: str = Field(description='signed decimal amount in the person\'s pay currency, e.g. "250.00" or "-120.00"')
    reason: str = Field(description="shown on the statement")
    deal: str | None = Field(default=None, description="external_id of the deal it concerns, if any")


class ReverseIn(BaseModel):
    reason: str = ""


class AdjustmentOut(BaseModel):
    id: int
    person: str
    period: str
    amount: str
    currency: str
    reason: str
    deal: str | None
    line: int | None


def _person(session: Session, email: str) -> Person:
    person = person_by_email(session, email or "")
    if person is None:
        raise InputProblem("person", f"no person with email {(email or '').strip()}")
    return person


def _deal_id(session: Session, external_id: str | None) -> int | None:
    if not external_id or not external_id.strip():
        return None
    found = session.exec(select(Deal.id).where(Deal.external_id == external_id.strip())).first()
    if found is None:
        raise InputProblem("deal", f"no deal {external_id.strip()}")
    return found


def _out(session: Session, adjustment: Adjustment) -> AdjustmentOut:
    person = session.get(Person, adjustment.person_id)
    period = session.get(Period, adjustment.period_id)
    deal = session.get(Deal, adjustment.deal_id) if adjustment.deal_id else None
    line = line_of(session, adjustment)
    return AdjustmentOut(
        id=adjustment.id,
        person=person.email,
        period=period.key,
        amount=str(from_minor(adjustment.amount_minor, adjustment.currency)),
        currency=adjustment.currency,
        reason=adjustment.reason,
        deal=deal.external_id if deal else None,
        line=line.id if line else None,
    )


def create(session: Session, principal: CurrentPrincipal, data: AdjustmentIn) -> Adjustment:
    if principal.person_id is None:
        raise InputProblem(
            "token", "an adjustment names who made it: use a token bound to a finance person (--as EMAIL)"
        )
    person = _person(session, data.person)
    return add_manual_adjustment(
        session,
        person_id=person.id,
        period_key=data.period,
        amount=data.amount,  # type: ignore[arg-type]
        reason=data.reason,
        actor_id=principal.person_id,
        deal_id=_deal_id(session, data.deal),
    )


class AdjustmentsController(Controller):
    path = "/finance/adjustments"
    guards = [finance_only]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def adjustments_page(
        self, db: DbSession, person: FromQuery[str | None] = None, period: FromQuery[str | None] = None
    ) -> Template:
        return page("pages/adjustments/index.html", _context(db, {"person": person or "", "period": period or ""}))

    @post("/", sync_to_thread=True, status_code=200)
    def create_form(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        values = {k: str(data.get(k) or "").strip() for k in ("person", "period", "amount", "reason", "deal")}
        try:
            with transaction(request.app.state["engine"]) as session:
                adjustment = create(session, principal, AdjustmentIn(**values))
                key = session.get(Period, adjustment.period_id).key
        except InputProblem as exc:  # Conflict too: a locked period
            return page("pages/adjustments/index.html", _context(db, values, error=exc), status_code=exc.status_code)
        return Redirect(f"/statements/{quote(values['person'].lower())}?period={key}", status_code=303)

    @post("/{line_id:int}/reverse", sync_to_thread=True, status_code=200)
    def reverse_form(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        line_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            with transaction(request.app.state["engine"]) as session:
                reverse_adjustment(
                    session, line_id=line_id, reason=str(data.get("reason") or ""), actor_id=principal.person_id
                )
        except AdjustmentNotFound:
            raise
        except InputProblem as exc:
            return page("pages/adjustments/index.html", _context(db, {}, error=exc), status_code=exc.status_code)
        back = str(data.get("back") or "")
        return Redirect(
            back if back.startswith("/") and not back.startswith("//") else "/finance/adjustments", status_code=303
        )


def _context(db: Session, values: dict[str, str], *, error: InputProblem | None = None) -> dict[str, Any]:
    people = db.exec(select(Person).where(Person.active.is_(True)).order_by(Person.name)).all()
    periods = db.exec(select(Period).where(Period.state.in_(("open", "approved"))).order_by(Period.starts_on)).all()
    return {
        "values": {"person": "", "period": "", "amount": "", "reason": "", "deal": "", **values},
        "people": people,
        "periods": periods,
        "default_period": quarter_of(date.today()).key,
        "rows": recent_manual_lines(db),
        "error": error,
    }


class AdjustmentsApiController(Controller):
    path = "/api/v1/adjustments"
    guards = [finance_only]
    tags = ["adjustments"]

    @post(
        "/",
        sync_to_thread=True,
        status_code=201,
        summary="Book a manual adjustment on a person's statement in an open period (finance)",
    )
    def post_adjustment(
        self, request: Request, principal: CurrentPrincipal, data: JSONBody[AdjustmentIn]
    ) -> AdjustmentOut:
        with transaction(request.app.state["engine"]) as session:
            return _out(session, create(session, principal, data))

    @post(
        "/{adjustment_id:int}/reverse",
        sync_to_thread=True,
        status_code=201,
        summary="Reverse a manual adjustment with a new reversing line (never an edit)",
    )
    def reverse(
        self, request: Request, principal: CurrentPrincipal, adjustment_id: FromPath[int], data: JSONBody[ReverseIn]
    ) -> AdjustmentOut:
        if principal.person_id is None:
            raise InputProblem("token", "a reversal names who made it: use a token bound to a finance person")
        with transaction(request.app.state["engine"]) as session:
            adjustment = session.get(Adjustment, adjustment_id)
            line = line_of(session, adjustment) if adjustment else None
            if line is None:
                raise AdjustmentNotFound("adjustment", f"no manual adjustment {adjustment_id}")
            out = reverse_adjustment(session, line_id=line.id, reason=data.reason, actor_id=principal.person_id)
            record = session.get(Adjustment, out.basis["adjustment_id"])
            return _out(session, record)
