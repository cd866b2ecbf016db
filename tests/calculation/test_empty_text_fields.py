"""plans.md 4, settled: the standard text fields are never null. The app's loader and the offline
calculator's reader give the engine the same values for the same deals: an empty field is "",
an empty term_months is None, so `source_campaign != ""` means "a campaign sourced it" in both."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions import engine as eng
from commissions.calculation.loader import load_period_inputs
from commissions.calculator.readers import read_deals
from commissions.core.db import transaction
from commissions.deals.schemas import DealIn
from commissions.deals.service import record_one
from commissions.models import Campaign, Person

HEADER = "external_id,name,account,owner,amount,currency,closed_at,type,product,term_months,source_campaign,status,cancelled_at,splits\n"
ROWS = (
    "D-1,Acme,Acme,ana@example.com,100,USD,2026-01-10,new,Pro,12,WEB,won,,\n"
    "D-2,Globex,,ana@example.com,100,USD,2026-01-11,new,,,,won,,\n"
)
FIELDS = ("type", "product", "source_campaign", "account", "name", "currency", "term_months")


def test_loader_and_calculator_feed_empty_text_alike(engine: Engine, make_person, tmp_path: Path) -> None:
    make_person("ana@example.com")
    make_person("mo@example.com")
    with transaction(engine) as s:
        mo = s.exec(select(Person).where(Person.email == "mo@example.com")).one()
        s.add(Campaign(code="WEB", name="Webinar", owner_id=mo.id, channel="events"))
    record_one(
        engine,
        DealIn(
            external_id="D-1",
            name="Acme",
            account="Acme",
            owner="ana@example.com",
            amount="100",
            closed_at=date(2026, 1, 10),
            product="Pro",
            term_months=12,
            source_campaign="WEB",
        ),
        by=None,
    )
    record_one(
        engine,
        DealIn(
            external_id="D-2",
            name="Globex",
            owner="ana@example.com",
            amount="100",
            closed_at=date(2026, 1, 11),
            source_campaign="",
        ),
        by=None,
    )
    with Session(engine) as s:
        stored = {d.external_id: d for d in load_period_inputs(s, eng.parse_period("2026-Q1")).deals}

    (tmp_path / "deals.csv").write_text(HEADER + ROWS)
    plan = eng.parse_plan(
        {
            "name": "P",
            "currency": "USD",
            "period": "quarter",
            "components": [{"name": "Flat", "kind": "per_deal", "rate": "10%"}],
        }
    )
    read = {d.external_id: d for d in read_deals(tmp_path / "deals.csv", plan, {"ana@example.com", "mo@example.com"})}

    for external_id in ("D-1", "D-2"):
        assert [getattr(stored[external_id], f) for f in FIELDS] == [getattr(read[external_id], f) for f in FIELDS]
    assert (stored["D-2"].source_campaign, stored["D-2"].product, stored["D-2"].account) == ("", "", "")
    assert stored["D-2"].term_months is None
    for text, expected in (
        ('source_campaign != ""', [True, False]),
        ('source_campaign == ""', [False, True]),
        ('product == ""', [False, True]),
        ("term_months != 12", [False, True]),
    ):
        condition = eng.compile_condition(text)
        assert [condition(stored[x]) for x in ("D-1", "D-2")] == expected, text
        assert [condition(read[x]) for x in ("D-1", "D-2")] == expected, text
