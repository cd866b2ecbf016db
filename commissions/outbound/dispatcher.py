"""The dispatcher: fans outbox events out to subscriptions and sends the due deliveries, signed and retried.

``dispatch_once(engine, secret_key=..., now=...)`` does one round (the worker runs it every second in a
thread of ``commissions worker``; tests call it with their own ``now``):

1. **Fan out.** Each event not yet fanned out gets a ``delivery`` row per active subscription that wants
   its type and existed when it happened. An event is taken by a conditional UPDATE of its
   ``fanned_out`` flag, so two dispatchers never fan out one event twice.
2. **Claim.** Each due delivery (pending or failed, ``next_attempt_at`` reached, no live claim, its
   subscription active) is claimed by a conditional UPDATE setting ``claimed_until`` (now + ``LEASE``):
   exactly one dispatcher wins it, on SQLite and PostgreSQL alike. A dispatcher that dies while sending
   leaves the claim to expire; the delivery is then due again.
3. **Send.** A POST with httpx (``TIMEOUT_SECONDS``), Standard Webhooks headers from
   ``webhooks.signing`` (``webhook-id`` is the event's id, the same on every attempt); a 2xx answer
   is delivered, anything else (another status, a timeout, a refused connection) a failure: retried
   ``backoff(attempts)`` later, dead after ``MAX_ATTEMPTS``. Every attempt is a ``delivery_attempt`` row.

4. **Chat channels** (subscriptions of kind ``slack`` or ``teams``, ``outbound/chat.py``) are not claimed one
   delivery at a time: a channel's due deliveries (up to ``GROUP_MAX``) are claimed together and sent as one
   grouped message, then all marked delivered (or failed) with one attempt row each, at one instant. A channel
   gets at most one message per ``MIN_GAP`` and ``PER_MINUTE`` per minute (counted from its logged attempts);
   the deliveries that wait stay due and join the next message. A 429 answer is tried again after its
   ``Retry-After`` (the whole channel waits), any other failure with the backoff below.

The schedule: 30 s × 2^(attempt - 1), ±10 % jitter, at most 6 hours: 30 s, 1, 2, 4, 8, 16, 32, 64 and
128 minutes; after the 10th failed attempt (about 4¼ hours after the first) the delivery is dead. A replay
(the admin page) queues one more attempt now.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, and_, or_, update
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.db import transaction
from commissions.models.base import utcnow
from commissions.models.outbound import Delivery, DeliveryAttempt, OutboxEvent, Subscription
from commissions.models.people import Person
from commissions.outbound import chat
from commissions.outbound.addresses import resolved_refusal
from commissions.outbound.service import unseal_chat_url
from commissions.webhooks.signing import signed_headers, unseal

log = logging.getLogger("quotaboard.outbound")

TIMEOUT_SECONDS = 10.0
LEASE = timedelta(seconds=60)  # a claim outlives any attempt (the timeout), so nobody else sends it meanwhile
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 6 * 3600
MAX_ATTEMPTS = 10
BATCH = 50
SENDERS = 4  # deliveries sent at once by one dispatcher: a slow receiver does not hold up the others
FAN_OUT_BATCH = 200
MIN_GAP = timedelta(seconds=2)  # a chat channel: at most one message per 2 s…
PER_MINUTE = 20  # …and 20 a minute (Slack allows about one a second per channel)
GROUP_MAX = 1000  # deliveries one chat message announces (the first few listed, the rest counted)
MAX_RETRY_AFTER = timedelta(hours=1)

Post = Callable[[str, bytes, dict[str, str]], httpx.Response]


def backoff(attempts: int, *, jitter: float | None = None) -> timedelta:
    """How long after its ``attempts``-th failed attempt a delivery is tried again."""
    seconds = min(BASE_DELAY_SECONDS * 2 ** (attempts - 1), MAX_DELAY_SECONDS)
    factor = 1 + (random.uniform(-0.1, 0.1) if jitter is None else jitter)
    return timedelta(seconds=seconds * factor)


@dataclass
class Report:
    fanned_out: int = 0  # deliveries created
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    messages: int = 0  # chat messages posted (each announcing one or more deliveries)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- fan out -------------------------------------------------------------------------------------------------


def fan_out(engine: Engine, *, now: datetime | None = None, limit: int = FAN_OUT_BATCH) -> int:
    """A delivery per event not yet fanned out and active subscription wanting its type; the number created."""
    now = now or utcnow()
    with Session(engine) as session:
        waiting = session.exec(
            select(OutboxEvent.id)
            .where(col(OutboxEvent.fanned_out).is_(False))
            .order_by(col(OutboxEvent.id))
            .limit(limit)
        ).all()
    if not waiting:
        return 0
    created = 0
    with transaction(engine) as session:
        subscriptions = session.exec(select(Subscription).where(col(Subscription.active).is_(True))).all()
        chats = {stored_id(s) for s in subscriptions if s.kind in chat.CHAT_KINDS}
        for event_id in waiting:
            taken = session.execute(
                update(OutboxEvent)
                .where(col(OutboxEvent.id) == event_id, col(OutboxEvent.fanned_out).is_(False))
                .values(fanned_out=True)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another dispatcher took it
            event = session.get(OutboxEvent, event_id)
            assert event is not None
            for subscription in subscriptions:
                if (
                    event.type in subscription.events
                    and _aware(subscription.created_at) <= _aware(event.created_at)
                    and (stored_id(subscription) not in chats or chat.worthy(event.type, event.data))
                ):
                    session.add(
                        Delivery(
                            subscription_id=stored_id(subscription),
                            event_id=stored_id(event),
                            status="pending",
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
                    created += 1
    return created


# --- claim and send ------------------------------------------------------------------------------------------


def _due(now: datetime) -> Any:
    return and_(
        col(Delivery.status).in_(("pending", "failed")),
        col(Delivery.next_attempt_at) <= now,
        or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) <= now),
    )


def claim(engine: Engine, *, now: datetime, limit: int = BATCH) -> list[int]:
    """The due deliveries this dispatcher won (each by a conditional UPDATE: one winner per delivery)."""
    with Session(engine) as session:
        candidates = session.exec(
            select(Delivery.id)
            .join(Subscription, col(Subscription.id) == Delivery.subscription_id)
            .where(_due(now), col(Subscription.active).is_(True), col(Subscription.kind) == "webhook")
            .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
            .limit(limit)
        ).all()
    won: list[int] = []
    for delivery_id in candidates:  # ids of stored rows
        assert delivery_id is not None
        with transaction(engine) as session:
            result = session.execute(
                update(Delivery).where(col(Delivery.id) == delivery_id, _due(now)).values(claimed_until=now + LEASE)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                won.append(delivery_id)
    return won


def body_of(event: OutboxEvent, subscription: Subscription) -> bytes:
    """The delivery body: type, id, timestamp and data (with the pay figures only for ``include_pay``)."""
    data = dict(event.data)
    if subscription.include_pay and event.pay:
        data.update(event.pay)
    created = _aware(event.created_at).astimezone(UTC)
    body = {
        "type": event.type,
        "id": event.event_id,
        "timestamp": created.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class _Outgoing:
    delivery_id: int
    url: str
    body: bytes
    headers: dict[str, str]
    error: str = ""  # set when it cannot be sent at all (its secret cannot be read)


def _prepare(engine: Engine, delivery_id: int, secret_key: str, now: datetime) -> _Outgoing | None:
    with Session(engine) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return None
        event = session.get(OutboxEvent, delivery.event_id)
        subscription = session.get(Subscription, delivery.subscription_id)
        if event is None or subscription is None:
            return None
        body = body_of(event, subscription)
        secret = unseal(secret_key, subscription.secret_encrypted)
        if secret is None:
            return _Outgoing(delivery_id, subscription.url, body, {}, "the secret cannot be read (SECRET_KEY changed)")
        headers = signed_headers(secret, event.event_id, int(now.timestamp()), body)
        headers["content-type"] = "application/json"
        headers["user-agent"] = "Quotaboard-Webhooks/1"
        return _Outgoing(delivery_id, subscription.url, body, headers)


def _default_post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if (reason := resolved_refusal(parts.hostname or "", port)) is not None:
        raise httpx.ConnectError(f"refused: {reason}")  # logged as a failed attempt, retried like one
    return httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False)


def _send(outgoing: _Outgoing, post: Post) -> tuple[int | None, str, int]:
    """(status code, error, duration in ms) of one attempt."""
    if outgoing.error:
        return None, outgoing.error, 0
    started = time.monotonic()
    try:
        response = post(outgoing.url, outgoing.body, outgoing.headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], int((time.monotonic() - started) * 1000)
    duration = int((time.monotonic() - started) * 1000)
    if 200 <= response.status_code < 300:
        return response.status_code, "", duration
    return response.status_code, f"the receiver answered {response.status_code}", duration


def _record(
    engine: Engine, outgoing: _Outgoing, status_code: int | None, error: str, duration_ms: int, now: datetime
) -> str:
    """Log the attempt and move the delivery on; its new status."""
    with transaction(engine) as session:
        delivery = session.get(Delivery, outgoing.delivery_id)
        assert delivery is not None
        session.add(
            DeliveryAttempt(
                delivery_id=outgoing.delivery_id, at=now, status_code=status_code, error=error, duration_ms=duration_ms
            )
        )
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        delivery.claimed_until = None
        if not error:
            delivery.status = "delivered"
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempts >= MAX_ATTEMPTS or outgoing.error:
            delivery.status = "dead"
            delivery.next_attempt_at = None
        else:
            delivery.status = "failed"
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        session.add(delivery)
        return delivery.status


def _attempt(engine: Engine, delivery_id: int, secret_key: str, now: datetime, post: Post) -> str | None:
    outgoing = _prepare(engine, delivery_id, secret_key, now)
    if outgoing is None:
        return None
    status_code, error, duration = _send(outgoing, post)
    return _record(engine, outgoing, status_code, error, duration, now)


def dispatch_once(
    engine: Engine,
    *,
    secret_key: str,
    now: datetime | None = None,
    post: Post | None = None,
    limit: int = BATCH,
) -> Report:
    """One round: fan out new events, then send the due deliveries this dispatcher claims."""
    now = now or utcnow()
    post = post or _default_post
    report = Report(fanned_out=fan_out(engine, now=now))
    dispatch_chat(engine, secret_key=secret_key, now=now, post=post, report=report)
    won = claim(engine, now=now, limit=limit)
    if not won:
        return report
    if len(won) == 1:
        outcomes = [_attempt(engine, won[0], secret_key, now, post)]
    else:
        with ThreadPoolExecutor(max_workers=min(SENDERS, len(won)), thread_name_prefix="outbound") as pool:
            outcomes = list(pool.map(lambda d: _attempt(engine, d, secret_key, now, post), won))
    for outcome in outcomes:
        if outcome is None:
            continue
        report.sent += 1
        if outcome == "delivered":
            report.delivered += 1
        elif outcome == "dead":
            report.dead += 1
        else:
            report.failed += 1
    return report


# --- chat channels: one grouped message per channel and round, rate-limited --------------------------------------


def _chat_paused(session: Session, channel_id: int, now: datetime) -> bool:
    """Whether the channel must wait: a 429 asked it to, or it sent within ``MIN_GAP`` or ``PER_MINUTE`` times in
    the last minute (messages counted as the distinct instants of its logged attempts)."""
    told_to_wait = session.exec(
        select(Delivery.id)
        .where(
            Delivery.subscription_id == channel_id,
            Delivery.status == "failed",
            Delivery.last_status_code == 429,
            col(Delivery.next_attempt_at) > now,
        )
        .limit(1)
    ).first()
    if told_to_wait is not None:
        return True
    sent = session.exec(
        select(DeliveryAttempt.at)
        .join(Delivery, col(Delivery.id) == DeliveryAttempt.delivery_id)
        .where(Delivery.subscription_id == channel_id, col(DeliveryAttempt.at) > now - timedelta(minutes=1))
        .distinct()
    ).all()
    moments = [_aware(at) for at in sent]
    return len(moments) >= PER_MINUTE or any(at > now - MIN_GAP for at in moments)


def _claim_channel(engine: Engine, channel_id: int, now: datetime) -> list[int]:
    """The channel's due deliveries, claimed together (oldest first): one UPDATE sets a lease no other
    dispatcher sets (its microseconds are random), then the rows holding it are this dispatcher's."""
    with Session(engine) as session:
        candidates = [
            d
            for d in session.exec(
                select(Delivery.id)
                .where(Delivery.subscription_id == channel_id, _due(now))
                .order_by(col(Delivery.id))
                .limit(GROUP_MAX)
            ).all()
            if d is not None
        ]
    if not candidates:
        return []
    lease = (now + LEASE).replace(microsecond=random.randrange(1_000_000))
    with transaction(engine) as session:
        session.execute(update(Delivery).where(col(Delivery.id).in_(candidates), _due(now)).values(claimed_until=lease))
    with Session(engine) as session:
        return [
            d
            for d in session.exec(
                select(Delivery.id)
                .where(col(Delivery.id).in_(candidates), col(Delivery.claimed_until) == lease)
                .order_by(col(Delivery.id))
            ).all()
            if d is not None
        ]


