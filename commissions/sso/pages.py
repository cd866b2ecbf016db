"""Single sign-on pages: signing in through a provider (start, callback) and the admin's page.

The flow: the sign-in page's "Sign in with …" button POSTs (CSRF-protected) to ``/login/sso/<slug>``,
which keeps a fresh state, nonce and PKCE verifier in the browser's server-side session and redirects to
the provider. The provider redirects back to ``/login/sso/<slug>/callback``; the pending values are taken
out of the session (so a second use of the same callback URL finds none: refused), the code is redeemed,
the ID token checked (commissions/sso/oidc.py) and the person found by verified email; then the session
starts exactly as a password sign-in does (a fresh session id and CSRF token, the absolute timeout).
Every callback spends one unit of the address's sign-in budget; a refusal keeps it spent.
"""

from __future__ import annotations

from secrets import compare_digest
from typing import Annotated, Any

from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from commissions.accounts.pages import safe_next, sign_in_session
from commissions.auth.sign_in_options import password_sign_in_enabled
from commissions.auth.throttle import SignInThrottle
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import admins
from commissions.core.metrics import SIGN_IN_FAILURES
from commissions.core.rendering import page
from commissions.models import SsoProvider
from commissions.models.base import ROLES
from commissions.sso import oidc
from commissions.sso.queries import enabled_provider, provider_by_id, providers
from commissions.sso.service import (
    SSO_VIA_KEY,
    ProviderFields,
    SignInRefused,
    add_provider,
    client_secret,
    record_sso_failure,
    record_sso_sign_in,
    reserve_sso_attempt,
    set_enabled,
    set_password_sign_in,
    update_provider,
)

PENDING_KEY = "sso_pending"  # in the (anonymous) session: the sign-in under way


def _ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


def callback_url(request: Request[Any, Any, Any], slug: str) -> str:
    """The redirect URI to register at the provider (the site's own address, as the proxy passed it on)."""
    return str(request.base_url).rstrip("/") + f"/login/sso/{slug}/callback"


def _refusal_page(message: str, status_code: int = 403) -> Template:
    return page("pages/auth/sso_refused.html", {"message": message}, status_code=status_code)


class StartForm(BaseModel):
    next: str = "/"


