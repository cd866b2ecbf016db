"""The accounts' pages: sign-in (rate limited), sign-out, sign-out everywhere; changing your own password
(``/account/password``); one-time reset links an admin issues and the page where a person uses one; the
admin's API token page. (``GET /api/v1/me`` is in api.py.)

Argon2 (verifying a password, hashing a new one) runs outside any write transaction; each write is one
short transaction in accounts/service.py. Checking the current password spends the account's sign-in
budget like a sign-in (commissions/auth/throttle.py), so a stolen session cannot be used to guess it.
"""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from commissions.accounts.queries import latest_unused_reset, own_tokens, tokens_with_emails
from commissions.accounts.reset_links import RESET_LINK_SECONDS, RESET_PATH, ResetLinkError
from commissions.accounts.service import (
    check_credentials,
    create_api_token,
    create_own_token,
    current_hash,
    end_sessions,
    issue_link,
    link_usable,
    record_failed_sign_in,
    record_sign_in,
    record_wrong_password,
    request_reset_email,
    reserve_password_check,
    reserve_sign_in,
    reset_by_email_offered,
    revoke_api_token,
    revoke_own_token,
    store_locale,
    store_new_password,
    use_link,
)
from commissions.auth.csrf import CSRF_KEY, new_csrf_token, set_csrf_cookie
from commissions.auth.middleware import forget_person, forget_tokens
from commissions.auth.passwords import WeakPasswordError, check_strength, hash_password, verify_password
from commissions.auth.sessions import rotate_session
from commissions.auth.sign_in_options import password_sign_in_enabled, provider_buttons
from commissions.auth.throttle import Refusal, SignInThrottle
from commissions.auth.tokens import ADMIN_GRANTABLE, TokenError
from commissions.calculation.rows import stored_id
from commissions.core import mail, shown_once
from commissions.core.csp import csp_with_form_targets
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import admins, any_role, requires_person
from commissions.core.i18n import N_, SUPPORTED_LOCALES
from commissions.core.i18n import gettext as _
from commissions.core.metrics import SIGN_IN_FAILURES
from commissions.core.principal import Principal
from commissions.core.rendering import page
from commissions.models import PasswordReset, Person
from commissions.models.base import utcnow
from commissions.people.queries import person_by_id


def _ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


# ---- sign-in, sign-out --------------------------------------------------------------------------


class SignInForm(BaseModel):
    email: str = ""
    password: str = ""
    next: str = "/"


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def sign_in_session(request: Request[Any, Any, Any], session_data: dict[str, Any], target: str) -> Redirect:
    """A fresh session id and a fresh CSRF token bound to it (commissions/auth/csrf.py), then ``target``."""
    token = new_csrf_token(request)
    await rotate_session(request, {**session_data, CSRF_KEY: token})
    response = Redirect(target)
    set_csrf_cookie(request, response, token)
    return response


# Shown on the sign-in page after a session ended without the person signing out.
END_MESSAGES = {
    "expired": N_("Your session has expired; please sign in again."),
    "password_set": N_("Your new password is set and every session you had has ended; sign in with it."),
    "ended": N_(
        "Your session was ended (signed out everywhere, password changed or account deactivated); please sign in again."
    ),
}


def _sign_in_options(engine: Engine) -> dict[str, Any]:
    """What the sign-in page offers: password sign-in (unless turned off) and the enabled SSO providers."""
    with Session(engine) as session:
        return {
            "password_sign_in": password_sign_in_enabled(session),
            "sso_providers": provider_buttons(session),
            "forgot_password": mail.enabled(),
        }


def _login_template(context: dict[str, Any], status_code: int = 200) -> Template:
    """The sign-in page; its forms may lead to the enabled SSO providers (commissions/core/csp.py)."""
    response = page("pages/auth/login.html", context, status_code=status_code)
    buttons = context.get("sso_providers") or []
    response.headers["Content-Security-Policy"] = csp_with_form_targets(button.issuer for button in buttons)
    return response


async def _login_page(request: Request[Any, Any, Any], context: dict[str, Any], status_code: int = 200) -> Template:
    options = await to_thread.run_sync(_sign_in_options, request.app.state["engine"])
    return _login_template({**options, **context}, status_code=status_code)


PASSWORD_SIGN_IN_OFF = N_("Password sign-in is turned off: sign in with your company account.")


