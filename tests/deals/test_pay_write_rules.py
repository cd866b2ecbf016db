"""Who may change pay (commissions/deals/rules.py), at every door, on SQLite and PostgreSQL.

Issue 14: a West rep who was a 40 % split partner on an East rep's deal re-submitted it through
the form as its owner and took the credit; a rep could credit 99.99 % of a deal to any rep of any
team. Both failed before the rule: today the first is refused with the owner's pay unchanged and
the second is held, paying nobody, until a manager or finance approves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from commissions.app.assembly import create_app
from commissions.auth.tokens import create_token
from commissions.calculation.service import recompute
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.core.periods import quarter_of
from commissions.core.settings import Settings
from commissions.demo import DEMO_PASSWORD, DOMAIN, load_demo
from commissions.models import AuditEvent, Deal, DealApproval, DealSplit, PayeeSummary, Period, Person
from tests.conftest import BACKENDS, empty_database, fresh_database_url, read

TODAY = date(2026, 11, 20)
CLOSED = "2026-11-10"
KEY = quarter_of(TODAY).key


@dataclass
class Org:
    engine: Engine
    app: Litestar
    ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module", params=BACKENDS)
def org(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    engine = make_engine(fresh_database_url(request.param, tmp_path_factory.mktemp("payrules"), "payrules"))
    upgrade(engine=engine)
    load_demo(engine, today=TODAY)
    settings = Settings(
        environment="test", data_dir=tmp_path_factory.mktemp("data"), database_url="sqlite://", secret_key="t" * 40
    )
    o = Org(engine, create_app(settings, engine=engine))
    with transaction(engine) as s:

        def one(prefix: str) -> Person:
            return s.exec(select(Person).where(Person.email == f"{prefix}@{DOMAIN}")).scalars().one()

        east, west = one("east.manager"), one("west.manager")
        people = {
            "ana": one("ana.alvarez"),
            "east": east,
            "west": west,
            "central": one("central.manager"),
            "finance": one("finance"),
            "admin": one("admin"),
            "nora": one("nora.field"),  # a marketer: owns campaign PPC-Q
            "marketing_lead": one("marketing.lead"),
        }
        people["east_rep"] = (
            s.exec(
                select(Person)
                .where(Person.manager_id == east.id, Person.role == "rep", Person.id != people["ana"].id)
                .order_by(Person.id)
            )
            .scalars()
            .first()
        )
        people["west_rep"] = (
            s.exec(select(Person).where(Person.manager_id == west.id, Person.role == "rep").order_by(Person.id))
            .scalars()
            .first()
        )
        for name, p in people.items():
            o.ids[name], o.emails[name] = p.id, p.email
            o.tokens[name] = create_token(s, name=f"rules {name}", role=p.role, person=p, created_by=None)[1]
    yield o
    empty_database(engine)
    engine.dispose()


# --- helpers ------------------------------------------------------------------------------------


def api(client: TestClient, org: Org, who: str, body: dict):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/deals", json=body, headers={"Authorization": f"Bearer {org.tokens[who]}"})


def deal_body(org: Org, external_id: str, owner: str, amount: str = "50000", splits=None, **extra) -> dict:  # type: ignore[no-untyped-def]
    body = {
        "external_id": external_id,
        "name": external_id,
        "account": "Acme",
        "owner": org.emails[owner],
        "amount": amount,
        "currency": "USD",
        "closed_at": CLOSED,
        "type": "new",
        **extra,
    }
    if splits:
        body["splits"] = [{"person": org.emails[p], "share": share} for p, share in splits]
    return body


def sign_in(client: TestClient, org: Org, who: str) -> str:
    client.cookies.clear()
    client.get("/login")
    token = client.cookies["csrftoken"]
    r = client.post(
        "/login",
        data={"email": org.emails[who], "password": DEMO_PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303)
    return client.cookies["csrftoken"]


def form_post(client: TestClient, org: Org, who: str, body: dict, *, splits=()):  # type: ignore[no-untyped-def]
    csrf = sign_in(client, org, who)
    data = {k: v for k, v in body.items() if k != "splits"} | {"_csrf_token": csrf}
    for i, (person, share) in enumerate(splits):
        data[f"split_person_{i}"], data[f"split_share_{i}"] = org.emails[person], share
    return client.post("/deals/new/", data=data, follow_redirects=False)


def page_post(client: TestClient, org: Org, who: str, path: str):  # type: ignore[no-untyped-def]
    csrf = sign_in(client, org, who)
    return client.post(path, data={"_csrf_token": csrf}, follow_redirects=False)


def pay(org: Org, who: str) -> tuple[int, int | None]:
    """(credited, total) of the person's statement in the period, as stored."""
    with Session(org.engine) as s:
        row = s.execute(
            select(PayeeSummary.credited_minor, PayeeSummary.total_minor)
            .join(Period, Period.id == PayeeSummary.period_id)
            .where(Period.key == KEY, PayeeSummary.person_id == org.ids[who])
        ).first()
        return (row[0], row[1]) if row else (0, None)


