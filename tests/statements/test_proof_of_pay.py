"""Proof of pay and freshness: a statement's download is reproduced by `commissions calc` and
`commissions verify`, an edited input is named, nobody downloads a statement they may not read,
and the statement (API and page) says when it was computed and whether changes still wait."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from commissions.calculation.state import touch
from commissions.calculator.verify import fingerprint, sha256_hex
from commissions.cli import main
from commissions.core.db import transaction
from commissions.demo import DEMO_PASSWORD, load_demo
from commissions.engine import ENGINE_VERSION
from commissions.engine.money import CONTEXT
from commissions.models import PayeeSummary, Period, Person, StatementResult
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import sign_in
from tests.deals.test_deals_api import token_for

MANAGERS_PLAN = (Path(__file__).parents[2] / "commissions" / "demo_plans" / "managers.yaml").read_text()
URL = "/statements/{email}/inputs.zip?period={period}"
API_URL = "/api/v1/statements/{email}/inputs?period={period}"
DRAW_PLAN = """
name: Draw plan
currency: USD
period: quarter
quota: bookings
components:
  - name: Commission
    kind: per_deal
    rate: 10%
draw: {amount: 1000, recoverable: true}
"""


def setup(client, engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The worked example for ana, a deal split with bo, a cancelled deal, and mia (their manager) on a
    team plan with an override; zoe manages another team."""
    make_person("mia@example.com", "manager")
    make_person("ana@example.com", manager="mia@example.com")
    make_person("bo@example.com", manager="mia@example.com")
    make_person("zoe@example.com", "manager")
    make_person("fin@example.com", "finance")
    store_plan(engine, ["ana@example.com", "bo@example.com"])
    store_plan(engine, ["mia@example.com"], document=MANAGERS_PLAN, name="Sales managers 2026")
    for email, target in (("ana@example.com", 100_000), ("bo@example.com", 100_000), ("mia@example.com", 250_000)):
        store_quota(engine, email, target)
    crm = token_for(engine, "admin")
    for body in (
        example_deal("D-1", "60000", "2026-01-10"),
        example_deal("D-2", "45000", "2026-02-03", product="Enterprise", term_months=36),
        example_deal("D-3", "25000", "2026-03-20", type="renewal"),
        example_deal(
            "D-4",
            "30000",
            "2026-03-01",
            splits=[{"person": "ana@example.com", "share": "60"}, {"person": "bo@example.com", "share": "40"}],
        ),
        example_deal("D-5", "20000", "2026-02-15", owner="bo@example.com"),
        example_deal("D-6", "10000", "2026-01-20", status="cancelled", cancelled_at="2026-02-01"),
    ):
        response = client.post("/api/v1/deals", json=body, headers=crm)
        assert response.status_code == 201, response.text
    from commissions.calculation.service import recalc_period

    recalc_period(engine, "2026-Q1")  # the managers above the deals too (the worker's job in the app)
    return {
        "rep": token_for(engine, "rep", "ana@example.com"),
        "bo": token_for(engine, "rep", "bo@example.com"),
        "manager": token_for(engine, "manager", "mia@example.com"),
        "finance": token_for(engine, "finance", "fin@example.com"),
    }


