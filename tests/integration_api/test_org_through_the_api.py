"""A whole organisation loaded through the integration API alone (issue 18): teams, people, the plan, its
assignments, quotas and deals, with no CLI and no form, gives every statement `commissions calc` computes
from the same files, line for line.

The files are written first (the offline calculator's formats, cli.md), then sent through the API, so the
two sides read the same inputs. Seeded: a 2-team, 9-person company with 40 deals (splits, cancellations,
renewals the plan does not credit, multi-year deals for the SPIFF).
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from commissions.auth.tokens import create_token
from commissions.calculation.queue import drain
from commissions.calculator.command import calc_command
from commissions.core.db import transaction
from commissions.models import Person

PLAN = (Path(__file__).resolve().parents[1] / "engine" / "data" / "plan.yaml").read_text()
PERIOD = "2026-Q1"
MANAGERS = [("mia@example.com", "Mia Manager", "East"), ("raj@example.com", "Raj Manager", "West")]
REPS = [
    ("ana@example.com", "Ana Rep", "mia@example.com", "East"),
    ("bo@example.com", "Bo Rep", "mia@example.com", "East"),
    ("cy@example.com", "Cy Rep", "mia@example.com", "East"),
    ("di@example.com", "Di Rep", "raj@example.com", "West"),
    ("ed@example.com", "Ed Rep", "raj@example.com", "West"),
    ("fi@example.com", "Fi Rep", "raj@example.com", "West"),
    ("gu@example.com", "Gu Rep", "raj@example.com", "West"),
]


def _files(tmp_path: Path) -> dict[str, str]:
    rng = random.Random(2026)
    people = ["email,name,manager,team,employee_id"]
    people += [f"{e},{n},,{t},M{i}" for i, (e, n, t) in enumerate(MANAGERS)]
    people += [f"{e},{n},{m},{t},E{i}" for i, (e, n, m, t) in enumerate(REPS)]
    quotas = ["person,metric,period,target"] + [
        f"{e},bookings,{PERIOD},{rng.choice([80000, 100000, 150000])}" for e, *_ in REPS
    ]
    header = "external_id,name,account,owner,amount,currency,closed_at,type,product,term_months,source_campaign,status,cancelled_at,splits"
    deals = [header]
    emails = [e for e, *_ in REPS]
    for i in range(40):
        owner = rng.choice(emails)
        closed = date(2026, 1, 1) + timedelta(days=rng.randrange(90))
        cancelled = rng.random() < 0.1
        splits = ""
        if rng.random() < 0.15:
            other = rng.choice([e for e in emails if e != owner])
            splits = f"{owner}:60;{other}:40"
        deals.append(
            ",".join(
                [
                    f"D-{i}",
                    f"Deal {i}",
                    f"Account {i}",
                    owner,
                    str(rng.randrange(5_000, 60_000)),
                    "USD",
                    closed.isoformat(),
                    rng.choice(["new", "new", "expansion", "renewal"]),
                    rng.choice(["Pro", "Enterprise", "Starter"]),
                    str(rng.choice([12, 24, 36])),
                    "",
                    "cancelled" if cancelled else "won",
                    (closed + timedelta(days=3)).isoformat() if cancelled else "",
                    splits,
                ]
            )
        )
    files = {"plan.yaml": PLAN, "people.csv": "\n".join(people) + "\n", "quotas.csv": "\n".join(quotas) + "\n"}
    files["deals.csv"] = "\n".join(deals) + "\n"
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return files


def _calc(tmp_path: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    args = [
        f"--{n}={tmp_path / f}"
        for n, f in (("plan", "plan.yaml"), ("people", "people.csv"), ("deals", "deals.csv"), ("quotas", "quotas.csv"))
    ]
    result = CliRunner().invoke(calc_command, [*args, "--period", PERIOD, "--json"])
    assert result.exit_code == 0, result.output
    return {payee["person"]: payee for payee in json.loads(result.stdout)["payees"]}


def _token(engine: Engine, email: str, role: str) -> dict[str, str]:
    with transaction(engine) as session:
        person = Person(email=email, name=role.title(), role=role)
        session.add(person)
        session.flush()
        _, clear = create_token(session, name=f"{role} integration", role=role, person=person, created_by=None)
    return {"Authorization": f"Bearer {clear}"}


def test_an_org_loaded_through_the_api_alone_pays_what_calc_computes(client, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = _files(tmp_path)
    admin = _token(engine, "it@example.com", "admin")  # the one credential made outside the API
    finance = _token(engine, "payroll@example.com", "finance")

    teams = client.put(
        "/api/v1/teams", json=[{"name": "East", "kind": "sales"}, {"name": "West", "kind": "sales"}], headers=admin
    )
    assert teams.status_code == 200, teams.text
    people = [{"email": e, "name": n, "role": "manager", "team": t} for e, n, t in MANAGERS]
    people += [
        {"email": e, "name": n, "role": "rep", "team": t, "manager": m, "employee_id": f"E{i}"}
        for i, (e, n, m, t) in enumerate(REPS)
    ]
    assert client.put("/api/v1/people", json=people, headers=admin).json()["created"] == len(people)
    plan = client.put(
        "/api/v1/plans/AE 2026", json={"document": files["plan.yaml"], "effective_from": "2026-01-01"}, headers=admin
    )
    assert plan.status_code in (200, 201), plan.text
    assignments = [{"person": e, "from": "2026-01-01", "to": None, "prorate": False} for e, *_ in REPS]
    assigned = client.put("/api/v1/plans/AE 2026/assignments", json=assignments, headers=admin)
    assert assigned.status_code == 200, assigned.text
    quotas = [
        {"person": row["person"], "metric": row["metric"], "period": row["period"], "target": row["target"]}
        for row in csv.DictReader(io.StringIO(files["quotas.csv"]))
    ]
    assert client.put("/api/v1/quotas", json=quotas, headers=admin).status_code == 200
    imported = client.post(
        "/api/v1/deals/import", content=files["deals.csv"], headers={**finance, "content-type": "text/csv"}
    )
    assert imported.status_code in (200, 201), imported.text
    drain(engine)  # the managers' statements: what `commissions worker` does beside the app

    expected = _calc(tmp_path)
    assert set(expected) == {e for e, *_ in REPS}  # every rep is paid
    for email, payee in expected.items():
        got = client.get(f"/api/v1/statements/{email}", params={"period": PERIOD}, headers=finance)
        assert got.status_code == 200, got.text
        statement = got.json()
        assert Decimal(statement["total"]) == Decimal(payee["total"]), email
        (plan_out,) = statement["plans"]
        assert Decimal(plan_out["credited"]) == Decimal(payee["credited"]), email
        components = {c["name"]: c for c in statement["components"]}
        for component in payee["components"]:
            mine = components[component["name"]]
            assert Decimal(mine["amount"]) == Decimal(component["amount"]), (email, component["name"])
            assert sorted((line["deal"], Decimal(line["amount"])) for line in mine["lines"]) == sorted(
                (line["deal"], Decimal(line["amount"])) for line in component["lines"]
            ), (email, component["name"])
    # and sending the same org again changes nothing anywhere
    assert client.put("/api/v1/people", json=people, headers=admin).json()["changed"] is False
    assert client.put("/api/v1/plans/AE 2026/assignments", json=assignments, headers=admin).json()["changed"] is False
