"""A deal in a currency that a plan seeing it does not pay in, with no exchange rate for the pair on or
before its close date, is refused at every door (issues 13 and 19).

The engine refuses such a deal for the whole plan period, so before this check one EUR deal under a
USD plan without a rate stopped the period's recalculation for everyone. The API, the signed CRM
webhook and the form answer 4xx naming the field ``currency``, the pair, the date, the plan and the
person; the CSV import reports the row and writes nothing. (With a rate, tests/rates/ shows it accepted.)
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import Engine, delete, func
from sqlmodel import Session, select

from commissions import engine as eng
from commissions.calculation.loader import load_period_inputs, plans_in_period
from commissions.core.db import transaction
from commissions.deals.csv_import import import_deals
from commissions.models import Campaign, Deal, ExchangeRate, Person, Plan, PlanAssignment, PlanVersion
from commissions.webhooks import api
from commissions.webhooks.service import create_integration
from commissions.webhooks.signing import sign
from tests.conftest import csrf_from, read, sign_in
from tests.deals.test_deals_api import token_for

NOW = 1_795_000_000
HEADER = "external_id,name,account,owner,amount,currency,closed_at,type,product,term_months,source_campaign,status,cancelled_at,splits\n"


def no_rate(plan: str, whose: str, day: str, pair: str = "EUR to USD") -> str:
    """The refusal of a deal that no exchange rate converts into its plan's currency on its close date."""
    return f"no exchange rate from {pair} on or before {day} (plan '{plan}' of {whose})"


REFUSED = no_rate("AE 2026", "ana@example.com", "2026-02-03")
CSV_REFUSED = no_rate("AE 2026", "ana@example.com", "2026-01-12")


def plan_document(name: str, currency: str, period: str = "quarter", quota: str | None = None) -> str:
    component = "{name: Club, kind: bonus, at: 100%, pay: 100}" if quota else "{name: Flat, kind: per_deal, rate: 10%}"
    return (
        f"name: {name}\ncurrency: {currency}\nperiod: {period}\n"
        + (f"quota: {quota}\n" if quota else "")
        + f"components:\n  - {component}\n"
    )


def add_plan(
    engine: Engine,
    name: str,
    currency: str,
    assigned: dict[str, tuple[date, date | None]],
    *,
    period: str = "quarter",
    quota: str | None = None,
    versions: list[tuple[date, str | None]] | None = None,
) -> None:
    """A plan, its versions ((effective_from, quota metric); default one from 2026-01-01) and assignments."""
    with transaction(engine) as s:
        plan = Plan(name=name, currency=currency, period_kind=period)
        s.add(plan)
        s.flush()
        for number, (effective_from, metric) in enumerate(versions or [(date(2026, 1, 1), quota)], start=1):
            s.add(
                PlanVersion(
                    plan_id=plan.id,
                    version=number,
                    effective_from=effective_from,
                    document=plan_document(name, currency, period, metric),
                )
            )
        for email, (starts_on, ends_on) in assigned.items():
            person = s.exec(select(Person).where(Person.email == email)).one()
            s.add(PlanAssignment(person_id=person.id, plan_id=plan.id, starts_on=starts_on, ends_on=ends_on))


OPEN = (date(2026, 1, 1), None)


def body(
    external_id: str = "EU-1",
    *,
    owner: str = "ana@example.com",
    currency: str = "EUR",
    closed_at: str = "2026-02-03",
    **extra,
) -> dict:  # type: ignore[no-untyped-def]
    return {
        "external_id": external_id,
        "name": f"{external_id} deal",
        "owner": owner,
        "amount": "1000.00",
        "currency": currency,
        "closed_at": closed_at,
        "type": "new",
        "product": "Pro",
        **extra,
    }


def deals(engine: Engine) -> int:
    return read(engine, lambda s: s.exec(select(func.count()).select_from(Deal)).one())


