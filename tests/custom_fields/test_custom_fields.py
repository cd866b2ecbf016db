"""Custom deal fields: declared by admins (API, page, CLI), carried by deals (API, CSV, form) and used by
plan conditions exactly as plans.md 4 says (compared as their type; empty or unreadable is null)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from commissions.calculation.ledger import current_lines_query
from commissions.calculation.queue import drain
from commissions.calculation.state import pending_count
from commissions.core.db import get_engine, make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.core.settings import get_settings
from commissions.models import AuditEvent, CustomField, Deal, Period, Person, Plan
from commissions.people.service import create_person
from commissions.plans.service import InvalidPlan, assign, save_plan_version
from tests.calc_fixtures import store_plan, store_quota
from tests.conftest import BACKENDS, csrf_from, fresh_database_url, read, sign_in
from tests.deals.test_deals_api import token_for

Q1 = date(2026, 1, 1)
FIELDS = {"region": "text", "seats": "number", "signed_on": "date", "strategic": "boolean"}
PLAN = """name: Fields 2026
currency: USD
period: quarter
quota: bookings
components:
  - name: EU SPIFF
    kind: per_deal
    when: region == "EU"
    pay: 100
  - name: Outside EU
    kind: per_deal
    when: region != "EU"
    pay: 1
  - name: Big deal
    kind: per_deal
    when: seats >= 50
    pay: 20
  - name: Early signer
    kind: per_deal
    when: signed_on < 2026-02-01
    pay: 5
  - name: Strategic
    kind: per_deal
    when: strategic
    pay: 1000
"""


def deal(external_id: str, **custom: object) -> dict:
    return {
        "external_id": external_id,
        "name": external_id,
        "owner": "ana@example.com",
        "amount": "1000.00",
        "currency": "USD",
        "closed_at": "2026-02-10",
        "custom_fields": custom,
    }


def declare(engine: Engine, fields: dict[str, str] = FIELDS) -> None:
    from commissions.custom_fields.service import declare_field

    with transaction(engine) as s:
        for name, kind in fields.items():
            declare_field(s, name=name, type=kind, by=None)


def plan_for_ana(engine: Engine, text: str = PLAN) -> None:
    with transaction(engine) as s:
        saved = save_plan_version(s, text=text, effective_from=Q1, by=None)
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        assign(s, plan=saved.plan, person=ana, starts_on=Q1, by=None)
    store_quota(engine, "ana@example.com", 100_000)


def lines_by_deal(engine: Engine, email: str = "ana@example.com") -> dict[str, dict[str, int]]:
    """The statement's current lines: deal → component → amount in cents."""
    with Session(engine) as s:
        pid = s.exec(select(Person.id).where(Person.email == email)).one()
        period_id = s.exec(select(Period.id).where(Period.key == "2026-Q1")).one()
        names = dict(s.exec(select(Deal.id, Deal.external_id)).all())
        out: dict[str, dict[str, int]] = {}
        for line in s.exec(current_lines_query(pid, period_id)).all():
            if line.deal_id is not None and line.amount_minor:
                out.setdefault(names[line.deal_id], {})[line.component] = line.amount_minor
        return out


def field_count(engine: Engine) -> int:
    return read(engine, lambda s: s.exec(select(func.count()).select_from(CustomField)).one())


