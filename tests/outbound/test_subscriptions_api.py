"""``/api/v1/subscriptions``: who may list, create and deactivate; the secret shown once; refused input."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.models import AuditEvent, Subscription
from tests.deals.test_deals_api import token_for

URL = "https://hooks.example.com/quotaboard"
BODY = {"url": URL, "events": ["deal.recorded", "period.locked"]}


@pytest.fixture
def tokens(engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    make_person("boss@example.com", "manager")
    make_person("ana@example.com", manager="boss@example.com")
    make_person("fin@example.com", "finance")
    make_person("root@example.com", "admin")
    return {
        "rep": token_for(engine, "rep", "ana@example.com"),
        "manager": token_for(engine, "manager", "boss@example.com"),
        "finance": token_for(engine, "finance", "fin@example.com"),
        "admin": token_for(engine, "admin", "root@example.com"),
    }


def stored(engine: Engine) -> list[Subscription]:
    with Session(engine) as s:
        return list(s.exec(select(Subscription).order_by(Subscription.id)).all())


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_admin_and_finance_create_list_and_deactivate(client, engine: Engine, tokens, role: str) -> None:  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/subscriptions", json=BODY, headers=tokens[role])
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["url"] == URL and body["events"] == ["deal.recorded", "period.locked"]
    assert body["active"] is True and body["include_pay"] is False
    row = stored(engine)[0]
    assert body["secret"] not in row.secret_encrypted  # stored sealed, never in clear

    listed = client.get("/api/v1/subscriptions", headers=tokens[role])
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["items"]] == [body["id"]]
    assert "secret" not in listed.json()["items"][0] and body["secret"] not in listed.text

    gone = client.delete(f"/api/v1/subscriptions/{body['id']}", headers=tokens[role])
    assert gone.status_code == 204
    assert stored(engine)[0].active is False  # deactivated, kept with its log
    assert client.get("/api/v1/subscriptions", headers=tokens[role]).json()["items"][0]["active"] is False
    assert client.delete(f"/api/v1/subscriptions/{body['id']}", headers=tokens[role]).status_code == 204
    assert client.delete("/api/v1/subscriptions/999999", headers=tokens[role]).status_code == 404
    with Session(engine) as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions.count("subscription.create") == 1 and actions.count("subscription.deactivate") == 1


def test_include_pay_is_finance_only(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    refused = client.post("/api/v1/subscriptions", json={**BODY, "include_pay": True}, headers=tokens["admin"])
    assert refused.status_code == 403 and "include_pay" in refused.text
    assert stored(engine) == []
    allowed = client.post("/api/v1/subscriptions", json={**BODY, "include_pay": True}, headers=tokens["finance"])
    assert allowed.status_code == 201 and allowed.json()["include_pay"] is True


CHAT_URLS = [
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "https://HOOKS.SLACK.COM./services/T000/B000/XXXX",
    "https://hooks.slack.com:443/services/T000/B000/XXXX",
    "https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def",
    "https://prod-00.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x",
]


@pytest.mark.parametrize("url", CHAT_URLS)
def test_include_pay_is_refused_for_a_slack_or_teams_url(client, engine: Engine, tokens, url: str) -> None:  # type: ignore[no-untyped-def]
    refused = client.post(
        "/api/v1/subscriptions", json={**BODY, "url": url, "include_pay": True}, headers=tokens["finance"]
    )
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert (
        body["status_code"] == 400 and body["extra"] == {"field": "include_pay"} and "never sees pay" in body["detail"]
    )
    assert stored(engine) == []
    # without pay such a URL is still a subscription like any other
    plain = client.post("/api/v1/subscriptions", json={**BODY, "url": url}, headers=tokens["finance"])
    assert plain.status_code == 201 and plain.json()["include_pay"] is False


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_delete_takes_the_id_as_a_query_parameter_too(client, engine: Engine, tokens, role: str) -> None:  # type: ignore[no-untyped-def]
    from commissions.outbound.service import add_chat_channel
    from tests.outbound.conftest import ADMIN, SECRET_KEY

    sub_id = client.post("/api/v1/subscriptions", json=BODY, headers=tokens["admin"]).json()["id"]
    chat = add_chat_channel(
        engine,
        kind="slack",
        name="#wins",
        url="https://hooks.slack.com/services/T000/B000/XXXX",
        events=["deal.recorded"],
        by=ADMIN,
        secret_key=SECRET_KEY,
        allow_http=False,
    )
    for other in ("rep", "manager"):
        assert client.delete(f"/api/v1/subscriptions?id={sub_id}", headers=tokens[other]).status_code == 403
    assert client.delete(f"/api/v1/subscriptions?id={sub_id}").status_code == 401
    assert all(row.active for row in stored(engine))
    for query in ("", "?id=", "?id=abc", "?id=1.5", "?id=-1", f"?id={sub_id}&id={sub_id}"):
        bad = client.delete(f"/api/v1/subscriptions{query}", headers=tokens[role])
        assert bad.status_code == 400, query
        assert bad.json()["status_code"] == 400 and bad.json()["extra"] == {"field": "id"}, query
    for unknown in (999999, chat.id):  # none, or a chat channel: not a webhook subscription
        missing = client.delete(f"/api/v1/subscriptions?id={unknown}", headers=tokens[role])
        assert missing.status_code == 404 and missing.json()["status_code"] == 404
    assert all(row.active for row in stored(engine))
    gone = client.delete(f"/api/v1/subscriptions?id={sub_id}", headers=tokens[role])
    assert gone.status_code == 204 and gone.content == b""
    assert [row.active for row in stored(engine)] == [False, True]
    assert client.delete(f"/api/v1/subscriptions?id={sub_id}", headers=tokens[role]).status_code == 204
    with Session(engine) as s:
        actions = [e.action for e in s.exec(select(AuditEvent)).all()]
    assert actions.count("subscription.deactivate") == 1
    assert "delete" in client.get("/schema/openapi.json").json()["paths"]["/api/v1/subscriptions"]


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_sales_roles_are_refused(client, engine: Engine, tokens, role: str) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/subscriptions", json=BODY, headers=tokens["admin"]).status_code == 201
    sub_id = stored(engine)[0].id
    assert client.post("/api/v1/subscriptions", json=BODY, headers=tokens[role]).status_code == 403
    assert client.get("/api/v1/subscriptions", headers=tokens[role]).status_code == 403
    assert client.delete(f"/api/v1/subscriptions/{sub_id}", headers=tokens[role]).status_code == 403
    assert len(stored(engine)) == 1 and stored(engine)[0].active


def test_anonymous_is_refused(client, engine: Engine, tokens) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/subscriptions", json=BODY).status_code == 401
    assert client.get("/api/v1/subscriptions").status_code == 401
    assert client.delete("/api/v1/subscriptions/1").status_code == 401
    assert stored(engine) == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"events": ["deal.recorded", "deal.exploded"]}, "events", "'deal.exploded'"),
        ({"events": []}, "events", "at least one"),
        ({"url": "http://hooks.example.com/in"}, "url", "https"),
        ({"url": "ftp://hooks.example.com/in"}, "url", "http(s)"),
        ({"url": "https://user:pw@hooks.example.com/in"}, "url", "password"),
        ({"url": "not a url"}, "url", "http(s)"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "url", "cloud metadata"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url", "cloud metadata"),
        ({"url": "https://[fe80::1]/in"}, "url", "link-local"),
        ({"url": "https://[::ffff:169.254.169.254]/in"}, "url", "link-local"),
        ({"url": "https://[fd00:ec2::254]/in"}, "url", "cloud metadata"),
        ({"url": "https://0.0.0.0/in"}, "url", "not an address a receiver can have"),
        ({"url": "https://224.0.0.1/in"}, "url", "not an address a receiver can have"),
    ],
)
def test_bad_input_is_a_400_naming_it(client, engine: Engine, tokens, change: dict, field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/subscriptions", json={**BODY, **change}, headers=tokens["admin"])
    assert response.status_code == 400, response.text
    assert field in str(response.json()) and words in response.text
    assert stored(engine) == []


def test_plain_http_to_localhost_is_allowed(client, tokens) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/subscriptions", json={**BODY, "url": "http://127.0.0.1:9000/hook"}, headers=tokens["admin"]
    )
    assert response.status_code == 201


def test_the_list_pages_with_a_cursor(client, tokens) -> None:  # type: ignore[no-untyped-def]
    ids = [client.post("/api/v1/subscriptions", json=BODY, headers=tokens["admin"]).json()["id"] for _ in range(3)]
    first = client.get("/api/v1/subscriptions?limit=2", headers=tokens["admin"])
    assert [s["id"] for s in first.json()["items"]] == ids[:2]
    cursor = first.json()["next_cursor"]
    assert cursor and first.headers["X-Next-Cursor"] == cursor and 'rel="next"' in first.headers["Link"]
    second = client.get(f"/api/v1/subscriptions?limit=2&cursor={cursor}", headers=tokens["admin"])
    assert [s["id"] for s in second.json()["items"]] == ids[2:]
    assert second.json()["next_cursor"] is None
    bad = client.get("/api/v1/subscriptions?cursor=bogus", headers=tokens["admin"])
    assert bad.status_code == 400 and "cursor" in bad.text


def test_the_routes_are_in_the_openapi_document_with_examples(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/subscriptions"])
    assert "delete" in paths["/api/v1/subscriptions/{subscription_id}"]
    post = paths["/api/v1/subscriptions"]["post"]
    assert "examples" in str(post["requestBody"]) and "whsec_" in str(post["responses"]["201"])


def test_a_host_name_resolving_to_a_metadata_address_is_refused_at_delivery(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A name is checked on what it resolves to when a delivery goes out: the attempt fails, logged, and no
    request is sent (saved, the name could not be judged; it may point elsewhere by then)."""
    import socket

    import httpx

    from commissions.outbound import dispatcher

    sent: list[str] = []
    monkeypatch.setattr(httpx, "post", lambda url, **_kw: sent.append(url))
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **_kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))],
    )
    with pytest.raises(httpx.ConnectError, match=r"metadata\.example resolves to 169\.254\.169\.254"):
        dispatcher._default_post("https://metadata.example/hook", b"{}", {})
    assert sent == []
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **_kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))],
    )
    dispatcher._default_post("https://hooks.internal/hook", b"{}", {})  # a private network: allowed
    assert sent == ["https://hooks.internal/hook"]
