"""Finance's periods: the list, the approval page per period, the workflow buttons and API.

The page and ``GET /api/v1/periods/{p}`` also say whether the figures are current: how many
statements wait for a recompute, whose last calculation failed and why, and the result of
the last self-audit (``commissions recalc --check``, or the page's "Check now" button).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy import and_, func
from sqlmodel import Session, select

from commissions.calculation import state
from commissions.calculation.check import LastCheck, check_period, last_check, record_check
from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import Conflict
from commissions.core.guards import finance_only
from commissions.core.money import from_minor
from commissions.core.periods import normalise_key
from commissions.core.rendering import page
from commissions.engine import parse_period
from commissions.models import Deal, Period, Person
from commissions.periods.workflow import (
    NEXT_ACTION,
    PeriodTotals,
    changes_since_last_step,
    period_totals,
    refresh_queued,
    transition,
)

ACTION_LABELS = {"approve": "Approve", "lock": "Lock", "pay": "Mark paid"}


class PersonTotalsOut(BaseModel):
    person: str
    name: str
    currency: str
    total: str
    components: dict[str, str]


class FailedOut(BaseModel):
    person: str
    error: str


class LastCheckOut(BaseModel):
    at: datetime
    checked: bool  # False: a locked or paid period (not recomputed), or the period could not be recomputed
    differences: int
    statements: int
    pending: int  # statements pending when it ran
    note: str


class PeriodOut(BaseModel):
    period: str
    state: str
    approved_at: datetime | None
    approved_by: str | None
    locked_at: datetime | None
    locked_by: str | None
    paid_at: datetime | None
    paid_by: str | None
    totals: dict[str, str]  # grand total per currency
    components: dict[str, str]
    people: list[PersonTotalsOut]
    pending: int = 0  # statements waiting for a recompute
    failed: list[FailedOut] = []  # people whose last calculation failed, with why
    last_check: LastCheckOut | None = None  # the latest self-audit (`commissions recalc --check`)


def _email(session: Session, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    return person.email if person else None


def _failed(session: Session, key: str) -> list[tuple[str, str, str]]:
    """(email, name, error) of everyone whose last calculation in the period failed."""
    errors = state.failed_people(session, key)
    if not errors:
        return []
    people = session.exec(select(Person.id, Person.email, Person.name).where(Person.id.in_(sorted(errors)))).all()
    return sorted((email, name, errors[pid]) for pid, email, name in people)


def _last_check_out(check: LastCheck | None) -> LastCheckOut | None:
    if check is None:
        return None
    return LastCheckOut(
        at=check.at,
        checked=check.checked,
        differences=check.differences,
        statements=check.statements,
        pending=check.pending,
        note=check.note,
    )


def period_out(session: Session, period: Period, totals: PeriodTotals) -> PeriodOut:
    currency = next(iter(totals.grand_totals), "USD")
    return PeriodOut(
        period=period.key,
        state=period.state,
        approved_at=period.approved_at,
        approved_by=_email(session, period.approved_by_id),
        locked_at=period.locked_at,
        locked_by=_email(session, period.locked_by_id),
        paid_at=period.paid_at,
        paid_by=_email(session, period.paid_by_id),
        totals={cur: str(from_minor(v, cur)) for cur, v in totals.grand_totals.items()},
        components={name: str(from_minor(v, currency)) for name, v in totals.component_totals.items()},
        people=[
            PersonTotalsOut(
                person=p.email,
                name=p.name,
                currency=p.currency,
                total=str(from_minor(p.total_minor, p.currency)),
                components={c: str(from_minor(v, p.currency)) for c, v in p.components.items()},
            )
            for p in totals.people
        ],
        pending=state.pending_count(session, period.key),
        failed=[FailedOut(person=email, error=error) for email, _, error in _failed(session, period.key)],
        last_check=_last_check_out(last_check(session, period.key)),
    )


def _run(request: Request, principal: CurrentPrincipal, key: str, action: str) -> PeriodOut:
    if action in ("approve", "lock"):  # stale statements first, committed even if the step is refused
        with transaction(request.app.state["engine"]) as session:
            refresh_queued(session, key)
    with transaction(request.app.state["engine"]) as session:
        period, _ = transition(session, key=key, action=action, actor=principal)
        return period_out(session, period, period_totals(session, period))


class PeriodsController(Controller):
    guards = [finance_only]
    include_in_schema = False

    @get("/finance/periods", sync_to_thread=True)
    def periods_page(self, db: DbSession) -> Template:
        periods = db.exec(select(Period).order_by(Period.starts_on.desc())).all()
        counts = dict(
            db.exec(  # one query for every period, not one per period
                select(Period.id, func.count(Deal.id))
                .join(Deal, and_(Deal.closed_at >= Period.starts_on, Deal.closed_at <= Period.ends_on), isouter=True)
                .group_by(Period.id)
            ).all()
        )
        return page(
            "pages/periods/list.html",
            {"periods": periods, "deal_counts": counts, "next_action": NEXT_ACTION, "labels": ACTION_LABELS},
        )

    @get("/finance/periods/{key:str}", sync_to_thread=True)
    def approval_page(self, db: DbSession, key: FromPath[str]) -> Template:
        return page("pages/periods/approval.html", _context(db, key))

    @get("/periods/{key:str}", sync_to_thread=False)
    def approval_alias(self, key: FromPath[str]) -> Redirect:
        return Redirect(f"/finance/periods/{normalise_key(key)}", status_code=302)

    @post("/finance/periods/{key:str}/{action:str}", sync_to_thread=True, status_code=200)
    def step(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        key: FromPath[str],
        action: FromPath[str],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """The Approve / Lock / Mark paid buttons (CSRF forms); a refused step shows why, changing nothing.
        "Check now" runs the self-audit: nothing is written but its result (an audit event)."""
        if action == "check":
            engine = request.app.state["engine"]
            record_check(
                engine, check_period(engine, normalise_key(key)), actor=principal, via="the finance period page"
            )
            return Redirect(f"/finance/periods/{normalise_key(key)}?done=check#freshness", status_code=303)
        try:
            _run(request, principal, key, action)
        except Conflict as exc:
            db.expire_all()
            return page("pages/periods/approval.html", {**_context(db, key), "error": exc.message}, status_code=409)
        return Redirect(f"/finance/periods/{normalise_key(key)}?done={action}", status_code=303)


def _context(db: Session, key: str) -> dict[str, Any]:
    key = normalise_key(key)
    period = db.exec(select(Period).where(Period.key == key)).first()
    if period is None:  # not computed yet: show the empty page rather than a 404
        p = parse_period(key)
        return {
            "key": key,
            "period": None,
            "starts_on": p.start,
            "ends_on": p.end,
            "totals": None,
            "changes": None,
            "action": None,
            "labels": ACTION_LABELS,
            "error": None,
            "by": {},
            **_freshness(db, key),
        }
    by = {pid: _email(db, pid) for pid in (period.approved_by_id, period.locked_by_id, period.paid_by_id) if pid}
    return {
        "key": key,
        "period": period,
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
        "totals": period_totals(db, period),
        "changes": changes_since_last_step(db, period, limit=50),
        "action": NEXT_ACTION.get(period.state),
        "labels": ACTION_LABELS,
        "error": None,
        "by": by,
        **_freshness(db, key),
    }


def _freshness(db: Session, key: str) -> dict[str, Any]:
    return {"pending": state.pending_count(db, key), "failed": _failed(db, key), "last_check": last_check(db, key)}


class PeriodsApiController(Controller):
    """``POST /api/v1/periods/{period}/approve|lock|pay``: finance's bearer token; wrong order is 409."""

    path = "/api/v1/periods"
    guards = [finance_only]
    tags = ["periods"]

    @get("/{period:str}", sync_to_thread=True, summary="A period's state and totals per person and component (finance)")
    def show(self, db: DbSession, period: FromPath[str]) -> PeriodOut:
        from commissions.core.periods import get_period

        row = get_period(db, period)
        return period_out(db, row, period_totals(db, row))

    @post(
        "/{period:str}/approve",
        sync_to_thread=True,
        status_code=200,
        summary="Approve the computed payouts (open → approved)",
    )
    def approve(self, request: Request, principal: CurrentPrincipal, period: FromPath[str]) -> PeriodOut:
        return _run(request, principal, period, "approve")

    @post(
        "/{period:str}/lock",
        sync_to_thread=True,
        status_code=200,
        summary="Lock: nothing in the period changes any more (approved → locked)",
    )
    def lock(self, request: Request, principal: CurrentPrincipal, period: FromPath[str]) -> PeriodOut:
        return _run(request, principal, period, "lock")

    @post(
        "/{period:str}/pay",
        sync_to_thread=True,
        status_code=200,
        summary="Mark the period paid by payroll (locked → paid)",
    )
    def pay(self, request: Request, principal: CurrentPrincipal, period: FromPath[str]) -> PeriodOut:
        return _run(request, principal, period, "pay")
