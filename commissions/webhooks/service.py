"""Webhook integrations: create (the secret is shown once), revoke, find, and the replay memory."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from commissions.core.audit import record_event
from commissions.core.errors import InputProblem
from commissions.core.principal import Principal
from commissions.models import WebhookDelivery, WebhookIntegration
from commissions.models.base import utcnow
from commissions.webhooks.signing import TOLERANCE_SECONDS, new_secret

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _fernet(secret_key: str) -> Fernet:
    """A key for the stored secrets, derived from SECRET_KEY (a database dump alone reveals none)."""
    raw = hmac.new(secret_key.encode(), b"quotaboard webhook secrets", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def create_integration(
    session: Session, *, name: str, secret_key: str, by: Principal | None
) -> tuple[WebhookIntegration, str]:
    """A new integration and its secret in clear (shown once; stored only encrypted)."""
    name = name.strip().lower()
    if not NAME.match(name):
        raise InputProblem("name", "a webhook name is 1-64 lower-case letters, digits and dashes, e.g. 'hubspot'")
    if session.exec(select(WebhookIntegration).where(WebhookIntegration.name == name)).first() is not None:
        raise InputProblem("name", f"a webhook named {name!r} exists already")
    secret = new_secret()
    row = WebhookIntegration(
        name=name,
        secret_encrypted=_fernet(secret_key).encrypt(secret.encode()).decode(),
        prefix=secret[:10],
        created_by_id=by.person_id if by else None,
    )
    session.add(row)
    session.flush()
    record_event(session, by, "webhook.create", "webhook_integration", row.id, {"name": name})
    return row, secret


def revoke_integration(session: Session, name: str, *, by: Principal | None) -> WebhookIntegration:
    row = session.exec(select(WebhookIntegration).where(WebhookIntegration.name == name.strip().lower())).first()
    if row is None:
        raise InputProblem("name", f"no webhook named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        record_event(session, by, "webhook.revoke", "webhook_integration", row.id, {"name": row.name})
    return row


def active_secret(session: Session, name: str, secret_key: str) -> tuple[WebhookIntegration, str] | None:
    row = session.exec(select(WebhookIntegration).where(WebhookIntegration.name == name)).first()
    if row is None or row.revoked_at is not None:
        return None
    try:
        return row, _fernet(secret_key).decrypt(row.secret_encrypted.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed since: the integration must be created again
        return None


def seen(session: Session, integration_id: int, webhook_id: str) -> bool:
    return session.get(WebhookDelivery, (integration_id, webhook_id)) is not None


def remember(session: Session, integration: WebhookIntegration, webhook_id: str) -> None:
    """Keep the id (and forget ids too old to pass the timestamp check anyway)."""
    now = utcnow()
    session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.received_at < now - timedelta(seconds=3 * TOLERANCE_SECONDS))
    )
    session.add(WebhookDelivery(integration_id=integration.id, webhook_id=webhook_id, received_at=now))
    integration.last_used_at = now
    session.add(integration)
    try:
        session.flush()
    except IntegrityError:  # an identical delivery raced this one: the deal is recorded once either way
        raise InputProblem("webhook-id", "this delivery was received already") from None
