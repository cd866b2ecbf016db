"""The SSO area's writes: providers (add, edit, enable, disable), the password sign-in switch, and a
sign-in through a provider (who it is, the sign-in limits, the audit). Each write is one short transaction;
network calls to the provider (discovery) happen before it.

The lock-out rule (docs/security.md): password sign-in is turned off from the web only by an admin whose
own session was started through an enabled provider (so single sign-on demonstrably works for at least
one admin), and never with no enabled provider; while it is off, the last enabled provider cannot be
disabled. ``commissions sso password-login on`` always turns it back on from the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlmodel import Session

from commissions.auth.sessions import ISSUED_KEY, clock
from commissions.auth.sign_in_options import PASSWORD_SIGN_IN, password_sign_in_enabled
from commissions.auth.throttle import Refusal, SignInThrottle, retried
from commissions.core.audit import record_event
from commissions.core.csp import origin
from commissions.core.db import transaction
from commissions.core.errors import InputProblem
from commissions.core.principal import Principal
from commissions.core.secret_box import InvalidToken, decrypt, encrypt
from commissions.models import SiteSetting, SsoProvider
from commissions.models.base import ROLES, utcnow
from commissions.people.queries import person_by_email
from commissions.people.service import PersonError, create_person
from commissions.sso.oidc import OidcError, discover
from commissions.sso.queries import enabled_count, provider_by_slug

SECRET_PURPOSE = b"quotaboard oidc client secrets"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
SSO_VIA_KEY = "via"  # in the session data: the provider slug a session was started with


@dataclass(frozen=True)
class ProviderFields:
    slug: str
    label: str
    issuer: str
    client_id: str
    client_secret: str  # empty on edit: keep the stored one
    scopes: str = "openid email profile"
    allow_signup: bool = False
    default_role: str = "rep"


def _checked(fields: ProviderFields, *, new: bool) -> ProviderFields:
    slug = fields.slug.strip().lower()
    if not SLUG.match(slug):
        raise InputProblem("slug", "a provider's short name is 1-40 lower-case letters, digits and dashes, e.g. 'okta'")
    label = fields.label.strip()
    if not label or len(label) > 80:
        raise InputProblem("label", "a button label of 1-80 characters is needed, e.g. 'Okta'")
    issuer = fields.issuer.strip()
    parts = urlsplit(issuer)
    local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not local):
        raise InputProblem("issuer", "the issuer is an https:// URL (http:// only for a provider on this machine)")
    if parts.query or parts.fragment or len(issuer) > 500:
        raise InputProblem("issuer", "the issuer URL has no query or fragment and at most 500 characters")
    client_id = fields.client_id.strip()
    if not client_id or len(client_id) > 255:
        raise InputProblem("client_id", "the client id the provider gave this application is needed")
    secret = fields.client_secret.strip()
    if new and not secret:
        raise InputProblem("client_secret", "the client secret the provider gave this application is needed")
    scopes = " ".join(fields.scopes.split()) or "openid email profile"
    if "openid" not in scopes.split() or "email" not in scopes.split():
        raise InputProblem("scopes", "the scopes must include 'openid' and 'email'")
    if len(scopes) > 255:
        raise InputProblem("scopes", "at most 255 characters of scopes")
    if fields.default_role not in ROLES:
        raise InputProblem("default_role", f"the default role is one of {', '.join(ROLES)}")
    return ProviderFields(slug, label, issuer, client_id, secret, scopes, fields.allow_signup, fields.default_role)


def _discovered(issuer: str) -> None:
    try:
        meta = discover(issuer)
    except OidcError as exc:
        raise InputProblem("issuer", f"discovery failed: {exc}") from None
    if origin(str(meta.get("authorization_endpoint", ""))) != origin(issuer):
        # the sign-in page's Content-Security-Policy lets its forms lead to the issuer's origin only
        raise InputProblem(
            "issuer",
            f"the provider's authorization endpoint {meta.get('authorization_endpoint')!r} is not on the "
            f"issuer's site ({origin(issuer)}); Quotaboard supports only providers that sign people in on the issuer's site",
        )


def add_provider(
    engine: Engine, fields: ProviderFields, *, secret_key: str, by: Principal, ip: str = ""
) -> SsoProvider:
    """A new, enabled provider once its discovery document answers for this very issuer."""
    fields = _checked(fields, new=True)
    _discovered(fields.issuer)
    with transaction(engine) as session:
        if provider_by_slug(session, fields.slug) is not None:
            raise InputProblem("slug", f"a provider named {fields.slug!r} exists already")
        row = SsoProvider(
            slug=fields.slug,
            label=fields.label,
            issuer=fields.issuer,
            client_id=fields.client_id,
            client_secret_encrypted=encrypt(secret_key, SECRET_PURPOSE, fields.client_secret),
            scopes=fields.scopes,
            allow_signup=fields.allow_signup,
            default_role=fields.default_role,
            created_by_id=by.person_id,
        )
        session.add(row)
        session.flush()
        detail = {k: getattr(row, k) for k in ("slug", "label", "issuer", "client_id", "scopes", "allow_signup")}
        record_event(
            session, by, "sso.provider_add", "sso_provider", row.id, detail | {"role": row.default_role}, ip=ip
        )
        return row


def update_provider(
    engine: Engine, provider_id: int, fields: ProviderFields, *, secret_key: str, by: Principal, ip: str = ""
) -> SsoProvider | None:
    """Save an edit (an empty secret keeps the stored one); None if there is no such provider."""
    with Session(engine) as session:
        existing = session.get(SsoProvider, provider_id)
        if existing is None:
            return None
        fields = _checked(ProviderFields(**{**fields.__dict__, "slug": existing.slug}), new=False)
    _discovered(fields.issuer)
    with transaction(engine) as session:
        row = session.get(SsoProvider, provider_id)
        if row is None:
            return None
        changed = []
        for name in ("label", "issuer", "client_id", "scopes", "allow_signup", "default_role"):
            if getattr(row, name) != getattr(fields, name):
                setattr(row, name, getattr(fields, name))
                changed.append(name)
        if fields.client_secret:
            row.client_secret_encrypted = encrypt(secret_key, SECRET_PURPOSE, fields.client_secret)
            changed.append("client_secret")  # that it changed, never its value
        if changed:
            row.updated_at = utcnow()
            session.add(row)
            record_event(
                session,
                by,
                "sso.provider_update",
                "sso_provider",
                row.id,
                {"slug": row.slug, "changed": changed},
                ip=ip,
            )
        return row


def set_enabled(engine: Engine, provider_id: int, enabled: bool, *, by: Principal, ip: str = "") -> bool:
    """Enable or disable a provider; False if there is no such provider."""
    with transaction(engine) as session:
        row = session.get(SsoProvider, provider_id)
        if row is None:
            return False
        if row.enabled == enabled:
            return True
        if not enabled and row.enabled and not password_sign_in_enabled(session) and enabled_count(session) <= 1:
            raise InputProblem(
                "enabled",
                "password sign-in is off and this is the last enabled provider: nobody could sign in. "
                "Turn password sign-in on first.",
            )
        row.enabled, row.updated_at = enabled, utcnow()
        session.add(row)
        action = "sso.provider_enable" if enabled else "sso.provider_disable"
        record_event(session, by, action, "sso_provider", row.id, {"slug": row.slug}, ip=ip)
        return True


def set_password_sign_in(
    engine: Engine,
    on: bool,
    *,
    by: Principal | None,
    ip: str = "",
    session_via: str | None = None,
    from_cli: bool = False,
) -> None:
    """Turn password sign-in on or off (the lock-out rule in this module's docstring)."""
    with transaction(engine) as session:
        if not on:
            if enabled_count(session) == 0:
                raise InputProblem(
                    "password_sign_in", "no single sign-on provider is enabled: nobody could sign in without passwords"
                )
            via = provider_by_slug(session, session_via) if session_via else None
            if not from_cli and (via is None or not via.enabled):
                raise InputProblem(
                    "password_sign_in",
                    "sign in through an enabled single sign-on provider first, so it is proven to work for you, "
                    "then turn password sign-in off",
                )
        if password_sign_in_enabled(session) == on:
            return  # already so: nothing to change or audit
        row = session.get(SiteSetting, PASSWORD_SIGN_IN) or SiteSetting(name=PASSWORD_SIGN_IN, value="on")
        row.value, row.updated_at = ("on" if on else "off"), utcnow()
        session.add(row)
        record_event(session, by, "sso.password_sign_in", "site_setting", PASSWORD_SIGN_IN, {"enabled": on}, ip=ip)


def client_secret(row: SsoProvider, secret_key: str) -> str:
    try:
        return decrypt(secret_key, SECRET_PURPOSE, row.client_secret_encrypted)
    except InvalidToken:
        raise OidcError("the stored client secret cannot be read (SECRET_KEY changed): save it again") from None


# ---- signing in through a provider --------------------------------------------------------------


class SignInRefused(Exception):
    """Why an SSO sign-in is refused, for the person (``message``) and the audit log (``reason``)."""

    def __init__(self, message: str, reason: str, email: str = "") -> None:
        super().__init__(message)
        self.message, self.reason, self.email = message, reason, email


@retried
def reserve_sso_attempt(engine: Engine, throttle: SignInThrottle, ip: str) -> Refusal | None:
    """Count the callback against the address's sign-in budget before anything is checked."""
    with transaction(engine) as session:
        refusal, locked = throttle.reserve_address(session, ip)
        if refusal is not None:
            action = "auth.locked_out" if locked else "auth.sign_in_throttled"
            record_event(session, None, action, "person", "", {"by": ",".join(locked), "where": "sso"}, ip=ip)
        return refusal


@retried
def record_sso_failure(engine: Engine, throttle: SignInThrottle, slug: str, refused: SignInRefused, ip: str) -> bool:
    """Audit a refused SSO sign-in and count it against the address; True if that locked the address."""
    with transaction(engine) as session:
        detail = {"provider": slug, "reason": refused.reason, "email": refused.email[:254]}
        record_event(session, None, "auth.sso_failed", "sso_provider", slug, detail, ip=ip)
        locked = throttle.failed_address(session, ip)
        if locked:
            record_event(session, None, "auth.locked_out", "person", "", {"by": "ip", "where": "sso"}, ip=ip)
        return bool(locked)


@retried
def record_sso_sign_in(
    engine: Engine, throttle: SignInThrottle, slug: str, claims: dict[str, Any], email: str, ip: str
) -> dict[str, Any]:
    """The person the provider vouched for (created when the provider allows it), signed in: audited, the
    address's attempt given back; the new session's data. Raises ``SignInRefused``."""
    with transaction(engine) as session:
        provider = provider_by_slug(session, slug)
        if provider is None or not provider.enabled:
            raise SignInRefused("This sign-in option is turned off.", "provider_disabled", email)
        person = person_by_email(session, email)
        created = False
        if person is None:
            if not provider.allow_signup:
                raise SignInRefused(
                    f"There is no Quotaboard account for {email}. Ask an administrator to add you.",
                    "unknown_email",
                    email,
                )
            name = claims.get("name") if isinstance(claims.get("name"), str) else ""
            try:
                person = create_person(session, email=email, role=provider.default_role, name=(name or "")[:200])
            except PersonError as exc:
                raise SignInRefused(f"Your account cannot be created: {exc}", "signup_refused", email) from None
            record_event(
                session, None, "sso.person_created", "person", person.id, {"provider": slug, "role": person.role}, ip=ip
            )
            created = True
        if not person.active:
            raise SignInRefused(
                "Your Quotaboard account is deactivated. Ask an administrator if this is a mistake.",
                "deactivated",
                email,
            )
        throttle.succeeded_address(session, ip)
        actor = Principal(role=person.role, person_id=person.id, email=person.email, name=person.name)
        detail = {"via": "sso", "provider": slug, "subject": str(claims.get("sub", ""))[:128], "created": created}
        record_event(session, actor, "auth.sign_in", "person", person.id, detail, ip=ip)
        return {"pid": person.id, "sv": person.session_version, ISSUED_KEY: int(clock()), SSO_VIA_KEY: slug}