@pytest.fixture
def admin(engine: Engine, make_person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    make_person("root@example.com", "admin")
    return token_for(engine, "admin", "root@example.com")


# --- declaring -----------------------------------------------------------------------------------


def test_declare_through_the_api(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/custom-fields", json={"name": "region", "type": "text"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json() == {"name": "region", "type": "text", "label": ""}
    assert (
        client.post(
            "/api/v1/custom-fields", json={"name": "seats", "type": "number", "label": "Seats sold"}, headers=admin
        ).status_code
        == 201
    )
    listed = client.get("/api/v1/custom-fields", headers=admin).json()
    assert listed == {
        "items": [
            {"name": "region", "type": "text", "label": ""},
            {"name": "seats", "type": "number", "label": "Seats sold"},
        ],
        "next_cursor": None,
    }
    first = client.get("/api/v1/custom-fields?limit=1", headers=admin).json()
    assert [f["name"] for f in first["items"]] == ["region"] and first["next_cursor"]
    rest = client.get(f"/api/v1/custom-fields?limit=1&cursor={first['next_cursor']}", headers=admin).json()
    assert [f["name"] for f in rest["items"]] == ["seats"] and rest["next_cursor"] is None

    events = read(
        engine,
        lambda s: s.exec(
            select(AuditEvent.action, AuditEvent.object_id, AuditEvent.actor_label)
            .where(AuditEvent.action == "custom_field.declare")
            .order_by(AuditEvent.id)
        ).all(),
    )
    assert events == [
        ("custom_field.declare", "region", "root@example.com"),
        ("custom_field.declare", "seats", "root@example.com"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "region", "type": "number"}, 409, "type"),  # already declared as text: a type never changes
        ({"name": "region", "type": "text", "label": "Territory"}, 409, "label"),  # declared with another label
        ({"name": "REGION", "type": "number"}, 409, "name"),  # the same name in another case
        ({"name": "2fast", "type": "text"}, 400, "name"),
        ({"name": "sales-region", "type": "text"}, 400, "name"),
        ({"name": "", "type": "text"}, 400, "name"),
        ({"name": "x" * 65, "type": "text"}, 400, "name"),
        ({"name": "amount", "type": "number"}, 400, "name"),  # a standard deal field
        ({"name": "splits", "type": "text"}, 400, "name"),  # a CSV column
        ({"name": "not", "type": "boolean"}, 400, "name"),  # a word of the condition language
        ({"name": "colour", "type": "colour"}, 400, "type"),
        ({"name": "colour", "type": ""}, 400, "type"),
        ({"name": "colour"}, 400, "type"),
        ({"name": "colour", "type": "text", "label": "y" * 121}, 400, "label"),
        ({"name": "colour", "type": "text", "surprise": 1}, 400, "surprise"),
    ],
)
def test_bad_declarations_are_4xx_naming_the_field(
    client, engine: Engine, admin, body: dict, status: int, field: str
) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/custom-fields", json={"name": "region", "type": "text"}, headers=admin)
    response = client.post("/api/v1/custom-fields", json=body, headers=admin)
    assert response.status_code == status, response.text
    assert field in str(response.json()["extra"]), response.json()
    assert field_count(engine) == 1


def test_declaring_a_field_again_exactly_as_it_is_is_200_and_changes_nothing(client, engine: Engine, admin) -> None:  # type: ignore[no-untyped-def]
    body = {"name": "region", "type": "text", "label": "Sales region"}
    assert client.post("/api/v1/custom-fields", json=body, headers=admin).status_code == 201
    for again in (body, {"name": "region", "type": "text"}):  # a label left out matches the stored one
        response = client.post("/api/v1/custom-fields", json=again, headers=admin)
        assert response.status_code == 200, response.text
        assert response.json() == body
    assert field_count(engine) == 1
    declared = read(
        engine,
        lambda s: s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "custom_field.declare")
        ).one(),
    )
    assert declared == 1  # nothing audited for the repeats


def test_the_field_list_pages_with_link_headers(client, admin) -> None:  # type: ignore[no-untyped-def]
    for name in ("alpha", "beta", "gamma"):
        client.post("/api/v1/custom-fields", json={"name": name, "type": "text"}, headers=admin)
    first = client.get("/api/v1/custom-fields?limit=2", headers=admin)
    cursor = first.json()["next_cursor"]
    assert cursor and first.headers["x-next-cursor"] == cursor
    assert first.headers["link"] == f'</api/v1/custom-fields?limit=2&cursor={cursor}>; rel="next"'
    last = client.get(f"/api/v1/custom-fields?limit=2&cursor={cursor}", headers=admin)
    assert [f["name"] for f in last.json()["items"]] == ["gamma"]
    assert "link" not in last.headers and last.json()["next_cursor"] is None
    assert client.get("/api/v1/custom-fields?limit=1001", headers=admin).status_code == 400
    for made_up in ("garbage", "zzzzzz", "alpha", cursor[:-2]):  # not handed out (a bare name neither): 400
        bad = client.get(f"/api/v1/custom-fields?limit=1&cursor={made_up}", headers=admin)
        assert bad.status_code == 400, made_up
        assert bad.json()["extra"] == {"field": "cursor"} and "not one this list handed out" in bad.json()["detail"]