def deal_state(org: Org, external_id: str) -> tuple | None:
    with Session(org.engine) as s:
        deal = s.exec(select(Deal).where(Deal.external_id == external_id)).scalars().first()
        if deal is None:
            return None
        splits = sorted(
            s.execute(select(DealSplit.person_id, DealSplit.share_bp).where(DealSplit.deal_id == deal.id)).all()
        )
        return deal.owner_id, deal.amount_minor, deal.status, tuple(splits)


def held(org: Org, external_id: str) -> DealApproval | None:
    """The pending (held) change of the deal, if any."""
    with Session(org.engine) as s:
        return (
            s.exec(select(DealApproval).where(DealApproval.external_id == external_id, DealApproval.state == "pending"))
            .scalars()
            .first()
        )


def full_recompute(org: Org) -> None:
    """A fresh calculation of everyone in the period: what the stored inputs pay."""
    with transaction(org.engine) as s:
        recompute(s, KEY, trigger="test: full recalculation")


def audited(org: Org, action: str, external_id: str) -> int:
    with Session(org.engine) as s:
        return s.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.object_id == external_id)
        ).scalar_one()


@pytest.fixture
def client(org: Org) -> Iterator[TestClient]:
    with TestClient(app=org.app, base_url="http://127.0.0.1:8000") as c:
        yield c


# --- the tests ----------------------------------------------------------------------------------


def test_split_partner_cannot_rewrite_the_deal_as_its_owner(org: Org, client: TestClient) -> None:
    """Issue 14's attack: the West rep, 40 % partner on an East rep's deal, re-submits it as its owner."""
    r = api(client, org, "finance", deal_body(org, "R-1", "ana", splits=[("ana", "60"), ("west_rep", "40")]))
    assert r.status_code == 201
    full_recompute(org)
    before, ana_pay, partner_pay = deal_state(org, "R-1"), pay(org, "ana"), pay(org, "west_rep")

    rewrite = deal_body(org, "R-1", "west_rep")
    r = form_post(client, org, "west_rep", rewrite)
    assert r.status_code == 400 and "not available to you" in r.text
    r = api(client, org, "west_rep", rewrite)
    assert r.status_code == 403
    with_split = form_post(client, org, "west_rep", rewrite, splits=[("west_rep", "90"), ("ana", "10")])
    assert with_split.status_code == 400 and held(org, "R-1") is None

    assert deal_state(org, "R-1") == before
    assert (pay(org, "ana"), pay(org, "west_rep")) == (ana_pay, partner_pay)
    full_recompute(org)
    assert (pay(org, "ana"), pay(org, "west_rep")) == (ana_pay, partner_pay)


