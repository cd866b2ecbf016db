"""Statement pages and the what-if box."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery, Parameter
from litestar.response import Redirect, Template

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import requires_person, requires_role
from commissions.core.i18n import gettext as _
from commissions.core.money import typed_number
from commissions.core.paging import MAX_PAGE
from commissions.core.periods import period_row
from commissions.core.rendering import page, page_or_partial
from commissions.disputes.service import dispute_context
from commissions.models import Person
from commissions.people.access import StatementNotFound, find_statement_person
from commissions.statements.proof import build_proof, calc_command_line, statement_cash
from commissions.statements.queries import (
    Statement,
    StatementLine,
    line_cursor,
    period_key,
    periods_of,
    plan_names_in,
    read_line_cursor,
    read_statement,
    signed_in_person,
    statement_freshness,
    visible_payees,
)
from commissions.statements.schemas import statement_out
from commissions.statements.whatif import what_if

readers = requires_role("rep", "manager", "finance")

PAGE_LINES = 100  # payout lines per page of the statement page
PROOF_INLINE_LINES = 2000  # a statement with more lines is checked offline only when asked (statement_check)


def _urls(person: Person, key: str, component: str | None, statement: Statement | None, limit: int) -> dict[str, Any]:
    """The statement's links: itself, its lines (filtered), the next page of lines and the check."""
    base = f"/statements/{quote(person.email)}"
    query = {"period": key} | ({"component": component} if component else {})
    query |= {"limit": str(limit)} if limit != PAGE_LINES else {}
    lines_url = f"{base}?{urlencode(query)}"
    next_url = ""
    if statement is not None and statement.next_after is not None:
        next_url = f"{base}?{urlencode(query | {'cursor': line_cursor(statement.next_after)})}"
    filtered = statement.line_count if statement is not None else 0
    if statement is not None and component:
        filtered = next((c.line_count for c in statement.components if c.name == component), 0)
    return {
        "statement_url": f"{base}?{urlencode({'period': key})}",
        "lines_url": lines_url,
        "next_url": next_url,
        "filtered_count": filtered,
        "check_url": f"{base}/check?{urlencode({'period': key})}",
    }


#: The confirmation a statement shows after a save that leads to it (``?saved=``), in the reader's language.
SAVED: dict[str, Callable[[], str | None]] = {
    "adjustment": lambda: _("Saved: the adjustment is on this statement, in its total and in its adjustments below."),
    "reversal": lambda: _("Reversed: a reversing line takes the adjustment back; both stay on the statement."),
}


def late_notes(statement: Statement) -> list[str]:
    """One note per locked period whose late changes this statement pays: "Recorded after 2026-Q3 was
    locked: paid as an adjustment in 2026-Q4 (deals CRM-7)." (the locked period's pay never changes)."""
    here = statement.period.key
    by_period: dict[str, list[StatementLine]] = {}
    for line in statement.adjustments:
        if line.original_period and line.original_period != here:
            by_period.setdefault(line.original_period, []).append(line)
    notes = []
    for locked, lines in sorted(by_period.items()):
        deals = ", ".join(sorted({line.deal for line in lines if line.deal}))
        if sum(line.amount_minor for line in lines) >= 0:
            text = _("Recorded after %(locked)s was locked: paid as an adjustment in %(period)s.")
        else:
            text = _("Changed after %(locked)s was locked: taken back as an adjustment in %(period)s.")
        note = text % {"locked": locked, "period": here}
        if deals:
            note += " " + _("Deals: %(deals)s.") % {"deals": deals}
        notes.append(note)
    return notes


