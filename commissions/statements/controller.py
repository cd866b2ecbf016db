"""Statement pages, the statements API and the what-if box."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from pydantic import BaseModel
from sqlmodel import Session, select

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import requires_person, requires_role
from commissions.core.money import from_minor
from commissions.core.periods import quarter_of
from commissions.core.principal import Principal
from commissions.core.rendering import page, page_or_partial
from commissions.disputes.service import dispute_context
from commissions.engine import PeriodError, parse_period
from commissions.models import PayeeSummary, PayoutLine, Period, Person
from commissions.people.access import StatementNotFound, find_statement_person
from commissions.statements.proof import Proof, build_proof, calc_command_line, download_name, proof_zip
from commissions.statements.service import (
    Statement,
    read_statement,
    statement_freshness,
    visible_payees,
)
from commissions.statements.whatif import what_if

readers = requires_role("rep", "manager", "finance")


def _period_key(db: Session, person: Person | None, text: str | None) -> str:
    if text:
        try:
            return parse_period(text).key
        except PeriodError as exc:
            raise InputProblem("period", str(exc)) from exc
    if person is not None:
        latest = db.exec(
            select(Period.key)
            .join(PayeeSummary, PayeeSummary.period_id == Period.id)
            .where(PayeeSummary.person_id == person.id)
            .order_by(Period.ends_on.desc())
        ).first()
        if latest:
            return latest
    return quarter_of(date.today()).key


def _periods_of(db: Session, person: Person, shown: str | None = None) -> list[str]:
    """Periods with a statement for the person: computed figures or any line (an adjustment alone counts)."""
    keys = set(
        db.exec(
            select(Period.key)
            .join(PayeeSummary, PayeeSummary.period_id == Period.id)
            .where(PayeeSummary.person_id == person.id)
        ).all()
    )
    keys |= set(
        db.exec(
            select(Period.key)
            .join(PayoutLine, PayoutLine.period_id == Period.id)
            .where(PayoutLine.person_id == person.id)
        ).all()
    )
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
    # freshness: when computed (ISO 8601, UTC), whether changes still wait, why the last calculation failed
    computed_at: str | None = None
    pending: bool = False
    error: str | None = None
    # proof of pay (docs/checking-your-pay.md): the inputs' SHA-256 per file and the fingerprint over them
    engine_version: str = ""
    fingerprint: str = ""
    inputs: dict[str, str] = {}
    reproducible: bool = False
    offline_notes: list[str] = []


def _measure(minor: int | None, metric: str, currency: str) -> str | None:
    if minor is None:
        return None
    return str(Decimal(minor).scaleb(-2)) if metric in ("deals", "mqls", "sqls") else str(from_minor(minor, currency))


class StatementsController(Controller):
    guards = [readers]

    @get("/statements", include_in_schema=False, sync_to_thread=True)
    def index(
        self, db: DbSession, principal: CurrentPrincipal, period: FromQuery[str | None] = None
    ) -> Template | Redirect:
        me = db.get(Person, principal.person_id) if principal.person_id else None
        if principal.role == "rep" and me is not None:
            return Redirect(f"/statements/{quote(me.email)}" + (f"?period={quote(period)}" if period else ""))
        key = _period_key(db, me, period)
        period_row = db.exec(select(Period).where(Period.key == key)).first()
        rows = visible_payees(db, principal, period_row) if period_row else []
        return page("pages/statements/index.html", {"rows": rows, "period": key, "me": me})

    @get("/statements/{email:str}", include_in_schema=False, sync_to_thread=True)
    def statement_page(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        email: FromPath[str],
        period: FromQuery[str | None] = None,
        component: FromQuery[str | None] = None,
    ) -> Template:
        person = find_statement_person(db, principal, email)
        key = _period_key(db, person, period)
        try:
            statement = read_statement(db, person, key, component=component or None)
        except StatementNotFound:
            statement = None
        fresh = statement_freshness(db, principal, person, key)
        proof = None
        if statement is not None and not getattr(request, "htmx", False):  # the component filter's partial needs none
            full = statement if not component else read_statement(db, person, key)
            proof = build_proof(db, person, full, _statement_out(full).model_dump(mode="json"), fresh)
        context = {
            "statement": statement,
            "person": person,
            "period": key,
            "component": component or "",
            "periods": _periods_of(db, person, key),
            "own": person.id == principal.person_id,
            "answers": None,
            **dispute_context(db, principal, person, statement),
            "finance": principal.role == "finance",
            "fresh": fresh,
            "proof": proof,
            "calc_command": calc_command_line(proof) if proof else "",
        }
        return page_or_partial(request, "pages/statements/show.html", "partials/statements/lines.html", context)

    @post(
        "/statements/what-if",
        include_in_schema=False,
        sync_to_thread=True,
        status_code=200,
        guards=[requires_role("rep", "manager"), requires_person],
    )
    def what_if_box(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
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

    @get(
        "/api/v1/statements/{email:str}",
        tags=["statements"],
        sync_to_thread=True,
        summary="A person's statement: payout lines with explanations (self, manager chain, finance)",
        description="Also says when it was computed (`computed_at`), whether changes are still being applied "
        "(`pending`) and why its last calculation failed (`error`), and carries its proof of pay: "
        "`inputs` (SHA-256 of each input file of the download), `fingerprint` (over the engine "
        "version, person, period and those hashes), `reproducible` and `offline_notes` "
        "(what `commissions calc` on the download cannot reproduce).",
    )
    def statement_api(
        self, db: DbSession, principal: CurrentPrincipal, email: FromPath[str], period: FromQuery[str | None] = None
    ) -> StatementOut:
        return _statement_with_proof(db, principal, email, period)[0]

    @get("/statements/{email:str}/inputs.zip", include_in_schema=False, sync_to_thread=True)
    def inputs_download(
        self, db: DbSession, principal: CurrentPrincipal, email: FromPath[str], period: FromQuery[str | None] = None
    ) -> Response[bytes]:
        """ "Check this statement yourself": the inputs as the offline calculator's files, and the statement."""
        return _download(*_statement_with_proof(db, principal, email, period))

    @get(
        "/api/v1/statements/{email:str}/inputs",
        tags=["statements"],
        sync_to_thread=True,
        media_type="application/zip",
        summary="A statement's inputs as `commissions calc` files, with statement.json (self, manager chain, finance)",
        description="A zip: plan.yaml, people.csv, deals.csv, quotas.csv, campaigns.csv when relevant, "
        "statement.json (this API's statement answer) and README.txt. `commissions verify "
        "statement.json DIR` recomputes it (docs/checking-your-pay.md).",
    )
    def inputs_api(
        self, db: DbSession, principal: CurrentPrincipal, email: FromPath[str], period: FromQuery[str | None] = None
    ) -> Response[bytes]:
        return _download(*_statement_with_proof(db, principal, email, period))