class SsoSignInController(Controller):
    path = "/login/sso"
    include_in_schema = False

    @post("/{slug:str}", status_code=303)
    async def start(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        data: Annotated[StartForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        provider = await to_thread.run_sync(enabled_provider, request.app.state["engine"], slug)
        if provider is None:
            raise NotFoundException("No such sign-in option.")
        try:
            meta = await to_thread.run_sync(oidc.metadata, provider.issuer)
        except oidc.OidcError as exc:
            return _refusal_page(f"{provider.label} cannot be reached right now ({exc}).", 502)
        url, pending = oidc.start(
            meta, client_id=provider.client_id, redirect_uri=callback_url(request, slug), scopes=provider.scopes
        )
        request.session[PENDING_KEY] = {
            "slug": slug,
            "state": pending.state,
            "nonce": pending.nonce,
            "verifier": pending.verifier,
            "next": safe_next(data.next),
        }
        return Redirect(url, status_code=303)

    @get("/{slug:str}/callback")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        code: FromQuery[str] = "",
        returned_state: Annotated[str, QueryParameter(name="state")] = "",  # ``state`` is a name Litestar reserves
        error: FromQuery[str] = "",
        iss: FromQuery[str] = "",
    ) -> Redirect | Template:
        engine: Engine = request.app.state["engine"]
        throttle: SignInThrottle = request.app.state["throttle"]
        ip = _ip(request)
        refusal = await to_thread.run_sync(reserve_sso_attempt, engine, throttle, ip)
        if refusal is not None:
            SIGN_IN_FAILURES.labels("limited").inc()
            response = _refusal_page(refusal.message, 429)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        pending = request.session.pop(PENDING_KEY, None) if request.session else None
        try:
            if (
                not isinstance(pending, dict)
                or pending.get("slug") != slug
                or not returned_state
                or not compare_digest(str(pending.get("state", "")), returned_state)
            ):
                raise SignInRefused(
                    "This sign-in link was already used or did not start here. Start again from the sign-in page.",
                    "state",
                )
            if error:  # the error code only: a description would put the sender's words on our page
                raise SignInRefused(f"The provider did not sign you in ({error[:64]}).", "provider_error")
            session_data = await to_thread.run_sync(self._finish, request, slug, code, iss, pending)
        except SignInRefused as refused:
            SIGN_IN_FAILURES.labels("sso").inc()
            if not await to_thread.run_sync(record_sso_failure, engine, throttle, slug, refused, ip):
                return _refusal_page(refused.message, 403)
            lock = throttle.lock_message("ip")  # this failure used up the address's budget
            response = _refusal_page(lock.message, 429)
            response.headers["Retry-After"] = str(lock.retry_after)
            return response
        return await sign_in_session(request, session_data, str(pending.get("next") or "/"))

    @staticmethod
    def _finish(
        request: Request[Any, Any, Any], slug: str, code: str, iss: str, pending: dict[str, Any]
    ) -> dict[str, Any]:
        """Redeem the code, check the ID token, find (or create) the person: the new session's data."""
        engine: Engine = request.app.state["engine"]
        provider = enabled_provider(engine, slug)
        if provider is None:
            raise SignInRefused("This sign-in option is turned off.", "provider_disabled")
        if not code:
            raise SignInRefused("The provider sent no sign-in code. Start again from the sign-in page.", "no_code")
        if iss and iss != provider.issuer:  # RFC 9207: the answer comes from another provider (mix-up)
            raise SignInRefused(f"The answer did not come from {provider.label}.", "issuer_mismatch")
        try:
            meta = oidc.metadata(provider.issuer)
            secret = client_secret(provider, request.app.state["settings"].secret_key)
            tokens = oidc.exchange(
                meta,
                client_id=provider.client_id,
                client_secret=secret,
                code=code,
                redirect_uri=callback_url(request, slug),
                verifier=str(pending["verifier"]),
            )
            claims = oidc.validate_id_token(
                meta, str(tokens["id_token"]), client_id=provider.client_id, nonce=str(pending["nonce"])
            )
        except oidc.OidcError as exc:
            raise SignInRefused(f"Signing in with {provider.label} failed: {exc}.", "token") from None
        if "email" not in claims:
            claims = {**oidc.userinfo(meta, str(tokens.get("access_token", "")), str(claims["sub"])), **claims}
        email = oidc.verified_email(claims)
        if email is None:
            shown = claims.get("email") if isinstance(claims.get("email"), str) else ""
            raise SignInRefused(
                f"{provider.label} did not confirm that your email address is verified, so it cannot be matched "
                "to a Quotaboard account. Verify it with your provider, or ask an administrator.",
                "email_not_verified",
                str(shown),
            )
        throttle: SignInThrottle = request.app.state["throttle"]
        return record_sso_sign_in(engine, throttle, slug, claims, email, _ip(request))


# ---- the admin's page ---------------------------------------------------------------------------


class ProviderForm(BaseModel):
    slug: str = ""
    label: str = ""
    issuer: str = ""
    client_id: str = ""
    client_secret: str = ""
    scopes: str = "openid email profile"
    allow_signup: str = ""  # a checkbox: "on" when ticked
    default_role: str = "rep"

    def fields(self) -> ProviderFields:
        return ProviderFields(
            slug=self.slug,
            label=self.label,
            issuer=self.issuer,
            client_id=self.client_id,
            client_secret=self.client_secret,
            scopes=self.scopes,
            allow_signup=self.allow_signup in ("on", "true", "1"),
            default_role=self.default_role,
        )


class PasswordSignInForm(BaseModel):
    enabled: str = ""  # "on" or "off"


def _context(request: Request[Any, Any, Any], db: Session, **extra: object) -> dict[str, Any]:
    return {
        "providers": providers(db),
        "password_sign_in": password_sign_in_enabled(db),
        "callback_base": str(request.base_url).rstrip("/") + "/login/sso/",
        "roles": ROLES,
        "form": ProviderForm(),
        "error": None,
        **extra,
    }


def _edit_context(request: Request[Any, Any, Any], row: SsoProvider, **extra: object) -> dict[str, Any]:
    form = ProviderForm(
        slug=row.slug,
        label=row.label,
        issuer=row.issuer,
        client_id=row.client_id,
        scopes=row.scopes,
        allow_signup="on" if row.allow_signup else "",
        default_role=row.default_role,
    )
    return {
        "provider": row,
        "form": form,
        "roles": ROLES,
        "error": None,
        "callback": callback_url(request, row.slug),
    } | extra


class SsoAdminController(Controller):
    path = "/admin/sso"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def sso_page(self, request: Request[Any, Any, Any], db: DbSession) -> Template:
        return page("pages/admin/sso.html", _context(request, db))

    @post("/", sync_to_thread=True, status_code=200)
    def add(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[ProviderForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            add_provider(
                request.app.state["engine"],
                data.fields(),
                secret_key=request.app.state["settings"].secret_key,
                by=principal,
                ip=_ip(request),
            )
        except InputProblem as exc:
            shown = data.model_copy(update={"client_secret": ""})  # never echoed back
            return page("pages/admin/sso.html", _context(request, db, form=shown, error=exc), status_code=400)
        return Redirect("/admin/sso", status_code=303)

    @get("/{provider_id:int}", sync_to_thread=True)
    def edit_page(self, request: Request[Any, Any, Any], db: DbSession, provider_id: FromPath[int]) -> Template:
        row = provider_by_id(db, provider_id)
        if row is None:
            raise NotFoundException("No such provider.")
        return page("pages/admin/sso_edit.html", _edit_context(request, row))

    @post("/{provider_id:int}", sync_to_thread=True, status_code=200)
    def save(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        provider_id: FromPath[int],
        data: Annotated[ProviderForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        row = provider_by_id(db, provider_id)
        if row is None:
            raise NotFoundException("No such provider.")
        try:
            update_provider(
                request.app.state["engine"],
                provider_id,
                data.fields(),
                secret_key=request.app.state["settings"].secret_key,
                by=principal,
                ip=_ip(request),
            )
        except InputProblem as exc:
            context = _edit_context(request, row, error=exc, form=data.model_copy(update={"client_secret": ""}))
            return page("pages/admin/sso_edit.html", context, status_code=400)
        return Redirect("/admin/sso", status_code=303)

    @post("/{provider_id:int}/enable", sync_to_thread=True, status_code=303)
    def enable(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, provider_id: FromPath[int]
    ) -> Redirect:
        if not set_enabled(request.app.state["engine"], provider_id, True, by=principal, ip=_ip(request)):
            raise NotFoundException("No such provider.")
        return Redirect("/admin/sso", status_code=303)

    @post("/{provider_id:int}/disable", sync_to_thread=True, status_code=200)
    def disable(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal, provider_id: FromPath[int]
    ) -> Template | Redirect:
        try:
            found = set_enabled(request.app.state["engine"], provider_id, False, by=principal, ip=_ip(request))
        except InputProblem as exc:
            return page("pages/admin/sso.html", _context(request, db, error=exc), status_code=409)
        if not found:
            raise NotFoundException("No such provider.")
        return Redirect("/admin/sso", status_code=303)

    @post("/password-sign-in", sync_to_thread=True, status_code=200)
    def password_sign_in(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[PasswordSignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        if data.enabled not in ("on", "off"):
            error = InputProblem("enabled", "send enabled=on or enabled=off")
            return page("pages/admin/sso.html", _context(request, db, error=error), status_code=400)
        via = request.session.get(SSO_VIA_KEY) if request.session else None
        try:
            set_password_sign_in(
                request.app.state["engine"],
                data.enabled == "on",
                by=principal,
                ip=_ip(request),
                session_via=via if isinstance(via, str) and not principal.via_token else None,
            )
        except InputProblem as exc:
            return page("pages/admin/sso.html", _context(request, db, error=exc), status_code=409)
        return Redirect("/admin/sso", status_code=303)
