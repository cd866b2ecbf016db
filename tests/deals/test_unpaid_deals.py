"""A won deal that pays nobody says why on its page: the plan whose credit rule leaves it out, or no plan."""

from __future__ import annotations

import re

from sqlalchemy import Engine
from sqlmodel import select

from commissions.models import Deal
from tests.conftest import read, sign_in
from tests.finance_fixtures import example_deal, setup_books


def _page(client, engine: Engine, external_id: str, who: str) -> str:  # type: ignore[no-untyped-def]
    deal_id = read(engine, lambda s: s.exec(select(Deal.id).where(Deal.external_id == external_id)).one())
    client.cookies.clear()
    sign_in(client, who)
    page = client.get(f"/deals/{deal_id}")
    assert page.status_code == 200
    return re.sub(r"\s+", " ", page.text)


def test_a_renewal_left_out_by_the_plan_says_so(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)  # the worked example's plan: credit.when: type != "renewal"
    make_person("cy@example.com")  # on no plan
    for body in (
        example_deal("NEW-1", "60000", "2026-01-10"),
        example_deal("REN-1", "25000", "2026-03-20", type="renewal"),
        example_deal("CY-1", "5000", "2026-02-01", owner="cy@example.com"),
    ):
        assert client.post("/api/v1/deals", json=body, headers=tokens["crm"]).status_code == 201

    renewal = _page(client, engine, "REN-1", "ana@example.com")
    assert "No lines: this deal pays nobody in your statements." in renewal
    assert (
        "Plan AE 2026 (Ana) counts only deals that meet its credit rule, and this one does not: "
        "<code>type != &#34;renewal&#34;</code>" in renewal
    ), renewal[renewal.find("no-lines") : renewal.find("no-lines") + 600]
    assert "still being computed" not in renewal

    counted = _page(client, engine, "NEW-1", "ana@example.com")
    assert 'id="no-lines"' not in counted and "credit rule" not in counted

    nobody = _page(client, engine, "CY-1", "fin@example.com")
    assert "No plan is assigned to Cy in 2026-Q1." in nobody
