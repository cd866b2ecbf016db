"""The admin's people pages (the manager's team page is commissions.app.team: it shows pulse results too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel

from commissions.auth.passwords import WeakPasswordError
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import admins
from commissions.core.i18n import SUPPORTED_LOCALES
from commissions.core.rendering import page, page_or_partial
from commissions.core.upserts import UpsertRefused
from commissions.models.base import ROLES
from commissions.people.queries import PeopleSearch, people_listing, person_by_id, person_facts, team_names
from commissions.people.service import (
    PersonError,
    create_person_in,
    move_person_by_id,
    set_active_by_id,
    set_locale_by_id,
    set_payment_currency_by_id,
)
from commissions.people.sync import put_people


class NewPersonForm(BaseModel):
    email: str = ""
    name: str = ""
    role: str = "rep"
    manager: str = ""
    team: str = ""
    employee_id: str = ""
    password: str = ""


def _id(text: str) -> int | None:
    """A person id from a query parameter (the confirmations name the person), None if it is not one."""
    return int(text) if text.isdigit() and len(text) < 12 else None


#: At most this many people are listed at once: an organisation of thousands is searched, not scrolled.
SHOWN_MAX = 100

#: What a person's page may confirm after a save (``?saved=``).
_SAVED_NOTICES = ("active", "moved", "paid_in", "language", "details", "unchanged")

#: The query parameters and error contexts that name a person the page speaks of.
_NAMING = ("added", "activated", "moved", "language", "paid_in")


def _people_context(
    db: DbSession, search: PeopleSearch | None = None, *, focus: int | None = None, **extra: Any
) -> dict[str, Any]:
    """The list page's context; ``focus``: the person a form error is about, listed alone (by their email) so
    their form shows with its error, whoever the first page of the list holds."""
    if focus is not None and search is None:
        person = person_by_id(db, focus)
        search = PeopleSearch(person.email) if person is not None else None
    search = search or PeopleSearch()
    named = [extra[key] for key in _NAMING if isinstance(extra.get(key), int)]
    listing = people_listing(db, search, limit=SHOWN_MAX, named=[*named, *([focus] if focus else [])])
    return {
        "shown": listing.shown,
        "matched": listing.matched,
        "total": listing.total,
        "search": search,
        "by_id": listing.by_id,
        "teams": listing.teams,
        "roles": ROLES,
        "locales": SUPPORTED_LOCALES,
        **extra,
    }


#: Reports listed on a person's page; more are counted and searched for on the list.
REPORTS_SHOWN = 50


def _from_person_page(data: dict[str, str]) -> bool:
    """Whether a form was sent from the person's own page (it returns there) rather than from the list."""
    return data.get("from") == "person"


def _saved(data: dict[str, str], person_id: int, notice: str, changed: bool) -> Redirect:
    """Back where the form was, with a confirmation naming what was saved (nothing when nothing changed)."""
    if _from_person_page(data):
        return Redirect(f"/admin/people/{person_id}?saved={notice if changed else 'unchanged'}", status_code=303)
    return Redirect(f"/admin/people?{notice}={person_id if changed else ''}", status_code=303)


def _person_page(db: DbSession, person_id: int, *, status_code: int = 200, **extra: Any) -> Template:
    facts = person_facts(db, person_id, limit=REPORTS_SHOWN)
    if facts is None:
        raise NotFoundException("No such person.")
    context = {
        "facts": facts,
        "p": facts.person,
        "locales": SUPPORTED_LOCALES,
        "teams": team_names(db),
        "roles": ROLES,
        **extra,
    }
    return page("pages/people/admin_person.html", context, status_code=status_code)


def _save_setting(
    request: Request[Any, Any, Any],
    db: DbSession,
    principal: CurrentPrincipal,
    person_id: int,
    setter: Callable[..., bool | None],
    value: str,
    name: str,
    notice: str,
    data: dict[str, str],
) -> Template | Redirect:
    """One of a person's settings saved by ``setter``: back to the list with a confirmation (``?notice=id``), or
    the list again with the setting's form open and its error (``{name}_error``); a 404 if there is no such person."""
    try:
        changed = setter(request.app.state["engine"], person_id, value, by=principal)
        if changed is None:
            raise NotFoundException("No such person.")
    except PersonError as exc:
        error: dict[str, Any] = {f"{name}_error": {"person_id": person_id, "message": exc.message}}
        if _from_person_page(data):
            return _person_page(db, person_id, status_code=400, **error)
        context = _people_context(db, focus=person_id, form=NewPersonForm(), error=None, **error)
        return page("pages/people/admin_list.html", context, status_code=400)
    return _saved(data, person_id, notice, bool(changed))


