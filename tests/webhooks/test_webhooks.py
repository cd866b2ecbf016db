"""Signed CRM deliveries (Standard Webhooks): the known vector, and every way a delivery is refused."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from commissions.core.db import transaction
from commissions.models import AuditEvent, Deal, WebhookDelivery, WebhookIntegration
from commissions.webhooks import api
from commissions.webhooks.service import create_integration, revoke_integration
from commissions.webhooks.signing import SignatureError, sign, verify
from tests.conftest import read
from tests.deals.test_deals_api import BODY

NOW = 1_795_000_000  # a fixed "now" for the server (2026-11-18)


def test_the_published_standard_webhooks_vector() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": f"v1,bm9wZQ== {expected}",
    }  # several signatures: any one may match
    assert verify(secret, headers, body, now=1614265330 + 299) == ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330)
    with pytest.raises(SignatureError, match="stale"):
        verify(secret, headers, body, now=1614265330 + 301)
    with pytest.raises(SignatureError, match="does not match"):
        verify(secret, headers, body + b" ", now=1614265330)


@pytest.fixture
def crm(engine: Engine, settings, make_person, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    monkeypatch.setattr(api, "clock", lambda: NOW)
    with transaction(engine) as s:
        return create_integration(s, name="hubspot", secret_key=settings.secret_key, by=None)[1]


def deliver(
    client,
    secret: str,
    body: dict,
    *,
    webhook_id: str = "msg_1",
    timestamp: int = NOW,  # type: ignore[no-untyped-def]
    name: str = "hubspot",
    headers: dict | None = None,
):
    raw = json.dumps(body).encode()
    signed = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, raw),
        "content-type": "application/json",
    }
    return client.post(
        f"/api/v1/webhooks/crm/{name}/deals", content=raw, headers=signed if headers is None else headers
    )


def deals(engine: Engine) -> int:
    return read(engine, lambda s: s.exec(select(func.count()).select_from(Deal)).one())


def test_a_signed_delivery_records_the_deal_like_the_deals_api(client, crm: str, engine: Engine) -> None:
    response = deliver(client, crm, BODY)
    assert response.status_code == 201, response.text
    assert response.json()["owner"] == "ana@example.com" and response.json()["amount"] == "45000.00"
    assert response.headers["cache-control"] == "no-store"
    assert deals(engine) == 1
    again = deliver(client, crm, {**BODY, "amount": "46000.00"}, webhook_id="msg_2")
    assert again.status_code == 200 and again.json()["amount"] == "46000.00"
    assert deals(engine) == 1
    audit = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "deal.created")).one())
    assert audit.actor_label == "webhook hubspot"


@pytest.mark.parametrize(
    "case",
    [
        "unsigned",
        "missing_timestamp",
        "wrong_secret",
        "changed_body",
        "stale",
        "future",
        "unknown_integration",
        "revoked",
    ],
)
def test_refused_deliveries_store_nothing(client, crm: str, engine: Engine, settings, case: str) -> None:
    raw = json.dumps(BODY).encode()
    good = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": sign(crm, "msg_1", NOW, raw)}
    name = "hubspot"
    if case == "unsigned":
        headers = {}
    elif case == "missing_timestamp":
        headers = {k: v for k, v in good.items() if k != "webhook-timestamp"}
    elif case == "wrong_secret":
        headers = {**good, "webhook-signature": sign("whsec_" + "A" * 44, "msg_1", NOW, raw)}
    elif case == "changed_body":
        headers = {**good}
        raw = json.dumps({**BODY, "amount": "999999.00"}).encode()
    elif case in ("stale", "future"):
        ts = NOW - 301 if case == "stale" else NOW + 301
        headers = {**good, "webhook-timestamp": str(ts), "webhook-signature": sign(crm, "msg_1", ts, raw)}
    elif case == "unknown_integration":
        headers, name = good, "salesforce"
    else:
        with transaction(engine) as s:
            revoke_integration(s, "hubspot", by=None)
        headers = good
    response = client.post(
        f"/api/v1/webhooks/crm/{name}/deals", content=raw, headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code == (400 if case in ("stale", "future") else 401), response.text
    detail = response.json()["detail"]
    assert {
        "unsigned": "missing header webhook-id, webhook-timestamp, webhook-signature",
        "missing_timestamp": "missing header webhook-timestamp",
        "wrong_secret": "does not match",
        "changed_body": "does not match",
        "stale": "stale delivery",
        "future": "stale delivery",
        "unknown_integration": "no active webhook",
        "revoked": "no active webhook",
    }[case] in detail
    assert deals(engine) == 0
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(WebhookDelivery)).one()) == 0
    # unauthenticated: counted per address and rate-limited, never an audit row each (tests/accounts/test_tokens_and_passwords.py)
    assert (
        read(
            engine,
            lambda s: s.exec(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action.in_(["webhook.refused", "webhook.junk_throttled"]))
            ).one(),
        )
        == 0
    )


def test_a_replayed_delivery_is_refused(client, crm: str, engine: Engine) -> None:
    assert deliver(client, crm, BODY).status_code == 201
    replay = deliver(client, crm, {**BODY, "amount": "1.00"}, webhook_id="msg_1")  # same id, re-signed body
    assert replay.status_code == 400 and "replayed delivery" in replay.json()["detail"]
    exact = deliver(client, crm, BODY)
    assert exact.status_code == 400
    assert read(engine, lambda s: s.exec(select(Deal.amount_minor)).one()) == 4_500_000


def test_an_invalid_deal_names_the_field_and_is_not_remembered(client, crm: str, engine: Engine) -> None:
    response = deliver(client, crm, {**BODY, "amount": "lots"})
    assert response.status_code == 400
    assert "amount" in json.dumps(response.json())
    assert deals(engine) == 0
    assert deliver(client, crm, BODY).status_code == 201  # the CRM may retry the same id once fixed


def test_the_secret_is_stored_encrypted(crm: str, engine: Engine) -> None:
    row = read(engine, lambda s: s.exec(select(WebhookIntegration)).one())
    assert crm.startswith("whsec_") and crm not in row.secret_encrypted and crm[6:] not in row.secret_encrypted


def test_cli_creates_a_webhook_and_prints_the_secret_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DATA_DIR": str(tmp_path)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "commissions.cli", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("db", "upgrade").returncode == 0
    assert (
        run(
            "user", "add", "root@example.com", "--role", "admin", "--password-stdin", stdin="Root-Password-2026\n"
        ).returncode
        == 0
    )
    made = run("webhook", "create", "hubspot", "--as", "root@example.com")
    assert made.returncode == 0, made.stderr
    assert "POST /api/v1/webhooks/crm/hubspot/deals" in made.stdout and "Secret (shown once): whsec_" in made.stdout
    again = run("webhook", "create", "hubspot", "--as", "root@example.com")
    assert again.returncode == 1 and "exists already" in again.stderr
    assert run("webhook", "revoke", "hubspot", "--as", "root@example.com").returncode == 0
    sfdc = run(
        "webhook",
        "create",
        "sfdc",
        "--as",
        "root@example.com",
        "--format",
        "salesforce",
        "--mapping",
        '{"owner_email": "Owner_Email__c"}',
    )
    assert sfdc.returncode == 0, sfdc.stderr
    wrong = run(
        "webhook",
        "create",
        "sfdc2",
        "--as",
        "root@example.com",
        "--format",
        "salesforce",
        "--mapping",
        '{"owner": "x"}',
    )
    assert wrong.returncode == 1 and "unknown mapping key 'owner'" in wrong.stderr


def test_admin_page_creates_shows_the_secret_once_and_revokes(
    client, make_person, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from tests.conftest import csrf_from, sign_in

    make_person("ana@example.com")
    make_person("root@example.com", "admin")
    monkeypatch.setattr(api, "clock", lambda: NOW)
    sign_in(client, "root@example.com")
    made = client.post("/admin/webhooks/", data={"name": "HubSpot", "_csrf_token": csrf_from(client)})
    assert made.status_code == 200 and "shown only once" in made.text
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", made.text).group(0)  # type: ignore[union-attr]
    listing = client.get("/admin/webhooks")
    assert "hubspot" in listing.text and secret not in listing.text
    bad = client.post("/admin/webhooks/", data={"name": "no spaces please", "_csrf_token": csrf_from(client)})
    assert bad.status_code == 400 and "lower-case letters" in bad.text
    assert deliver(client, secret, BODY).status_code == 201
    hook_id = read(engine, lambda s: s.exec(select(WebhookIntegration.id)).one())
    client.post(f"/admin/webhooks/{hook_id}/revoke", data={"_csrf_token": csrf_from(client)})
    assert deliver(client, secret, BODY, webhook_id="msg_9").status_code == 401
