"""Sign-in (rate limited), sign-out, sign-out everywhere and "who am I" for the API."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from commissions.auth.csrf import CSRF_KEY, new_csrf_token, set_csrf_cookie
from commissions.auth.passwords import verify_password
from commissions.auth.sessions import ISSUED_KEY, clock, rotate_session
from commissions.auth.throttle import Refusal, SignInThrottle, retried
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal
from commissions.core.guards import any_role, requires_person
from commissions.core.principal import Principal
from commissions.core.rendering import page
from commissions.models import Person
from commissions.people.queries import person_by_email
from commissions.people.service import end_all_sessions


class SignInForm(BaseModel):
    email: str = ""
    password: str = ""
    next: str = "/"


class Me(BaseModel):
    email: str | None
    name: str
    role: str
    via_token: bool


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@retried
def _reserve(engine: Engine, throttle: SignInThrottle, email: str, ip: str) -> Refusal | None:
    """Count the attempt before its password is checked (one short write); audit a refusal."""
    with transaction(engine) as session:
        refusal, locked = throttle.reserve(email, ip, session=session)
        if locked:
            record_event(
                session, None, "auth.locked_out", "person", "", {"email": email[:254], "by": ",".join(locked)}, ip=ip
            )
        elif refusal is not None:
            record_event(session, None, "auth.sign_in_throttled", "person", "", {"email": email[:254]}, ip=ip)
        return refusal


def _check_credentials(engine: Engine, email: str, password: str) -> tuple[Person | None, str | None]:
    """Argon2 outside any write transaction: (the person if the password is right and they are active, a
    new hash if theirs should be upgraded)."""
    with Session(engine, expire_on_commit=False) as session:
        person = person_by_email(session, email)
        if person is not None:
            session.expunge(person)
    ok, new_hash = verify_password(password, person.password_hash if person else None)
    if person is None or not ok or not person.active:
        return None, None
    return person, new_hash


@retried
def _record_failure(engine: Engine, throttle: SignInThrottle, email: str, ip: str) -> list[str]:
    with transaction(engine) as session:
        person = person_by_email(session, email)
        record_event(
            session, None, "auth.sign_in_failed", "person", person.id if person else "", {"email": email[:254]}, ip=ip
        )
        locked = throttle.failed(session, email, ip)
        if locked:
            record_event(
                session, None, "auth.locked_out", "person", "", {"email": email[:254], "by": ",".join(locked)}, ip=ip
            )
        return locked


@retried
def _record_success(
    engine: Engine, throttle: SignInThrottle, person: Person, new_hash: str | None, ip: str
) -> dict | None:
    """The sign-in, in one short write: the hash upgraded, the account's count given back, audited."""
    with transaction(engine) as session:
        row = session.get(Person, person.id)
        if row is None or not row.active or row.password_hash != person.password_hash:
            return None  # deactivated or re-keyed while the password was being checked
        if new_hash:
            row.password_hash = new_hash
            session.add(row)
        throttle.succeeded(session, row.email, ip)
        actor = Principal(role=row.role, person_id=row.id, email=row.email, name=row.name)
        record_event(session, actor, "auth.sign_in", "person", row.id, {}, ip=ip)
        return {"pid": row.id, "sv": row.session_version, ISSUED_KEY: int(clock())}


def _end_all_sessions(engine: Engine, principal: Principal, ip: str, action: str = "auth.sign_out_everywhere") -> None:
    from commissions.models import Person

    with transaction(engine) as session:
        end_all_sessions(
            session,
            session.get(Person, principal.person_id),
            by=principal,
            ip=ip,  # type: ignore[arg-type]
            action=action,
        )


async def sign_in_session(request: Request, session_data: dict, target: str) -> Redirect:
    """A fresh session id and a fresh CSRF token bound to it (commissions/auth/csrf.py), then ``target``."""
    token = new_csrf_token(request)
    await rotate_session(request, {**session_data, CSRF_KEY: token})
    response = Redirect(target)
    set_csrf_cookie(request, response, token)
    return response


# Shown on the sign-in page after a session ended without the person signing out.
END_MESSAGES = {
    "expired": "Your session has expired; please sign in again.",
    "password_set": "Your new password is set and every session you had has ended; sign in with it.",
    "ended": "Your session was ended (signed out everywhere, password changed or account deactivated); please sign in again.",
}


class AuthController(Controller):
    tags = ["auth"]

    @get("/login", include_in_schema=False)
    async def login_form(
        self, request: Request, next: FromQuery[str] = "/", reason: FromQuery[str] = ""
    ) -> Template | Redirect:
        if request.scope.get("user") is not None:
            return Redirect(safe_next(next))
        return page(
            "pages/auth/login.html",
            {"next": safe_next(next), "email": "", "error": None, "notice": END_MESSAGES.get(reason)},
        )

    @post("/login", include_in_schema=False)
    async def login(
        self, request: Request, data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> Template | Redirect:
        from anyio import to_thread

        ip = request.client.host if request.client else ""
        engine = request.app.state["engine"]
        email = data.email.strip().lower()
        throttle: SignInThrottle = request.app.state["throttle"]

        def refused(refusal: Refusal) -> Template:
            context = {"next": safe_next(data.next), "email": data.email, "error": refusal.message}
            response = page("pages/auth/login.html", context, status_code=429)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response

        refusal = await to_thread.run_sync(_reserve, engine, throttle, email, ip)
        if refusal is not None:  # locked, or the budget is spent by attempts in flight: not even checked
            return refused(refusal)
        person, new_hash = await to_thread.run_sync(_check_credentials, engine, email, data.password)
        session_data = None
        if person is not None:
            session_data = await to_thread.run_sync(_record_success, engine, throttle, person, new_hash, ip)
        if session_data is None:
            locked = await to_thread.run_sync(_record_failure, engine, throttle, email, ip)
            if locked:
                return refused(throttle.lock_message(locked[0]))
            context = {"next": safe_next(data.next), "email": data.email, "error": "Email or password is wrong."}
            return page("pages/auth/login.html", context, status_code=401)
        return await sign_in_session(request, session_data, safe_next(data.next))

    @post("/logout", include_in_schema=False)
    async def logout(self, request: Request) -> Redirect:
        """Ends every session of the person (issue 7: "sign-out and deactivation end every session of
        that person"): their session version changes, so every device's cookie stops working, and this
        stored session is deleted."""
        from anyio import to_thread

        principal = request.scope.get("user")
        if principal is not None and principal.person_id is not None and not principal.via_token:
            ip = request.client.host if request.client else ""
            await to_thread.run_sync(_end_all_sessions, request.app.state["engine"], principal, ip, "auth.sign_out")
        request.clear_session()
        return Redirect("/login")

    @post("/account/sign-out-everywhere", guards=[any_role, requires_person], include_in_schema=False)
    async def sign_out_everywhere(self, request: Request, principal: CurrentPrincipal) -> Redirect:
        """Ends every session of the caller, on every device, and says so on the sign-in page (what
        sign-out does too; kept as its own address for links that name it)."""
        from anyio import to_thread

        ip = request.client.host if request.client else ""
        await to_thread.run_sync(_end_all_sessions, request.app.state["engine"], principal, ip)
        request.clear_session()
        return Redirect("/login?reason=ended")

    @get("/api/v1/me", guards=[any_role], sync_to_thread=False, summary="The caller: person and role")
    def me(self, principal: CurrentPrincipal) -> Me:
        return Me(email=principal.email, name=principal.name, role=principal.role, via_token=principal.via_token)
