"""The "Chat channels" section of ``/admin/webhooks/outbound``: add a channel (URL checked and stored encrypted,
never shown again), send a test message to a real local receiver, deactivate; audited."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.models import AuditEvent, Subscription
from tests.outbound.conftest import Receiver
from tests.outbound.test_pages import PAGE, post, signed_in, stored

SLACK = "https://hooks.slack.com/services/T0/B0/very-secret"


def test_admin_adds_a_slack_channel_and_its_url_is_never_shown(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "admin")
    assert "No chat channels yet" in client.get(PAGE).text
    added = post(
        client,
        PAGE + "/chat",
        csrf,
        {"kind": "slack", "name": "#sales-wins", "url": SLACK, "events": ["deal.recorded", "badge.granted"]},
    )
    assert added.status_code == 303 and added.headers["location"].endswith("?done=chat_added")
    [row] = stored(engine)
    assert (row.kind, row.name, row.events, row.include_pay) == (
        "slack",
        "#sales-wins",
        ["deal.recorded", "badge.granted"],
        False,
    )
    assert row.url == "https://hooks.slack.com/…" and SLACK not in (row.url_encrypted or "")
    shown = client.get(PAGE + "?done=chat_added")
    assert "Chat channel added" in shown.text and "#sales-wins" in shown.text
    assert "very-secret" not in shown.text and "Send a test message" in shown.text
    with Session(engine) as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "chat_channel.create")).one()
    assert "very-secret" not in json.dumps(audit.detail)


def test_a_wrong_host_or_event_is_refused_naming_the_field(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "finance")
    wrong_host = post(
        client,
        PAGE + "/chat",
        csrf,
        {"kind": "teams", "name": "#wins", "url": "https://evil.example.com/hook", "events": "badge.granted"},
    )
    assert wrong_host.status_code == 400
    assert "a Teams incoming webhook is on *.webhook.office.com" in wrong_host.text
    assert 'value="https://evil.example.com/hook"' not in wrong_host.text  # a credential is not written back
    pay_event = post(
        client,
        PAGE + "/chat",
        csrf,
        {"kind": "slack", "name": "#wins", "url": SLACK, "events": "statement.changed"},
    )
    assert pay_event.status_code == 400 and "cannot announce &#39;statement.changed&#39;" in pay_event.text
    no_name = post(
        client, PAGE + "/chat", csrf, {"kind": "slack", "name": " ", "url": SLACK, "events": "badge.granted"}
    )
    assert no_name.status_code == 400 and "name the channel" in no_name.text
    assert stored(engine) == []


def test_the_test_button_posts_to_the_channel_and_says_so(
    client, engine: Engine, make_person, receiver: Receiver
) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "admin")
    assert (
        post(
            client,
            PAGE + "/chat",
            csrf,
            {"kind": "teams", "name": "Sales", "url": receiver.url, "events": "tier.crossed"},
        ).status_code
        == 303
    )
    [row] = stored(engine)
    sent = post(client, f"{PAGE}/chat/{row.id}/test", csrf)
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=test_sent")
    [got] = receiver.received
    card = json.loads(got.body)["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and "Quotaboard is connected" in card["body"][0]["text"]
    receiver.statuses = [403]
    failed = post(client, f"{PAGE}/chat/{row.id}/test", csrf)
    assert failed.status_code == 200 and "did not arrive: the receiver answered 403" in failed.text
    with Session(engine) as s:
        outcomes = [
            a.detail["outcome"] for a in s.exec(select(AuditEvent).where(AuditEvent.action == "chat_channel.test"))
        ]
    assert outcomes == ["sent", "the receiver answered 403"]
    assert post(client, f"{PAGE}/{row.id}/deactivate", csrf).status_code == 303
    assert post(client, f"{PAGE}/chat/{row.id}/test", csrf).status_code == 404  # deactivated: no more tests
    with Session(engine) as s:
        assert s.get(Subscription, row.id).active is False  # type: ignore[union-attr]


def test_the_test_button_is_not_for_a_plain_webhook(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "admin")
    post(client, PAGE + "/", csrf, {"url": "https://hooks.example.com/in", "events": "deal.recorded"})
    [row] = stored(engine)
    assert post(client, f"{PAGE}/chat/{row.id}/test", csrf).status_code == 404


def test_a_rep_may_not_add_a_channel(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "rep")
    refused = post(
        client, PAGE + "/chat", csrf, {"kind": "slack", "name": "#x", "url": SLACK, "events": "badge.granted"}
    )
    assert refused.status_code == 403 and stored(engine) == []
