"""Admin pages for plans: list, editor with inline validation, versions, assignments.

URLs carry the plan's id (names contain spaces and any character an admin types).
Every form works as a plain post; htmx only swaps the validation result and the
assignment form in place (answered with 200 so htmx 2 swaps them).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session

from commissions.calculation.rows import stored_id
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import admins
from commissions.core.i18n import gettext as _
from commissions.core.periods import bounds_of_day
from commissions.core.rendering import page, page_or_partial
from commissions.models import Plan, PlanVersion
from commissions.people.queries import person_by_id
from commissions.plans.queries import (
    author_emails,
    closed_through,
    plan_by_id,
    version_by_number,
    version_starts,
)
from commissions.plans.service import (
    InvalidPlan,
    assign_by_email,
    assignments_of,
    check_plan_text,
    default_effective_from,
    end_assignment_by_id,
    latest_version,
    normalise_text,
    plan_summaries,
    save_version_from_form,
    versions_of,
)

EDITOR = "pages/plans/editor.html"
ISSUES = "partials/plans/issues.html"
DETAIL = "pages/plans/detail.html"
ASSIGN_FORM = "partials/plans/assign_form.html"

STARTER = """name: New plan
currency: USD
period: quarter
quota: bookings
credit:
  scope: own
components:
  - name: Commission
    kind: tiered
    tiers:
      - {to: 100%, rate: 10%}
      - {rate: 15%}