class AuthController(Controller):
    tags = ["auth"]

    @get("/login", include_in_schema=False)
    async def login_form(
        self, request: Request[Any, Any, Any], next: FromQuery[str] = "/", reason: FromQuery[str] = ""
    ) -> Template | Redirect:
        if request.scope.get("user") is not None:
            return Redirect(safe_next(next))
        context = {
            "next": safe_next(next),
            "email": "",
            "error": None,
            "notice": _(END_MESSAGES[reason]) if reason in END_MESSAGES else None,
        }
        return await _login_page(request, context)

    @post("/login", include_in_schema=False)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        ip = _ip(request)
        engine = request.app.state["engine"]
        email = data.email.strip().lower()
        throttle: SignInThrottle = request.app.state["throttle"]
        options = await to_thread.run_sync(_sign_in_options, engine)

        def refused(refusal: Refusal) -> Template:
            context = {"next": safe_next(data.next), "email": data.email, "error": refusal.message, **options}
            response = _login_template(context, status_code=429)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response

        if not options["password_sign_in"]:  # turned off by an admin (docs/security.md): not even counted
            context = {"next": safe_next(data.next), "email": "", "error": _(PASSWORD_SIGN_IN_OFF), **options}
            return _login_template(context, status_code=403)
        refusal = await to_thread.run_sync(reserve_sign_in, engine, throttle, email, ip)
        if refusal is not None:  # locked, or the budget is spent by attempts in flight: not even checked
            SIGN_IN_FAILURES.labels("limited").inc()
            return refused(refusal)
        person, new_hash = await to_thread.run_sync(check_credentials, engine, email, data.password)
        session_data = None
        if person is not None:
            session_data = await to_thread.run_sync(record_sign_in, engine, throttle, person, new_hash, ip)
        if session_data is None:
            SIGN_IN_FAILURES.labels("wrong_credentials").inc()
            locked = await to_thread.run_sync(record_failed_sign_in, engine, throttle, email, ip)
            if locked:
                return refused(throttle.lock_message(locked[0]))
            context = {
                "next": safe_next(data.next),
                "email": data.email,
                "error": _("Email or password is wrong."),
                **options,
            }
            return _login_template(context, status_code=401)
        return await sign_in_session(request, session_data, safe_next(data.next))

    @post("/logout", include_in_schema=False)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        """Ends every session of the person (issue 7: "sign-out and deactivation end every session of
        that person"): their session version changes, so every device's cookie stops working, and this
        stored session is deleted."""
        principal = request.scope.get("user")
        if principal is not None and principal.person_id is not None and not principal.via_token:
            await to_thread.run_sync(
                end_sessions, request.app.state["engine"], principal, _ip(request), "auth.sign_out"
            )
        request.clear_session()
        return Redirect("/login")

    @post("/account/sign-out-everywhere", guards=[any_role, requires_person], include_in_schema=False)
    async def sign_out_everywhere(self, request: Request[Any, Any, Any], principal: CurrentPrincipal) -> Redirect:
        """Ends every session of the caller, on every device, and says so on the sign-in page (what
        sign-out does too; kept as its own address for links that name it)."""
        await to_thread.run_sync(end_sessions, request.app.state["engine"], principal, _ip(request))
        request.clear_session()
        return Redirect("/login?reason=ended")


# ---- change your own password -------------------------------------------------------------------


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
        raise FormProblem("confirm_password", _("The two new passwords differ."))


class AccountPasswordController(Controller):
    path = "/account/password"
    guards = [any_role, requires_person]
    include_in_schema = False

    @get("/")
    async def form(
        self, principal: CurrentPrincipal, saved: FromQuery[str] = "", language: FromQuery[str] = ""
    ) -> Template:
        context = {"error": None, "saved": saved == "1", "person": principal, "language_saved": language == "saved"}
        return page("pages/auth/change_password.html", _account_context(principal, context))

    @post("/", status_code=200)
    async def change(
        self,
        request: Request[Any, Any, Any],
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
                _account_context(
                    principal, {"error": FormProblem(field, message), "saved": False, "person": principal}
                ),
                status_code=status,
            )

        try:
            _check_new(data.new_password, data.confirm_password)
        except FormProblem as problem:
            return again(problem.field, problem.message)
        refusal = await to_thread.run_sync(reserve_password_check, engine, throttle, principal.email or "", ip)
        if refusal is not None:
            response = again("current_password", refusal.message, 429)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        seen_hash = await to_thread.run_sync(current_hash, engine, principal.person_id)
        ok, _new_hash = await to_thread.run_sync(verify_password, data.current_password, seen_hash)
        if not ok or seen_hash is None:
            locked = await to_thread.run_sync(record_wrong_password, engine, throttle, principal, ip)
            if locked:
                lock = throttle.lock_message(locked[0])
                response = again("current_password", lock.message, 429)
                response.headers["Retry-After"] = str(lock.retry_after)
                return response
            return again("current_password", _("Your current password is wrong."))
        if data.new_password == data.current_password:  # said only once the current one is proven
            return again("new_password", _("Choose a new password, not your current one."))
        new_hash = await to_thread.run_sync(hash_password, data.new_password)
        session_data = await to_thread.run_sync(
            store_new_password, engine, throttle, principal, seen_hash, data.new_password, new_hash, ip
        )
        if session_data is None:
            return again("current_password", _("Your password was changed meanwhile; sign in again and retry."), 409)
        # every session ended; this one carries on under a fresh id and CSRF token
        return await sign_in_session(request, session_data, "/account/password?saved=1")