def test_a_reps_split_to_another_team_is_held_and_pays_nobody_until_approved(org: Org, client: TestClient) -> None:
    full_recompute(org)
    ana_pay, partner_pay = pay(org, "ana"), pay(org, "west_rep")
    body = deal_body(org, "R-2", "ana", amount="80000", splits=[("ana", "0.01"), ("west_rep", "99.99")])
    r = api(client, org, "ana", body)
    assert r.status_code == 202 and r.json()["approval"] == "pending"
    assert deal_state(org, "R-2") is None and held(org, "R-2") is not None
    assert (pay(org, "ana"), pay(org, "west_rep")) == (ana_pay, partner_pay)
    full_recompute(org)  # the loader never sees a held change
    assert (pay(org, "ana"), pay(org, "west_rep")) == (ana_pay, partner_pay)

    approval_id = held(org, "R-2").id
    # the queue: ana sees her own request, her manager may decide it, and it is on his home page
    sign_in(client, org, "ana")
    assert "R-2" in client.get("/deals/approvals").text and "Approve" not in client.get("/deals/approvals").text
    sign_in(client, org, "east")
    assert "R-2" in client.get("/").text and f"/deals/approvals/{approval_id}/approve" in client.get("/").text
    partner = read(org.engine, lambda s: s.get(Person, org.ids["west_rep"]).name)  # type: ignore[union-attr]
    queue = client.get("/deals/approvals").text  # people by name, their emails in a tooltip
    assert "Owner Ana Alvarez" in queue and f'title="{org.emails["west_rep"]}">{partner}</span> 99.99 %' in queue
    # nobody else decides it: a rep, a manager of another team, an admin
    assert page_post(client, org, "west_rep", f"/deals/approvals/{approval_id}/approve").status_code == 403
    assert page_post(client, org, "central", f"/deals/approvals/{approval_id}/approve").status_code == 404
    assert page_post(client, org, "admin", f"/deals/approvals/{approval_id}/approve").status_code == 403
    assert deal_state(org, "R-2") is None

    r = page_post(client, org, "east", f"/deals/approvals/{approval_id}/approve")
    assert r.status_code == 303
    assert held(org, "R-2") is None
    owner, amount, status, splits = deal_state(org, "R-2")
    assert (owner, amount, status) == (org.ids["ana"], 8_000_000, "won")
    assert splits == tuple(sorted([(org.ids["ana"], 1), (org.ids["west_rep"], 9999)]))
    # recomputed in the approval's own transaction: the partner's credit rose by 99.99 % of 80,000.00
    assert pay(org, "west_rep")[0] - partner_pay[0] == 7_999_200
    assert pay(org, "ana")[0] - ana_pay[0] == 800
    after = (pay(org, "ana"), pay(org, "west_rep"))
    full_recompute(org)
    assert (pay(org, "ana"), pay(org, "west_rep")) == after
    assert audited(org, "deal.approval_requested", "R-2") == 1 and audited(org, "deal.approved", "R-2") == 1
    # decided once: approving or rejecting it again is a conflict that changes nothing
    assert page_post(client, org, "finance", f"/deals/approvals/{approval_id}/approve").status_code == 409
    assert page_post(client, org, "east", f"/deals/approvals/{approval_id}/reject").status_code == 409
    assert (pay(org, "ana"), pay(org, "west_rep")) == after

    # the approved deal stays the rep's: a change of it credits bo again, so it is held once more
    r = api(client, org, "ana", {**body, "amount": "81000"})
    assert r.status_code == 202 and deal_state(org, "R-2")[1] == 8_000_000


def test_rejecting_drops_the_change_and_pays_nobody(org: Org, client: TestClient) -> None:
    full_recompute(org)
    ana_pay, partner_pay = pay(org, "ana"), pay(org, "east_rep")
    r = form_post(client, org, "ana", deal_body(org, "R-3", "ana"), splits=[("ana", "50"), ("east_rep", "50")])
    assert r.status_code in (302, 303) and r.headers["location"] == "/deals/approvals?held=R-3"
    approval_id = held(org, "R-3").id
    r = page_post(client, org, "finance", f"/deals/approvals/{approval_id}/reject")
    assert r.status_code == 303
    assert held(org, "R-3") is None and deal_state(org, "R-3") is None
    full_recompute(org)
    assert (pay(org, "ana"), pay(org, "east_rep")) == (ana_pay, partner_pay)
    assert audited(org, "deal.rejected", "R-3") == 1


def test_a_rep_cannot_change_or_cancel_anothers_deal_through_any_door(org: Org, client: TestClient) -> None:
    assert api(client, org, "finance", deal_body(org, "R-4", "east_rep")).status_code == 201
    assert api(client, org, "finance", deal_body(org, "R-5", "ana")).status_code == 201  # ana's, recorded by finance
    before = {x: deal_state(org, x) for x in ("R-4", "R-5")}
    for external_id, owner in (("R-4", "east_rep"), ("R-5", "ana")):
        edit = deal_body(org, external_id, owner, amount="99999")
        cancel = deal_body(org, external_id, owner, status="cancelled", cancelled_at=CLOSED)
        taken = deal_body(org, external_id, "ana", amount="50000")
        for body in (edit, cancel, taken):
            # R-5 sent as stored is ana's own deal again (api.md: 200, nothing changes); the form has no status
            # field, so the cancellation sent through it is R-5 as stored too
            as_stored = external_id == "R-5" and body is taken
            assert api(client, org, "ana", body).status_code == (200 if as_stored else 403), (external_id, body)
            as_stored = external_id == "R-5" and body is not edit
            assert form_post(client, org, "ana", body).status_code == (302 if as_stored else 400), (external_id, body)
    csv = f"external_id,owner,amount,closed_at\nR-4,{org.emails['ana']},1,{CLOSED}\n"
    r = client.post(
        "/api/v1/deals/import",
        content=csv,
        headers={"Authorization": f"Bearer {org.tokens['ana']}", "content-type": "text/csv"},
    )
    assert r.status_code == 403
    assert {x: deal_state(org, x) for x in ("R-4", "R-5")} == before
    assert held(org, "R-4") is None and held(org, "R-5") is None


