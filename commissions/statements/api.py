"""The statements API, and a statement's inputs as a download (the API's zip, also linked from the page)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery
from litestar.response import Response

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import requires_role
from commissions.statements.proof import Proof, download_name, proof_zip, statement_with_proof
from commissions.statements.schemas import StatementOut

readers = requires_role("rep", "manager", "finance")


class StatementsApiController(Controller):
    guards = [readers]

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
        return statement_with_proof(db, principal, email, period)[0]

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
