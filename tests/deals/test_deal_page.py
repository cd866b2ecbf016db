"""The deal page (/deals/{id}): who may see it, whose lines it shows, who may edit and cancel it (the rules of
commissions/deals/rules.py, unchanged), the notice of a locked period, and the confirmation after saving."""

from __future__ import annotations

import re
from datetime import date

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from commissions.core.principal import Principal
from commissions.deals.schemas import DealIn
from commissions.deals.service import record_one
from commissions.models import Deal, PayoutLine, Period, Person
from tests.conftest import csrf_from, read, sign_in

PEOPLE = {
    "mgr": ("mgr@example.com", "manager"),
    "ana": ("ana@example.com", "rep"),
    "bo": ("bo@example.com", "rep"),
    "west": ("west@example.com", "manager"),
    "cy": ("cy@example.com", "rep"),
    "fin": ("fin@example.com", "finance"),
    "root": ("root@example.com", "admin"),
}


def body(external_id: str, owner: str, **extra: object) -> dict[str, object]:
    return {
        "external_id": external_id,
        "name": f"{external_id} platform",
        "account": "Acme",
        "owner": owner,
        "amount": "1000",
        "closed_at": "2026-02-10",
        **extra,
    }


def principal_of(engine: Engine, email: str) -> Principal:
    p = read(engine, lambda s: s.exec(select(Person).where(Person.email == email)).one())
    return Principal(role=p.role, person_id=p.id, email=p.email, name=p.name)


def deal_id(engine: Engine, external_id: str) -> int:
    return read(engine, lambda s: s.exec(select(Deal.id).where(Deal.external_id == external_id)).one())


def deal_state(engine: Engine, external_id: str) -> tuple[object, ...]:
    d = read(engine, lambda s: s.exec(select(Deal).where(Deal.external_id == external_id)).one())
    return (d.name, d.amount_minor, d.status, d.cancelled_at, d.closed_at)


@pytest.fixture
def world(engine: Engine, make_person) -> Engine:
    make_person("mgr@example.com", "manager", team="East")
    make_person("ana@example.com", manager="mgr@example.com", team="East")
    make_person("bo@example.com", manager="mgr@example.com", team="East")
    make_person("west@example.com", "manager", team="West")
    make_person("cy@example.com", manager="west@example.com", team="West")
    make_person("fin@example.com", "finance")
    make_person("root@example.com", "admin")
    fin = principal_of(engine, "fin@example.com")
    ana = principal_of(engine, "ana@example.com")
    record_one(engine, DealIn.model_validate(body("SYS-1", "ana@example.com")), by=None)  # from the CRM
    record_one(engine, DealIn.model_validate(body("ANA-1", "ana@example.com")), by=ana)  # ana's own entry
    record_one(
        engine,
        DealIn.model_validate(
            body(
                "SHARED-1",
                "ana@example.com",
                splits=[{"person": "ana@example.com", "share": 50}, {"person": "cy@example.com", "share": 50}],
            )
        ),
        by=fin,
    )
    return engine


# Who may see the deal page, and who may edit and cancel the deal (deals/rules.py): True, or the status code.
# SYS-1: ana's deal recorded by the CRM; ANA-1: recorded by ana herself; SHARED-1: ana's, split with cy (West).
VIEW = {
    "SYS-1": {"ana": 200, "bo": 404, "cy": 404, "mgr": 200, "west": 404, "fin": 200, "root": 200},
    "ANA-1": {"ana": 200, "bo": 404, "cy": 404, "mgr": 200, "west": 404, "fin": 200, "root": 200},
    "SHARED-1": {"ana": 200, "bo": 404, "cy": 200, "mgr": 200, "west": 200, "fin": 200, "root": 200},
}
CHANGE = {  # GET /edit: 200 allowed, 403 seen but not changeable, 404 not seen
    "SYS-1": {"ana": 403, "bo": 404, "cy": 404, "mgr": 200, "west": 404, "fin": 200, "root": 200},
    "ANA-1": {"ana": 200, "bo": 404, "cy": 404, "mgr": 200, "west": 404, "fin": 200, "root": 200},
    "SHARED-1": {"ana": 403, "bo": 404, "cy": 403, "mgr": 403, "west": 403, "fin": 200, "root": 200},
}


