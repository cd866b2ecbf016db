"""Hostile and broken input: each a clear error naming what is wrong, or safe output; nothing
stored half-way. (Deal bodies field by field: tests/deals/test_deals_api.py; CSV rows:
tests/deals/test_deals_import_and_form.py; export formula injection: tests/payroll/test_payroll_export.py.)
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from tests.app.test_faults import everything as _everything
from tests.conftest import csrf_from, sign_in
from tests.finance_fixtures import example_deal, setup_books

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def everything(engine: Engine):  # type: ignore[no-untyped-def]
    """All stored rows but API tokens (whose last-used time each call may move)."""
    return _everything(engine, skip=("api_token",))


def _no_raw_markup(page: str, *, shown: bool = True) -> None:
    assert "<script>alert" not in page and "<img src=x" not in page
    if shown:  # the hostile text is on the page, as text
        assert "&lt;script&gt;alert(" in page


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/statements/ana@example.com?period=2026-Q9",
        "/api/v1/statements/ana@example.com?period=99999-Q1",
        "/api/v1/leaderboard?period=2026-13",
        "/api/v1/leaderboard?period=%00",
        "/api/v1/payouts/2026-Q0.csv",
        "/api/v1/payouts/0000-Q1.xlsx",
    ],
)
def test_periods_out_of_range_are_400s_naming_the_period(client, engine: Engine, make_person, path: str) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    response = client.get(path, headers=tokens["finance"])
    assert response.status_code in (400, 404), (path, response.status_code, response.text)
    body = response.json()
    assert body["status_code"] == response.status_code and "period" in (body["detail"] + str(body.get("extra"))).lower()


@pytest.mark.parametrize("amount", ["1e400", "99999999999999999999999.00", "NaN", "Infinity", "12.3456", "", "0"])
def test_adjustments_refuse_absurd_amounts_and_store_nothing(client, engine: Engine, make_person, amount: str) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    response = client.post(
        "/api/v1/adjustments",
        headers=tokens["finance"],
        json={"person": "ana@example.com", "period": "2026-Q1", "amount": amount, "reason": "test"},
    )
    assert response.status_code == 400, (amount, response.text)
    assert "amount" in (response.json()["detail"] + str(response.json().get("extra")))
    assert everything(engine) == before


@pytest.mark.parametrize("target", ["-5", "1e400", "99999999999999999999", "abc", "0"])
def test_quotas_refuse_negative_and_absurd_targets_and_store_nothing(
    client,
    engine: Engine,
    make_person,  # type: ignore[no-untyped-def]
    target: str,
) -> None:
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    response = client.put(
        "/api/v1/quotas",
        headers=tokens["admin"],
        json=[
            {"person": "bo@example.com", "metric": "bookings", "period": "2026-Q2", "target": "1000"},
            {"person": "ana@example.com", "metric": "bookings", "period": "2026-Q2", "target": target},
        ],
    )
    assert response.status_code == 400, (target, response.text)
    assert "target" in (response.json()["detail"] + str(response.json().get("extra")))
    assert everything(engine) == before


def test_negative_deal_amounts_are_refused(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    response = client.post("/api/v1/deals", json=example_deal("D-1", "-5000", "2026-01-10"), headers=tokens["crm"])
    assert response.status_code == 400 and "amount" in response.text
    assert everything(engine) == before


def test_oversized_malformed_and_wrongly_encoded_uploads_are_refused_whole(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    header = b"external_id,name,account,owner,amount,currency,closed_at\n"
    row = b"D-1,Deal,Acme,ana@example.com,1000.00,USD,2026-01-10\n"
    cases = {
        "oversized": header + row * 200_000,
        "not UTF-8": header + "D-2,Caf\u00e9,Acme,ana@example.com,1000.00,USD,2026-01-10\n".encode("latin-1"),
        "unterminated quote": header + b'D-3,"Deal,Acme,ana@example.com,1000.00,USD,2026-01-10\n',
        "no header": row,
        "binary": b"\x00\x01\x02PK\x03\x04" * 100,
    }
    for name, content in cases.items():
        response = client.post(
            "/api/v1/deals/import", headers=tokens["finance"], files={"file": ("deals.csv", content, "text/csv")}
        )
        assert response.status_code in (400, 413), (name, response.status_code, response.text[:300])
        assert response.json()["detail"], name
        if name == "not UTF-8":
            assert "UTF-8" in response.text
    assert everything(engine) == before


def test_markup_in_every_free_text_field_is_rendered_escaped(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    with engine.begin() as conn:  # a person named by a hostile HR import
        conn.execute(text("UPDATE person SET name = :n WHERE email = 'bo@example.com'"), {"n": XSS})
    deal = example_deal("D-1", "60000", "2026-01-10", name=XSS, account=XSS, product=XSS)
    assert client.post("/api/v1/deals", json=deal, headers=tokens["crm"]).status_code == 201
    assert (
        client.post(
            "/api/v1/deals",
            json=example_deal("D-2", "1000", "2026-01-11", owner="bo@example.com"),
            headers=tokens["crm"],
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/adjustments",
            headers=tokens["finance"],
            json={"person": "ana@example.com", "period": "2026-Q1", "amount": "10.00", "reason": XSS},
        ).status_code
        == 201
    )
    sign_in(client, "ana@example.com")
    response = client.post(
        "/disputes",
        data={
            "email": "ana@example.com",
            "period": "2026-Q1",
            "line": "",
            "question": XSS,
            "_csrf_token": csrf_from(client),
        },
    )
    assert response.status_code in (200, 303), response.text[:300]
    pages = [
        "/deals?period=2026-Q1",
        "/statements/ana@example.com?period=2026-Q1",
        "/leaderboard?period=2026-Q1&everyone=true",
        "/disputes/1",
    ]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        _no_raw_markup(page.text)
    _no_raw_markup(client.get("/disputes").text, shown=False)
    client.cookies.clear()
    sign_in(client, "fin@example.com")
    for path, shown in [
        ("/finance?period=2026-Q1", False),
        ("/finance/periods/2026-Q1", True),
        ("/statements/bo@example.com?period=2026-Q1", True),
        ("/disputes/1", True),
    ]:
        page = client.get(path)
        assert page.status_code == 200, path
        _no_raw_markup(page.text, shown=shown)


@pytest.mark.parametrize(
    "path", ["/api/v1/adjustments/22757214624434229248/reverse", "/api/v1/adjustments/9223372036854775808/reverse"]
)
def test_ids_beyond_64_bits_are_a_clear_400_not_a_server_error(client, engine: Engine, make_person, path: str) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    response = client.post(path, headers=tokens["finance"], json={"reason": "x"})
    assert response.status_code in (400, 404), response.text
    assert everything(engine) == before


def _is_text(column) -> bool:  # type: ignore[no-untyped-def]
    from sqlalchemy import String, Text
    from sqlmodel.sql.sqltypes import AutoString

    return isinstance(column.type, (String, Text, AutoString))


TEXT_COLUMNS = {
    "name",
    "description",
    "prize",
    "account",
    "reason",
    "question",
    "body",
    "text",
    "product",
    "note",
    "channel",
    "trigger",
}


def test_markup_in_every_stored_text_is_escaped_on_every_page(client, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """The demo organisation with markup in every name, description, prize, reason, question and
    line text of every table; every page (without path parameters) as every role shows none of it raw."""
    from datetime import date

    from litestar.routes import HTTPRoute

    from commissions.demo import DEMO_PASSWORD, DOMAIN, load_demo
    from commissions.models.base import metadata

    load_demo(engine, today=date(2026, 11, 20))
    mark = "<script>alert(1)</script>"
    touched = []
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if column.name in TEXT_COLUMNS and _is_text(column) and not column.primary_key:
                    pk = next(iter(table.primary_key.columns)).name
                    conn.execute(
                        text(f'UPDATE "{table.name}" SET "{column.name}" = :m || CAST("{pk}" AS VARCHAR(20))'),
                        {"m": mark},
                    )
                    touched.append(f"{table.name}.{column.name}")
    assert {
        "person.name",
        "team.name",
        "deal.name",
        "campaign.name",
        "plan.name",
        "contest.prize",
        "badge_rule.name",
        "payout_line.text",
    } <= set(touched)
    pages = sorted(
        {
            route.path
            for route in client.app.routes
            if isinstance(route, HTTPRoute)
            and "{" not in route.path
            and not route.path.startswith(("/api/", "/schema", "/static", "/leaderboard/static"))
            and any("GET" in h.http_methods for h in route.route_handlers)
            and route.path not in ("/leaderboard/stream", "/admin/audit.csv", "/logout")
        }
    )
    seen_escaped = 0
    for who in ("ana.alvarez", "east.manager", "marketing.lead", "finance", "admin"):
        client.cookies.clear()
        client.get("/login")
        assert client.post(
            "/login",
            data={"email": f"{who}@{DOMAIN}", "password": DEMO_PASSWORD, "_csrf_token": client.cookies["csrftoken"]},
        ).status_code in (200, 302, 303)
        for path in [*pages, f"/statements/ana.alvarez@{DOMAIN}"]:
            page = client.get(path)
            if page.status_code != 200 or "html" not in page.headers.get("content-type", ""):
                continue
            assert "<script>alert(1)" not in page.text, f"{path} as {who} shows stored markup raw"
            seen_escaped += page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert seen_escaped > 100  # the marked texts were on the pages, escaped
