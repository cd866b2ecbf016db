"""Webhook integrations: create (the secret is shown once), revoke, find, the replay memory, and the
transactions of a delivery (verify, audit a refusal, record the deal and remember its id)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.errors import InputProblem
from commissions.core.principal import Principal
from commissions.deals.ingest import RecordResult
from commissions.deals.schemas import DealIn, DealOut
from commissions.deals.service import dry_run, record_one
from commissions.models import Deal, WebhookDelivery, WebhookIntegration
from commissions.models.base import utcnow
from commissions.webhooks.adapters import FORMATS, Mapped, MappingError, mapping_for
from commissions.webhooks.junk import WEBHOOK_JUNK_WINDOW_SECONDS
from commissions.webhooks.signing import TOLERANCE_SECONDS, SignatureError, new_secret, seal, unseal, verify

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def checked_format(fmt: str, mapping: dict[str, Any] | str | None) -> tuple[str, str]:
    """A payload format and its mapping (JSON) as stored, refused naming ``format`` or ``mapping``."""
    fmt = (fmt or "standard").strip().lower()
    if fmt not in FORMATS:
        raise InputProblem("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    try:
        given = json.loads(mapping) if isinstance(mapping, str) and mapping.strip() else mapping or {}
    except ValueError as exc:
        raise InputProblem("mapping", f"not JSON: {exc}") from exc
    if fmt == "standard" and given:
        raise InputProblem("mapping", "the standard format takes no mapping")
    if fmt != "standard":
        mapping_for(fmt, given)
    return fmt, json.dumps(given, sort_keys=True)


def create_integration(
    session: Session,
    *,
    name: str,
    secret_key: str,
    by: Principal | None,
    fmt: str = "standard",
    mapping: dict[str, Any] | str | None = None,
) -> tuple[WebhookIntegration, str]:
    """A new integration and its secret in clear (shown once; stored only encrypted); ``fmt`` and ``mapping``
    say how its deliveries are read (commissions/webhooks/adapters.py)."""
    fmt, stored_mapping = checked_format(fmt, mapping)
    name = name.strip().lower()
    if not NAME.match(name):
        raise InputProblem("name", "a webhook name is 1-64 lower-case letters, digits and dashes, e.g. 'hubspot'")
    if session.exec(select(WebhookIntegration).where(WebhookIntegration.name == name)).first() is not None:
        raise InputProblem("name", f"a webhook named {name!r} exists already")
    secret = new_secret()
    row = WebhookIntegration(
        name=name,
        secret_encrypted=seal(secret_key, secret),
        prefix=secret[:10],
        created_by_id=by.person_id if by else None,
        format=fmt,
        mapping=stored_mapping,
    )
    session.add(row)
    session.flush()
    record_event(session, by, "webhook.create", "webhook_integration", row.id, {"name": name, "format": fmt})
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
    secret = unseal(secret_key, row.secret_encrypted)
    if secret is None:  # SECRET_KEY changed since: the integration must be created again
        return None
    return row, secret


def seen(session: Session, integration_id: int, webhook_id: str) -> bool:
    return session.get(WebhookDelivery, (integration_id, webhook_id)) is not None


def remember(session: Session, integration: WebhookIntegration, webhook_id: str) -> None:
    """Keep the id (and forget ids too old to pass the timestamp check anyway)."""
    now = utcnow()
    session.execute(
        delete(WebhookDelivery).where(col(WebhookDelivery.received_at) < now - timedelta(seconds=3 * TOLERANCE_SECONDS))
    )
    session.add(WebhookDelivery(integration_id=stored_id(integration), webhook_id=webhook_id, received_at=now))
    integration.last_used_at = now
    session.add(integration)
    try:
        session.flush()
    except IntegrityError:  # an identical delivery raced this one: the deal is recorded once either way
        raise InputProblem("webhook-id", "this delivery was received already") from None


def add_integration(
    engine: Engine,
    *,
    name: str,
    secret_key: str,
    by: Principal | None,
    fmt: str = "standard",
    mapping: str = "",
) -> tuple[str, str]:
    """``create_integration`` in its own transaction: the new integration's name and its secret in clear."""
    with transaction(engine) as session:
        row, secret = create_integration(session, name=name, secret_key=secret_key, by=by, fmt=fmt, mapping=mapping)
        return row.name, secret


def revoke_by_id(engine: Engine, integration_id: int, *, by: Principal | None) -> bool:
    """Revoke the integration of this id in its own transaction; False if there is none."""
    with transaction(engine) as session:
        row = session.get(WebhookIntegration, integration_id)
        if row is None:
            return False
        revoke_integration(session, row.name, by=by)
        return True


