"""Reads of the SSO area."""

from __future__ import annotations

from sqlmodel import Session, col, select

from commissions.models import SsoProvider


def providers(session: Session) -> list[SsoProvider]:
    return list(session.exec(select(SsoProvider).order_by(col(SsoProvider.slug))).all())


def provider_by_slug(session: Session, slug: str) -> SsoProvider | None:
    return session.exec(select(SsoProvider).where(SsoProvider.slug == slug)).first()


def enabled_count(session: Session) -> int:
    return len(session.exec(select(SsoProvider.id).where(col(SsoProvider.enabled))).all())
