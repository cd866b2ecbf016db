"""Passwords: change your own (``/account/password``), and one-time reset links an admin issues.

Argon2 (verifying the current password, hashing the new one) runs outside any write
transaction; the write is one short transaction. Checking the current password spends the
account's sign-in budget like a sign-in (commissions/auth/throttle.py), so a stolen session
cannot be used to guess the password.
"""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.accounts.reset_links import (
    RESET_LINK_SECONDS,
    RESET_PATH,
    ResetLinkError,
    issue_reset_link,
    person_for_link,
    use_reset_link,
)
from commissions.accounts.sign_in import sign_in_session
from commissions.auth.passwords import WeakPasswordError, check_strength, hash_password, verify_password
from commissions.auth.sessions import ISSUED_KEY, clock
from commissions.auth.throttle import Refusal, SignInThrottle, retried
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal
from commissions.core.guards import admins, any_role, requires_person
from commissions.core.principal import Principal
from commissions.core.rendering import page
from commissions.models import PasswordReset, Person
from commissions.models.base import utcnow
from commissions.people.service import set_password


class ChangePasswordForm(BaseModel):
    current_password: str = ""
    new_password: str = ""
    confirm_password: str = ""


class NewPasswordForm(BaseModel):
    new_password: str = ""
    confirm_password: str = ""