def _names(session: Session, events: list[OutboxEvent]) -> dict[str, str]:
    emails = {str(e.data.get(k)).lower() for e in events for k in ("owner", "person") if e.data.get(k)}
    if not emails:
        return {}
    rows = session.exec(select(Person.email, Person.name).where(col(Person.email).in_(sorted(emails)))).all()
    return {email: name for email, name in rows}


def retry_after(response: httpx.Response, now: datetime) -> timedelta | None:
    """A 429's ``Retry-After`` (seconds or an HTTP date), between 1 s and ``MAX_RETRY_AFTER``; None without one."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        wait = timedelta(seconds=float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            wait = _aware(parsedate_to_datetime(value)) - now
        except (TypeError, ValueError):
            return None
    return min(max(wait, timedelta(seconds=1)), MAX_RETRY_AFTER)


def chat_post(url: str, message: dict[str, Any], post: Post) -> tuple[int | None, str, int, timedelta | None]:
    """POST a chat message: (status code, error, duration in ms, the wait a 429 asked for)."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"content-type": "application/json", "user-agent": "Quotaboard-Chat/1"}
    started = time.monotonic()
    try:
        response = post(url, body, headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], int((time.monotonic() - started) * 1000), None
    duration = int((time.monotonic() - started) * 1000)
    if 200 <= response.status_code < 300:
        return response.status_code, "", duration, None
    wait = retry_after(response, utcnow()) if response.status_code == 429 else None
    if response.status_code == 429 and wait is None:
        wait = timedelta(seconds=30)
    return response.status_code, f"the receiver answered {response.status_code}", duration, wait