"""


class EditorForm(BaseModel):
    document: str = ""
    effective_from: str = ""
    plan_id: str = ""


class AssignForm(BaseModel):
    email: str = ""
    starts_on: str = ""
    ends_on: str = ""
    prorate: str = ""


class EndForm(BaseModel):
    ends_on: str = ""


def parse_day(value: str, field: str, *, required: bool) -> date | None:
    value = value.strip()
    if not value:
        if required:
            raise InputProblem(field, "a date is required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputProblem(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _plan_or_404(db: Session, plan_id: int) -> Plan:
    plan = plan_by_id(db, plan_id)
    if plan is None:
        raise NotFoundException("No such plan.")
    return plan


def _next_free_start(db: Session, plan: Plan) -> date:
    """The editor's proposed date: the current period's first day, or the next period's when a version already
    starts today's period. Saving on that version's own day would correct it (the newer one wins), which
    changes pay already shown for the period: the author chooses that date, it is never the default. Nor is a
    day a locked or paid period has begun by, which saving would refuse."""
    start = default_effective_from(plan.period_kind)
    taken = version_starts(db, stored_id(plan))
    closed = closed_through(db, plan.period_kind)
    while start in taken or (closed is not None and start <= closed):
        start = bounds_of_day(plan.period_kind, start)[1] + timedelta(days=1)
    return start


def _editor_context(db: Session, plan: Plan | None, form: EditorForm, **extra: Any) -> dict[str, Any]:
    return {
        "plan": plan,
        "form": form,
        "action": f"/plans/{plan.id}/edit" if plan else "/plans/new",
        "issues": None,
        "valid": None,
        "error": None,
        **extra,
    }


def _problem(exc: InputProblem) -> dict[str, Any]:
    if isinstance(exc, InvalidPlan):
        return {"issues": exc.issues}
    return {"error": {"field": exc.field, "message": exc.message}}


def _corrected_by(versions: list[PlanVersion]) -> dict[int | None, int]:
    """Version id -> the number of the newest version with the same effective date, for versions it corrects."""
    newest: dict[date, int] = {}
    for v in versions:
        newest[v.effective_from] = max(newest.get(v.effective_from, 0), v.version)
    return {v.id: newest[v.effective_from] for v in versions if newest[v.effective_from] > v.version}


def _detail_context(db: Session, plan: Plan, **extra: Any) -> dict[str, Any]:
    versions = versions_of(db, stored_id(plan))
    authors = author_emails(db, versions)
    first_period = {v.id: _first_period_start(plan.period_kind, v.effective_from) for v in versions}
    return {
        "plan": plan,
        "versions": versions,
        "authors": authors,
        "first_period": first_period,
        "corrected_by": _corrected_by(versions),
        "assignments": assignments_of(db, stored_id(plan)),
        "assign_form": AssignForm(starts_on=default_effective_from(plan.period_kind).isoformat()),
        "assign_error": None,
        "end_error": None,
        "today": date.today(),
        **extra,
    }


def _assignment_notice(context: dict[str, Any], saved: str, assignment_id: int) -> str | None:
    """The confirmation after an assignment was added or ended, naming the person (None: not on this plan)."""
    for row, person in context["assignments"]:
        if row.id == assignment_id:
            what = {"name": person.name, "start": row.starts_on.isoformat(), "end": str(row.ends_on or "")}
            if saved == "ended":
                return (
                    _(
                        "Saved: %(name)s's time on this plan ends on %(end)s; the statements it reaches are being recomputed."
                    )
                    % what
                )
            if row.ends_on is None:
                return (
                    _("Saved: %(name)s is on this plan from %(start)s; their statements are being recomputed.") % what
                )
            return (
                _("Saved: %(name)s is on this plan from %(start)s to %(end)s; their statements are being recomputed.")
                % what
            )
    return None


def _first_period_start(kind: str, day: date) -> date:
    """The first period a version dated ``day`` applies to (the one starting on or after it)."""
    start, end = bounds_of_day(kind, day)
    return start if start == day else end + timedelta(days=1)


class PlansController(Controller):
    path = "/plans"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def plans_page(self, db: DbSession) -> Template:
        return page("pages/plans/list.html", {"summaries": plan_summaries(db)})

    @get("/new", sync_to_thread=True)
    def new_plan(self, db: DbSession) -> Template:
        return page(EDITOR, _editor_context(db, None, EditorForm(document=STARTER)))

    @post("/new", sync_to_thread=True, status_code=200)
    def create_plan(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[EditorForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        return self._save(request, db, principal, data, plan=None)

    @post("/validate", sync_to_thread=True, status_code=200)
    def validate(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        data: Annotated[EditorForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        plan = _plan_or_404(db, int(data.plan_id)) if data.plan_id.strip().isdigit() else None
        context = _editor_context(db, plan, data)
        try:
            document, existing = check_plan_text(
                db, normalise_text(data.document), plan_id=plan.id if plan else None, create_only=plan is None
            )
            latest = latest_version(db, stored_id(existing)) if existing else None
            unchanged = (
                latest is not None
                and normalise_text(latest.document).rstrip() == normalise_text(data.document).rstrip()
            )
            context["valid"] = {"plan": document, "unchanged": unchanged}
        except InputProblem as exc:
            context.update(_problem(exc))
        return page_or_partial(request, EDITOR, ISSUES, context)

    @get("/{plan_id:int}", sync_to_thread=True)
    def plan_page(
        self,
        db: DbSession,
        plan_id: FromPath[int],
        saved: FromQuery[str | None] = None,
        version: FromQuery[int | None] = None,
        assignment: FromQuery[int | None] = None,
    ) -> Template:
        notice = None
        if saved in ("created", "new-version", "unchanged") and version is not None:
            notice = {
                "created": _("Plan created with version %(version)s."),
                "new-version": _("Version %(version)s saved."),
                "unchanged": _("The document is identical to version %(version)s: nothing was saved."),
            }[saved] % {"version": version}
        context = _detail_context(db, _plan_or_404(db, plan_id), notice=notice)
        if saved in ("assigned", "ended") and assignment is not None:
            context["notice"] = _assignment_notice(context, saved, assignment)
        return page(DETAIL, context)

    @get("/{plan_id:int}/edit", sync_to_thread=True)
    def edit_plan(self, db: DbSession, plan_id: FromPath[int], version: FromQuery[int | None] = None) -> Template:
        plan = _plan_or_404(db, plan_id)
        source = (
            version_by_number(db, stored_id(plan), version)
            if version is not None
            else latest_version(db, stored_id(plan))
        )
        if source is None:
            raise NotFoundException("No such version.")
        form = EditorForm(
            document=source.document, effective_from=_next_free_start(db, plan).isoformat(), plan_id=str(plan.id)
        )
        return page(EDITOR, _editor_context(db, plan, form, source=source))

    @post("/{plan_id:int}/edit", sync_to_thread=True, status_code=200)
    def save_version(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        plan_id: FromPath[int],
        data: Annotated[EditorForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        return self._save(request, db, principal, data, plan=_plan_or_404(db, plan_id))

    def _save(
        self, request: Request[Any, Any, Any], db: Session, principal: Any, data: EditorForm, *, plan: Plan | None
    ) -> Template | Redirect:
        try:
            effective_from = parse_day(data.effective_from, "effective_from", required=False)
            plan_id, outcome, number = save_version_from_form(
                request.app.state["engine"],
                text=data.document,
                effective_from=effective_from,
                by=principal,
                plan_id=plan.id if plan else None,
                create_only=plan is None,
            )
        except InputProblem as exc:
            context = _editor_context(db, plan, data, **_problem(exc))
            return page(EDITOR, context, status_code=exc.status_code)
        return Redirect(f"/plans/{plan_id}?saved={outcome.replace(' ', '-')}&version={number}")

    @get("/{plan_id:int}/versions/{number:int}", sync_to_thread=True)
    def version_page(self, db: DbSession, plan_id: FromPath[int], number: FromPath[int]) -> Template:
        plan = _plan_or_404(db, plan_id)
        version = version_by_number(db, stored_id(plan), number)
        if version is None:
            raise NotFoundException("No such version.")
        author = person_by_id(db, version.created_by_id) if version.created_by_id else None
        return page(
            "pages/plans/version.html",
            {
                "plan": plan,
                "version": version,
                "author": author,
                "first_period": _first_period_start(plan.period_kind, version.effective_from),
            },
        )

    @post("/{plan_id:int}/assignments", sync_to_thread=True, status_code=200)
    def add_assignment(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        plan_id: FromPath[int],
        data: Annotated[AssignForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        plan = _plan_or_404(db, plan_id)
        try:
            starts_on = parse_day(data.starts_on, "starts_on", required=True)
            ends_on = parse_day(data.ends_on, "ends_on", required=False)
            made = assign_by_email(
                request.app.state["engine"],
                plan=plan,
                email=data.email,
                starts_on=starts_on,  # type: ignore[arg-type]
                ends_on=ends_on,
                prorate=data.prorate in ("1", "on", "true"),
                by=principal,
            )
        except InputProblem as exc:
            error = {"field": exc.field, "message": exc.message}
            context = _detail_context(db, plan, assign_form=data, assign_error=error)
            is_htmx = bool(getattr(request, "htmx", False))
            return page_or_partial(
                request, DETAIL, ASSIGN_FORM, context, status_code=200 if is_htmx else exc.status_code
            )
        done = f"/plans/{plan.id}?saved=assigned&assignment={made.id}#assignments"
        if getattr(request, "htmx", False):
            return ClientRedirect(done)  # type: ignore[return-value]
        return Redirect(done)

    @post("/{plan_id:int}/assignments/{assignment_id:int}/end", sync_to_thread=True, status_code=200)
    def end(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        plan_id: FromPath[int],
        assignment_id: FromPath[int],
        data: Annotated[EndForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        plan = _plan_or_404(db, plan_id)
        try:
            ends_on = parse_day(data.ends_on, "ends_on", required=True)
            ended = end_assignment_by_id(
                request.app.state["engine"],
                plan_id=stored_id(plan),
                assignment_id=assignment_id,
                ends_on=ends_on,  # type: ignore[arg-type]
                by=principal,
            )
            if ended is None:
                raise NotFoundException("No such assignment.")
        except InputProblem as exc:
            error = {"id": assignment_id, "message": exc.message}
            return page(DETAIL, _detail_context(db, plan, end_error=error), status_code=exc.status_code)
        return Redirect(f"/plans/{plan.id}?saved=ended&assignment={ended.id}#assignments")