def test_a_rep_records_and_edits_their_own_deal_at_once(org: Org, client: TestClient) -> None:
    assert api(client, org, "ana", deal_body(org, "R-6", "ana", amount="1000")).status_code == 201
    assert api(client, org, "ana", deal_body(org, "R-6", "ana", amount="1200")).status_code == 200
    r = api(client, org, "ana", deal_body(org, "R-6", "ana", amount="1200", status="cancelled", cancelled_at=CLOSED))
    assert r.status_code == 200 and deal_state(org, "R-6")[2] == "cancelled"
    assert api(client, org, "ana", deal_body(org, "R-7", "east_rep")).status_code == 403  # not hers


def test_managers_within_their_team_finance_and_admin_change_deals(org: Org, client: TestClient) -> None:
    assert (
        api(
            client, org, "finance", deal_body(org, "R-8", "ana", splits=[("ana", "50"), ("east_rep", "50")])
        ).status_code
        == 201
    )
    assert (
        api(
            client, org, "finance", deal_body(org, "R-9", "ana", splits=[("ana", "50"), ("west_rep", "50")])
        ).status_code
        == 201
    )
    before = deal_state(org, "R-8")
    assert api(client, org, "west", deal_body(org, "R-8", "ana", amount="1")).status_code == 403
    assert api(client, org, "central", deal_body(org, "R-8", "ana", amount="1")).status_code == 403
    assert form_post(client, org, "west", deal_body(org, "R-8", "ana", amount="1")).status_code == 400
    assert deal_state(org, "R-8") == before
    # East's manager: within his team, at once; not the deal that also credits a West rep
    assert (
        api(
            client,
            org,
            "east",
            deal_body(org, "R-8", "ana", amount="60000", splits=[("ana", "70"), ("east_rep", "30")]),
        ).status_code
        == 200
    )
    assert deal_state(org, "R-8")[1] == 6_000_000
    assert api(client, org, "east", deal_body(org, "R-9", "ana", amount="1")).status_code == 403
    # finance and admin: anything, at once
    assert (
        api(
            client,
            org,
            "finance",
            deal_body(org, "R-9", "ana", amount="61000", splits=[("ana", "50"), ("west_rep", "50")]),
        ).status_code
        == 200
    )
    assert api(client, org, "admin", deal_body(org, "R-9", "west_rep", amount="62000")).status_code == 200
    assert deal_state(org, "R-9")[:2] == (org.ids["west_rep"], 6_200_000)
    assert held(org, "R-8") is None and held(org, "R-9") is None


def test_no_existence_oracle_on_external_ids(org: Org, client: TestClient) -> None:
    """The form's live check treats a rep's entry as a new deal, and a refusal because of the deal behind an
    id is one sentence naming nobody, whoever owns or recorded it."""
    assert api(client, org, "finance", deal_body(org, "O-1", "east_rep")).status_code == 201  # someone else's
    assert api(client, org, "finance", deal_body(org, "O-2", "ana")).status_code == 201  # ana's, recorded by finance
    csrf = sign_in(client, org, "ana")

    def check(external_id: str) -> str:
        data = {k: v for k, v in deal_body(org, external_id, "ana").items()} | {"_csrf_token": csrf}
        r = client.post("/deals/new/validate", data=data, headers={"HX-Request": "true"})
        assert r.status_code == 200
        return r.text

    assert check("O-1") == check("O-2") == check("O-never-used")  # nothing tells the three apart
    # a change (another amount) to each: one refusal (O-2 sent as stored is ana's own deal again: 200)
    refusals = {
        api(client, org, "ana", deal_body(org, x, "ana", amount="60000")).json()["detail"] for x in ("O-1", "O-2")
    }
    assert len(refusals) == 1
    (refusal,) = refusals
    assert "not available" in refusal and org.emails["east_rep"] not in refusal and "someone" not in refusal