def as_(client: TestClient, who: str) -> str:
    client.cookies.clear()
    response = sign_in(client, PEOPLE[who][0])
    assert response.status_code in (302, 303)
    return csrf_from(client)


@pytest.mark.parametrize("xid", sorted(VIEW))
def test_who_sees_the_deal_page_and_who_may_change_it(client: TestClient, world: Engine, xid: str) -> None:
    did = deal_id(world, xid)
    problems = []
    for who in PEOPLE:
        token = as_(client, who)
        page = client.get(f"/deals/{did}")
        if page.status_code != VIEW[xid][who]:
            problems.append(f"GET /deals/{xid} as {who}: {page.status_code}")
        if page.status_code == 200:
            offers = f'href="/deals/{did}/edit"' in page.text and 'id="cancel-deal"' in page.text
            if offers != (CHANGE[xid][who] == 200):
                problems.append(f"{xid} as {who}: edit/cancel offered={offers}")
        edit = client.get(f"/deals/{did}/edit")
        if edit.status_code != CHANGE[xid][who]:
            problems.append(f"GET /deals/{xid}/edit as {who}: {edit.status_code}")
        if CHANGE[xid][who] != 200:  # refused writes change nothing
            before = deal_state(world, xid)
            for path, form in (
                (f"/deals/{did}/edit", {**body(xid, "x"), "amount": "5"}),
                (f"/deals/{did}/cancel", {"cancelled_at": "2026-03-01"}),
            ):
                r = client.post(path, data={**form, "_csrf_token": token}, follow_redirects=False)
                if r.status_code != CHANGE[xid][who]:
                    problems.append(f"POST {path} ({xid}) as {who}: {r.status_code}")
            if deal_state(world, xid) != before:
                problems.append(f"{xid} as {who}: a refused write changed the deal")
    assert not problems, "\n".join(problems)


