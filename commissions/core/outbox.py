"""The durable outbox of outbound webhooks: an event is written in the transaction of the change it announces.

``record_event(session, type, data, pay=...)`` inserts one ``outbox_event`` row in the caller's transaction,
so a rolled-back change sends nothing and a committed one is never lost (the dispatcher in
``commissions/outbound/dispatcher.py`` fans it out and sends it). ``data`` must hold no pay figures
(earnings, totals, payouts): those go in ``pay``, merged into ``data`` only for subscriptions marked
``include_pay``. A deal's amount is not pay.

It costs nothing when no active subscription wants the type: the set of wanted types is kept per process
(``stored_versions.cached``, group ``OUTBOUND``), trusted while the stored version every subscription write
bumps in its own transaction is unchanged; ``wanted(session, type)`` answers from it without reading
``subscription``. Callers that build their data at some cost ask ``wanted`` first.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from commissions.core.stored_versions import OUTBOUND, cached, restore_missing
from commissions.models.base import metadata, utcnow
from commissions.models.outbound import OutboxEvent, Subscription

EVENT_TYPES = (
    "deal.recorded",
    "deal.credited",
    "statement.changed",
    "tier.crossed",
    "badge.granted",
    "contest.ended",
    "period.approved",
    "period.locked",
    "period.paid",
    "dispute.opened",
    "dispute.answered",
)


def new_event_id() -> str:
    """A unique id for the receiver's deduplication (also the ``webhook-id`` of every delivery of the event)."""
    return "evt_" + secrets.token_urlsafe(18)


def _load_wanted(session: Session) -> frozenset[str]:
    rows = session.exec(select(Subscription.events).where(col(Subscription.active).is_(True))).all()
    return frozenset(str(kind) for events in rows for kind in (events or []))


def wanted_types(session: Session) -> frozenset[str]:
    """The event types some active subscription wants (cached per process at the stored version)."""
    return cached(session, "outbound.wanted", _load_wanted, group=OUTBOUND)


def wanted(session: Session, type: str) -> bool:
    """Whether some active subscription wants ``type``; called in a write transaction (it may put back the
    stored version's row if it is missing, so that later transactions answer from memory)."""
    restore_missing(session, OUTBOUND)
    return type in wanted_types(session)


def record_event(session: Session, type: str, data: dict[str, Any], *, pay: dict[str, Any] | None = None) -> bool:
    """Write the event in the caller's transaction if some active subscription wants its type; True if written."""
    return record_events(session, type, [(data, pay)]) == 1


def record_events(session: Session, type: str, events: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> int:
    """Write several events of one type with one statement (nothing when no subscription wants the type)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown outbound event type {type!r}")
    if not wanted(session, type):
        return 0
    now = utcnow()
    rows = [
        {"event_id": new_event_id(), "type": type, "data": data, "pay": pay, "created_at": now, "fanned_out": False}
        for data, pay in events
    ]
    if rows:
        session.connection().execute(metadata.tables[OutboxEvent.__tablename__].insert(), rows)
    return len(rows)