@pytest.fixture
def org(engine: Engine, make_person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """vp > mia > ana (rep on the USD plan 'AE 2026'); bo and cy reps with no plan (cy under mia);
    mo a marketer owning campaign WEB; an admin token for the API."""
    make_person("vp@example.com", "manager")
    make_person("mia@example.com", "manager", manager="vp@example.com")
    make_person("ana@example.com", manager="mia@example.com")
    make_person("cy@example.com", manager="mia@example.com")
    make_person("bo@example.com")
    make_person("mo@example.com")
    with transaction(engine) as s:
        mo = s.exec(select(Person).where(Person.email == "mo@example.com")).one()
        s.add(Campaign(code="WEB", name="Webinar", owner_id=mo.id, channel="events"))
    add_plan(engine, "AE 2026", "USD", {"ana@example.com": OPEN})
    return token_for(engine, "admin")


def post(client, headers: dict, payload: dict):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/deals", json=payload, headers=headers)


def refused(response, message: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    assert response.json()["extra"] == {"field": "currency"}
    assert response.json()["detail"] == message


# -- the API ----------------------------------------------------------------------------------


def test_api_refuses_a_deal_its_owners_plan_does_not_pay_in(client, org, engine: Engine) -> None:
    refused(post(client, org, body()), REFUSED)
    assert deals(engine) == 0
    assert post(client, org, body(currency="USD")).status_code == 201
    # an update to another currency is refused too, and the stored deal stays as it was
    refused(post(client, org, body(currency="EUR")), REFUSED)
    assert read(engine, lambda s: s.exec(select(Deal.currency)).all()) == ["USD"]


def test_people_without_a_plan_may_record_any_currency(client, org, engine: Engine) -> None:
    assert post(client, org, body(owner="bo@example.com")).status_code == 201
    assert (
        post(client, org, body("EU-2", owner="bo@example.com", currency="JPY", **{"amount": "1000"})).status_code == 201
    )
    assert deals(engine) == 2


def test_split_partners_and_the_campaign_owner_count(client, org, engine: Engine) -> None:
    split = body(
        owner="bo@example.com",
        splits=[{"person": "bo@example.com", "share": 50}, {"person": "ana@example.com", "share": 50}],
    )
    refused(post(client, org, split), REFUSED)
    add_plan(engine, "Marketing 2026", "USD", {"mo@example.com": OPEN})
    refused(
        post(client, org, body(owner="bo@example.com", source_campaign="WEB")),
        no_rate("Marketing 2026", "mo@example.com, owner of campaign WEB", "2026-02-03"),
    )
    assert (
        post(client, org, body(owner="bo@example.com", source_campaign="OTHER")).status_code == 201
    )  # unknown: no one
    assert deals(engine) == 1


def test_a_plan_of_anyone_above_in_the_manager_chain_counts(client, org, engine: Engine) -> None:
    assert post(client, org, body(owner="cy@example.com")).status_code == 201  # nobody above cy has a plan yet
    add_plan(engine, "VP 2026", "USD", {"vp@example.com": OPEN})  # two levels up: team credit and overrides read it
    refused(
        post(client, org, body("EU-2", owner="cy@example.com")),
        no_rate("VP 2026", "vp@example.com, above cy@example.com", "2026-02-03"),
    )
    add_plan(engine, "Managers 2026", "USD", {"mia@example.com": OPEN})  # the nearest is named first
    refused(
        post(client, org, body("EU-2", owner="cy@example.com")),
        no_rate("Managers 2026", "mia@example.com, above cy@example.com", "2026-02-03"),
    )
    assert post(client, org, body("EU-2", owner="cy@example.com", currency="USD")).status_code == 201


def test_which_plan_version_and_assignment_count(client, engine: Engine, make_person) -> None:
    """The recalculation's view: the period of each plan's kind containing closed_at, the version in force
    at that period's start, the assignments overlapping that period."""
    for email in ("ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com", "mo@example.com"):
        make_person(email)
    admin = token_for(engine, "admin")
    add_plan(engine, "AE 2026", "USD", {"ana@example.com": OPEN})
    refused(
        post(client, admin, body("A-1", closed_at="2026-03-31")), no_rate("AE 2026", "ana@example.com", "2026-03-31")
    )
    assert (
        post(client, admin, body("A-2", closed_at="2025-12-31", currency="JPY", amount="5")).status_code == 201
    )  # no version yet
    # a monthly plan whose first version starts in February: January has no version in force
    add_plan(engine, "Monthly", "USD", {"bo@example.com": OPEN}, period="month", versions=[(date(2026, 2, 1), None)])
    assert post(client, admin, body("B-1", owner="bo@example.com", closed_at="2026-01-31")).status_code == 201
    refused(
        post(client, admin, body("B-2", owner="bo@example.com", closed_at="2026-02-01")),
        no_rate("Monthly", "bo@example.com", "2026-02-01"),
    )
    # an assignment that ended in January still puts cy in Q1's calculation of the plan, with all of Q1's deals
    add_plan(engine, "Ended", "USD", {"cy@example.com": (date(2026, 1, 1), date(2026, 1, 31))})
    refused(
        post(client, admin, body("C-1", owner="cy@example.com", closed_at="2026-03-15")),
        no_rate("Ended", "cy@example.com", "2026-03-15"),
    )
    assert post(client, admin, body("C-2", owner="cy@example.com", closed_at="2026-04-01")).status_code == 201
    # an assignment that starts later than the period does not count
    add_plan(engine, "Later", "USD", {"dee@example.com": (date(2026, 4, 1), None)})
    assert post(client, admin, body("D-1", owner="dee@example.com", closed_at="2026-03-31")).status_code == 201
    # plans on a lead metric credit lead events, never deals: this one does so in Q1 only, the version
    # in force from Q2 pays on deals
    add_plan(
        engine,
        "Marketing",
        "USD",
        {"mo@example.com": OPEN},
        versions=[(date(2026, 1, 1), "mqls"), (date(2026, 4, 1), None)],
    )
    with transaction(engine) as s:
        mo = s.exec(select(Person).where(Person.email == "mo@example.com")).one()
        s.add(Campaign(code="WEB", name="Webinar", owner_id=mo.id, channel="events"))
    assert post(client, admin, body("E-1", owner="dee@example.com", source_campaign="WEB")).status_code == 201
    refused(
        post(client, admin, body("E-2", owner="cy@example.com", source_campaign="WEB", closed_at="2026-04-02")),
        no_rate("Marketing", "mo@example.com, owner of campaign WEB", "2026-04-02"),
    )


def test_every_accepted_deal_can_be_computed_by_each_plan_that_sees_it(client, org, engine: Engine) -> None:
    """The rule is the recalculation's: for every plan and person on it, the deals a computation focused
    on that person reads (theirs, their reports', their campaigns') are all in the plan's currency."""
    add_plan(engine, "Managers 2026", "USD", {"mia@example.com": OPEN})
    add_plan(engine, "Marketing EUR", "EUR", {"mo@example.com": OPEN})
    attempts = [
        body(f"X-{i}", owner=owner, currency=currency, **extra)
        for i, (owner, currency, extra) in enumerate(
            [
                ("ana@example.com", "EUR", {}),
                ("ana@example.com", "USD", {}),
                ("cy@example.com", "EUR", {}),
                ("bo@example.com", "EUR", {}),
                ("bo@example.com", "USD", {"source_campaign": "WEB"}),
                ("bo@example.com", "EUR", {"source_campaign": "WEB"}),
                ("ana@example.com", "USD", {"source_campaign": "WEB"}),
                (
                    "bo@example.com",
                    "EUR",
                    {"splits": [{"person": "bo@example.com", "share": 50}, {"person": "cy@example.com", "share": 50}]},
                ),
            ]
        )
    ]
    answers = [post(client, org, attempt).status_code for attempt in attempts]
    assert answers == [400, 201, 400, 201, 400, 201, 400, 400]
    period = eng.parse_period("2026-Q1")
    with Session(engine) as s:
        for plan in plans_in_period(s, period):
            for assignment in plan.assignments:
                inputs = load_period_inputs(s, period, focus={assignment.person_id})
                eng.calculate(
                    plan.parsed,
                    period,
                    inputs.people,
                    inputs.quotas_for(plan),
                    inputs.deals,
                    inputs.campaigns,
                    participants=[inputs.email_of[assignment.person_id]],
                )


# -- the signed CRM webhook -------------------------------------------------------------------


def test_webhook_delivery_is_refused(client, org, engine: Engine, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "clock", lambda: NOW)
    with transaction(engine) as s:
        secret = create_integration(s, name="hubspot", secret_key=settings.secret_key, by=None)[1]

    def deliver(payload: dict, webhook_id: str):  # type: ignore[no-untyped-def]
        raw = json.dumps(payload).encode()
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(NOW),
            "content-type": "application/json",
            "webhook-signature": sign(secret, webhook_id, NOW, raw),
        }
        return client.post("/api/v1/webhooks/crm/hubspot/deals", content=raw, headers=headers)

    refused(deliver(body(), "msg_1"), REFUSED)
    assert deals(engine) == 0
    assert deliver(body(currency="USD"), "msg_2").status_code == 201  # the corrected delivery goes through
    assert deals(engine) == 1


# -- the form ---------------------------------------------------------------------------------


def test_form_shows_the_error_on_the_currency_field(client, org, engine: Engine) -> None:
    sign_in(client, "ana@example.com")
    form = {
        "name": "Acme",
        "account": "Acme",
        "owner": "ana@example.com",
        "amount": "1000",
        "currency": "EUR",
        "closed_at": "2026-02-01",
        "type": "new",
        "_csrf_token": csrf_from(client),
    }
    refusal = no_rate("AE 2026", "ana@example.com", "2026-02-01")
    slot = f'<small class="error" id="error-currency">{escape(refusal)}</small>'
    saved = client.post("/deals/new/", data=form)
    assert saved.status_code == 400 and slot in saved.text
    inline = client.post("/deals/new/validate", data=form, headers={"HX-Request": "true"})
    assert inline.status_code == 200
    assert f'id="error-currency" hx-swap-oob="true">{escape(refusal)}</small>' in inline.text
    assert deals(engine) == 0
    ok = client.post("/deals/new/", data={**form, "currency": "USD"}, follow_redirects=False)
    assert ok.status_code in (302, 303) and deals(engine) == 1


# -- the CSV import ---------------------------------------------------------------------------

CSV = HEADER + (
    "D-1,A,A,bo@example.com,100,EUR,2026-01-10,new,Pro,12,,won,,\n"  # no plan: fine
    "D-2,B,B,ana@example.com,100,USD,2026-01-11,new,Pro,12,,won,,\n"  # fine
    "D-3,C,C,ana@example.com,100,EUR,2026-01-12,new,Pro,12,,won,,\n"  # refused
    "D-4,D,D,cy@example.com,100,EUR,2026-02-12,new,Pro,12,,won,,\n"  # refused once mia has a plan
)


def test_csv_import_reports_the_row_and_writes_nothing(client, org, engine: Engine) -> None:
    add_plan(engine, "Managers 2026", "USD", {"mia@example.com": OPEN})
    report = import_deals(engine, CSV.encode(), by=None, commit=True)
    assert not report.committed
    assert [(e.line, e.field, e.message) for e in report.errors] == [
        (4, "currency", CSV_REFUSED),
        (5, "currency", no_rate("Managers 2026", "mia@example.com, above cy@example.com", "2026-02-12")),
    ]
    assert deals(engine) == 0

    finance = token_for(engine, "finance")
    answer = client.post("/api/v1/deals/import", content=CSV, headers={**finance, "content-type": "text/csv"})
    assert answer.status_code == 400
    assert answer.json()["extra"]["errors"][0] == {"line": 4, "field": "currency", "message": CSV_REFUSED}
    assert deals(engine) == 0

    fixed = CSV.replace("D-3,C,C,ana@example.com,100,EUR", "D-3,C,C,ana@example.com,100,USD").replace(
        "D-4,D,D,cy@example.com,100,EUR", "D-4,D,D,cy@example.com,100,USD"
    )
    done = import_deals(engine, fixed.encode(), by=None, commit=True)
    assert done.committed and done.created == 4 and deals(engine) == 4


def test_csv_import_page_shows_the_row_error(client, org, engine: Engine, make_person) -> None:
    make_person("fin@example.com", "finance")
    sign_in(client, "fin@example.com")
    failed = client.post(
        "/deals/import", files={"file": ("d.csv", CSV, "text/csv")}, data={"_csrf_token": csrf_from(client)}
    )
    assert failed.status_code == 400 and "Nothing was imported" in failed.text
    assert str(escape(CSV_REFUSED)) in failed.text
    assert deals(engine) == 0


def test_a_large_import_checks_every_row_in_a_few_queries(engine: Engine, org) -> None:
    """A CSV import reads each period's plans once, not per row."""
    from sqlalchemy import event

    add_plan(engine, "Managers 2026", "USD", {"mia@example.com": OPEN})
    rows = "".join(
        f"L-{i},L,L,{'ana' if i % 2 else 'cy'}@example.com,100,USD,2026-0{1 + i % 6}-10,new,Pro,12,,won,,\n"
        for i in range(2000)
    )
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        report = import_deals(engine, (HEADER + rows).encode(), by=None, commit=False)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert report.ok and report.created == 2000
    assignment_reads = [s for s in statements if "FROM plan_assignment" in s]
    assert 0 < len(assignment_reads) <= 4  # two quarters (one plan period kind), not 2,000 rows


def test_a_large_import_in_another_currency_reads_the_rates_once(client, engine: Engine, org) -> None:
    """2,000 EUR rows on a USD plan with a rate: all accepted, the rates read at most once (issue 19)."""
    from sqlalchemy import event

    put = client.put(
        "/api/v1/rates",
        json=[{"from": "EUR", "to": "USD", "rate": "1.0850", "effective_from": "2026-01-01"}],
        headers=org,
    )
    assert put.status_code == 200
    rows = "".join(
        f"R-{i},R,R,{'ana' if i % 2 else 'cy'}@example.com,100,EUR,2026-0{1 + i % 6}-10,new,Pro,12,,won,,\n"
        for i in range(2000)
    )
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        report = import_deals(engine, (HEADER + rows).encode(), by=None, commit=False)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert report.ok and report.created == 2000, report.errors[:3]
    assert len([s for s in statements if "FROM exchange_rate" in s]) <= 1
    # without the rate, the same file is refused row by row, naming the pair and each row's date
    with transaction(engine) as s:
        s.execute(delete(ExchangeRate))
    refused = import_deals(engine, (HEADER + rows).encode(), by=None, commit=False)
    assert not refused.ok
    assert refused.errors[0].message == no_rate("AE 2026", "ana@example.com", "2026-02-10")