def test_the_approval_queue_api_for_managers_finance_and_reps(org: Org, client: TestClient) -> None:
    body = deal_body(org, "A-1", "ana", amount="30000", splits=[("ana", "50"), ("east_rep", "50")])
    assert api(client, org, "ana", body).status_code == 202
    approval_id = held(org, "A-1").id

    def call(who: str, method: str, path: str):  # type: ignore[no-untyped-def]
        client.cookies.clear()
        return client.request(
            method, f"/api/v1/deals/approvals{path}", headers={"Authorization": f"Bearer {org.tokens[who]}"}
        )

    mine = call("ana", "GET", "/").json()  # her own requests (the module's earlier tests left others)
    assert [(h["may_decide"], h["amount"]) for h in mine if h["external_id"] == "A-1"] == [(False, "30000.00")]
    listed = {h["external_id"]: h for h in call("east", "GET", "/").json()}
    assert listed["A-1"]["may_decide"] is True and listed["A-1"]["requested_by"] == org.emails["ana"]
    assert "A-1" not in {h["external_id"] for h in call("west", "GET", "/").json()}  # another team's manager
    assert call("admin", "GET", "/").status_code == 403
    # nobody but the requester's (or a credited person's) manager or finance decides it
    assert call("ana", "POST", f"/{approval_id}/approve").status_code == 403
    assert call("west", "POST", f"/{approval_id}/approve").status_code == 404
    assert call("admin", "POST", f"/{approval_id}/approve").status_code == 403
    assert deal_state(org, "A-1") is None
    r = call("east", "POST", f"/{approval_id}/approve")
    assert r.status_code == 200 and r.json() == {
        "id": approval_id,
        "external_id": "A-1",
        "decision": "approved",
        "outcome": "created",
    }
    assert deal_state(org, "A-1")[1] == 3_000_000
    assert call("finance", "POST", f"/{approval_id}/reject").status_code == 409  # decided once

    assert (
        api(client, org, "ana", deal_body(org, "A-2", "ana", splits=[("ana", "50"), ("west_rep", "50")])).status_code
        == 202
    )
    second = held(org, "A-2").id
    r = call("finance", "POST", f"/{second}/reject")
    assert r.status_code == 200 and r.json()["decision"] == "rejected"
    assert deal_state(org, "A-2") is None and held(org, "A-2") is None


def test_a_reps_change_that_takes_credit_from_another_team_waits_for_a_manager_over_them(
    org: Org, client: TestClient
) -> None:
    """The rep's manager approves a split that gives another team's rep a share (issue 14), but not a change that
    cuts that share: it takes pay from someone outside their team, so it waits for that person's manager (or one
    over both) or finance. A change that only adds to the partner's credit stays the rep's manager's to approve."""
    body = deal_body(org, "R-20", "ana", amount="10000", splits=[("ana", "50"), ("west_rep", "50")])
    assert api(client, org, "ana", body).status_code == 202
    assert page_post(client, org, "east", f"/deals/approvals/{held(org, 'R-20').id}/approve").status_code == 303

    cut = deal_body(org, "R-20", "ana", amount="10000", splits=[("ana", "90"), ("west_rep", "10")])
    assert api(client, org, "ana", cut).status_code == 202
    approval_id = held(org, "R-20").id
    assert page_post(client, org, "east", f"/deals/approvals/{approval_id}/approve").status_code == 404
    assert f"/deals/approvals/{approval_id}/approve" not in client.get("/deals/approvals").text  # not offered
    before = deal_state(org, "R-20")
    assert before is not None and (org.ids["west_rep"], 5000) in before[3]
    # the partner's manager decides for their rep
    assert page_post(client, org, "west", f"/deals/approvals/{approval_id}/approve").status_code == 303
    after = deal_state(org, "R-20")
    assert after is not None and (org.ids["west_rep"], 1000) in after[3]

    raised = deal_body(org, "R-20", "ana", amount="20000", splits=[("ana", "90"), ("west_rep", "10")])
    assert api(client, org, "ana", raised).status_code == 202  # more for everyone: the rep's manager approves
    assert page_post(client, org, "east", f"/deals/approvals/{held(org, 'R-20').id}/approve").status_code == 303
    assert deal_state(org, "R-20")[1] == 2_000_000  # type: ignore[index]