def test_no_deal_is_reachable_by_guessing_its_number(client: TestClient, world: Engine) -> None:
    as_(client, "bo")
    for path in (
        "/deals/999999",
        "/deals/0",
        "/deals/2147483648",
        "/deals/9223372036854775807",
        f"/deals/{deal_id(world, 'SYS-1')}",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "no deal with this number that you may see" in r.text or r.status_code == 404
    assert client.get("/deals/999999/edit").status_code == 404
    client.cookies.clear()
    r = client.get(f"/deals/{deal_id(world, 'SYS-1')}", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")


def test_edit_saves_and_says_so(client: TestClient, world: Engine) -> None:
    did = deal_id(world, "SYS-1")
    token = as_(client, "mgr")
    form = client.get(f"/deals/{did}/edit").text
    assert 'value="1000.00"' in form and 'value="SYS-1 platform"' in form
    sent = {
        "name": "Bigger platform",
        "account": "Acme",
        "amount": "2500.50",
        "currency": "USD",
        "closed_at": "2026-02-11",
        "type": "expansion",
        "product": "Pro",
        "term_months": "12",
        "source_campaign": "",
        "_csrf_token": token,
    }
    r = client.post(f"/deals/{did}/edit", data=sent, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/deals/{did}?saved=updated"
    page = client.get(r.headers["location"]).text
    assert 'id="deal-saved"' in page and "Saved" in page and "Bigger platform" in page
    assert deal_state(world, "SYS-1") == ("Bigger platform", 250050, "won", None, date(2026, 2, 11))
    again = client.post(f"/deals/{did}/edit", data=sent, follow_redirects=False)
    assert again.headers["location"] == f"/deals/{did}?saved=unchanged"
    bad = client.post(f"/deals/{did}/edit", data={**sent, "amount": "12.345"}, follow_redirects=False)
    assert bad.status_code == 400 and "more decimals than USD allows" in bad.text
    assert deal_state(world, "SYS-1")[1] == 250050


def test_cancel_needs_a_day_then_cancels_and_says_so(client: TestClient, world: Engine) -> None:
    did = deal_id(world, "ANA-1")
    token = as_(client, "ana")
    empty = client.post(f"/deals/{did}/cancel", data={"_csrf_token": token}, follow_redirects=False)
    assert empty.status_code == 400 and "choose the day the deal was cancelled" in empty.text
    early = client.post(
        f"/deals/{did}/cancel", data={"cancelled_at": "2026-01-01", "_csrf_token": token}, follow_redirects=False
    )
    assert early.status_code == 400 and "cancelled_at" in early.text
    assert deal_state(world, "ANA-1")[2] == "won"
    r = client.post(
        f"/deals/{did}/cancel", data={"cancelled_at": "2026-03-01", "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/deals/{did}?saved=cancelled"
    page = client.get(r.headers["location"]).text
    assert "Cancelled: the deal no longer pays" in page and 'id="cancel-deal"' not in page
    assert deal_state(world, "ANA-1")[2:4] == ("cancelled", date(2026, 3, 1))
    again = client.post(
        f"/deals/{did}/cancel", data={"cancelled_at": "2026-03-02", "_csrf_token": token}, follow_redirects=False
    )
    assert again.status_code == 400 and "already cancelled" in again.text


def test_a_reps_change_crediting_others_waits_for_approval(client: TestClient, world: Engine) -> None:
    from commissions.deals.approvals import approve

    ana, mgr = principal_of(world, "ana@example.com"), principal_of(world, "mgr@example.com")
    split = [{"person": "ana@example.com", "share": 50}, {"person": "bo@example.com", "share": 50}]
    held, _ = record_one(world, DealIn.model_validate(body("ANA-2", "ana@example.com", splits=split)), by=ana)
    assert held.outcome == "held"
    approve(world, held.approval.id, by=mgr)  # type: ignore[union-attr]
    did = deal_id(world, "ANA-2")
    token = as_(client, "ana")
    page = client.get(f"/deals/{did}").text
    assert "waits for your manager" in page
    r = client.post(f"/deals/{did}/edit", data={"amount": "1200", "_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/deals/approvals?held=ANA-2"
    assert deal_state(world, "ANA-2")[1] == 100000, "held: the deal pays as before until approved"
    assert "A change to this deal waits for approval" in client.get(f"/deals/{did}").text


def test_decision_notices_say_only_what_the_caller_did(client: TestClient, world: Engine) -> None:
    """The notices after a redirect name a deal the caller asked for or decided, never a link's own text."""
    ana = principal_of(world, "ana@example.com")
    split = [{"person": "ana@example.com", "share": 50}, {"person": "bo@example.com", "share": 50}]
    held, _ = record_one(world, DealIn.model_validate(body("ANA-9", "ana@example.com", splits=split)), by=ana)
    assert held.outcome == "held"
    as_(client, "ana")
    assert "ANA-9 credits other people" in client.get("/deals/approvals?held=ANA-9").text
    for crafted in ("Your-pay-is-frozen-call-555-0100", "ANA-1"):  # text, and a deal with no held change of hers
        shown = client.get(f"/deals/approvals?held={crafted}")
        assert shown.status_code == 200 and "credits other people: it waits" not in shown.text
    assert "Approved ANA-9" not in client.get("/deals/approvals?approved=ANA-9").text  # nobody decided it yet

    token = as_(client, "mgr")
    assert "ANA-9 credits other people" not in client.get("/deals/approvals?held=ANA-9").text  # ana asked, not mgr
    decided = client.post(
        f"/deals/approvals/{held.approval.id}/approve",  # type: ignore[union-attr]
        data={"_csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert decided.status_code == 303 and decided.headers["location"] == "/?approved=ANA-9"
    assert "Approved ANA-9: it counts now." in client.get("/?approved=ANA-9").text
    assert "Approved ANA-9: it counts now." in client.get("/deals/approvals?approved=ANA-9").text
    assert "Rejected ANA-9" not in client.get("/?rejected=ANA-9").text

    as_(client, "fin")  # finance may decide too, but did not decide this one
    assert "Approved ANA-9" not in client.get("/?approved=ANA-9").text
    assert "Approved ANA-9" not in client.get("/deals/approvals?approved=ANA-9").text


def _line(s, person: Person, period_id: int, deal: Deal, amount: int, **extra: object) -> PayoutLine:  # type: ignore[no-untyped-def]
    line = PayoutLine(
        person_id=person.id,
        period_id=period_id,
        component=extra.pop("component", "Commission"),
        kind=extra.pop("kind", "earning"),
        deal_id=deal.id,
        deal_owner_id=deal.owner_id,
        amount_minor=amount,
        currency="USD",
        text=str(extra.pop("text", f"{deal.external_id}: line of {person.email}")),
        **extra,
    )
    s.add(line)
    s.flush()
    return line


def test_lines_shown_are_those_of_statements_one_may_read(client: TestClient, world: Engine) -> None:
    with transaction(world) as s:
        q1, q2 = ensure_period(s, "2026-Q1"), ensure_period(s, "2026-Q2")
        q1.state = "locked"
        people = {p.email.split("@")[0]: p for p in s.exec(select(Person)).all()}
        deal = s.exec(select(Deal).where(Deal.external_id == "SHARED-1")).one()
        _line(s, people["ana"], q1.id, deal, 5000, text="ana's commission")
        _line(s, people["cy"], q1.id, deal, 4000, text="cy's commission")
        _line(s, people["mgr"], q1.id, deal, 700, component="Team override", text="mgr's override")
        old = _line(s, people["ana"], q1.id, deal, 9999, text="superseded line")
        _line(s, people["ana"], q1.id, deal, -9999, kind="reversal", reverses_id=old.id, text="its reversal")
        _line(
            s,
            people["ana"],
            q2.id,
            deal,
            1200,
            kind="adjustment",
            component="Prior-period adjustment",
            original_period_id=q1.id,
            text="Prior-period adjustment for 2026-Q1, deal SHARED-1",
        )
    did = deal_id(world, "SHARED-1")
    expected = {
        "ana": {"ana's commission", "Prior-period adjustment for 2026-Q1, deal SHARED-1"},
        "cy": {"cy's commission"},
        "mgr": {"ana's commission", "mgr's override", "Prior-period adjustment for 2026-Q1, deal SHARED-1"},
        "west": {"cy's commission"},
        "fin": {
            "ana's commission",
            "cy's commission",
            "mgr's override",
            "Prior-period adjustment for 2026-Q1, deal SHARED-1",
        },
        "root": set(),
    }
    for who, texts in expected.items():
        as_(client, who)
        page = client.get(f"/deals/{did}").text
        shown = set(re.findall(r'<td class="line-text">([^<]*)</td>', page.replace("&#39;", "'")))
        assert shown == texts, who
        assert "superseded line" not in page and "its reversal" not in page
        assert 'id="locked-2026-Q1"' in page and "which is locked" in page
        if who == "root":
            assert "Admins do not read pay" in page
        if "Prior-period adjustment for 2026-Q1, deal SHARED-1" in texts:
            assert "booked as a prior-period adjustment in <strong>2026-Q2</strong>" in page
            assert "<strong>Adjustment</strong> for 2026-Q1 (locked), booked in 2026-Q2" in page
    # once paid, the adjustment names the period as it stands (it said "locked" of a paid period)
    with transaction(world) as s:
        s.exec(select(Period).where(Period.key == "2026-Q1")).one().state = "paid"
    as_(client, "fin")
    assert "<strong>Adjustment</strong> for 2026-Q1 (paid), booked in 2026-Q2" in client.get(f"/deals/{did}").text


def test_the_list_links_each_deal_to_its_page(client: TestClient, world: Engine) -> None:
    as_(client, "ana")
    page = client.get("/deals?period=2026-Q1").text
    for xid in ("SYS-1", "ANA-1", "SHARED-1"):
        assert f'href="/deals/{deal_id(world, xid)}"' in page


def test_the_splits_are_named_as_the_approvals_name_them(client: TestClient, world: Engine) -> None:
    """The deal page listed split partners by email while the approval queue names them: names, the email on
    hover."""
    as_(client, "fin")
    page = client.get(f"/deals/{deal_id(world, 'SHARED-1')}").text
    assert '<span title="ana@example.com">Ana</span> 50 %' in page
    assert '<span title="cy@example.com">Cy</span> 50 %' in page
