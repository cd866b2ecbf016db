"""Campaigns: everyone reads the list with sourced revenue per period; admins and marketing managers
create and edit (validated, audited); nobody else changes anything."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.models import AuditEvent, Campaign, Deal, DealSplit, Person, Team
from tests.conftest import csrf_from, read, sign_in

FORM = {
    "code": "WEB-SEO",
    "name": "Organic search",
    "owner": "nora@example.com",
    "channel": "web",
    "cost": "12,000.50",
    "currency": "USD",
    "start": "2026-10-01",
    "end": "2026-12-31",
}


@pytest.fixture
def org(make_person, engine: Engine):  # type: ignore[no-untyped-def]
    """A marketing team (lead, two marketers), a sales team, another marketing team, admin and finance."""
    make_person("mlead@example.com", "manager", team="Marketing")
    make_person("nora@example.com", manager="mlead@example.com", team="Marketing")
    make_person("oscar@example.com", manager="mlead@example.com", team="Marketing")
    make_person("sales.manager@example.com", "manager", team="Sales")
    make_person("ana@example.com", manager="sales.manager@example.com", team="Sales")
    make_person("admin@example.com", "admin")
    make_person("finance@example.com", "finance")
    make_person("other.lead@example.com", "manager", team="Brand")
    with transaction(engine) as s:
        for team in s.exec(select(Team).where(Team.name.in_(["Marketing", "Brand"]))).all():
            team.kind = "marketing"


def campaigns(engine: Engine) -> dict[str, tuple]:
    rows = read(
        engine, lambda s: s.exec(select(Campaign, Person.email).join(Person, Person.id == Campaign.owner_id)).all()
    )
    return {c.code: (c.name, email, c.channel, c.cost_minor, c.currency, c.starts_on, c.ends_on) for c, email in rows}


def post(client, path: str, data: dict, *, htmx: bool = False):  # type: ignore[no-untyped-def]
    return client.post(
        path,
        data={**data, "_csrf_token": csrf_from(client)},
        follow_redirects=False,
        headers={"HX-Request": "true"} if htmx else {},
    )


def add_campaign(engine: Engine, code: str, owner: str) -> int:
    with transaction(engine) as s:
        person = s.exec(select(Person).where(Person.email == owner)).one()
        c = Campaign(code=code, name=code.title(), owner_id=person.id, cost_minor=100_000, currency="USD")
        s.add(c)
        s.flush()
        return c.id


def add_deal(
    engine: Engine,
    external_id: str,
    amount_minor: int,
    closed: date,
    source: str | None,
    *,
    status: str = "won",
    currency: str = "USD",
    split: bool = False,
) -> None:
    with transaction(engine) as s:
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        deal = Deal(
            external_id=external_id,
            name=external_id,
            owner_id=ana.id,
            amount_minor=amount_minor,
            currency=currency,
            closed_at=closed,
            source_campaign=source,
            status=status,
            cancelled_at=closed if status == "cancelled" else None,
        )
        s.add(deal)
        s.flush()
        if split:
            nora = s.exec(select(Person).where(Person.email == "nora@example.com")).one()
            s.add(DealSplit(deal_id=deal.id, person_id=ana.id, share_bp=5000))
            s.add(DealSplit(deal_id=deal.id, person_id=nora.id, share_bp=5000))


def test_marketing_manager_creates_a_campaign_and_it_is_audited(client, org, engine: Engine) -> None:
    sign_in(client, "mlead@example.com")
    response = post(client, "/campaigns/", FORM)
    assert response.status_code == 303 and response.headers["location"] == "/campaigns?saved=WEB-SEO#campaign-WEB-SEO"
    saved = client.get(response.headers["location"]).text
    assert 'id="campaign-saved">Saved: campaign WEB-SEO (Organic search).' in saved  # a confirmation after saving
    assert "Saved: campaign" not in client.get("/campaigns?saved=NOPE").text  # only a campaign that exists
    assert campaigns(engine) == {
        "WEB-SEO": (
            "Organic search",
            "nora@example.com",
            "web",
            1_200_050,
            "USD",
            date(2026, 10, 1),
            date(2026, 12, 31),
        )
    }
    event = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "campaign.create")).one())
    assert event.detail["code"] == "WEB-SEO" and event.detail["cost"] == "12000.50"
    page = client.get("/campaigns?period=2026-Q4").text
    assert "WEB-SEO" in page and "12,000.50 USD" in page and "Edit" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"code": ""}, "code", "is required"),
        ({"code": "web seo!"}, "code", "letters, digits"),
        ({"name": "  "}, "name", "is required"),
        ({"owner": "ghost@example.com"}, "owner", "no active person"),
        ({"owner": ""}, "owner", "is required"),
        ({"cost": "-1"}, "cost", "cannot be negative"),
        ({"cost": "12.345"}, "cost", "more decimals"),
        ({"cost": "cheap"}, "cost", "not an amount"),
        ({"currency": "dollars"}, "currency", "is not a currency code"),
        ({"start": "2026-12-01", "end": "2026-11-01"}, "end", "before the start"),
        ({"start": "next week"}, "start", "not a date"),
    ],
)
def test_campaign_validation(client, org, engine: Engine, change: dict, field: str, message: str) -> None:
    sign_in(client, "admin@example.com")
    response = post(client, "/campaigns/", {**FORM, **change})
    assert response.status_code == 400
    assert re.search(rf'<label class="field invalid">\s*<span>[^<]*</span>\s*<input name="{field}"', response.text), (
        field
    )
    assert message in response.text
    inline = post(client, "/campaigns/", {**FORM, **change}, htmx=True)
    assert inline.status_code == 200 and inline.text.lstrip().startswith("<form") and message in inline.text
    assert campaigns(engine) == {}


def test_codes_are_unique_and_fixed(client, org, engine: Engine) -> None:
    sign_in(client, "admin@example.com")
    post(client, "/campaigns/", FORM)
    again = post(client, "/campaigns/", {**FORM, "code": "web-seo", "name": "Another"})
    assert again.status_code == 400 and "already exists" in again.text
    cid = read(engine, lambda s: s.exec(select(Campaign.id)).one())
    edited = post(client, f"/campaigns/{cid}", {**FORM, "code": "NEW-CODE", "name": "Organic search 2027", "cost": "0"})
    assert edited.status_code == 303
    assert campaigns(engine)["WEB-SEO"][:4] == ("Organic search 2027", "nora@example.com", "web", 0)
    event = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "campaign.update")).one())
    assert event.detail["changes"]["name"] == ["Organic search", "Organic search 2027"]
    assert event.detail["changes"]["cost"] == ["12000.50", "0.00"]


def test_marketing_manager_assigns_and_edits_within_their_team_only(client, org, engine: Engine) -> None:
    theirs = add_campaign(engine, "ABM", "oscar@example.com")
    foreign = add_campaign(engine, "BRAND", "other.lead@example.com")
    sign_in(client, "mlead@example.com")
    outside_owner = post(client, "/campaigns/", {**FORM, "owner": "ana@example.com"})
    assert outside_owner.status_code == 400 and "in your team" in outside_owner.text
    assert client.get(f"/campaigns/{theirs}/edit").status_code == 200
    assert client.get(f"/campaigns/{foreign}/edit").status_code == 403
    assert post(client, f"/campaigns/{foreign}", {**FORM, "owner": "nora@example.com"}).status_code == 403
    assert client.get("/campaigns/999999/edit").status_code == 404
    assert set(campaigns(engine)) == {"ABM", "BRAND"}
    assert campaigns(engine)["BRAND"][1] == "other.lead@example.com"


@pytest.mark.parametrize(
    "email", ["nora@example.com", "ana@example.com", "sales.manager@example.com", "finance@example.com"]
)
def test_everyone_else_reads_but_cannot_change(client, org, engine: Engine, email: str) -> None:
    cid = add_campaign(engine, "ABM", "oscar@example.com")
    sign_in(client, email)
    page = client.get("/campaigns")
    assert page.status_code == 200 and "ABM" in page.text
    assert 'id="campaign-form"' not in page.text and "/edit" not in page.text
    assert post(client, "/campaigns/", FORM).status_code == 403
    assert client.get(f"/campaigns/{cid}/edit").status_code == 403
    assert post(client, f"/campaigns/{cid}", {**FORM, "name": "Hijacked"}).status_code == 403
    assert set(campaigns(engine)) == {"ABM"} and campaigns(engine)["ABM"][0] == "Abm"


def test_sourced_revenue_sums_won_deals_of_the_period(client, org, engine: Engine) -> None:
    add_campaign(engine, "ABM", "oscar@example.com")
    add_campaign(engine, "WEBINAR", "nora@example.com")
    add_deal(engine, "D-1", 4_500_000, date(2026, 10, 5), "ABM")
    add_deal(engine, "D-2", 1_000_000, date(2026, 12, 31), "ABM", split=True)  # splits don't matter for sourcing
    add_deal(engine, "D-3", 700_000, date(2026, 11, 1), "ABM", status="cancelled")  # cancelled: not counted
    add_deal(engine, "D-4", 900_000, date(2026, 9, 30), "ABM")  # previous quarter
    add_deal(engine, "D-5", 200_000, date(2026, 11, 2), "ABM", currency="EUR")  # another currency: its own total
    add_deal(engine, "D-6", 300_000, date(2026, 11, 3), "UNKNOWN")  # an unknown code credits no campaign
    sign_in(client, "ana@example.com")
    page = client.get("/campaigns?period=2026-Q4").text
    row = re.search(r">ABM</a></td>.*?</tr>", page, re.DOTALL).group(0)
    assert "55,000.00 USD" in row and "2,000.00 EUR" in row and '<td class="num">3</td>' in row
    webinar = re.search(r">WEBINAR</a></td>.*?</tr>", page, re.DOTALL).group(0)
    assert "0.00 USD" in webinar
    q3 = client.get("/campaigns?period=2026-Q3", headers={"HX-Request": "true"}).text
    assert q3.lstrip().startswith('<section id="campaigns-table">') and "9,000.00 USD" in q3
    assert client.get("/campaigns?period=2026-Q9").status_code == 400
