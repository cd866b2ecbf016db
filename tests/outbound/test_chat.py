"""Chat channels through the dispatcher against a real local receiver posing as Slack and as Teams: the body
after a deal posted to the API, grouping, no pay on the wire, the rate limit, a 429 then success."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.core import outbox
from commissions.core.db import transaction
from commissions.models import AuditEvent, Subscription
from commissions.models.base import utcnow
from commissions.outbound.dispatcher import MIN_GAP, PER_MINUTE, dispatch_once, send_hello
from commissions.outbound.service import add_chat_channel
from tests.deals.test_deals_api import BODY, token_for
from tests.outbound.conftest import ADMIN, SECRET_KEY, Receiver, attempts, deliveries, subscribe

ALL = ["deal.recorded", "badge.granted", "contest.ended", "tier.crossed"]


def channel(engine: Engine, url: str, kind: str = "slack", events: list[str] | None = None) -> int:
    row = add_chat_channel(
        engine,
        kind=kind,
        name="#wins",
        url=url,
        events=events or ALL,
        by=ADMIN,
        secret_key=SECRET_KEY,
        allow_http=False,
    )
    assert row.id is not None
    return row.id


def won(n: int) -> dict[str, str]:
    return {**BODY, "external_id": f"SF-{n:04d}", "name": f"Initech {n}", "amount": "80000.00", "status": "won"}


def test_a_deal_posted_to_the_api_reaches_slack_as_block_kit(
    client, engine: Engine, make_person, receiver: Receiver
) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    channel(engine, receiver.url)
    assert client.post("/api/v1/deals", json=won(1), headers=token_for(engine, "admin")).status_code == 201
    report = dispatch_once(engine, secret_key=SECRET_KEY, now=utcnow())
    assert (report.messages, report.delivered) == (1, 1)
    [got] = receiver.received
    assert got.headers["content-type"] == "application/json"
    assert "webhook-signature" not in got.headers  # Slack does not verify signatures: none sent
    assert json.loads(got.body) == {
        "text": "🎉 Ana closed Initech 1, 80,000.00 USD",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "🎉 Ana closed Initech 1, 80,000.00 USD"}}],
    }
    [delivery] = deliveries(engine)
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_a_deal_reaches_teams_as_an_adaptive_card(client, engine: Engine, make_person, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    channel(engine, receiver.url, kind="teams", events=["deal.recorded"])
    assert client.post("/api/v1/deals", json=won(1), headers=token_for(engine, "admin")).status_code == 201
    dispatch_once(engine, secret_key=SECRET_KEY, now=utcnow())
    [got] = receiver.received
    body = json.loads(got.body)
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"] == [{"type": "TextBlock", "text": "🎉 Ana closed Initech 1, 80,000.00 USD", "wrap": True}]


def test_a_change_to_a_deal_or_a_cancelled_deal_posts_nothing(
    client, engine: Engine, make_person, receiver: Receiver
) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    chat_id = channel(engine, receiver.url)
    webhook_id, _ = subscribe(engine, receiver.url.replace("/hook", "/plain"), ["deal.recorded"])
    crm = token_for(engine, "admin")
    assert client.post("/api/v1/deals", json=won(1), headers=crm).status_code == 201
    now = utcnow()
    assert dispatch_once(engine, secret_key=SECRET_KEY, now=now).messages == 1
    assert client.post("/api/v1/deals", json={**won(1), "amount": "90000.00"}, headers=crm).status_code in (200, 201)
    cancelled = {**won(2), "status": "cancelled", "cancelled_at": "2026-02-10"}
    assert client.post("/api/v1/deals", json=cancelled, headers=crm).status_code == 201
    report = dispatch_once(engine, secret_key=SECRET_KEY, now=now + timedelta(minutes=5))
    assert report.messages == 0 and report.delivered == 2  # the plain webhook gets both; the channel nothing
    assert [d.subscription_id for d in deliveries(engine)].count(chat_id) == 1
    assert [d.subscription_id for d in deliveries(engine)].count(webhook_id) == 3


def test_thirty_deals_at_once_are_one_message_with_a_count(
    client, engine: Engine, make_person, receiver: Receiver
) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    channel(engine, receiver.url)
    crm = token_for(engine, "admin")
    for n in range(30):
        assert client.post("/api/v1/deals", json=won(n), headers=crm).status_code == 201
    report = dispatch_once(engine, secret_key=SECRET_KEY, now=utcnow())
    assert (report.messages, report.sent, report.delivered) == (1, 30, 30)
    [got] = receiver.received
    body = json.loads(got.body)
    assert body["text"].startswith("🎉 30 deals won: Ana closed Initech 0, 80,000.00 USD;")
    assert body["text"].endswith("and 25 more")
    assert {d.status for d in deliveries(engine)} == {"delivered"}
    assert len({a.at for a in attempts(engine)}) == 1 and len(attempts(engine)) == 30  # one attempt row each


def test_pay_never_reaches_a_channel(engine: Engine, make_person, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    channel(engine, receiver.url)
    with transaction(engine) as s:  # an event carrying pay apart, as statement events do
        data = {**won(1), "owner": "ana@example.com", "outcome": "created"}
        assert outbox.record_event(s, "deal.recorded", data, pay={"commission": "9876.54", "total": "13579.00"})
        assert outbox.record_event(s, "tier.crossed", {"person": "ana@example.com"}, pay={"total": "24680.00"})
    dispatch_once(engine, secret_key=SECRET_KEY, now=utcnow())
    [got] = receiver.received
    text = got.body.decode()
    assert "Ana passed 100% of quota" in text and "Ana closed Initech 1" in text
    for figure in ("9876", "9,876", "13579", "13,579", "24680", "24,680", "commission", "total"):
        assert figure not in text


def test_the_rate_limit_holds_messages_back_and_groups_what_waited(
    engine: Engine, make_person, receiver: Receiver
) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    channel(engine, receiver.url)
    now = utcnow()

    def badge(n: int) -> None:
        with transaction(engine) as s:
            assert outbox.record_event(s, "badge.granted", {"name": f"Badge {n}", "person": "ana@example.com"})

    badge(0)
    assert dispatch_once(engine, secret_key=SECRET_KEY, now=now).messages == 1
    badge(1)
    badge(2)
    assert dispatch_once(engine, secret_key=SECRET_KEY, now=now + MIN_GAP / 2).messages == 0  # too soon
    later = now + MIN_GAP
    assert dispatch_once(engine, secret_key=SECRET_KEY, now=later).messages == 1
    assert json.loads(receiver.received[1].body)["text"].startswith(
        "🏅 2 badges earned: Ana earned Badge 1; Ana earned Badge 2"
    )
    # at most PER_MINUTE messages in any minute, one per MIN_GAP
    sent = 2
    moment = later
    for n in range(3, 3 + PER_MINUTE + 5):
        badge(n)
        moment += MIN_GAP
        sent += dispatch_once(engine, secret_key=SECRET_KEY, now=moment).messages
    assert moment - now < timedelta(minutes=1)
    assert sent == PER_MINUTE
    assert len(receiver.received) == PER_MINUTE
    waited = now + timedelta(minutes=1, seconds=1)
    assert dispatch_once(engine, secret_key=SECRET_KEY, now=waited).messages == 1  # the rest, grouped
    assert {d.status for d in deliveries(engine)} == {"delivered"}


def test_a_429_is_tried_again_after_retry_after(engine: Engine, make_person, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    channel(engine, receiver.url, kind="teams")
    receiver.statuses = [429]
    receiver.headers = {"Retry-After": "17"}
    with transaction(engine) as s:
        outbox.record_event(s, "badge.granted", {"name": "Hat trick", "person": "ana@example.com"})
    now = utcnow()
    report = dispatch_once(engine, secret_key=SECRET_KEY, now=now)
    assert (report.messages, report.failed) == (1, 1)
    [delivery] = deliveries(engine)
    assert delivery.status == "failed" and delivery.last_status_code == 429
    assert delivery.next_attempt_at.replace(tzinfo=UTC) - now == timedelta(seconds=17)  # type: ignore[union-attr]
    with transaction(engine) as s:  # a new event meanwhile waits with the channel
        outbox.record_event(s, "badge.granted", {"name": "Closer", "person": "ana@example.com"})
    assert dispatch_once(engine, secret_key=SECRET_KEY, now=now + timedelta(seconds=10)).messages == 0
    report = dispatch_once(engine, secret_key=SECRET_KEY, now=now + timedelta(seconds=17))
    assert (report.messages, report.delivered) == (1, 2)
    assert len(receiver.received) == 2
    card = json.loads(receiver.received[1].body)["attachments"][0]["content"]
    assert card["body"][0]["text"] == "🏅 2 badges earned"
    assert [a.status_code for a in attempts(engine)] == [429, 200, 200]


def test_the_url_is_stored_encrypted_and_the_test_message_arrives(engine: Engine, receiver: Receiver) -> None:
    channel_id = channel(engine, receiver.url)
    with Session(engine) as s:
        row = s.get(Subscription, channel_id)
        assert row is not None and row.kind == "slack" and not row.include_pay
        assert (
            receiver.url not in (row.url_encrypted or "")
            and row.url == "http://127.0.0.1:" + receiver.url.split(":")[2].split("/")[0] + "/…"
        )
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "chat_channel.create")).one()
        assert receiver.url not in json.dumps(audit.detail)
    assert send_hello(engine, channel_id, secret_key=SECRET_KEY) == ""
    assert "Quotaboard is connected" in json.loads(receiver.received[0].body)["text"]
    receiver.statuses = [404]
    assert send_hello(engine, channel_id, secret_key=SECRET_KEY) == "the receiver answered 404"
    assert "cannot be read" in (send_hello(engine, channel_id, secret_key="another key" * 4) or "")


def test_chat_channels_stay_out_of_the_subscriptions_api(client, engine: Engine, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    channel_id = channel(engine, receiver.url)
    admin = token_for(engine, "admin")
    listed = client.get("/api/v1/subscriptions", headers=admin)
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert client.delete(f"/api/v1/subscriptions/{channel_id}", headers=admin).status_code == 404


def test_passing_quota_is_announced_once(client, engine: Engine, make_person, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    from tests.finance_fixtures import example_deal, setup_books
    from tests.outbound.conftest import events

    tokens = setup_books(engine, make_person)  # quota 100,000 for ana in 2026-Q1
    channel(engine, receiver.url, events=["tier.crossed"])
    for n, amount in enumerate(("50000", "60000", "5000")):  # 50 %, then 110 % (passed), then 115 % (still)
        deal = client.post("/api/v1/deals", json=example_deal(f"D-{n}", amount, "2026-02-10"), headers=tokens["crm"])
        assert deal.status_code == 201, deal.text
        if n == 0:
            assert events(engine, "tier.crossed") == []
    [crossed] = events(engine, "tier.crossed")
    assert crossed.data["person"] == "ana@example.com" and crossed.data["period"] == "2026-Q1"
    assert (crossed.data["tier"], crossed.data["threshold"], crossed.data["attainment"]) == (
        "quota",
        "1.0000",
        "1.1000",
    )
    assert crossed.pay is None
    assert dispatch_once(engine, secret_key=SECRET_KEY, now=utcnow()).messages == 1
    assert json.loads(receiver.received[0].body)["text"] == "🚀 Ana passed 100% of quota"
