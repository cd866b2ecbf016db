"""Finance's periods: the list, the approval page per period and the workflow buttons (the API: api.py).

The page and ``GET /api/v1/periods/{p}`` also say whether the figures are current: how many
statements wait for a recompute, whose last calculation failed and why, and the result of
the last self-audit (``commissions recalc --check``, or the page's "Check now" button).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from commissions.calculation import state
from commissions.calculation.check import check_period, last_check, record_check
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import Conflict
from commissions.core.guards import finance_only
from commissions.core.i18n import N_
from commissions.core.i18n import gettext as _
from commissions.core.periods import normalise_key
from commissions.core.rendering import page
from commissions.engine import parse_period
from commissions.periods.checklist import ChecklistItem, close_checklist
from commissions.periods.queries import (
    deal_counts_by_period,
    email_of,
    failed_people,
    lock_override,
    period_by_key,
    periods_newest_first,
)
from commissions.periods.service import take_step
from commissions.periods.workflow import NEXT_ACTION, changes_since_last_step, period_totals

ACTION_LABELS = {"approve": N_("Approve"), "lock": N_("Lock"), "pay": N_("Mark paid")}  # translated when shown
#: Checklist items that approval asks about (a box to tick): pending statements are recomputed by the approval itself,
#: and holds are finance's own decisions.
ASKED_BEFORE_APPROVAL = ("disputes", "errors")


def _approval_asks(checklist: list[ChecklistItem]) -> list[ChecklistItem]:
    """The open items approval asks about (``ASKED_BEFORE_APPROVAL``)."""
    return [item for item in checklist if item.name in ASKED_BEFORE_APPROVAL and not item.clear]


class PeriodsController(Controller):
    guards = [finance_only]
    include_in_schema = False

    @get("/finance/periods", sync_to_thread=True)
    def periods_page(self, db: DbSession) -> Template:
        periods = periods_newest_first(db)
        counts = deal_counts_by_period(db)
        return page(
            "pages/periods/list.html",
            {"periods": periods, "deal_counts": counts, "next_action": NEXT_ACTION, "labels": ACTION_LABELS},
        )

    @get("/finance/periods/{key:str}", sync_to_thread=True)
    def approval_page(self, db: DbSession, key: FromPath[str], done: FromQuery[str | None] = None) -> Template:
        context = _context(db, key)
        notice = DONE.get(done or "")
        context["done_notice"] = notice() % {"period": context["key"]} if notice else None
        return page("pages/periods/approval.html", context)

    @get("/periods/{key:str}", sync_to_thread=False)
    def approval_alias(self, key: FromPath[str]) -> Redirect:
        return Redirect(f"/finance/periods/{normalise_key(key)}", status_code=302)

    @post("/finance/periods/{key:str}/{action:str}", sync_to_thread=True, status_code=200)
    def step(
        self,
        request: Request[Any, Any, Any],
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
        period = period_by_key(db, normalise_key(key)) if action == "approve" else None
        if period is not None and data.get("confirm_open") != "yes":
            unsettled = _approval_asks(close_checklist(db, period))
            if unsettled:  # approving past open disputes or failed statements is a decision: asked, not assumed
                message = _("%(key)s has open items (%(items)s): tick the box to approve it anyway.") % {
                    "key": normalise_key(key),
                    "items": ", ".join(f"{_(item.label)}: {item.count}" for item in unsettled),
                }
                return page("pages/periods/approval.html", {**_context(db, key), "error": message}, status_code=409)
        try:
            reason = str(data.get("override_reason") or "").strip() or None
            take_step(request.app.state["engine"], key=key, action=action, actor=principal, override_reason=reason)
        except Conflict as exc:
            db.expire_all()
            return page("pages/periods/approval.html", {**_context(db, key), "error": exc.message}, status_code=409)
        return Redirect(f"/finance/periods/{normalise_key(key)}?done={action}", status_code=303)


#: The confirmation after a step of the workflow (``?done=``), in the reader's language.
DONE: dict[str, Callable[[], str]] = {
    "approve": lambda: _("Approved: %(period)s's statements are approved; lock the period once payroll is ready."),
    "lock": lambda: _(
        "Locked: %(period)s's pay no longer changes; a later change becomes an adjustment in the next open period."
    ),
    "pay": lambda: _("Marked paid: %(period)s is closed."),
    "check": lambda: _("Checked: the result of the check of %(period)s is below."),
}


def _context(db: Session, key: str) -> dict[str, Any]:
    key = normalise_key(key)
    period = period_by_key(db, key)
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
    by = {pid: email_of(db, pid) for pid in (period.approved_by_id, period.locked_by_id, period.paid_by_id) if pid}
    checklist = close_checklist(db, period)
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
        "checklist": checklist,
        "approval_asks": _approval_asks(checklist),
        "lock_override": lock_override(db, key) if period.locked_at else None,
        "running": period.ends_on >= date.today(),  # approving or locking a period still running is said first
        **_freshness(db, key),
    }


def _freshness(db: Session, key: str) -> dict[str, Any]:
    return {
        "pending": state.pending_count(db, key),
        "failed": failed_people(db, key),
        "last_check": last_check(db, key),
    }