# ---- your interface language ------------------------------------------------------------------


def _account_context(principal: Any, context: dict[str, Any]) -> dict[str, Any]:
    """The account page's language form: the languages we ship and the person's setting ("" = browser)."""
    return {**context, "locales": SUPPORTED_LOCALES, "chosen_locale": principal.locale or ""}


class LanguageForm(BaseModel):
    locale: str = ""


class AccountLanguageController(Controller):
    """A person's interface language: one of SUPPORTED_LOCALES, or "" for the browser's choice."""

    path = "/account/language"
    guards = [any_role, requires_person]
    include_in_schema = False

    @post("/", status_code=200)
    async def choose(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: Annotated[LanguageForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        if principal.via_token:
            raise PermissionDeniedException("The language is chosen from a signed-in session, not with an API token.")
        if data.locale and data.locale not in SUPPORTED_LOCALES:
            context = {
                "error": None,
                "saved": False,
                "person": principal,
                "language_error": _("Choose a language from the list."),
            }
            return page("pages/auth/change_password.html", _account_context(principal, context), status_code=400)
        await to_thread.run_sync(
            store_locale, request.app.state["engine"], principal, data.locale or None, _ip(request)
        )
        if principal.person_id is not None:
            forget_person(principal.person_id)  # the next page reads the new setting (not the cached principal)
        return Redirect("/account/password?language=saved")


# ---- one-time reset links -----------------------------------------------------------------------


def _person_or_404(session: Session, person_id: int) -> Person:
    person = person_by_id(session, person_id)
    if person is None:
        raise NotFoundException("No such person.")
    return person


def _admin_context(session: Session, person: Person, **extra: object) -> dict[str, Any]:
    pending = latest_unused_reset(session, stored_id(person))
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
    def person_password_page(self, db: DbSession, person_id: FromPath[int]) -> Template:
        person = person_by_id(db, person_id)
        if person is None:
            raise NotFoundException("No such person.")
        return page("pages/people/admin_password.html", _admin_context(db, person))

    @post("/reset-link", sync_to_thread=True, status_code=200)
    def issue(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal, person_id: FromPath[int]
    ) -> Template:
        try:
            token = issue_link(request.app.state["engine"], person_id, by=principal, ip=_ip(request))
            if token is None:
                raise NotFoundException("No such person.")
        except ResetLinkError as exc:
            return page(
                "pages/people/admin_password.html",
                _admin_context(db, _person_or_404(db, person_id), error=str(exc)),
                status_code=400,
            )
        link = str(request.base_url).rstrip("/") + RESET_PATH + token
        return page(
            "pages/people/admin_password.html",
            _admin_context(db, _person_or_404(db, person_id), link=link),
        )


def _reset_page(
    token: str, *, error: FormProblem | None = None, valid: bool = True, status_code: int = 200
) -> Template:
    return page(
        "pages/auth/reset_password.html", {"token": token, "error": error, "valid": valid}, status_code=status_code
    )


class PasswordResetController(Controller):
    """Where the person opens the link: no sign-in (the link is the credential), CSRF as everywhere."""

    path = RESET_PATH.rstrip("/")
    include_in_schema = False

    @get("/{token:str}")
    async def reset_form(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        if not await to_thread.run_sync(link_usable, request.app.state["engine"], token):
            return _reset_page(token, valid=False, status_code=404)
        return _reset_page(token)

    @post("/{token:str}", status_code=200)
    async def reset(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        data: Annotated[NewPasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        engine = request.app.state["engine"]
        if not await to_thread.run_sync(link_usable, engine, token):
            return _reset_page(token, valid=False, status_code=404)
        try:
            _check_new(data.new_password, data.confirm_password)
        except FormProblem as problem:
            return _reset_page(token, error=problem, status_code=400)
        new_hash = await to_thread.run_sync(hash_password, data.new_password)
        try:
            await to_thread.run_sync(use_link, engine, token, data.new_password, new_hash, _ip(request))
        except ResetLinkError:
            return _reset_page(token, valid=False, status_code=404)
        request.clear_session()
        return Redirect("/login?reason=password_set")


# ---- "Forgot password?": a one-time link by email ---------------------------------------------------


class ForgotPasswordForm(BaseModel):
    email: str = ""


FORGOT_SENT = N_(
    "If that address belongs to an active account, a link to set a new password is on its way. "
    "It works once, for 24 hours; check your spam folder if it does not arrive."
)


def _forgot_page(engine: Engine, context: dict[str, Any], status_code: int = 200) -> Template:
    offered = reset_by_email_offered(engine)
    return page(
        "pages/auth/forgot_password.html",
        {"offered": offered, "email": "", "sent": None, "error": None, **context},
        status_code=status_code,
    )


class ForgotPasswordController(Controller):
    """Anyone may ask; the answer never says whether the address has an account (docs/email.md)."""

    path = "/forgot-password"
    include_in_schema = False

    @get("/")
    async def forgot_form(self, request: Request[Any, Any, Any]) -> Template:
        return await to_thread.run_sync(_forgot_page, request.app.state["engine"], {})

    @post("/", status_code=200)
    async def forgot(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ForgotPasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        engine = request.app.state["engine"]
        throttle: SignInThrottle = request.app.state["throttle"]
        email = data.email.strip().lower()[:254]
        refusal = await to_thread.run_sync(request_reset_email, engine, throttle, email, _ip(request))
        if refusal is not None:
            response = await to_thread.run_sync(
                _forgot_page, engine, {"email": data.email, "error": refusal.message}, 429
            )
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        return await to_thread.run_sync(_forgot_page, engine, {"sent": _(FORGOT_SENT)})


# ---- API tokens (admins): create (shown once), list, revoke --------------------------------------


class NewTokenForm(BaseModel):
    name: str = ""
    role: str = ""  # empty: the role of the person it acts as
    as_email: str = ""


def _tokens_context(db: Session, **extra: object) -> dict[str, Any]:
    rows = tokens_with_emails(db)
    return {"tokens": rows, "roles": ADMIN_GRANTABLE, "form": NewTokenForm(), "error": None, "new_token": None, **extra}


NEW_TOKEN = "new_token"  # the session key of a token just created, until its page shows it


class TokensController(Controller):
    path = "/admin/tokens"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def tokens_page(self, request: Request[Any, Any, Any], db: DbSession) -> Template:
        return page("pages/admin/tokens.html", _tokens_context(db, new_token=shown_once.take(request, NEW_TOKEN)))

    @post("/", sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[NewTokenForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            token, clear = create_api_token(
                request.app.state["engine"],
                name=data.name,
                role=data.role,
                as_email=data.as_email,
                created_by=principal,
            )
        except TokenError as exc:
            return page("pages/admin/tokens.html", _tokens_context(db, form=data, error=str(exc)))
        shown_once.keep_for_next_page(request, NEW_TOKEN, {"name": token.name, "value": clear})
        return Redirect("/admin/tokens", status_code=303)  # a reload shows the list, it creates no second token

    @post("/{token_id:int}/revoke", sync_to_thread=True)
    def revoke(self, request: Request[Any, Any, Any], principal: CurrentPrincipal, token_id: FromPath[int]) -> Redirect:
        if not revoke_api_token(request.app.state["engine"], token_id, by=principal):
            raise NotFoundException("No such token.")
        forget_tokens()  # this process stops honouring it at once (others within principal_cache_seconds)
        return Redirect("/admin/tokens")


# ---- a person's own API tokens (their scripts read what they may read: their statement, their team's) --------

OWN_TOKEN = "own_token"  # the session key of a token just created, until the page shows it


class AccountTokensController(Controller):
    path = "/account/tokens"
    guards = [any_role, requires_person]
    include_in_schema = False

    @staticmethod
    def _page(request: Request[Any, Any, Any], db: Session, principal: Principal, **extra: Any) -> Template:
        context = {
            "tokens": own_tokens(db, principal.person_id or 0),
            "new_token": shown_once.take(request, OWN_TOKEN),
            "error": None,
            "name": "",
            **extra,
        }
        return page("pages/auth/tokens.html", context)

    @get("/", sync_to_thread=True)
    def tokens_page(self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal) -> Template:
        return self._page(request, db, principal)

    @post("/", sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        if principal.via_token:
            raise PermissionDeniedException("A token is made from a signed-in session, not with another token.")
        try:
            token, clear = create_own_token(request.app.state["engine"], name=data.get("name", ""), by=principal)
        except TokenError as exc:
            return self._page(request, db, principal, error=str(exc), name=data.get("name", ""))
        shown_once.keep_for_next_page(request, OWN_TOKEN, {"name": token.name, "value": clear})
        return Redirect("/account/tokens", status_code=303)

    @post("/{token_id:int}/revoke", sync_to_thread=True)
    def revoke(self, request: Request[Any, Any, Any], principal: CurrentPrincipal, token_id: FromPath[int]) -> Redirect:
        if not revoke_own_token(request.app.state["engine"], token_id, by=principal):
            raise NotFoundException("No such token.")
        forget_tokens()
        return Redirect("/account/tokens?revoked=1", status_code=303)
