"""How people may sign in, read by the sign-in page: password sign-in on or off, and the enabled OpenID
Connect providers (their buttons). Changed by commissions/sso/service.py and ``commissions sso``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from commissions.models import SiteSetting, SsoProvider

PASSWORD_SIGN_IN = "password_sign_in"


@dataclass(frozen=True)
class ProviderButton:
    slug: str
    label: str
    issuer: str  # its origin goes into the sign-in page's form-action (commissions/core/csp.py)


def password_sign_in_enabled(session: Session) -> bool:
    """On unless an admin turned it off (no row: on)."""
    row = session.get(SiteSetting, PASSWORD_SIGN_IN)
    return row is None or row.value != "off"


def provider_buttons(session: Session) -> list[ProviderButton]:
    rows = session.exec(select(SsoProvider).where(col(SsoProvider.enabled)).order_by(col(SsoProvider.label))).all()
    return [ProviderButton(slug=row.slug, label=row.label, issuer=row.issuer) for row in rows]
