"""The Slack and Teams messages, as pure functions: the exact JSON, escaping, grouping, and never pay."""

from __future__ import annotations

import json

import pytest

from commissions.core.errors import InputProblem
from commissions.outbound import chat

NAMES = {"ana@example.com": "Ana", "bo@example.com": "Bo"}
WON = {
    "external_id": "SF-1",
    "name": "Initech",
    "owner": "ana@example.com",
    "amount": "80000.00",
    "currency": "USD",
    "status": "won",
    "outcome": "created",
}


def test_a_won_deal_in_slack_block_kit() -> None:
    assert chat.slack_message([("deal.recorded", WON)], NAMES) == {
        "text": "🎉 Ana closed Initech, 80,000.00 USD",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "🎉 Ana closed Initech, 80,000.00 USD"}}],
    }


def test_a_badge_in_a_teams_adaptive_card() -> None:
    message = chat.teams_message(
        [("badge.granted", {"badge": "hat_trick", "name": "Hat trick", "person": "ana@example.com"})], NAMES
    )
    assert message == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{"type": "TextBlock", "text": "🏅 Ana earned Hat trick", "wrap": True}],
                },
            }
        ],
    }


def test_contest_winners_and_quota_in_words() -> None:
    one = chat.line_of("contest.ended", {"name": "Spring push", "winners": ["Ana"]}, NAMES)
    two = chat.line_of("contest.ended", {"name": "Spring push", "winners": ["Ana", "Bo"]}, NAMES)
    none = chat.line_of("contest.ended", {"name": "Spring push", "winners": []}, NAMES)
    assert (one, two, none) == (
        "Spring push ended: Ana won",
        "Spring push ended: Ana and Bo won it together",
        "Spring push ended",
    )
    quota = {"person": "bo@example.com", "tier": "quota", "threshold": "1.0000", "attainment": "1.0400"}
    assert chat.line_of("tier.crossed", quota, NAMES) == "Bo passed 100% of quota"
    # an unknown email: the part before @, never the whole address
    assert chat.line_of("badge.granted", {"name": "Closer", "person": "cy@example.com"}, NAMES) == "cy earned Closer"


def test_names_are_escaped_for_each_format() -> None:
    deal = {**WON, "name": "<!channel> & *Big* _deal_ [x](http://evil)"}
    slack = chat.slack_message([("deal.recorded", deal)], NAMES)
    text = slack["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; &amp; *Big*" in text and "<!channel>" not in json.dumps(slack)
    assert slack["text"].startswith("🎉 Ana closed &lt;!channel&gt; &amp;")
    teams = chat.teams_message([("deal.recorded", deal)], NAMES)
    block = teams["attachments"][0]["content"]["body"][0]["text"]
    assert block == r"🎉 Ana closed <!channel> & \*Big\* \_deal\_ \[x\](http://evil), 80,000.00 USD"


def test_thirty_deals_become_one_message_with_a_count() -> None:
    deals = [("deal.recorded", {**WON, "name": f"Deal {n}", "amount": f"{1000 + n}.00"}) for n in range(30)]
    slack = chat.slack_message(deals, NAMES)
    assert len(slack["blocks"]) == 1
    body = slack["blocks"][0]["text"]["text"]
    assert body.startswith("🎉 *30 deals won*\n• Ana closed Deal 0, 1,000.00 USD\n")
    assert body.count("•") == chat.LISTED and body.endswith("…and 25 more")
    assert slack["text"].startswith("🎉 30 deals won: Ana closed Deal 0, 1,000.00 USD; Ana closed Deal 1")
    assert slack["text"].endswith("; and 25 more")
    teams = chat.teams_message(deals, NAMES)["attachments"][0]["content"]["body"]
    assert teams[0] == {
        "type": "TextBlock",
        "text": "🎉 30 deals won",
        "wrap": True,
        "weight": "Bolder",
        "size": "Medium",
    }
    assert len(teams) == 1 + chat.LISTED + 1
    assert teams[-1] == {"type": "TextBlock", "text": "and 25 more", "wrap": True, "isSubtle": True, "spacing": "Small"}


def test_mixed_events_are_grouped_by_type_in_a_fixed_order() -> None:
    events = [
        ("tier.crossed", {"person": "bo@example.com"}),
        ("deal.recorded", WON),
        ("deal.recorded", {**WON, "owner": "bo@example.com", "name": "Globex", "amount": "5.5", "currency": "EUR"}),
    ]
    assert chat.fallback_text(events, NAMES) == (
        "🎉 2 deals won: Ana closed Initech, 80,000.00 USD; Bo closed Globex, 5.50 EUR\n🚀 Bo passed 100% of quota"
    )


def test_no_pay_figure_reaches_a_message() -> None:
    """The message is built from data only: an event's pay part cannot reach it, whatever it holds."""
    data = {"person": "ana@example.com", "period": "2026-11", "plan": "AE", "attainment": "1.0100"}
    pay = {"total": "12345.67", "currency": "USD"}
    for kind in chat.CHAT_KINDS:
        text = json.dumps(chat.render(kind, [("tier.crossed", data)], NAMES))
        assert "12345" not in text and "12,345" not in text and "1.0100" not in text
    assert "total" not in json.dumps(chat.render("slack", [("tier.crossed", {**data})], NAMES))
    assert pay  # kept apart in the outbox; never passed in (the dispatcher test checks the wire)


def test_only_new_won_deals_are_worth_a_message() -> None:
    assert chat.worthy("deal.recorded", WON)
    assert not chat.worthy("deal.recorded", {**WON, "outcome": "updated"})
    assert not chat.worthy("deal.recorded", {**WON, "status": "open"})
    assert chat.worthy("badge.granted", {}) and not chat.worthy("statement.changed", {})


@pytest.mark.parametrize(
    ("kind", "url", "allow_http", "ok"),
    [
        ("slack", "https://hooks.slack.com/services/T0/B0/x", False, True),
        ("slack", "http://hooks.slack.com/services/T0/B0/x", False, False),
        ("slack", "https://hooks.slack.com.evil.io/services/x", False, False),
        ("slack", "https://outlook.webhook.office.com/webhookb2/x", False, False),
        ("teams", "https://acme.webhook.office.com/webhookb2/x", False, True),
        (
            "teams",
            "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=s",
            False,
            True,
        ),
        (
            "teams",
            "https://default1.2.environment.api.powerplatform.com:443/powerautomate/automations/direct/x",
            False,
            True,
        ),
        ("teams", "https://hooks.slack.com/services/x", False, False),
        ("teams", "https://user:pw@acme.webhook.office.com/x", False, False),
        ("slack", "http://127.0.0.1:8080/hook", False, True),
        ("slack", "http://relay.internal/hook", True, True),
        ("slack", "", False, False),
    ],
)
def test_the_webhook_url_is_checked_per_service(kind: str, url: str, allow_http: bool, ok: bool) -> None:
    if ok:
        assert chat.check_webhook_url(kind, url, allow_http=allow_http) == url
    else:
        with pytest.raises(InputProblem) as problem:
            chat.check_webhook_url(kind, url, allow_http=allow_http)
        assert problem.value.field == "url"


def test_the_page_shows_only_the_host_of_a_url() -> None:
    assert chat.shown_url("https://hooks.slack.com/services/T0/B0/secret") == "https://hooks.slack.com/…"
