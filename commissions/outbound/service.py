"""Subscriptions and replays: the rules and the transactions (create, deactivate, replay).

Who: admin or finance. ``include_pay`` only by finance (an admin does not see pay, so cannot send it).
``include_pay`` is refused for a Slack or Teams incoming-webhook URL (a chat channel never sees pay).
The URL is ``https``; plain ``http`` only to this machine (localhost, 127.0.0.1, ::1), or anywhere when
the setting ``OUTBOUND_ALLOW_HTTP`` is on (a private network). The secret is shown once, stored sealed.
Every change is audited and bumps the stored version the outbox's cache of wanted types is keyed on
(``core/stored_versions.py``: any write to ``subscription`` does, in its own transaction).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.errors import Conflict, Forbidden, InputProblem
from commissions.core.outbox import EVENT_TYPES
from commissions.core.principal import Principal
from commissions.core.secret_box import InvalidToken, decrypt, encrypt
from commissions.models.base import utcnow
from commissions.models.outbound import Delivery, Subscription
from commissions.outbound.chat import (
    CHAT_EVENTS,
    CHAT_KINDS,
    LOCAL_HOSTS,
    check_webhook_url,
    is_chat_host,
    shown_url,
    split_url,
)
from commissions.webhooks.signing import new_secret, seal

MANAGERS_OF_SUBSCRIPTIONS = ("admin", "finance")


def check_url(url: str, *, allow_http: bool) -> str:
    url = url.strip()
    parts, host = split_url(url, missing="a subscription needs a url, e.g. https://hooks.example.com/quotaboard")
    if parts.scheme == "http" and host not in LOCAL_HOSTS and not allow_http:
        raise InputProblem(
            "url",
            "deliveries go over https only (plain http only to localhost, or anywhere with OUTBOUND_ALLOW_HTTP=true)",
        )
    return url


def check_pay_receiver(url: str) -> None:
    """A Slack or Teams channel never sees pay: ``include_pay`` is refused for a URL on their webhook hosts."""
    _parts, host = split_url(url, missing="a subscription needs a url")
    if is_chat_host(host):
        raise InputProblem(
            "include_pay",
            f"{host} is a Slack or Teams incoming webhook, and a chat channel never sees pay: "
            "leave include_pay off (or add it as a chat channel)",
        )


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
    if include_pay:
        check_pay_receiver(url)
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


def deactivate(
    engine: Engine, subscription_id: int, *, by: Principal, kinds: tuple[str, ...] | None = None
) -> Subscription | None:
    """Stop sending to this subscription or chat channel (its delivery log stays); None if there is none (of
    ``kinds``). Idempotent."""
    with transaction(engine) as session:
        row = session.get(Subscription, subscription_id)
        if row is None or (kinds is not None and row.kind not in kinds):
            return None
        if row.active:
            row.active = False
            row.deactivated_at = utcnow()
            session.add(row)
            record_event(
                session, by, "subscription.deactivate", "subscription", row.id, {"url": row.url, "kind": row.kind}
            )
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


# --- chat channels (Slack, Teams): subscriptions of another kind -----------------------------------------------

CHAT_URL_PURPOSE = b"quotaboard chat webhook urls"  # core/secret_box: one key per kind of secret
MAX_NAME = 120


def seal_chat_url(secret_key: str, url: str) -> str:
    return encrypt(secret_key, CHAT_URL_PURPOSE, url)


def unseal_chat_url(secret_key: str, sealed: str | None) -> str | None:
    """The incoming-webhook URL in clear; None when it cannot be read (SECRET_KEY changed)."""
    if not sealed:
        return None
    try:
        return decrypt(secret_key, CHAT_URL_PURPOSE, sealed)
    except InvalidToken:
        return None


def check_chat_events(events: list[str]) -> list[str]:
    if not events:
        raise InputProblem("events", f"pick at least one event: {', '.join(CHAT_EVENTS)}")
    unknown = [e for e in events if e not in CHAT_EVENTS]
    if unknown:
        raise InputProblem(
            "events",
            f"a chat channel cannot announce {', '.join(map(repr, unknown))}; it may pick {', '.join(CHAT_EVENTS)}",
        )
    return [e for e in CHAT_EVENTS if e in events]


def add_chat_channel(
    engine: Engine,
    *,
    kind: str,
    name: str,
    url: str,
    events: list[str],
    by: Principal,
    secret_key: str,
    allow_http: bool,
) -> Subscription:
    """A new Slack or Teams channel (a subscription of that kind, its URL stored encrypted), audited."""
    if by.role not in MANAGERS_OF_SUBSCRIPTIONS:
        raise Forbidden("only admins and finance manage chat channels")
    if kind not in CHAT_KINDS:
        raise InputProblem("kind", f"a chat channel is {' or '.join(CHAT_KINDS)}, not {kind!r}")
    name = " ".join(name.split())
    if not name:
        raise InputProblem("name", "name the channel, e.g. #sales-wins")
    if len(name) > MAX_NAME:
        raise InputProblem("name", f"the name is longer than {MAX_NAME} characters")
    url = check_webhook_url(kind, url, allow_http=allow_http)
    kinds = check_chat_events(events)
    with transaction(engine) as session:
        row = Subscription(
            kind=kind,
            name=name,
            url=shown_url(url),
            url_encrypted=seal_chat_url(secret_key, url),
            events=kinds,
            secret_encrypted="",
            prefix="",
            include_pay=False,  # a chat channel never sees pay
            active=True,
            created_by_id=by.person_id,
            created_by_label=by.label[:254],
        )
        session.add(row)
        session.flush()
        # the URL is a credential: the audit keeps its host only
        record_event(
            session, by, "chat_channel.create", "subscription", row.id, {"kind": kind, "name": name, "events": kinds}
        )
        session.flush()
        session.expunge(row)
        return row


def audit_test_message(engine: Engine, subscription: Subscription, *, by: Principal, outcome: str) -> None:
    with transaction(engine) as session:
        record_event(
            session,
            by,
            "chat_channel.test",
            "subscription",
            subscription.id,
            {"name": subscription.name, "outcome": outcome},
        )