def _send_channel(
    engine: Engine, channel: Subscription, secret_key: str, now: datetime, post: Post, report: Report
) -> None:
    won = _claim_channel(engine, stored_id(channel), now)
    if not won:
        return
    with Session(engine) as session:
        rows = session.exec(
            select(Delivery, OutboxEvent)
            .join(OutboxEvent, col(OutboxEvent.id) == Delivery.event_id)
            .where(col(Delivery.id).in_(won))
            .order_by(col(Delivery.id))
        ).all()
        events = [event for _, event in rows]
        names = _names(session, events)
    url = unseal_chat_url(secret_key, channel.url_encrypted)
    wait: timedelta | None = None
    if url is None:
        status_code, error, duration = None, "the webhook URL cannot be read (SECRET_KEY changed)", 0
    else:
        message = chat.render(channel.kind, [(e.type, e.data) for e in events], names)  # data only: never pay
        status_code, error, duration, wait = chat_post(url, message, post)
        report.messages += 1
    with transaction(engine) as session:
        deliveries = session.exec(select(Delivery).where(col(Delivery.id).in_(won))).all()
        later = now + (wait or backoff(max(d.attempts for d in deliveries) + 1))
        for delivery in deliveries:
            session.add(
                DeliveryAttempt(
                    delivery_id=stored_id(delivery), at=now, status_code=status_code, error=error, duration_ms=duration
                )
            )
            delivery.attempts += 1
            delivery.last_status_code, delivery.last_error, delivery.claimed_until = status_code, error, None
            if not error:
                delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
            elif url is None or (wait is None and delivery.attempts >= MAX_ATTEMPTS):
                delivery.status, delivery.next_attempt_at = "dead", None
            else:  # a 429 waits as told (never dead for it); together, so they leave as one message again
                delivery.status, delivery.next_attempt_at = "failed", later
            session.add(delivery)
            report.sent += 1
            report.delivered += delivery.status == "delivered"
            report.failed += delivery.status == "failed"
            report.dead += delivery.status == "dead"