def unzip(content: bytes, folder: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(folder)
        return {name: archive.read(name) for name in archive.namelist()}


def calc(folder: Path, period: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    args = [
        "calc",
        "--plan",
        str(folder / "plan.yaml"),
        "--people",
        str(folder / "people.csv"),
        "--deals",
        str(folder / "deals.csv"),
        "--quotas",
        str(folder / "quotas.csv"),
        "--period",
        period,
        "--json",
    ]
    if (folder / "campaigns.csv").exists():
        args[-3:-3] = ["--campaigns", str(folder / "campaigns.csv")]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def verify(folder: Path) -> tuple[int, str]:
    """`commissions verify` on a download: its exit status and what it prints on stdout (notes go to stderr)."""
    result = CliRunner().invoke(main, ["verify", str(folder / "statement.json"), str(folder)], catch_exceptions=False)
    return result.exit_code, result.stdout


def engine_lines(components: list[dict]) -> list[tuple[str, str | None, str, str]]:  # type: ignore[type-arg]
    return sorted((c["name"], line["deal"], line["amount"], line["text"]) for c in components for line in c["lines"])


def assert_reproduced(folder: Path, statement: dict) -> None:  # type: ignore[type-arg]
    """`commissions calc` on the files pays the statement's person exactly its lines and total, and only them."""
    status, document = calc(folder, statement["period"])
    assert status == 0, document
    [payee] = document["payees"]
    assert payee["person"] == statement["person"]
    assert engine_lines(payee["components"]) == engine_lines(statement["components"])
    assert engine_lines(payee["components"]), "a statement with lines was checked"
    adjustments = sum((Decimal(a["amount"]) for a in statement["adjustments"]), Decimal(0))
    assert Decimal(payee["total"]) == Decimal(statement["total"]) - adjustments
    status, output = verify(folder)
    assert (status, output.split(":")[0]) == (0, "reproduced"), output


def test_downloads_of_the_rep_and_the_manager_are_reproduced_by_calc_and_verify(
    client, engine: Engine, make_person, tmp_path: Path
) -> None:
    tokens = setup(client, engine, make_person)
    sign_in(client, "ana@example.com")
    response = client.get(URL.format(email="ana@example.com", period="2026-Q1"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    files = unzip(response.content, tmp_path / "ana")
    assert set(files) == {"plan.yaml", "people.csv", "deals.csv", "quotas.csv", "statement.json", "README.txt"}
    statement = json.loads(files["statement.json"])
    api = client.get("/api/v1/statements/ana@example.com?period=2026-Q1&proof=true", headers=tokens["rep"]).json()
    assert statement == api, "statement.json is the API's answer"
    assert statement["inputs"] == {name: sha256_hex(files[name]) for name in statement["inputs"]}
    assert statement["reproducible"] is True and statement["offline_notes"] == []
    # the worked example and D-4's 60 % share; not bo's own deal D-5 (ana's plan is `scope: own`)
    assert statement["total"] == "16450.00"  # 123000 credited: 10000 + 3450 + 500 + 2500
    people = list(csv.DictReader(io.StringIO(files["people.csv"].decode())))
    assert {p["email"]: p["plan"] for p in people} == {"ana@example.com": "AE 2026", "bo@example.com": ""}
    assert all(p["manager"] == "" for p in people), "no manager chain beyond what the calculation needs"
    deals = [row["external_id"] for row in csv.DictReader(io.StringIO(files["deals.csv"].decode()))]
    assert deals == ["D-1", "D-6", "D-2", "D-4", "D-3"]
    assert files["quotas.csv"].decode() == "person,metric,period,target\nana@example.com,bookings,2026-Q1,100000.00\n"
    assert_reproduced(tmp_path / "ana", statement)
    assert client.get(URL.format(email="ana@example.com", period="2026-Q1")).content == response.content, (
        "the same statement downloads byte-identical"
    )

    # her manager, through the API with a token: the same files
    by_manager = client.get(API_URL.format(email="ana@example.com", period="2026-Q1"), headers=tokens["manager"])
    assert by_manager.status_code == 200
    manager_files = unzip(by_manager.content, tmp_path / "ana-by-mia")
    assert {k: v for k, v in manager_files.items() if k != "statement.json"} == {
        k: v for k, v in files.items() if k != "statement.json"
    }
    assert_reproduced(tmp_path / "ana-by-mia", json.loads(manager_files["statement.json"]))

    # the manager's own statement: team credit and an override on her reports' deals
    client.cookies.clear()
    sign_in(client, "mia@example.com")
    mine = unzip(client.get(URL.format(email="mia@example.com", period="2026-Q1")).content, tmp_path / "mia")
    statement = json.loads(mine["statement.json"])
    people = {p["email"]: p for p in csv.DictReader(io.StringIO(mine["people.csv"].decode()))}
    assert {e: (p["manager"], p["plan"]) for e, p in people.items()} == {
        "mia@example.com": ("", "Sales managers 2026"),
        "ana@example.com": ("mia@example.com", ""),
        "bo@example.com": ("mia@example.com", ""),
    }
    deals = [row["external_id"] for row in csv.DictReader(io.StringIO(mine["deals.csv"].decode()))]
    assert deals == ["D-1", "D-6", "D-2", "D-5", "D-4", "D-3"]
    assert {c["name"] for c in statement["components"]} == {"Team attainment", "Team override"}
    assert_reproduced(tmp_path / "mia", statement)


def test_an_edited_deals_file_is_named_by_verify(client, engine: Engine, make_person, tmp_path: Path) -> None:
    tokens = setup(client, engine, make_person)
    folder = tmp_path / "ana"
    unzip(client.get(API_URL.format(email="ana@example.com", period="2026-Q1"), headers=tokens["rep"]).content, folder)
    deals = (folder / "deals.csv").read_text()
    assert ",60000.00," in deals
    (folder / "deals.csv").write_text(deals.replace(",60000.00,", ",70000.00,"))
    status, output = verify(folder)
    assert status == 1, output
    first, *rest = output.splitlines()
    assert first.startswith("difference: deals.csv is not the file this statement was computed from"), output
    assert any(
        line.startswith("difference: Commission, deal D-1: stored 6000.00") and "recomputed 7000.00" in line
        for line in rest
    ), output
    assert "reproduced:" not in output

    # the statement file edited instead (an amount raised): the line is named, the files are fine
    (folder / "deals.csv").write_text(deals)
    statement = json.loads((folder / "statement.json").read_text())
    statement["components"][0]["lines"][0]["amount"] = "9999.00"
    (folder / "statement.json").write_text(json.dumps(statement))
    status, output = verify(folder)
    assert status == 1 and output.startswith("difference: Commission, deal D-1: stored 9999.00"), output


def test_verify_refuses_bad_arguments(client, engine: Engine, make_person, tmp_path: Path) -> None:
    tokens = setup(client, engine, make_person)
    folder = tmp_path / "ana"
    unzip(client.get(API_URL.format(email="ana@example.com", period="2026-Q1"), headers=tokens["rep"]).content, folder)
    runner = CliRunner()
    missing = runner.invoke(main, ["verify", str(folder / "nope.json"), str(folder)])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (tmp_path / "empty").mkdir()
    no_files = runner.invoke(main, ["verify", str(folder / "statement.json"), str(tmp_path / "empty")])
    assert no_files.exit_code == 2 and "has no plan.yaml" in no_files.output
    not_a_statement = runner.invoke(main, ["verify", str(folder / "people.csv"), str(folder)])
    assert not_a_statement.exit_code == 2 and "is not a statement JSON file" in not_a_statement.output
    (tmp_path / "old.json").write_text(json.dumps({"person": "ana@example.com", "total": "1.00"}))
    old = runner.invoke(main, ["verify", str(tmp_path / "old.json"), str(folder)])
    assert old.exit_code == 2 and "not a statement with its inputs" in old.output
    good = json.loads((folder / "statement.json").read_text())
    for mangle in (
        {"components": 5},
        {"plans": [{"errors": 5}]},
        {"components": [{"name": "Commission", "amount": "1.00", "lines": [{"deal": "D-1"}]}]},
    ):
        (tmp_path / "bad.json").write_text(json.dumps({**good, **mangle}))
        bad = runner.invoke(main, ["verify", str(tmp_path / "bad.json"), str(folder)])
        assert bad.exit_code == 2 and "not a statement as the app writes it" in bad.output, (mangle, bad.output)


def test_nobody_downloads_a_statement_they_may_not_read(client, engine: Engine, make_person) -> None:
    tokens = setup(client, engine, make_person)
    for token in (tokens["bo"], token_for(engine, "manager", "zoe@example.com"), token_for(engine, "admin")):
        response = client.get(API_URL.format(email="ana@example.com", period="2026-Q1"), headers=token)
        assert response.status_code in (403, 404)
        assert b"D-1" not in response.content and b"PK" not in response.content[:2]
    for email, status in (("bo@example.com", 404), ("zoe@example.com", 404)):
        client.cookies.clear()
        sign_in(client, email)
        response = client.get(URL.format(email="ana@example.com", period="2026-Q1"))
        assert response.status_code == status and "D-1" not in response.text
        assert client.get(URL.format(email="nobody@example.com", period="2026-Q1")).status_code == 404
    assert (
        client.get(API_URL.format(email="ana@example.com", period="2026-Q1"), headers=tokens["finance"]).status_code
        == 200
    )


def test_the_statement_says_when_it_was_computed_and_whether_changes_wait(client, engine: Engine, make_person) -> None:
    tokens = setup(client, engine, make_person)
    url = "/api/v1/statements/ana@example.com?period=2026-Q1&proof=true"
    body = client.get(url, headers=tokens["rep"]).json()
    assert {"computed_at", "pending", "error", "fingerprint", "inputs", "total", "components", "plans"} <= set(body)
    assert body["pending"] is False and body["error"] is None and body["computed_at"]
    assert body["computed_at"].endswith("+00:00")
    assert body["engine_version"] == ENGINE_VERSION
    assert body["fingerprint"] == fingerprint(
        person="ana@example.com", period="2026-Q1", engine_version=ENGINE_VERSION, inputs=body["inputs"]
    )
    assert list(body["inputs"]) == ["plan.yaml", "people.csv", "deals.csv", "quotas.csv"]
    sign_in(client, "ana@example.com")
    page = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert "Check this statement yourself" in page
    assert 'href="/statements/ana%40example.com/inputs.zip?period=2026-Q1"' in page
    stamp = body["computed_at"][:16].replace("T", " ")
    assert f'Computed <time datetime="{body["computed_at"]}">{stamp} UTC</time>' in page
    assert "Changes are being applied" not in page
    assert body["fingerprint"][:16] in page and "reproduces every payout line" in page

    # a change not yet applied: pending on the API and the page
    with transaction(engine) as s:
        ana = s.exec(select(Person.id).where(Person.email == "ana@example.com")).one()
        touch(s, {ana}, {"2026-Q1"})
    assert client.get(url, headers=tokens["rep"]).json()["pending"] is True
    page = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert "Changes are being applied: these figures will update shortly." in page

    # the last calculation failed: the reason for everyone who may read the statement
    with transaction(engine) as s:
        s.exec(
            update(StatementResult)
            .where(StatementResult.person_id == ana)
            .values(error="deal D-9 is in EUR, the plan pays in USD")
        )
    for who in ("rep", "finance", "manager"):
        assert client.get(url, headers=tokens[who]).json()["error"] == "deal D-9 is in EUR, the plan pays in USD"
    page = client.get("/statements/ana@example.com?period=2026-Q1").text
    assert "The last calculation of this statement failed: deal D-9 is in EUR, the plan pays in USD" in page
    body = client.get(url, headers=tokens["rep"]).json()
    assert body["reproducible"] is True, "the stored lines still equal a fresh calculation"


def test_what_cannot_be_reproduced_offline_is_said_plainly(client, engine: Engine, make_person, tmp_path: Path) -> None:
    from commissions.adjustments.service import add_manual_adjustment

    make_person("ana@example.com")
    make_person("fin@example.com", "finance")
    store_plan(engine, ["ana@example.com"], document=DRAW_PLAN, name="Draw plan")
    crm, fin = token_for(engine, "admin"), token_for(engine, "finance", "fin@example.com")
    for external_id, amount, day in (("Q1", "5000", "2026-02-01"), ("Q2", "7000", "2026-05-01")):
        assert client.post("/api/v1/deals", json=example_deal(external_id, amount, day), headers=crm).status_code == 201
    q1 = client.get("/api/v1/statements/ana@example.com?period=2026-Q1&proof=true", headers=fin).json()
    assert q1["reproducible"] is True, q1["offline_notes"]  # a draw top-up, no balance carried in
    q2 = client.get("/api/v1/statements/ana@example.com?period=2026-Q2&proof=true", headers=fin).json()
    assert q2["plans"][0]["draw_balance_in"] == "500.00"
    assert q2["reproducible"] is False
    assert "A recoverable draw balance of 500.00 USD was carried in" in q2["offline_notes"][0]
    folder = tmp_path / "q2"
    unzip(client.get(API_URL.format(email="ana@example.com", period="2026-Q2"), headers=fin).content, folder)
    status, output = verify(folder)
    assert status == 1 and output.startswith("difference: draw"), output

    # a manual adjustment: not an engine line; the calculator reproduces the total before it
    with transaction(engine) as s:
        ana, finance = (
            s.exec(select(Person.id).where(Person.email == e)).one() for e in ("ana@example.com", "fin@example.com")
        )
        add_manual_adjustment(
            s, person_id=ana, period_key="2026-Q1", amount=Decimal("25.00"), reason="spiff by hand", actor_id=finance
        )
    q1 = client.get("/api/v1/statements/ana@example.com?period=2026-Q1&proof=true", headers=fin).json()
    assert q1["total"] == "1025.00" and q1["reproducible"] is True
    assert any("includes 25.00 USD of adjustments" in note and "1,000.00 USD" in note for note in q1["offline_notes"])
    folder = tmp_path / "q1"
    unzip(client.get(API_URL.format(email="ana@example.com", period="2026-Q1"), headers=fin).content, folder)
    status, output = verify(folder)
    assert status == 0 and output.startswith("reproduced:"), output
    sign_in(client, "fin@example.com")
    page = client.get("/statements/ana@example.com?period=2026-Q2").text
    assert "These figures cannot be reproduced offline as they stand." in page
    assert "A recoverable draw balance of 500.00 USD was carried in" in page


CUSTOM_PLAN = """
name: EU plan
currency: USD
period: quarter
quota: bookings
components:
  - name: Commission
    kind: tiered
    tiers: [{to: 100%, rate: 7%}, {rate: 11%}]
  - name: EU SPIFF
    kind: per_deal
    when: region == "EU" and seats >= 10
    pay: 250
"""


def test_custom_fields_and_a_prorated_quota_are_written_exactly(
    client, engine: Engine, make_person, tmp_path: Path
) -> None:
    make_person("cy@example.com")
    make_person("fin@example.com", "finance")
    admin, fin = token_for(engine, "admin"), token_for(engine, "finance", "fin@example.com")
    for body in ({"name": "region", "type": "text"}, {"name": "seats", "type": "number"}):
        assert client.post("/api/v1/custom-fields", json=body, headers=admin).status_code == 201
    # assigned from 10 February: 50 of the quarter's 90 days, so the quota is 100000 × 50 / 90 = 55555.55…
    store_plan(
        engine, ["cy@example.com"], document=CUSTOM_PLAN, name="EU plan", starts_on=date(2026, 2, 10), prorate=True
    )
    store_quota(engine, "cy@example.com", 100_000)
    for external_id, amount, custom in (
        ("E-1", "40000", {"region": "EU", "seats": "12"}),
        ("E-2", "30000", {"region": "US", "seats": "40"}),
        ("E-3", "20000", {"region": "EU", "seats": "3"}),
        ("E-4", "10000", {}),
    ):
        body = example_deal(external_id, amount, "2026-03-02", owner="cy@example.com", custom_fields=custom)
        assert client.post("/api/v1/deals", json=body, headers=admin).status_code == 201
    folder = tmp_path / "cy"
    files = unzip(client.get(API_URL.format(email="cy@example.com", period="2026-Q1"), headers=fin).content, folder)
    statement = json.loads(files["statement.json"])
    assert statement["reproducible"] is True, statement["offline_notes"]
    assert files["deals.csv"].decode().splitlines()[0].endswith(",splits,region,seats")
    target = next(csv.DictReader(io.StringIO(files["quotas.csv"].decode())))["target"]
    assert Decimal(target) == CONTEXT.divide(Decimal("100000.00") * 50, Decimal(90)), target  # every digit the app uses
    assert target.startswith("55555.5555555555")
    spiff = next(c for c in statement["components"] if c["name"] == "EU SPIFF")
    assert [(line["deal"], line["amount"]) for line in spiff["lines"]] == [("E-1", "250.00")]
    assert_reproduced(folder, statement)


def test_every_statement_of_the_demo_organisation_is_reproduced(engine: Engine, settings, tmp_path: Path) -> None:
    """Every plan kind the demo has (own scope with caps, team scope with overrides, sourced revenue through
    campaigns), downloaded by finance and checked by `commissions verify`."""
    from litestar.testing import TestClient

    from commissions.app.assembly import create_app

    load_demo(engine, today=date(2026, 11, 20))
    with Session(engine) as s:
        rows = s.exec(
            select(Person.email, Period.key)
            .join(PayeeSummary, PayeeSummary.person_id == Person.id)
            .join(Period, Period.id == PayeeSummary.period_id)
        ).all()
        finance = s.exec(select(Person.email).where(Person.role == "finance")).first()
    assert len(rows) >= 20
    with TestClient(app=create_app(settings, engine=engine), base_url="http://127.0.0.1:8000") as client:
        sign_in(client, finance, DEMO_PASSWORD)
        seen_campaigns = seen_team = False
        for email, key in rows:
            folder = tmp_path / email
            files = unzip(client.get(URL.format(email=email, period=key)).content, folder)
            statement = json.loads(files["statement.json"])
            assert statement["reproducible"] is True, (email, statement["offline_notes"])
            seen_campaigns |= "campaigns.csv" in files
            seen_team |= any(c["name"] == "Team override" for c in statement["components"])
            status, output = verify(folder)
            assert status == 0 and output.startswith("reproduced:"), (email, output)
        assert seen_campaigns and seen_team