class FormProblem(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _check_new(new: str, confirm: str) -> None:
    try:
        check_strength(new)
    except WeakPasswordError as exc:
        raise FormProblem("new_password", f"The new {exc}.") from None
    if new != confirm:
        raise FormProblem("confirm_password", "The two new passwords differ.")


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


# ---- change your own password -------------------------------------------------------------------


@retried
def _reserve(engine: Engine, throttle: SignInThrottle, email: str, ip: str) -> Refusal | None:
    with transaction(engine) as session:
        refusal, locked = throttle.reserve(email, ip, session=session)
        if refusal is not None:
            record_event(
                session,
                None,
                "auth.locked_out" if locked else "auth.sign_in_throttled",
                "person",
                "",
                {"email": email[:254], "by": ",".join(locked), "where": "password change"},
                ip=ip,
            )
        return refusal


def _current_hash(engine: Engine, person_id: int) -> str | None:
    with Session(engine) as session:
        person = session.get(Person, person_id)
        return person.password_hash if person is not None and person.active else None


@retried
def _wrong_current(engine: Engine, throttle: SignInThrottle, principal: Principal, ip: str) -> list[str]:
    with transaction(engine) as session:
        record_event(session, principal, "auth.password_change_failed", "person", principal.person_id, {}, ip=ip)
        locked = throttle.failed(session, principal.email or "", ip)
        if locked:
            record_event(
                session,
                None,
                "auth.locked_out",
                "person",
                principal.person_id,
                {"email": (principal.email or "")[:254], "by": ",".join(locked)},
                ip=ip,
            )
        return locked


@retried
def _store_new(
    engine: Engine, throttle: SignInThrottle, principal: Principal, seen_hash: str, new: str, new_hash: str, ip: str
) -> dict | None:
    """Set the password (every session of the person ends) and return this session's new data;
    None if the password changed (or the person was deactivated) while it was being checked."""
    with transaction(engine) as session:
        person = session.get(Person, principal.person_id)
        if person is None or not person.active or person.password_hash != seen_hash:
            return None
        set_password(session, person, new, by=principal, how="own", ip=ip, password_hash=new_hash)
        throttle.succeeded(session, person.email, ip)
        return {"pid": person.id, "sv": person.session_version, ISSUED_KEY: int(clock())}


class AccountPasswordController(Controller):
    path = "/account/password"
    guards = [any_role, requires_person]
    include_in_schema = False

    @get("/")
    async def form(self, principal: CurrentPrincipal, saved: FromQuery[str] = "") -> Template:
        return page("pages/auth/change_password.html", {"error": None, "saved": saved == "1", "person": principal})

    @post("/", status_code=200)
    async def change(
        self,
        request: Request,
        principal: CurrentPrincipal,
        data: Annotated[ChangePasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        if principal.via_token:
            raise PermissionDeniedException("A password is changed from a signed-in session, not with an API token.")
        engine: Engine = request.app.state["engine"]
        throttle: SignInThrottle = request.app.state["throttle"]
        ip = _ip(request)

        def again(field: str, message: str, status: int = 400) -> Template:
            return page(
                "pages/auth/change_password.html",
                {"error": FormProblem(field, message), "saved": False, "person": principal},
                status_code=status,
            )

        try:
            _check_new(data.new_password, data.confirm_password)
        except FormProblem as problem:
            return again(problem.field, problem.message)
        refusal = await to_thread.run_sync(_reserve, engine, throttle, principal.email or "", ip)
        if refusal is not None:
            response = again("current_password", refusal.message, 429)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        seen_hash = await to_thread.run_sync(_current_hash, engine, principal.person_id)
        ok, _ = await to_thread.run_sync(verify_password, data.current_password, seen_hash)
        if not ok or seen_hash is None:
            locked = await to_thread.run_sync(_wrong_current, engine, throttle, principal, ip)
            if locked:
                lock = throttle.lock_message(locked[0])
                response = again("current_password", lock.message, 429)
                response.headers["Retry-After"] = str(lock.retry_after)
                return response
            return again("current_password", "Your current password is wrong.")
        new_hash = await to_thread.run_sync(hash_password, data.new_password)
        session_data = await to_thread.run_sync(
            _store_new, engine, throttle, principal, seen_hash, data.new_password, new_hash, ip
        )
        if session_data is None:
            return again("current_password", "Your password was changed meanwhile; sign in again and retry.", 409)
        # every session ended; this one carries on under a fresh id and CSRF token
        return await sign_in_session(request, session_data, "/account/password?saved=1")


# ---- one-time reset links -----------------------------------------------------------------------


def _admin_context(session: Session, person: Person, **extra: object) -> dict:
    pending = session.exec(
        select(PasswordReset)
        .where(PasswordReset.person_id == person.id, PasswordReset.used_at.is_(None))  # type: ignore[union-attr]
        .order_by(PasswordReset.created_at.desc())
    ).first()  # type: ignore[attr-defined]
    return {
        "target": person,
        "pending": pending if pending and _usable(pending) else None,
        "link": None,
        "error": None,
        "hours": RESET_LINK_SECONDS // 3600,
        **extra,
    }


def _usable(row: PasswordReset) -> bool:
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
    return row.used_at is None and expires > utcnow()


class PasswordResetAdminController(Controller):
    """The person's password page for admins: issue a one-time reset link (shown once)."""

    path = "/admin/people/{person_id:int}/password"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def person_password_page(self, request: Request, person_id: FromPath[int]) -> Template:
        with Session(request.app.state["engine"], expire_on_commit=False) as session:
            person = session.get(Person, person_id)
            if person is None:
                raise NotFoundException("No such person.")
            return page("pages/people/admin_password.html", _admin_context(session, person))

    @post("/reset-link", sync_to_thread=True, status_code=200)
    def issue(self, request: Request, principal: CurrentPrincipal, person_id: FromPath[int]) -> Template:
        engine = request.app.state["engine"]
        try:
            with transaction(engine) as session:
                person = session.get(Person, person_id)
                if person is None:
                    raise NotFoundException("No such person.")
                token = issue_reset_link(session, person, by=principal, ip=_ip(request))
        except ResetLinkError as exc:
            with Session(engine, expire_on_commit=False) as session:
                return page(
                    "pages/people/admin_password.html",
                    _admin_context(session, session.get(Person, person_id), error=str(exc)),
                    status_code=400,
                )  # type: ignore[arg-type]
        link = str(request.base_url).rstrip("/") + RESET_PATH + token
        with Session(engine, expire_on_commit=False) as session:
            return page(
                "pages/people/admin_password.html", _admin_context(session, session.get(Person, person_id), link=link)
            )  # type: ignore[arg-type]


def _reset_page(
    token: str, *, error: FormProblem | None = None, valid: bool = True, status_code: int = 200
) -> Template:
    return page(
        "pages/auth/reset_password.html", {"token": token, "error": error, "valid": valid}, status_code=status_code
    )


def _link_usable(engine: Engine, token: str) -> bool:
    with Session(engine) as session:
        return person_for_link(session, token) is not None


def _use_link(engine: Engine, token: str, new: str, new_hash: str, ip: str) -> None:
    with transaction(engine) as session:
        use_reset_link(session, token, new, password_hash=new_hash, ip=ip)


class PasswordResetController(Controller):
    """Where the person opens the link: no sign-in (the link is the credential), CSRF as everywhere."""

    path = RESET_PATH.rstrip("/")
    include_in_schema = False

    @get("/{token:str}")
    async def reset_form(self, request: Request, token: FromPath[str]) -> Template:
        if not await to_thread.run_sync(_link_usable, request.app.state["engine"], token):
            return _reset_page(token, valid=False, status_code=404)
        return _reset_page(token)

    @post("/{token:str}", status_code=200)
    async def reset(
        self,
        request: Request,
        token: FromPath[str],
        data: Annotated[NewPasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        engine = request.app.state["engine"]
        if not await to_thread.run_sync(_link_usable, engine, token):
            return _reset_page(token, valid=False, status_code=404)
        try:
            _check_new(data.new_password, data.confirm_password)
        except FormProblem as problem:
            return _reset_page(token, error=problem, status_code=400)
        new_hash = await to_thread.run_sync(hash_password, data.new_password)
        try:
            await to_thread.run_sync(_use_link, engine, token, data.new_password, new_hash, _ip(request))
        except ResetLinkError:
            return _reset_page(token, valid=False, status_code=404)
        request.clear_session()
        return Redirect("/login?reason=password_set")