class StatementsController(Controller):
    guards = [readers]
    include_in_schema = False

    @get("/statements", sync_to_thread=True)
    def index(
        self, db: DbSession, principal: CurrentPrincipal, period: FromQuery[str | None] = None
    ) -> Template | Redirect:
        me = signed_in_person(db, principal)
        if principal.role == "rep" and me is not None:
            return Redirect(f"/statements/{quote(me.email)}" + (f"?period={quote(period)}" if period else ""))
        key = period_key(db, me, period)
        row = period_row(db, key)
        rows = visible_payees(db, principal, row) if row else []
        return page("pages/statements/index.html", {"rows": rows, "period": key, "me": me})

    @get("/statements/{email:str}", sync_to_thread=True)
    def statement_page(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        email: FromPath[str],
        period: FromQuery[str | None] = None,
        component: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE, description="lines per page")] = PAGE_LINES,
        saved: FromQuery[str | None] = None,
    ) -> Template:
        """Totals first (per component, per report), then a page of lines; "Show more" (``?cursor=``) is the next
        page: the whole page without JavaScript, only its rows for htmx (appended in place of the link)."""
        person = find_statement_person(db, principal, email)
        key = period_key(db, person, period)
        after = read_line_cursor(cursor) if cursor else None
        try:
            statement = read_statement(db, person, key, component=component or None, limit=limit, after=after)
        except StatementNotFound:
            statement = None
        htmx = bool(getattr(request, "htmx", False))
        # on a plan but not computed yet (no deal touched them): "nothing credited yet", not "no plan"
        plans_on = plan_names_in(db, person, statement.period) if statement is not None and not statement.plans else []
        fresh = statement_freshness(db, principal, person, key)
        proof = None
        if statement is not None and not htmx and statement.line_count <= PROOF_INLINE_LINES:
            # a short statement is checked on every view; a long one when asked (statement_check)
            complete = not component and after is None and statement.next_after is None
            full = statement if complete else read_statement(db, person, key)
            proof = build_proof(db, person, full, statement_out(full).model_dump(mode="json"), fresh)
        context = {
            "statement": statement,
            "person": person,
            "period": key,
            "component": component or "",
            "cursor": cursor or "",
            **_urls(person, key, component or None, statement, limit),
            "periods": [] if htmx else periods_of(db, person, key),
            "own": person.id == principal.person_id,
            "answers": None,
            **dispute_context(db, principal, person, statement),
            "finance": principal.role == "finance",
            "fresh": fresh,
            "proof": proof,
            "calc_command": calc_command_line(proof) if proof else "",
            "cash": None if htmx or statement is None else statement_cash(db, statement),
            "saved_notice": SAVED.get(saved or "", lambda: None)(),
            "late_notes": late_notes(statement) if statement is not None else [],
            "plans_on": plans_on,
            "nothing_yet": statement is not None
            and bool(statement.plans or plans_on)
            and statement.line_count == 0
            and not statement.adjustments
            and not any(p.credited_minor for p in statement.plans),
        }
        # htmx: "Show more" gets the next rows, the component filter the lines block
        partial = "partials/statements/line_rows.html" if cursor else "partials/statements/lines.html"
        return page_or_partial(request, "pages/statements/show.html", partial, context)

    @get("/statements/{email:str}/check", sync_to_thread=True)
    def statement_check(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        email: FromPath[str],
        period: FromQuery[str | None] = None,
    ) -> Template:
        """The proof of a statement, checked now (the statement page checks a long one only when asked)."""
        person = find_statement_person(db, principal, email)
        key = period_key(db, person, period)
        try:
            statement = read_statement(db, person, key)
        except StatementNotFound as exc:
            raise NotFoundException(f"No statement of {person.email} for {key}.") from exc
        fresh = statement_freshness(db, principal, person, key)
        proof = build_proof(db, person, statement, statement_out(statement).model_dump(mode="json"), fresh)
        context = {
            "statement": statement,
            "person": person,
            "period": key,
            "proof": proof,
            "calc_command": calc_command_line(proof),
        }
        return page_or_partial(request, "pages/statements/check.html", "partials/statements/proof.html", context)

    @post(
        "/statements/what-if",
        sync_to_thread=True,
        status_code=200,
        guards=[requires_role("rep", "manager"), requires_person],
    )
    def what_if_box(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        """Only about one's own statement: nothing is saved."""
        me = signed_in_person(db, principal)
        if me is None:  # requires_person passed, but the person row is gone
            raise NotFoundException("No such person.")
        key = period_key(db, me, str(data.get("period") or "") or None)
        raw = str(data.get("amount", "")).strip()
        context: dict[str, Any] = {"period": key, "amount": raw, "answers": None, "error": None}
        try:
            amount = Decimal(typed_number(raw))
            if not amount.is_finite() or amount <= 0 or amount > Decimal("1000000000000"):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            context["error"] = "Enter the deal amount as a positive number, e.g. 40000."
        else:
            context["answers"] = what_if(db, me, key, amount, product=str(data.get("product") or "") or None)
        return page_or_partial(request, "pages/statements/what_if.html", "partials/statements/what_if.html", context)
