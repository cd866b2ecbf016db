"""The statements API, and a statement's inputs as a download (the API's zip, also linked from the page)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import Response
from pydantic import BaseModel, Field

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import requires_role
from commissions.core.paging import MAX_PAGE, next_link, paging_headers
from commissions.statements.estimate import Estimate, estimate
from commissions.statements.proof import (
    Proof,
    download_name,
    paged_statement,
    proof_zip,
    statement_with_proof,
    statement_without_proof,
)
from commissions.statements.queries import read_line_cursor
from commissions.statements.schemas import StatementOut

readers = requires_role("rep", "manager", "finance")


class StatementsApiController(Controller):
    guards = [readers]

    @get(
        "/api/v1/statements/{email:str}",
        tags=["statements"],
        sync_to_thread=True,
        summary="A person's statement: payout lines with explanations (self, manager chain, finance)",
        description="Totals first: `total`, each component's `amount` and `line_count`, and `reports` (the lines "
        "grouped by who owns their deal: per direct report's subtree for a manager, then own deals, deals "
        "owned outside the reporting tree, lines without a deal), all summed by the database and the same on "
        "every page. Without `limit` and `cursor` every line comes, in `components[].lines`, as it always "
        "did. With either, the lines come a page at a time in line id order: `lines` lists the page (each "
        "with its `component`), `components[].lines` the same lines by component, and `next_cursor` (also "
        'in a `Link: <...>; rel="next"` header and `X-Next-Cursor`) gives the next page until it is null. '
        "Also says when it was computed (`computed_at`), whether changes are still being applied "
        "(`pending`) and why its last calculation failed (`error`), and carries its proof of pay: "
        "`inputs` (SHA-256 of each input file of the download), `fingerprint` (over the engine "
        "version, person, period and those hashes), `reproducible` and `offline_notes` "
        "(what `commissions calc` on the download cannot reproduce) when asked with `proof=true`: building it "
        "reads every input of the statement again and runs the offline calculator on them, so a plain read "
        "(and a paged one) does not: `fingerprint` is empty, `inputs` empty and `reproducible` null, and "
        "`offline_notes` says where the proof is. `GET /api/v1/statements/{email}/inputs` always carries it.",
        response_headers=paging_headers("lines"),
    )
    def statement_api(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        email: FromPath[str],
        period: FromQuery[str | None] = None,
        limit: Annotated[
            int | None,
            Parameter(
                ge=1,
                le=MAX_PAGE,
                description=f"lines per page (1-{MAX_PAGE}); without it and `cursor`, every line comes at once",
            ),
        ] = None,
        cursor: Annotated[
            str | None, Parameter(description="`next_cursor` of the previous page (opaque; keyset on the line id)")
        ] = None,
        proof: Annotated[
            bool,
            Parameter(
                description="with the proof of pay checked (`inputs`, `fingerprint`, `reproducible`, "
                "`offline_notes`); not with `limit` or `cursor`"
            ),
        ] = False,
    ) -> Response[StatementOut]:
        if limit is None and cursor is None:
            if proof:
                return Response(statement_with_proof(db, principal, email, period)[0])
            return Response(statement_without_proof(db, principal, email, period))
        after = read_line_cursor(cursor) if cursor else None
        out, following = paged_statement(db, principal, email, period, limit=limit or MAX_PAGE, after=after)
        headers = {}
        if following:
            query = {"period": period, "limit": str(limit) if limit else None}
            headers = {"Link": next_link(request.url.path, query, following), "X-Next-Cursor": following}
        return Response(out, headers=headers)

    @get("/statements/{email:str}/inputs.zip", include_in_schema=False, sync_to_thread=True)
    def inputs_download(
        self, db: DbSession, principal: CurrentPrincipal, email: FromPath[str], period: FromQuery[str | None] = None
    ) -> Response[bytes]:
        """ "Check this statement yourself": the inputs as the offline calculator's files, and the statement."""
        return _download(*statement_with_proof(db, principal, email, period))

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
        return _download(*statement_with_proof(db, principal, email, period))


def _download(out: StatementOut, proof: Proof) -> Response[bytes]:
    content = proof_zip(proof, (out.model_dump_json(indent=2) + "\n").encode(), name=out.name)
    return Response(
        content=content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{download_name(proof)}"', "Cache-Control": "no-store"},
    )


class EstimateLineOut(BaseModel):
    component: str
    amount: Decimal = Field(description="what the deal adds to the component (may be negative)")
    text: str


class EstimatePlanOut(BaseModel):
    plan: str
    amount: Decimal | None = Field(description="what the deal adds to this plan's payout; null with errors")
    before: Decimal | None
    after: Decimal | None
    attainment_before: Decimal | None
    attainment_after: Decimal | None
    tier: str | None
    next_tier: str | None
    errors: list[str]


class EstimateOut(BaseModel):
    person: str
    period: str
    currency: str
    amount: Decimal = Field(description="the extra commission the deal would pay now, over all the person's plans")
    lines: list[EstimateLineOut]
    attainment_before: Decimal | None
    attainment_after: Decimal | None
    plans: list[EstimatePlanOut]


ESTIMATE_EXAMPLE = {
    "person": "ana@example.com",
    "period": "2026-Q1",
    "currency": "USD",
    "amount": "4000.00",
    "lines": [{"component": "base", "amount": "4000.00", "text": "10% of 40,000.00 (deal WHAT-IF what-if)"}],
    "attainment_before": "0.8",
    "attainment_after": "1.2",
    "plans": [],
}


def estimate_out(result: Estimate) -> EstimateOut:
    answers = result.answers
    first = answers[0] if answers else None
    return EstimateOut(
        person=result.person,
        period=result.period,
        currency=result.currency,
        amount=result.amount,
        lines=[EstimateLineOut(component=x.component, amount=x.amount, text=x.text) for a in answers for x in a.lines],
        attainment_before=first.attainment_before if first else None,
        attainment_after=first.attainment_after if first else None,
        plans=[
            EstimatePlanOut(
                plan=a.plan,
                amount=a.extra,
                before=a.before,
                after=a.after,
                attainment_before=a.attainment_before,
                attainment_after=a.attainment_after,
                tier=a.tier,
                next_tier=a.next_tier,
                errors=list(a.errors),
            )
            for a in answers
        ],
    )


class EstimateApiController(Controller):
    guards = [readers]

    @get(
        "/api/v1/estimate",
        tags=["statements"],
        sync_to_thread=True,
        summary="What a prospective deal would pay a person now (self, manager chain, finance)",
        description="The what-if of the statements page for any system (a CRM card, a browser extension): "
        "query `person` (email; default the caller), `amount` (required), and the deal's fields `currency` "
        "(default the plan's), `closed_at` (default today; it picks the quarter unless `period` is given), "
        "`type` (new, expansion, renewal), `product`, `term_months`, `source_campaign`, and any declared "
        "custom field by its name. `amount` in the answer is the extra commission; `lines` what it adds per "
        "component with the line's sentence; `plans` each plan's figures. Nothing is saved. A person one "
        "may not see is a 404; a bad parameter a 400 naming it.",
        responses={200: ResponseSpec(EstimateOut, examples=[Example(value=ESTIMATE_EXAMPLE)])},
    )
    def estimate_api(self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal) -> EstimateOut:
        query = {name: request.query_params.get(name) or "" for name in request.query_params}
        return estimate_out(estimate(db, principal, query))