def test_a_rep_cannot_rewrite_a_deal_nobody_is_known_to_have_recorded(org: Org, client: TestClient) -> None:
    """The demo loader writes deals without audit events; who recorded them was read from those events, so a
    rep could set any amount on their own loaded deals (CRM-1001 to 1.00). Unknown means not the rep."""
    with Session(org.engine) as s:
        loaded = (
            s.exec(
                select(Deal).where(Deal.owner_id == org.ids["ana"], Deal.external_id.like("CRM-%")).order_by(Deal.id)
            )
            .scalars()
            .first()
        )
        assert loaded is not None
        external_id, closed_at, before = loaded.external_id, loaded.closed_at.isoformat(), loaded.amount_minor
    body = {**deal_body(org, external_id, "ana", amount="1"), "closed_at": closed_at}
    r = api(client, org, "ana", body)
    assert r.status_code == 403 and "not available to you" in r.json()["detail"]
    assert deal_state(org, external_id)[1] == before  # type: ignore[index]


@pytest.mark.parametrize("recorder", ["finance", "east"])
def test_a_rep_sending_their_deal_as_stored_gets_it_back_with_200(org: Org, client: TestClient, recorder: str) -> None:
    """api.md: the same body again returns the same deal with 200, also when someone else recorded the rep's deal
    (finance, the manager): sending what is stored changes nothing. Another body is still refused."""
    body = deal_body(org, f"R-SAME-{recorder}", "ana", amount="31000")
    created = api(client, org, recorder, body)
    assert created.status_code == 201, created.text
    again = api(client, org, "ana", {**body, "amount": "31000.00"})
    assert again.status_code == 200, again.text
    assert again.json() == created.json() and again.json()["amount"] == "31000.00"
    changed = api(client, org, "ana", {**body, "amount": "99000"})
    assert changed.status_code == 403 and "not available to you" in changed.json()["detail"]
    assert deal_state(org, f"R-SAME-{recorder}")[1] == 3_100_000  # type: ignore[index]
    # another rep sending ana's deal as stored learns nothing
    stranger = api(client, org, "east_rep", body)
    assert stranger.status_code == 403 and "only record deals they own" in stranger.json()["detail"]


def test_a_source_campaign_crediting_a_marketer_is_pay_too(org: Org, client: TestClient) -> None:
    """A rep's deal whose source campaign is a marketer's credits that marketer in full (sourced revenue): it waits
    for approval like a split, and pays nobody until then; the marketer's own deal on her own campaign does not."""
    nora_before = pay(org, "nora")
    sourced = deal_body(org, "S-1", "ana", amount="40000", source_campaign="PPC-Q")
    r = api(client, org, "ana", sourced)
    assert r.status_code == 202 and r.json()["approval"] == "pending"
    assert deal_state(org, "S-1") is None and pay(org, "nora") == nora_before
    # the same for an edit that moves a plain deal of hers onto the campaign
    assert api(client, org, "ana", deal_body(org, "S-2", "ana", amount="10000")).status_code == 201
    assert (
        api(client, org, "ana", deal_body(org, "S-2", "ana", amount="10000", source_campaign="PPC-Q")).status_code
        == 202
    )
    assert pay(org, "nora") == nora_before
    # a sales manager's deal sourced by marketing waits too (the marketer is not in their tree)
    assert api(client, org, "east", deal_body(org, "S-3", "ana", source_campaign="PPC-Q")).status_code == 202
    assert pay(org, "nora") == nora_before
    # finance records it at once; the marketer's credit moves
    assert (
        api(client, org, "finance", deal_body(org, "S-4", "ana", amount="20000", source_campaign="PPC-Q")).status_code
        == 201
    )
    assert pay(org, "nora")[0] == nora_before[0] + 2_000_000
    # approved, the held one counts
    assert page_post(client, org, "finance", f"/deals/approvals/{held(org, 'S-1').id}/approve").status_code == 303  # type: ignore[union-attr]
    assert pay(org, "nora")[0] == nora_before[0] + 6_000_000
    # the marketer's own deal on her own campaign credits only her: recorded at once
    assert (
        api(client, org, "nora", deal_body(org, "S-5", "nora", amount="5000", source_campaign="PPC-Q")).status_code
        == 201
    )