@pytest.mark.parametrize("role", ["rep", "manager", "finance"])
def test_only_admins_declare_or_list(client, engine: Engine, make_person, role: str) -> None:  # type: ignore[no-untyped-def]
    make_person(f"{role}@example.com", role)
    headers = token_for(engine, role, f"{role}@example.com")
    assert (
        client.post("/api/v1/custom-fields", json={"name": "region", "type": "text"}, headers=headers).status_code
        == 403
    )
    assert client.get("/api/v1/custom-fields", headers=headers).status_code == 403
    sign_in(client, f"{role}@example.com")
    assert client.get("/admin/custom-fields").status_code == 403
    page = client.post(
        "/admin/custom-fields", data={"name": "region", "type": "text", "_csrf_token": csrf_from(client)}
    )
    assert page.status_code == 403
    assert field_count(engine) == 0
    assert (
        read(
            engine,
            lambda s: s.exec(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "custom_field.declare")
            ).one(),
        )
        == 0
    )


def test_declare_through_the_page(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    home = client.get("/").text
    assert '<a href="/admin/custom-fields"' in home.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    empty = client.get("/admin/custom-fields")
    assert empty.status_code == 200 and "No custom fields yet." in empty.text
    token = csrf_from(client)

    saved = client.post(
        "/admin/custom-fields",
        data={"name": "region", "type": "text", "label": "Sales region", "_csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/custom-fields?declared=region"
    shown = client.get(saved.headers["location"]).text
    assert "Field “region” declared (text)" in shown and "region == &#34;value&#34;" in shown
    assert "<td>Sales region</td>" in shown

    bad = client.post("/admin/custom-fields", data={"name": "sales region", "type": "text", "_csrf_token": token})
    assert bad.status_code == 400
    assert 'class="field invalid"' in bad.text and "cannot be used in a condition" in bad.text
    assert 'value="sales region"' in bad.text, "the form keeps what was typed"
    taken = client.post("/admin/custom-fields", data={"name": "Region", "type": "number", "_csrf_token": token})
    assert taken.status_code == 409 and "already declared" in taken.text
    bad_type = client.post("/admin/custom-fields", data={"name": "seats", "type": "integer", "_csrf_token": token})
    assert bad_type.status_code == 400 and "not a field type" in bad_type.text

    # htmx: the panel comes back (200, so htmx swaps it) with the confirmation or the error
    hx = {"HX-Request": "true", "x-csrftoken": token}
    swapped = client.post("/admin/custom-fields", data={"name": "seats", "type": "number"}, headers=hx)
    assert swapped.status_code == 200
    assert 'id="custom-fields"' in swapped.text and "<html" not in swapped.text
    assert "Field “seats” declared (number)" in swapped.text and "seats &gt;= 10" in swapped.text
    again = client.post("/admin/custom-fields", data={"name": "seats", "type": "number"}, headers=hx)
    assert again.status_code == 200 and "already declared" in again.text
    assert read(
        engine,
        lambda s: s.exec(
            select(CustomField.name, CustomField.type, CustomField.label).order_by(CustomField.name)
        ).all(),
    ) == [("region", "text", "Sales region"), ("seats", "number", "")]
    assert (
        read(
            engine,
            lambda s: s.exec(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "custom_field.declare")
            ).one(),
        )
        == 2
    )


# --- the CLI -------------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def cli_db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fresh database that the CLI finds through DATABASE_URL (settings and engine are cached)."""
    url = fresh_database_url(request.param, tmp_path, "field_cli")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = make_engine(url)
    upgrade(engine=engine)
    with transaction(engine) as session:
        create_person(session, email="ana@example.com", role="rep")
        create_person(session, email="root@example.com", role="admin")
    yield engine
    engine.dispose()
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def cli(*args: str):  # type: ignore[no-untyped-def]
    from commissions.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_field_add_and_list_in_the_cli(cli_db) -> None:  # type: ignore[no-untyped-def]
    done = cli("field", "add", "region", "--type", "text")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == 'Declared region (text): plans can use it, e.g. region == "value"'
    assert (
        cli("field", "add", "seats", "--type", "number", "--label", "Seats", "--as", "root@example.com").exit_code == 0
    )

    bad_type = cli("field", "add", "colour", "--type", "colour")
    assert bad_type.exit_code == 2 and "--type" in bad_type.output
    bad_name = cli("field", "add", "sales-region", "--type", "text")
    assert bad_name.exit_code == 2 and "Error: name:" in bad_name.output
    taken = cli("field", "add", "Region", "--type", "text")
    assert taken.exit_code == 1 and "already declared" in taken.output
    not_admin = cli("field", "add", "tier", "--type", "text", "--as", "ana@example.com")
    assert not_admin.exit_code == 2 and "not an active admin" in not_admin.output

    listed = cli("field", "list")
    assert listed.exit_code == 0 and listed.output.splitlines() == ["region\ttext", "seats\tnumber\tSeats"]
    actors = read(
        cli_db,
        lambda s: s.exec(
            select(AuditEvent.actor_label).where(AuditEvent.action == "custom_field.declare").order_by(AuditEvent.id)
        ).all(),
    )
    assert actors == ["cli: field add", "root@example.com"]


def test_plan_apply_accepts_a_declared_field_and_refuses_an_undeclared_one(cli_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    refused = cli("plan", "apply", str(plan), "--effective-from", "2026-01-01")
    assert refused.exit_code == 2
    assert "unknown name 'region'" in refused.output and "EU SPIFF" in refused.output
    assert read(cli_db, lambda s: s.exec(select(func.count()).select_from(Plan)).one()) == 0
    for name, kind in FIELDS.items():
        assert cli("field", "add", name, "--type", kind).exit_code == 0
    applied = cli("plan", "apply", str(plan), "--effective-from", "2026-01-01", "--assign", "ana@example.com")
    assert applied.exit_code == 0, applied.output
    assert applied.output.splitlines()[0].startswith("Fields 2026: created the plan")


def test_plan_pages_accept_a_declared_field_and_refuse_an_undeclared_one(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    form = {"document": PLAN, "effective_from": "2026-01-01", "_csrf_token": csrf_from(client)}
    refused = client.post("/plans/new", data=form)
    assert refused.status_code == 400 and "unknown name" in refused.text and "region" in refused.text
    declare(engine)
    checked = client.post("/plans/validate", data=form)
    assert checked.status_code == 200 and "unknown name" not in checked.text
    saved = client.post("/plans/new", data=form, follow_redirects=False)
    assert saved.status_code in (302, 303), saved.text
    assert read(engine, lambda s: s.exec(select(Plan.name)).all()) == ["Fields 2026"]


def test_a_type_mismatch_in_a_condition_is_refused_with_its_position(engine: Engine) -> None:
    declare(engine)
    with transaction(engine) as s, pytest.raises(InvalidPlan) as caught:
        save_plan_version(s, text=PLAN.replace("seats >= 50", 'seats >= "50"'), effective_from=Q1, by=None)
    issue = caught.value.issues[0]
    assert (issue.component, issue.field) == ("Big deal", "when") and "seats is a number" in issue.message


# --- deals carrying them, and the statements that result -----------------------------------------


def test_conditions_on_declared_fields_through_the_api(client, engine: Engine, admin, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    declare(engine)
    plan_for_ana(engine)
    bodies = [
        deal("D-EU", region="EU", seats=100, signed_on="2026-01-15", strategic=True),
        # "9" >= 50 would hold as text; as a number it does not. Dates compare as dates, "no" is false.
        deal("D-US", region="US", seats="9", signed_on="2026-03-01", strategic="no"),
        deal("D-NONE"),  # no values: null, for which only != holds
        deal("D-EMPTY", region="", seats="", signed_on="", strategic=""),  # empty is null too
    ]
    for body in bodies:
        response = client.post("/api/v1/deals", json=body, headers=admin)
        assert response.status_code == 201, response.text
    assert client.post("/api/v1/deals", json=bodies[0], headers=admin).json()["custom_fields"] == {
        "region": "EU",
        "seats": 100,
        "signed_on": "2026-01-15",
        "strategic": True,
    }
    assert lines_by_deal(engine) == {
        "D-EU": {"EU SPIFF": 10_000, "Big deal": 2_000, "Early signer": 500, "Strategic": 100_000},
        "D-US": {"Outside EU": 100},
        "D-NONE": {"Outside EU": 100},
        "D-EMPTY": {"Outside EU": 100},
    }


@pytest.mark.parametrize(
    ("custom", "field"),
    [
        ({"seats": "many"}, "custom_fields.seats"),
        ({"seats": True}, "custom_fields.seats"),
        ({"seats": "NaN"}, "custom_fields.seats"),
        ({"signed_on": "31/01/2026"}, "custom_fields.signed_on"),
        ({"signed_on": 20}, "custom_fields.signed_on"),
        ({"strategic": "maybe"}, "custom_fields.strategic"),
        ({"Region": "EU"}, "custom_fields.Region"),  # a typo of a declared name would count as empty
    ],
)
def test_unreadable_values_of_declared_fields_are_400s(
    client, engine: Engine, admin, make_person, custom: dict, field: str
) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    declare(engine)
    response = client.post("/api/v1/deals", json=deal("D-1", **custom), headers=admin)
    assert response.status_code == 400, response.text
    assert response.json()["extra"] == {"field": field}
    assert field.removeprefix("custom_fields.") in response.json()["detail"]
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Deal)).one()) == 0


def test_undeclared_keys_are_kept_and_count_once_declared(client, engine: Engine, admin, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    response = client.post("/api/v1/deals", json=deal("D-EU", region="EU", colour="blue"), headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["custom_fields"] == {"region": "EU", "colour": "blue"}, "kept as sent, unchecked"
    with transaction(engine) as s, pytest.raises(InvalidPlan, match="unknown name 'region'"):
        save_plan_version(s, text=PLAN, effective_from=Q1, by=None)

    # CRM data often arrives first: once region is declared, a plan can use the values already stored.
    assert (
        client.post("/api/v1/custom-fields", json={"name": "region", "type": "text"}, headers=admin).status_code == 201
    )
    plan_for_ana(engine, PLAN.split("  - name: Big deal")[0])
    drain(engine)  # the assignment queued ana's statement
    assert lines_by_deal(engine) == {"D-EU": {"EU SPIFF": 10_000}}


def test_declaring_a_field_marks_the_statements_of_plans_mentioning_it(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    from commissions.custom_fields.service import declare_field

    make_person("ana@example.com")
    make_person("bo@example.com")
    store_plan(
        engine,
        ["ana@example.com"],
        document=PLAN.split("  - name: EU SPIFF")[0] + "# region bonus: next year\n"
        "  - {name: Flat, kind: per_deal, rate: 1%}\n",
        name="Mentions",
    )
    store_plan(
        engine,
        ["bo@example.com"],
        document=PLAN.split("  - name: EU SPIFF")[0] + "  - {name: Flat, kind: per_deal, rate: 1%}\n",
        name="Silent",
    )
    with transaction(engine) as s:
        assert declare_field(s, name="tier", type="text", by=None).statements == 0, "no plan mentions tier"
        done = declare_field(s, name="region", type="text", by=None)
    ana = read(engine, lambda s: s.exec(select(Person.id).where(Person.email == "ana@example.com")).one())
    assert done.statements >= 1
    assert read(engine, pending_count) == done.statements
    from commissions.calculation.state import pending_select
    from commissions.models import StatementState

    assert read(engine, lambda s: set(s.exec(pending_select(StatementState.person_id)).all())) == {ana}


CSV_HEADER = "external_id,name,owner,amount,currency,closed_at,region,seats\n"


def test_conditions_on_declared_fields_through_the_csv_import(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    make_person("fin@example.com", "finance")
    declare(engine, {"region": "text", "seats": "number"})
    plan_for_ana(engine, PLAN.split("  - name: Early signer")[0])
    finance = token_for(engine, "finance", "fin@example.com")

    bad = (
        CSV_HEADER
        + "D-1,One,ana@example.com,1000,USD,2026-02-10,EU,100\nD-2,Two,ana@example.com,1000,USD,2026-02-11,US,lots\n"
    )
    refused = client.post("/api/v1/deals/import", content=bad.encode(), headers={**finance, "content-type": "text/csv"})
    assert refused.status_code == 400
    assert refused.json()["extra"]["errors"] == [
        {
            "line": 3,
            "field": "seats",
            "message": "seats is a number field: 'lots' is not a number (write it like 1250.50)",
        }
    ]
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Deal)).one()) == 0

    good = CSV_HEADER + (
        "D-1,One,ana@example.com,1000,USD,2026-02-10,EU,100\n"
        "D-2,Two,ana@example.com,1000,USD,2026-02-11,US,9\n"
        "D-3,Three,ana@example.com,1000,USD,2026-02-12,,\n"
    )
    done = client.post("/api/v1/deals/import", content=good.encode(), headers={**finance, "content-type": "text/csv"})
    assert done.status_code == 200 and done.json()["committed"], done.text
    assert read(engine, lambda s: dict(s.exec(select(Deal.external_id, Deal.custom_fields)).all())) == {
        "D-1": {"region": "EU", "seats": "100"},
        "D-2": {"region": "US", "seats": "9"},
        "D-3": {},
    }
    drain(engine)  # an import queues its statements for the worker
    assert lines_by_deal(engine) == {
        "D-1": {"EU SPIFF": 10_000, "Big deal": 2_000},
        "D-2": {"Outside EU": 100},
        "D-3": {"Outside EU": 100},
    }


def test_the_deal_form_offers_an_input_per_declared_field(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    declare(engine)
    with transaction(engine) as s:
        s.exec(select(CustomField).where(CustomField.name == "seats")).one().label = "Seats sold"
    sign_in(client, "ana@example.com")
    form = client.get("/deals/new").text
    assert '<input name="custom_region" type="text"' in form
    assert '<input name="custom_signed_on" type="date"' in form
    assert '<select name="custom_strategic"' in form
    assert "<span>Seats sold</span>" in form
    assert "<span>Signed on</span>" in form, "without a label: the name, readable"

    token = csrf_from(client)
    values = {
        "name": "Form deal",
        "owner": "ana@example.com",
        "amount": "1200",
        "currency": "USD",
        "closed_at": "2026-02-10",
        "type": "new",
        "_csrf_token": token,
        "custom_region": "EU",
        "custom_seats": "lots",
        "custom_signed_on": "2026-01-20",
        "custom_strategic": "true",
    }
    inline = client.post("/deals/new/validate", data=values, headers={"HX-Request": "true", "x-csrftoken": token})
    assert 'id="error-custom_seats" hx-swap-oob="true">seats is a number field' in inline.text
    refused = client.post("/deals/new", data=values)
    assert refused.status_code == 400 and "&#39;lots&#39; is not a number" in refused.text
    assert 'value="lots"' in refused.text, "the form keeps what was typed"
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(Deal)).one()) == 0

    saved = client.post("/deals/new", data={**values, "custom_seats": "75"}, follow_redirects=False)
    assert saved.status_code in (302, 303), saved.text
    assert read(engine, lambda s: s.exec(select(Deal.custom_fields)).one()) == {
        "region": "EU",
        "seats": "75",
        "signed_on": "2026-01-20",
        "strategic": "true",
    }


def test_every_field_of_a_deal_is_a_reserved_custom_field_name() -> None:
    """custom_fields spells out the deal's fields (it must not import deals); this keeps the list whole."""
    from commissions.custom_fields.service import RESERVED
    from commissions.deals.schemas import DealIn

    assert set(DealIn.model_fields) <= RESERVED