class AdminPeopleController(Controller):
    path = "/admin/people"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def people_page(
        self,
        db: DbSession,
        moved: FromQuery[str] = "",
        paid_in: FromQuery[str] = "",
        added: FromQuery[str] = "",
        active: FromQuery[str] = "",
        language: FromQuery[str] = "",
        q: FromQuery[str] = "",
        role: FromQuery[str] = "",
        team: FromQuery[str] = "",
    ) -> Template:
        return page(
            "pages/people/admin_list.html",
            _people_context(
                db,
                PeopleSearch(q.strip()[:200], role if role in ROLES else "", team.strip()[:200]),
                form=NewPersonForm(),
                error=None,
                moved=_id(moved),
                paid_in=_id(paid_in),
                added=_id(added),
                activated=_id(active),
                language=_id(language),
            ),
        )

    @get("/{person_id:int}", sync_to_thread=True)
    def person_page(self, db: DbSession, person_id: FromPath[int], saved: FromQuery[str] = "") -> Template:
        """One person: who they are, their manager, reports and plans, links to their pay, and every setting."""
        return _person_page(db, person_id, saved=saved if saved in _SAVED_NOTICES else "")

    @post("/", sync_to_thread=True, status_code=200)
    def add_person(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[NewPersonForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            created = create_person_in(
                request.app.state["engine"],
                email=data.email,
                role=data.role,
                name=data.name,
                manager_email=data.manager or None,
                team_name=data.team or None,
                employee_id=data.employee_id or None,
                password=data.password or None,
                by=principal,
            )
        except (PersonError, WeakPasswordError) as exc:
            error = {"field": getattr(exc, "field", "password"), "message": getattr(exc, "message", str(exc))}
            context = _people_context(db, form=data.model_copy(update={"password": ""}), error=error)
            return page_or_partial(
                request,
                "pages/people/admin_list.html",
                "partials/people/new_person_form.html",
                context,
                status_code=200,
            )
        if getattr(request, "htmx", False):
            from litestar.plugins.htmx import ClientRedirect

            return ClientRedirect(f"/admin/people?added={created.id}")  # type: ignore[return-value]
        return Redirect(f"/admin/people?added={created.id}")

    @post("/{person_id:int}/active", sync_to_thread=True)
    def toggle_active(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        person_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        if person_id == principal.person_id:  # the caller's own row always exists
            raise ClientException("You cannot deactivate yourself.")
        if data.get("active") not in ("0", "1"):  # a request without it deactivated (and revoked every token)
            raise ClientException("Say active=1 (reactivate) or active=0 (deactivate).")
        if not set_active_by_id(request.app.state["engine"], person_id, data.get("active") == "1", by=principal):
            raise NotFoundException("No such person.")
        return _saved(data, person_id, "active", True)

    @post("/{person_id:int}/placement", sync_to_thread=True, status_code=200)
    def move(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        person_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Another manager or team: everyone above the person, before and after, is recomputed."""
        if "manager" not in data or "team" not in data:  # a request without them cleared both
            raise ClientException("The move names both the manager and the team (either may be empty).")
        try:
            changed = move_person_by_id(
                request.app.state["engine"],
                person_id,
                manager_email=data.get("manager", ""),
                team_name=data.get("team", ""),
                by=principal,
            )
            if changed is None:
                raise NotFoundException("No such person.")
        except PersonError as exc:
            if _from_person_page(data):
                return _person_page(db, person_id, move_error={"person_id": person_id, "message": exc.message})
            context = _people_context(
                db,
                focus=person_id,
                form=NewPersonForm(),
                error=None,
                move_error={"person_id": person_id, "message": exc.message},
            )
            return page("pages/people/admin_list.html", context, status_code=200)
        return _saved(data, person_id, "moved", bool(changed))

    @post("/{person_id:int}/details", sync_to_thread=True, status_code=200)
    def details(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        person_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Name, role and employee id, by the rules of ``PUT /api/v1/people`` (one check, one audit trail): an
        employee id in use and one's own role are refused there."""
        person = person_by_id(db, person_id)
        if person is None:
            raise NotFoundException("No such person.")
        item = {
            "email": person.email,
            "name": data.get("name", ""),
            "role": data.get("role", ""),
            "employee_id": data.get("employee_id", "").strip() or None,
        }
        try:
            report = put_people(request.app.state["engine"], [item], by=principal)
        except UpsertRefused as exc:
            errors = {problem.field: problem.message for problem in exc.problems}
            return _person_page(db, person_id, status_code=400, details_error=errors, details=item)
        return Redirect(
            f"/admin/people/{person_id}?saved={'details' if report.changed else 'unchanged'}", status_code=303
        )

    @post("/{person_id:int}/payment-currency", sync_to_thread=True, status_code=200)
    def payment_currency(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        person_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """The currency the person is paid in (empty: their plan's); the payroll export converts into it."""
        value = data.get("payment_currency", "")
        return _save_setting(
            request, db, principal, person_id, set_payment_currency_by_id, value, "currency", "paid_in", data
        )

    @post("/{person_id:int}/locale", sync_to_thread=True, status_code=200)
    def locale(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        person_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """The language the person's pages are in (empty: their browser's); they may change it themselves."""
        value = data.get("locale", "")
        return _save_setting(request, db, principal, person_id, set_locale_by_id, value, "locale", "language", data)