def _approvals(client: TestClient, org: Org, who: str) -> dict[str, dict]:  # type: ignore[type-arg]
    client.cookies.clear()
    answer = client.get("/api/v1/deals/approvals", headers={"Authorization": f"Bearer {org.tokens[who]}"})
    assert answer.status_code == 200, answer.text
    return {h["external_id"]: h for h in answer.json()}


def _decide(client: TestClient, org: Org, who: str, external_id: str):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    approval = held(org, external_id)
    assert approval is not None
    return client.post(
        f"/api/v1/deals/approvals/{approval.id}/approve", headers={"Authorization": f"Bearer {org.tokens[who]}"}
    )


def test_nobody_approves_a_sourced_change_that_is_their_own_or_credits_them(org: Org, client: TestClient) -> None:
    """A manager's held change waits for someone else (his own manager or finance); a deal on a manager's own
    campaign is not his to approve; a change taking sourced credit from a marketer outside the approver's tree
    waits for a manager over both, or finance. The queue says which campaign and whom."""
    # the manager's own held change
    assert api(client, org, "east", deal_body(org, "SA-1", "ana", source_campaign="PPC-Q")).status_code == 202
    mine = _approvals(client, org, "east")["SA-1"]
    assert mine["may_decide"] is False and mine["source_campaign"] == "PPC-Q"
    assert mine["sourced_by"] == org.emails["nora"]
    assert _decide(client, org, "east", "SA-1").status_code == 404 and deal_state(org, "SA-1") is None
    assert _decide(client, org, "finance", "SA-1").status_code == 200 and deal_state(org, "SA-1") is not None

    # a campaign the manager owns: his rep's deal on it credits him
    client.cookies.clear()
    made = client.put(
        "/api/v1/campaigns",
        json=[{"code": "EAST-CAMP", "name": "East's own", "owner": org.emails["east"], "cost": "0"}],
        headers={"Authorization": f"Bearer {org.tokens['admin']}"},
    )
    assert made.status_code == 200, made.text
    assert api(client, org, "ana", deal_body(org, "SA-2", "ana", source_campaign="EAST-CAMP")).status_code == 202
    assert "SA-2" not in _approvals(client, org, "east")  # not his to decide: not in his queue
    assert _decide(client, org, "east", "SA-2").status_code == 404 and deal_state(org, "SA-2") is None

    # taking the sourced credit away from a marketer outside the rep's manager's tree
    assert (
        api(client, org, "ana", deal_body(org, "SA-3", "ana", amount="40000", source_campaign="PPC-Q")).status_code
        == 202
    )
    assert _decide(client, org, "finance", "SA-3").status_code == 200
    nora_before = pay(org, "nora")
    assert api(client, org, "ana", deal_body(org, "SA-3", "ana", amount="40000")).status_code == 202  # off the campaign
    assert "SA-3" not in _approvals(client, org, "east")
    assert _decide(client, org, "east", "SA-3").status_code == 404 and pay(org, "nora") == nora_before
    # nora's manager does not lead ana either: a manager over both, or finance (as for a cut split partner)
    assert _decide(client, org, "marketing_lead", "SA-3").status_code == 404
    assert _decide(client, org, "finance", "SA-3").status_code == 200
    assert pay(org, "nora")[0] == nora_before[0] - 4_000_000


def test_a_held_change_stored_before_currencies_were_checked_still_reads(org: Org, client: TestClient) -> None:
    """A held body in "DOL" (three letters, accepted before codes were checked against ISO 4217) broke the queue
    (500 for everyone who may decide) and could not be rejected."""
    body = {**deal_body(org, "SA-LEGACY", "ana"), "currency": "DOL"}
    with transaction(org.engine) as s:
        s.add(DealApproval(external_id="SA-LEGACY", body=body, requested_by_id=org.ids["ana"]))
    assert "SA-LEGACY" in _approvals(client, org, "finance")
    client.cookies.clear()
    sign_in(client, org, "finance")
    assert client.get("/deals/approvals").status_code == 200 and client.get("/").status_code == 200
    client.cookies.clear()
    rejected = client.post(
        f"/api/v1/deals/approvals/{held(org, 'SA-LEGACY').id}/reject",  # type: ignore[union-attr]
        headers={"Authorization": f"Bearer {org.tokens['finance']}"},
    )
    assert rejected.status_code == 200 and held(org, "SA-LEGACY") is None