def _statement_out(st: Statement) -> StatementOut:
    person, cur = st.person, st.currency
    return StatementOut(
        person=person.email,
        name=person.name,
        period=st.period.key,
        state=st.period.state,
        currency=cur,
        total=str(from_minor(st.total_minor, cur)),
        plans=[
            PlanOut(
                plan=p.plan,
                version=p.version,
                metric=p.metric,
                credited=_measure(p.credited_minor, p.metric, cur) or "0",
                quota=_measure(p.quota_minor, p.metric, cur),
                attainment=None
                if p.attainment_ppm is None
                else str((Decimal(p.attainment_ppm) / 1_000_000).quantize(Decimal("0.0001"))),
                total=None if p.total_minor is None else str(from_minor(p.total_minor, cur)),
                errors=p.errors,
                draw_balance_in=None
                if p.draw_balance_in_minor is None
                else str(from_minor(p.draw_balance_in_minor, cur)),
                draw_balance_out=None if p.draw_balance_minor is None else str(from_minor(p.draw_balance_minor, cur)),
            )
            for p in st.plans
        ],
        adjustments=[
            AdjustmentLineOut(
                kind=a.kind,
                component=a.component,
                original_period=a.original_period,
                deal=a.deal,
                amount=str(from_minor(a.amount_minor, cur)),
                text=a.text,
                manual=a.manual,
            )
            for a in st.adjustments
        ],
        components=[
            ComponentOut(
                name=c.name,
                amount=str(from_minor(c.amount_minor, cur)),
                lines=[
                    LineOut(
                        deal=line.deal, amount=str(from_minor(line.amount_minor, cur)), kind=line.kind, text=line.text
                    )
                    for line in c.lines
                ],
            )
            for c in st.components
        ],
    )


def _statement_with_proof(
    db: Session, principal: Principal, email: str, period: str | None
) -> tuple[StatementOut, Proof]:
    """The statement as the API answers it, with its freshness and its proof (the caller's right checked first)."""
    person = find_statement_person(db, principal, email)
    key = _period_key(db, person, period)
    st = read_statement(db, person, key)
    out = _statement_out(st)
    fresh = statement_freshness(db, principal, person, key)
    proof = build_proof(db, person, st, out.model_dump(mode="json"), fresh)
    return out.model_copy(update={**fresh.as_json(), **proof.as_json()}), proof


def _download(out: StatementOut, proof: Proof) -> Response[bytes]:
    content = proof_zip(proof, (out.model_dump_json(indent=2) + "\n").encode(), name=out.name)
    return Response(
        content=content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{download_name(proof)}"', "Cache-Control": "no-store"},
    )
