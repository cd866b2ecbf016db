"""The demo organisation, the CLI's people and token commands, and front-end assets served by the app."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func
from sqlmodel import select

from commissions.demo import DEMO_PASSWORD, load_demo
from commissions.models import (
    Campaign,
    Deal,
    Period,
    Person,
    PlanAssignment,
    Quota,
    Team,
)
from tests.conftest import read, sign_in


def test_demo_is_a_believable_organisation_and_loads_once(engine: Engine) -> None:
    summary = load_demo(engine, today=date(2026, 11, 23))
    assert not summary.already_loaded and summary.period == "2026-Q4"

    def count(model, *where):  # type: ignore[no-untyped-def]
        return read(engine, lambda s: s.exec(select(func.count()).select_from(model).where(*where)).one())

    assert count(Team, Team.kind == "sales") == 3
    assert count(Team, Team.kind == "marketing") == 1
    assert 18 <= count(Person, Person.role == "rep", Person.team_id.is_not(None)) <= 26
    assert count(Person, Person.role == "finance") >= 1 and count(Person, Person.role == "admin") >= 1
    assert count(Campaign) >= 3
    deals = count(Deal)
    assert deals > 60
    assert count(Deal, Deal.closed_at < date(2026, 10, 1)) == 0
    assert count(Deal, Deal.closed_at > date(2026, 11, 23)) == 0
    assert count(Deal, Deal.source_campaign.is_not(None)) > 0
    assert count(Quota) > 20 and count(PlanAssignment) > 20
    assert count(Period, Period.key == "2026-Q4") == 1
    every_rep_has_quota = read(
        engine,
        lambda s: s.exec(
            select(func.count())
            .select_from(Person)
            .where(Person.role == "rep", ~Person.id.in_(select(Quota.person_id)))
        ).one(),
    )
    assert every_rep_has_quota == 0

    again = load_demo(engine, today=date(2026, 11, 23))
    assert again.already_loaded and count(Deal) == deals
    assert "admin@demo.quotaboard.dev" in again.describe() and DEMO_PASSWORD in again.describe()


def test_demo_logins_work(client, engine: Engine) -> None:
    load_demo(engine, today=date(2026, 11, 23))
    response = sign_in(client, "ana.alvarez@demo.quotaboard.dev", DEMO_PASSWORD)
    assert response.status_code in (302, 303)
    home = client.get("/")
    assert "Your quarter" in home.text and "of quota" in home.text


def test_htmx_is_served_by_the_app(client) -> None:
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert 'version:"2.0' in response.text.replace(" ", "")
    assert client.get("/static/vendor/sse.min.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_security_headers_on_every_response(client) -> None:
    for path in ["/login", "/static/app.css", "/api/v1/me"]:
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_health_probe_is_public_and_says_nothing(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.text == "ok"


def test_demo_names_are_unique_deals_name_their_account_and_logins_say_who_is_who(engine: Engine) -> None:
    summary = load_demo(engine, today=date(2026, 11, 23))
    names = read(engine, lambda s: s.exec(select(Person.name)).all())
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    deals = read(engine, lambda s: s.exec(select(Deal.name, Deal.account)).all())
    assert deals and all(name.startswith(f"{account} ") for name, account in deals)
    text = summary.describe()
    assert "Team" in text and "Marketing" in text
    lines = {line.split()[0]: line for line in text.splitlines() if "@demo.quotaboard.dev" in line}
    assert "Sales East" in lines["ana.alvarez@demo.quotaboard.dev"]
    assert lines["ana.alvarez@demo.quotaboard.dev"].rstrip().endswith("no")
    assert lines["nora.field@demo.quotaboard.dev"].rstrip().endswith("yes")
    assert (
        "Marketing" in lines["nora.field@demo.quotaboard.dev"] and "marketer" in lines["nora.field@demo.quotaboard.dev"]
    )
    assert "manager" in lines["east.manager@demo.quotaboard.dev"]
