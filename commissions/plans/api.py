"""The plans API for admins: list and read plans, save a plan document as a version, upsert assignments."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, put
from litestar.exceptions import NotFoundException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, Parameter
from litestar.response import Response

from commissions.core import periods
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import admins
from commissions.core.integration_api import after_id, items_body, next_page, read_items
from commissions.core.paging import MAX_PAGE, paging_headers
from commissions.core.upserts import UpsertRefused, UpsertReport
from commissions.plans.queries import assignments_with_emails, plan_named, plan_page, versions_by_number
from commissions.plans.schemas import (
    ASSIGNMENT_EXAMPLE,
    PLAN_PUT_EXAMPLES,
    AssignmentIn,
    IssueOut,
    PlanDetail,
    PlanList,
    PlanPut,
    PlanSaved,
    PlanSummaryOut,
    VersionOut,
    assignment_out,
)
from commissions.plans.service import AssignmentItem, InvalidPlan, save_version_from_api, upsert_assignments_in

CURSOR_TAG = "plans"


def _invalid(exc: InvalidPlan) -> ValidationException:
    """400: ``detail`` says what is wrong, ``extra.errors`` every problem located (component, field, position)."""
    errors = [IssueOut.of(issue).model_dump() for issue in exc.issues]
    return ValidationException(f"invalid plan: {exc.message}", extra={"field": exc.field, "errors": errors})


class PlansApiController(Controller):
    path = "/api/v1/plans"
    guards = [admins]
    tags = ["plans"]

    @get(
        "/",
        sync_to_thread=True,
        summary="Plans with the version in force today (paged)",
        description='`next_cursor` (also in a `Link: <...>; rel="next"` header and `X-Next-Cursor`) gives the '
        "next page until it is null.",
        response_headers=paging_headers("plans"),
    )
    def list_api(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        cursor: Annotated[str | None, Parameter(description="`next_cursor` of the previous page (opaque)")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"plans per page (1-{MAX_PAGE})")] = 100,
    ) -> Response[PlanList]:
        rows = plan_page(db, after_id=after_id(CURSOR_TAG, cursor), limit=limit + 1, today=periods.today())
        next_cursor, headers = next_page(CURSOR_TAG, request.url.path, limit, [row.plan.id or 0 for row in rows])
        items = [PlanSummaryOut.of(row) for row in rows[:limit]]
        return Response(PlanList(items=items, next_cursor=next_cursor), headers=headers)

    @get("/{name:str}", sync_to_thread=True, summary="A plan: every version as written, and its assignments")
    def show_api(self, db: DbSession, name: FromPath[str]) -> PlanDetail:
        plan = plan_named(db, name)
        if plan is None or plan.id is None:
            raise NotFoundException(f"No plan named {name!r}.")
        return PlanDetail(
            name=plan.name,
            currency=plan.currency,
            period=plan.period_kind,
            versions=[VersionOut.of(v) for v in versions_by_number(db, plan.id)],
            assignments=[assignment_out(a, email) for a, email in assignments_with_emails(db, plan.id)],
        )

    @put(
        "/{name:str}",
        sync_to_thread=True,
        summary="Save a plan document: creates the plan, stores a new version, or reports it unchanged",
        description="The body carries the document (YAML text, or the document as a JSON object) and "
        "`effective_from`; the document's own fields may also stand at the top level, beside `effective_from`. "
        "A new plan answers 201 (`result: created`). For an existing plan, a document that "
        "parses to the same plan as the version in force on `effective_from` (whatever its spelling: YAML or "
        "JSON, `15%` or `0.15`) stores nothing and recomputes nothing (200, `result: unchanged`, "
        "`changed: false`); a different one is stored as the next version from that day (200, "
        "`result: new version`) and the open periods it reaches are recomputed, as the plan editor and "
        "`commissions plan apply` do. An invalid document is a 400 whose `extra.errors` lists every problem "
        "(`component`, `field`, `message`, `position` inside a `when`), as plans.md says; a new version may "
        "not change the currency or period kind (400). A different document on the day of an existing version "
        "is a new version too: of versions sharing a day the newest is in force (a correction). A date on or "
        "before the start of a locked or paid period is a 409 naming `effective_from`.",
        responses={201: ResponseSpec(PlanSaved, description="a new plan, created with this version")},
    )
    def put_api(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        name: FromPath[str],
        data: Annotated[
            PlanPut,
            Body(
                description="the plan document and the first day it applies",
                examples=[
                    Example(summary="a YAML document", value=PLAN_PUT_EXAMPLES[0]),
                    Example(summary="the same document as a JSON object", value=PLAN_PUT_EXAMPLES[1]),
                ],
            ),
        ],
    ) -> Response[PlanSaved]:
        try:
            saved = save_version_from_api(
                request.app.state["engine"],
                name=name,
                text=data.text(),
                effective_from=data.effective_from,
                by=principal,
            )
        except InvalidPlan as exc:
            raise _invalid(exc) from None
        out = PlanSaved(
            plan=saved.plan.name,
            result="unchanged" if not saved.created else ("created" if saved.plan_created else "new version"),
            changed=saved.created,
            version=saved.version.version,
            effective_from=saved.version.effective_from,
        )
        return Response(out, status_code=201 if saved.plan_created else 200)

    @put(
        "/{name:str}/assignments",
        sync_to_thread=True,
        summary="Create or update the plan's assignments by (person, from), all or nothing",
        description="Each item puts a person on the plan from `from` to `to` (inclusive; null: open-ended). An "
        "item whose person already has an assignment to this plan starting on `from` updates its `to` and "
        "`prorate`; any other item is a new assignment. Assignments not in the list stay as they are (to end "
        "one, send it with its `to`). Any bad item (unknown person, `to` before `from`, the same person and "
        "`from` twice, an overlap with another assignment of the person to this plan, an unknown key) "
        "refuses the whole request with 400 and `extra.errors` (index, field, message); nothing is written. "
        "The same body twice reports every item `unchanged`. Each change recomputes the person's statements "
        "in the open periods it reaches (locked ones get prior-period adjustments).",
    )
    def put_assignments_api(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        name: FromPath[str],
        data: Annotated[
            list[dict[str, Any]],
            items_body(AssignmentIn, description="assignments to the plan", example=[ASSIGNMENT_EXAMPLE]),
        ],
    ) -> UpsertReport:
        try:
            items = [
                AssignmentItem(person=i.person, starts_on=i.from_, ends_on=i.to, prorate=i.prorate)
                for i in read_items(AssignmentIn, data)
            ]
            report = upsert_assignments_in(request.app.state["engine"], name=name, items=items, by=principal)
        except UpsertRefused as exc:
            raise exc.as_http() from None
        if report is None:
            raise NotFoundException(f"No plan named {name!r}.")
        return report
