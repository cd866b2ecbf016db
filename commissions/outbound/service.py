"""Subscriptions and replays: the rules and the transactions (create, deactivate, replay).

Who: admin or finance. ``include_pay`` only by finance (an admin does not see pay, so cannot send it).
The URL is ``https``; plain ``http`` only to this machine (localhost, 127.0.0.1, ::1), or anywhere when
the setting ``OUTBOUND_ALLOW_HTTP`` is on (a private network). The secret is shown once, stored sealed.
Every change is audited and bumps the stored version the outbox's cache of wanted types is keyed on
(``core/stored_versions.py``: any write to ``subscription`` does, in its own transaction).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlmodel import Session

from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.errors import Conflict, Forbidden, InputProblem
from commissions.core.outbox import EVENT_TYPES
from commissions.core.principal import Principal
from commissions.models.base import utcnow
from commissions.models.outbound import Delivery, Subscription
from commissions.webhooks.signing import new_secret, seal

MANAGERS_OF_SUBSCRIPTIONS = ("admin", "finance")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_URL = 2000


def check_url(url: str, *, allow_http: bool) -> str:
    url = url.strip()
    if not url:
        raise InputProblem("url", "a subscription needs a url, e.g. https://hooks.example.com/quotaboard")
    if len(url) > MAX_URL:
        raise InputProblem("url", f"the url is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        raise InputProblem("url", f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise InputProblem("url", f"{url!r} is not an http(s) URL with a host, e.g. https://hooks.example.com/in")
    if parts.username or parts.password:
        raise InputProblem("url", "put no user name or password in the url: deliveries are signed instead")
    if parts.scheme == "http" and host not in LOCAL_HOSTS and not allow_http:
        raise InputProblem(
            "url",
            "deliveries go over https only (plain http only to localhost, or anywhere with OUTBOUND_ALLOW_HTTP=true)",
        )
    return url


def check_events(events: list[str]) -> list[str]:
    if not events:
        raise InputProblem("events", f"name at least one event type: {', '.join(EVENT_TYPES)}")
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise InputProblem(
            "events", f"unknown event type {', '.join(map(repr, unknown))}; the types are {', '.join(EVENT_TYPES)}"
        )
    return sorted(set(events), key=EVENT_TYPES.index)


def create_subscription(
    session: Session,
    *,
    url: str,
    events: list[str],
    include_pay: bool,
    by: Principal,
    secret_key: str,
    allow_http: bool,
) -> tuple[Subscription, str]:
    """A new active subscription and its secret in clear (shown once; stored sealed)."""
    if by.role not in MANAGERS_OF_SUBSCRIPTIONS:
        raise Forbidden("only admins and finance manage webhook subscriptions")
    if include_pay and by.role != "finance":
        raise Forbidden("include_pay: only finance may send pay figures to a receiver (admins do not see pay)")
    url = check_url(url, allow_http=allow_http)
    kinds = check_events(events)
    secret = new_secret()
    row = Subscription(
        url=url,
        events=kinds,
        secret_encrypted=seal(secret_key, secret),
        prefix=secret[:10],
        include_pay=include_pay,
        active=True,
        created_by_id=by.person_id,
        created_by_label=by.label[:254],
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        by,
        "subscription.create",
        "subscription",
        row.id,
        {"url": url, "events": kinds, "include_pay": include_pay},
    )
    return row, secret


def add_subscription(
    engine: Engine,
    *,
    url: str,
    events: list[str],
    include_pay: bool,
    by: Principal,
    secret_key: str,
    allow_http: bool,
) -> tuple[Subscription, str]:
    """``create_subscription`` in its own transaction."""
    with transaction(engine) as session:
        row, secret = create_subscription(
            session,
            url=url,
            events=events,
            include_pay=include_pay,
            by=by,
            secret_key=secret_key,
            allow_http=allow_http,
        )
        session.flush()
        session.expunge(row)
        return row, secret


def deactivate(engine: Engine, subscription_id: int, *, by: Principal) -> Subscription | None:
    """Stop sending to this subscription (its delivery log stays); None if there is none. Idempotent."""
    with transaction(engine) as session:
        row = session.get(Subscription, subscription_id)
        if row is None:
            return None
        if row.active:
            row.active = False
            row.deactivated_at = utcnow()
            session.add(row)
            record_event(session, by, "subscription.deactivate", "subscription", row.id, {"url": row.url})
        session.flush()
        session.expunge(row)
        return row


def replay(engine: Engine, delivery_id: int, *, by: Principal, now: datetime | None = None) -> Delivery | None:
    """Queue one more attempt of a delivery now (whatever its status); None if there is none."""
    with transaction(engine) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return None
        subscription = session.get(Subscription, delivery.subscription_id)
        if subscription is None or not subscription.active:
            raise Conflict("delivery", "its subscription is deactivated: create a new one to send again")
        before = delivery.status
        delivery.status = "pending"
        delivery.next_attempt_at = now or utcnow()
        delivery.claimed_until = None
        session.add(delivery)
        record_event(
            session, by, "subscription.replay", "delivery", delivery.id, {"from": before, "attempts": delivery.attempts}
        )
        session.flush()
        session.expunge(delivery)
        return delivery