def dispatch_chat(
    engine: Engine, *, secret_key: str, now: datetime, post: Post, report: Report | None = None
) -> Report:
    """One grouped message per active chat channel with due deliveries and no reason to wait."""
    report = report or Report()
    with Session(engine) as session:
        channels = session.exec(
            select(Subscription)
            .where(col(Subscription.active).is_(True), col(Subscription.kind).in_(chat.CHAT_KINDS))
            .order_by(col(Subscription.id))
        ).all()
        ready = [c for c in channels if not _chat_paused(session, stored_id(c), now)]
        for channel in ready:
            session.expunge(channel)
    for channel in ready:
        _send_channel(engine, channel, secret_key, now, post, report)
    return report


def send_hello(engine: Engine, subscription_id: int, *, secret_key: str, post: Post | None = None) -> str | None:
    """Post the test message to a chat channel now (the page's button); the error, "" when it arrived, None
    when there is no such active channel. Not queued: the admin sees the answer at once."""
    with Session(engine) as session:
        channel = session.get(Subscription, subscription_id)
        if channel is None or channel.kind not in chat.CHAT_KINDS:
            return None
        url = unseal_chat_url(secret_key, channel.url_encrypted)
        kind, name = channel.kind, channel.name
    if url is None:
        return "the webhook URL cannot be read (SECRET_KEY changed): add the channel again"
    _, error, _, _ = chat_post(url, chat.hello_message(kind, name), post or _default_post)
    return error


def run_in_thread(engine: Engine, *, secret_key: str, poll_seconds: float = 1.0) -> threading.Event:
    """Dispatch every ``poll_seconds`` in a daemon thread (inside ``commissions worker``); set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                report = dispatch_once(engine, secret_key=secret_key)
                if report.sent:
                    log.info(
                        "outbound: %d sent, %d delivered, %d failed, %d dead",
                        report.sent,
                        report.delivered,
                        report.failed,
                        report.dead,
                    )
            except Exception:  # the deliveries stay due: tried again on the next poll
                log.exception("outbound dispatch failed")
            stop.wait(poll_seconds)

    threading.Thread(target=loop, name="outbound-dispatcher", daemon=True).start()
    return stop