def integrations(session: Session) -> list[WebhookIntegration]:
    """Every integration for the admin page: active ones first, then by name."""
    return list(
        session.exec(
            select(WebhookIntegration).order_by(
                col(WebhookIntegration.revoked_at).is_not(None), col(WebhookIntegration.name)
            )
        ).all()
    )


# --- a delivery ------------------------------------------------------------------------------------------------


class Replayed(SignatureError):
    """Refused although the signature is valid: the sender holds the secret, so it is audited."""


def check_delivery(
    engine: Engine, name: str, secret_key: str, headers: dict[str, str], body: bytes, *, now: float
) -> tuple[WebhookIntegration, str]:
    """The active integration ``name`` and the delivery's webhook-id, if its signature is valid and the id is new;
    else SignatureError (or Replayed, for a valid signature on an id received already)."""
    with Session(engine) as session:
        found = active_secret(session, name, secret_key)
        if found is None:
            raise SignatureError("no active webhook integration with this name")
        integration, secret = found
        webhook_id, _ = verify(secret, headers, body, now=now)
        if seen(session, stored_id(integration), webhook_id):
            raise Replayed("replayed delivery: this webhook-id was received already", 400)
        return integration, webhook_id


def audit_refused(engine: Engine, name: str, reason: str, *, ip: str) -> None:
    """A delivery whose signature was valid but is refused anyway (a replay) is audited."""
    with transaction(engine) as session:
        record_event(session, None, "webhook.refused", "webhook_integration", name[:128], {"reason": reason}, ip=ip)


def audit_junk_throttled(engine: Engine, name: str, refusals: int, *, ip: str) -> None:
    """An address that sent too many unauthenticated requests is now refused unchecked: audited once."""
    with transaction(engine) as session:
        record_event(
            session,
            None,
            "webhook.junk_throttled",
            "webhook_integration",
            name[:128],
            {"refusals": refusals, "window_seconds": WEBHOOK_JUNK_WINDOW_SECONDS},
            ip=ip,
        )


def record_delivery(
    engine: Engine, deal: DealIn, *, by: Principal, integration: WebhookIntegration, webhook_id: str
) -> tuple[RecordResult, DealOut]:
    """Record the deal like ``POST /api/v1/deals``, then remember the webhook-id (a replay is refused)."""
    result, out = record_one(engine, deal, by=by)
    with transaction(engine) as session:
        row = session.get(WebhookIntegration, integration.id)
        if row is None:
            raise RuntimeError(f"webhook integration {integration.name} was deleted during the delivery")
        remember(session, row, webhook_id)
    return result, out


def remember_delivery(engine: Engine, integration: WebhookIntegration, webhook_id: str) -> None:
    """A delivery that recorded nothing (not a closed deal) is still remembered: its replay is refused."""
    with transaction(engine) as session:
        row = session.get(WebhookIntegration, integration.id)
        if row is not None:
            remember(session, row, webhook_id)


def won_deal_closed_at(engine: Engine, external_id: str) -> date | None:
    """The close date of the recorded, still won deal ``external_id`` (a CRM's "lost" cancels only such a deal)."""
    with Session(engine) as session:
        deal = session.exec(select(Deal).where(Deal.external_id == external_id)).first()
        return deal.closed_at if deal is not None and deal.status == "won" else None


def deals_to_record(engine: Engine, mapped: list[Mapped], by: Principal) -> tuple[list[DealIn], list[str]]:
    """The deals a CRM delivery asks to record, all checked before any is written, and why others are ignored.
    A lost deal cancels the won deal of the same id (closed on its own date, cancelled on the lost date)."""
    deals: list[DealIn] = []
    ignored: list[str] = []
    for item in mapped:
        if item.ignored:
            ignored.append(item.ignored)
            continue
        body = dict(item.deal)
        if item.lost:
            closed_at = won_deal_closed_at(engine, body["external_id"])
            if closed_at is None:
                ignored.append(f"not a closed deal: {body['external_id']} was lost before it was won here")
                continue
            body |= {
                "status": "cancelled",
                "closed_at": closed_at.isoformat(),
                "cancelled_at": max(closed_at, date.fromisoformat(body["closed_at"])).isoformat(),
            }
        try:
            deals.append(DealIn.model_validate(body))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise MappingError(".".join(str(p) for p in first["loc"]) or "deal", first["msg"]) from None
    if len(deals) > 1:  # several records in one delivery: each is checked as its save would be before any is
        for deal in deals:
            dry_run(engine, deal, by)
    return deals, ignored


def record_deliveries(
    engine: Engine, deals: list[DealIn], *, by: Principal, integration: WebhookIntegration, webhook_id: str
) -> list[tuple[RecordResult, DealOut]]:
    """Record each deal like ``POST /api/v1/deals``, then remember the webhook-id."""
    results = [record_one(engine, deal, by=by) for deal in deals]
    remember_delivery(engine, integration, webhook_id)
    return results
