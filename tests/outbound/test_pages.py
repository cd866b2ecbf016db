"""``/admin/webhooks/outbound``: subscriptions (the secret shown once), deactivation, the delivery log and replay."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.core.db import transaction
from commissions.models import AuditEvent, Delivery, OutboxEvent, Subscription
from tests.conftest import csrf_from, sign_in
from tests.outbound.conftest import deliveries, subscribe

PAGE = "/admin/webhooks/outbound"


def signed_in(client, make_person, role: str):  # type: ignore[no-untyped-def]
    make_person(f"{role}@example.com", role)
    assert sign_in(client, f"{role}@example.com").status_code in (302, 303)
    return csrf_from(client)


def post(client, path: str, csrf: str, data: dict | None = None, **kwargs):  # type: ignore[no-untyped-def]
    return client.post(
        path,
        data={"_csrf_token": csrf, **(data or {})},
        headers={"x-csrftoken": csrf},
        follow_redirects=False,
        **kwargs,
    )


def stored(engine: Engine) -> list[Subscription]:
    with Session(engine) as s:
        return list(s.exec(select(Subscription).order_by(Subscription.id)).all())


def test_admin_creates_a_subscription_and_sees_the_secret_once(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "admin")
    page = client.get(PAGE)
    assert page.status_code == 200 and "No subscriptions yet" in page.text
    assert 'name="include_pay"' not in page.text  # admins do not see pay: no such choice
    created = post(
        client,
        PAGE + "/",
        csrf,
        {"url": "https://hooks.example.com/in", "events": ["deal.recorded", "period.locked"]},
    )
    # Post/Redirect/Get: the secret is on the page the form redirects to, once; a reload creates nothing
    assert created.status_code == 303 and created.headers["location"] == PAGE, created.text
    shown = client.get(PAGE)
    assert "Subscription created" in shown.text and "shown only once" in shown.text
    secret = shown.text.split('<pre class="token" tabindex="0">')[1].split("</pre>")[0]
    assert secret.startswith("whsec_") and secret not in created.headers["location"]
    [row] = stored(engine)
    assert row.events == ["deal.recorded", "period.locked"] and not row.include_pay
    again = client.get(PAGE)
    assert "https://hooks.example.com/in" in again.text and secret not in again.text
    assert len(stored(engine)) == 1


def test_a_single_event_box_and_bad_input(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "admin")
    one = post(client, PAGE + "/", csrf, {"url": "https://hooks.example.com/in", "events": "deal.recorded"})
    assert one.status_code == 303 and stored(engine)[0].events == ["deal.recorded"]
    bad = post(client, PAGE + "/", csrf, {"url": "http://hooks.example.com/in", "events": "deal.recorded"})
    assert bad.status_code == 400 and "https" in bad.text
    none = post(client, PAGE + "/", csrf, {"url": "https://hooks.example.com/x"})
    assert none.status_code == 400 and "at least one" in none.text
    assert len(stored(engine)) == 1


def test_finance_may_include_pay_and_an_admin_may_not(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "finance")
    assert 'name="include_pay"' in client.get(PAGE).text
    made = post(
        client,
        PAGE + "/",
        csrf,
        {"url": "https://payroll.example.com/in", "events": "statement.changed", "include_pay": "true"},
    )
    assert made.status_code == 303 and stored(engine)[0].include_pay


def test_include_pay_is_refused_for_a_chat_url(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "finance")
    refused = post(
        client,
        PAGE + "/",
        csrf,
        {
            "url": "https://hooks.slack.com/services/T000/B000/XXXX",
            "events": "statement.changed",
            "include_pay": "true",
        },
    )
    assert refused.status_code == 400 and 'role="alert"' in refused.text and "never sees pay" in refused.text
    assert stored(engine) == []


def test_admin_include_pay_is_refused(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "admin")
    refused = post(
        client,
        PAGE + "/",
        csrf,
        {"url": "https://payroll.example.com/in", "events": "statement.changed", "include_pay": "true"},
    )
    assert refused.status_code == 403 and "include_pay" in refused.text
    assert stored(engine) == []


def test_without_csrf_nothing_is_created(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    signed_in(client, make_person, "admin")
    response = client.post(PAGE + "/", data={"url": "https://hooks.example.com/in", "events": "deal.recorded"})
    assert response.status_code == 403
    assert stored(engine) == []


def test_deactivate_filter_and_replay(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    csrf = signed_in(client, make_person, "admin")
    sub_id, _ = subscribe(engine, "https://hooks.example.com/log", ["deal.recorded", "period.locked"])
    with transaction(engine) as s:
        for n, (kind, status) in enumerate([("deal.recorded", "dead"), ("period.locked", "delivered")]):
            event = OutboxEvent(event_id=f"evt_{n}", type=kind, data={}, fanned_out=True)
            s.add(event)
            s.flush()
            s.add(Delivery(subscription_id=sub_id, event_id=event.id, status=status, attempts=10, last_error="boom"))
    page = client.get(PAGE)
    assert "evt_0" in page.text and "evt_1" in page.text and "boom" in page.text
    dead = client.get(PAGE + "?status=dead")
    assert "evt_0" in dead.text and "evt_1" not in dead.text
    partial = client.get(PAGE + "?q=period", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith("{#") is False and 'id="delivery-log"' in partial.text
    assert "<html" not in partial.text and "evt_1" in partial.text and "evt_0" not in partial.text

    dead_id = next(d.id for d in deliveries(engine) if d.status == "dead")
    replayed = post(client, f"{PAGE}/deliveries/{dead_id}/replay", csrf)
    assert replayed.status_code == 303 and replayed.headers["location"].endswith("done=replayed")
    assert "Delivery queued" in client.get(replayed.headers["location"]).text
    assert next(d for d in deliveries(engine) if d.id == dead_id).status == "pending"
    assert post(client, f"{PAGE}/deliveries/999999/replay", csrf).status_code == 404

    gone = post(client, f"{PAGE}/{sub_id}/deactivate", csrf)
    assert gone.status_code == 303 and "Subscription deactivated" in client.get(gone.headers["location"]).text
    assert stored(engine)[0].active is False
    assert len(deliveries(engine)) == 2  # the log stays
    with Session(engine) as s:
        actions = {e.action for e in s.exec(select(AuditEvent)).all()}
    assert {"subscription.replay", "subscription.deactivate"} <= actions


def test_sales_roles_get_no_page(client, make_person) -> None:  # type: ignore[no-untyped-def]
    signed_in(client, make_person, "manager")
    assert client.get(PAGE).status_code == 403
