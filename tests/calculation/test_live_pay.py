"""Live pay you can prove: no lost update, no lost work after a crash, one person's error stops nobody else,
and every change that can move pay (campaigns, people moves) marks the statements it moves."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, insert, update
from sqlmodel import select

from commissions.calculation import queue
from commissions.calculation.state import freshness, pending_count, touch
from commissions.core.db import transaction
from commissions.models import Deal, Person, StatementState
from commissions.models.base import utcnow
from tests.calc_fixtures import example_deal, store_plan
from tests.calculation.test_calculation import MANAGER_PLAN, current_total, person_id, setup_example
from tests.conftest import read


class Crash(BaseException):
    """Like kill -9: no ``except Exception`` handler runs; open transactions roll back."""


def test_a_deal_committed_while_the_worker_computes_is_never_reversed(
    client, engine: Engine, make_person, monkeypatch
) -> None:
    """The issue's lost update: ana's quota change queues her; while the worker computes her from a snapshot,
    a deal for her commits (and recomputes her at once); the worker's older result must not be stored."""
    crm = setup_example(client, engine, make_person)
    store_plan(engine, ["mia@example.com"], document=MANAGER_PLAN, name="Managers")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    queue.drain(engine)
    ana = person_id(engine, "ana@example.com")
    with transaction(engine) as s:  # a quota change: ana waits for the worker
        from commissions.models import Quota

        quota = s.exec(select(Quota).where(Quota.person_id == ana)).one()
        quota.target_minor = 50_000_00
        s.add(quota)
        touch(s, {ana}, {"2026-Q1"})
    real_compute = queue.compute
    fired = []

    def compute_then_a_deal_lands(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_compute(*args, **kwargs)
        if not fired:
            fired.append(True)
            assert (
                client.post("/api/v1/deals", json=example_deal("D-2", "10000", "2026-01-20"), headers=crm).status_code
                == 201
            )
        return result

    monkeypatch.setattr(queue, "compute", compute_then_a_deal_lands)
    queue.drain(engine)
    # 70000 against 50000: 50000 x 10% + 20000 x 15% + quota club 2500
    assert current_total(engine, "ana@example.com") == 5_000_00 + 3_000_00 + 2_500_00
    assert current_total(engine, "mia@example.com") == 700_00  # 1% of both deals
    assert read(engine, lambda s: pending_count(s)) == 0


def _ana_with_a_deal_computed(client, engine: Engine, make_person) -> int:  # type: ignore[no-untyped-def]
    """The example organisation with one deal of Ana's, every statement computed; Ana's person id."""
    crm = setup_example(client, engine, make_person)
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    queue.drain(engine)
    return person_id(engine, "ana@example.com")


def test_the_worker_pauses_after_a_round_whose_people_changed_meanwhile(
    client, engine: Engine, make_person, monkeypatch
) -> None:
    """During a burst the worker's people keep changing under it: it stores none of those, then waits as long as
    its round took (requests first) before computing them again. The drain from the CLI does not wait."""
    ana = _ana_with_a_deal_computed(client, engine, make_person)
    real_compute = queue.compute
    pauses: list[float] = []
    monkeypatch.setattr(queue.time, "sleep", pauses.append)  # the module's clock is time itself: restored after
    changes_left = [0]

    def compute_while_ana_changes(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_compute(*args, **kwargs)
        if changes_left[0]:
            changes_left[0] -= 1
            with transaction(engine) as s:  # a change lands while the worker computes her
                touch(s, {ana}, {"2026-Q1"})
        return result

    monkeypatch.setattr(queue, "compute", compute_while_ana_changes)
    for yield_to_writers in (False, True):
        pauses.clear()
        changes_left[0] = 1
        with transaction(engine) as s:
            touch(s, {ana}, {"2026-Q1"})
        reports = queue.drain(engine, yield_to_writers=yield_to_writers)
        assert [report.stale for report in reports] == [1, 0]
        assert len(pauses) == (1 if yield_to_writers else 0)
        assert all(0 <= pause <= queue.MAX_PAUSE for pause in pauses)
        assert read(engine, lambda s: pending_count(s)) == 0


def test_the_served_worker_does_not_pause_after_a_stale_round_its_pace_decides(
    client, engine: Engine, make_person, monkeypatch
) -> None:
    """With a pace (`commissions run`'s worker) a stale round is not followed by a blind pause: while the changes
    keep coming the pace leaves the queue alone (the drain returns, the statement stays pending); once they
    have stopped the next round runs at once (an import that committed during a round is caught up without
    waiting as long as that round took)."""
    ana = _ana_with_a_deal_computed(client, engine, make_person)
    real_compute = queue.compute
    pauses: list[float] = []
    monkeypatch.setattr(queue.time, "sleep", pauses.append)

    def compute_while_ana_changes(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_compute(*args, **kwargs)
        with transaction(engine) as s:  # a change lands while the worker computes her, every time
            touch(s, {ana}, {"2026-Q1"})
        return result

    monkeypatch.setattr(queue, "compute", compute_while_ana_changes)
    with transaction(engine) as s:
        touch(s, {ana}, {"2026-Q1"})
        s.exec(update(StatementState).values(changed_at=utcnow() - timedelta(minutes=2)))  # type: ignore[call-overload]
    reports = queue.drain(engine, yield_to_writers=True, pace=queue.Pace(quiet=60, max_lag=3600))
    assert [report.stale for report in reports] == [1]  # then the pace saw the change just made: no round
    assert pauses == []
    assert read(engine, lambda s: pending_count(s)) == 1

    monkeypatch.setattr(queue, "compute", real_compute)
    reports = queue.drain(engine, yield_to_writers=True, pace=queue.Pace(quiet=0, max_lag=3600))
    assert [report.stale for report in reports] == [0]
    assert pauses == []
    assert read(engine, lambda s: pending_count(s)) == 0


@pytest.mark.parametrize("step", ["compute", "store"])
def test_a_worker_killed_between_its_steps_loses_nothing(
    client, engine: Engine, make_person, monkeypatch, step: str
) -> None:
    crm = setup_example(client, engine, make_person)
    store_plan(engine, ["mia@example.com"], document=MANAGER_PLAN, name="Managers")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    assert read(engine, lambda s: pending_count(s)) == 1

    def killed(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Crash()

    with monkeypatch.context() as patch:
        patch.setattr(queue, step, killed)
        with pytest.raises(Crash):
            queue.drain(engine)
    assert read(engine, lambda s: pending_count(s)) == 1, "the work is still visible"
    queue.drain(engine)
    assert current_total(engine, "mia@example.com") == 600_00
    assert read(engine, lambda s: pending_count(s)) == 0


def test_one_person_whose_calculation_fails_leaves_the_others_current(client, engine: Engine, make_person) -> None:
    """A deal in EUR for a USD plan that got past the door (stored before the check existed): ana's statement
    shows the error, bo's is computed, and the period can still be approved."""
    crm = setup_example(client, engine, make_person)
    client.post("/api/v1/deals", json=example_deal("B-1", "30000", "2026-01-15", owner="bo@example.com"), headers=crm)
    ana, bo = person_id(engine, "ana@example.com"), person_id(engine, "bo@example.com")
    with transaction(engine) as s:
        s.execute(
            insert(Deal).values(
                external_id="E-1",
                name="Euro deal",
                account="",
                owner_id=ana,
                amount_minor=1_000_00,
                currency="EUR",
                closed_at=date(2026, 1, 12),
                type="new",
                product="Pro",
                term_months=12,
                source_campaign=None,
                status="won",
                custom_fields={},
                body_hash="x",
            )
        )
        touch(s, {ana, bo}, {"2026-Q1"})
    queue.drain(engine)
    state = read(engine, lambda s: freshness(s, ana, "2026-Q1"))
    assert not state.pending and "EUR" in state.error and "USD" in state.error
    assert read(engine, lambda s: freshness(s, bo, "2026-Q1")).error == ""
    assert current_total(engine, "bo@example.com") == 3_000_00
    assert current_total(engine, "ana@example.com") == 0
    from tests.deals.test_deals_api import token_for

    make_person("fin@example.com", "finance")
    finance = token_for(engine, "finance", email="fin@example.com")
    refused = client.post("/api/v1/periods/2026-Q1/approve", headers=finance)
    assert refused.status_code == 409 and "ana@example.com" in refused.json()["detail"]
    # the fix: the CRM cancels the deal (a cancellation is never refused for its currency)
    cancel = example_deal(
        "E-1", "1000", "2026-01-12", currency="EUR", name="Euro deal", status="cancelled", cancelled_at="2026-01-20"
    )
    assert client.post("/api/v1/deals", json=cancel, headers=crm).status_code == 200
    queue.drain(engine)
    assert read(engine, lambda s: freshness(s, ana, "2026-Q1")).error == ""
    assert client.post("/api/v1/periods/2026-Q1/approve", headers=finance).status_code == 200


def test_approve_refuses_while_more_statements_are_pending_than_it_may_bring_up_to_date(
    client, engine: Engine, make_person, monkeypatch
) -> None:
    from commissions.core.settings import get_settings
    from tests.deals.test_deals_api import token_for

    crm = setup_example(client, engine, make_person)
    store_plan(engine, ["mia@example.com"], document=MANAGER_PLAN, name="Managers")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    make_person("fin@example.com", "finance")
    finance = token_for(engine, "finance", email="fin@example.com")
    monkeypatch.setattr(get_settings(), "approve_refresh_limit", 0)
    refused = client.post("/api/v1/periods/2026-Q1/approve", headers=finance)
    assert refused.status_code == 409
    assert "1 statements are still being recomputed" in refused.json()["detail"]
    assert client.post("/api/v1/periods/2026-Q1/lock", headers=finance).status_code == 409
    monkeypatch.setattr(get_settings(), "approve_refresh_limit", 2000)
    assert client.post("/api/v1/periods/2026-Q1/approve", headers=finance).status_code == 200
    assert read(engine, lambda s: pending_count(s, "2026-Q1")) == 0
    assert current_total(engine, "mia@example.com") == 600_00, "approval brought the manager up to date first"


MARKETING_PLAN = """\
name: Marketing
currency: USD
period: quarter
quota: sourced_revenue
components:
  - {name: Sourced, kind: per_deal, rate: 2%}
"""


def test_a_campaign_created_after_its_deals_credits_its_owner_without_recalc(
    client, engine: Engine, make_person
) -> None:
    from commissions.campaigns.service import CampaignInput, create_campaign, update_campaign
    from commissions.core.principal import Principal

    crm = setup_example(client, engine, make_person)
    make_person("max@example.com", "manager")
    make_person("nora@example.com", manager="max@example.com")
    make_person("olga@example.com", manager="max@example.com")
    store_plan(engine, ["nora@example.com", "olga@example.com"], document=MARKETING_PLAN, name="Marketing")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10", source_campaign="WEB-1"), headers=crm)
    queue.drain(engine)
    assert current_total(engine, "nora@example.com") == 0, "no campaign WEB-1 yet: nobody is credited"

    admin_id = read(engine, lambda s: s.exec(select(Person.id).where(Person.email == "mia@example.com")).one())
    admin = Principal(person_id=admin_id, email="mia@example.com", role="admin", name="Admin")
    with transaction(engine) as s:
        create_campaign(
            s,
            admin,
            CampaignInput(
                code="WEB-1", name="Webinar", owner="nora@example.com", channel="webinar", cost="100", start="", end=""
            ),
        )
    assert read(engine, lambda s: pending_count(s, "2026-Q1")) >= 1
    queue.drain(engine)
    assert current_total(engine, "nora@example.com") == 1_200_00  # 2% of 60000

    with transaction(engine) as s:  # re-owned: the credit moves
        from commissions.models import Campaign

        campaign = s.exec(select(Campaign).where(Campaign.code == "WEB-1")).one()
        update_campaign(
            s,
            admin,
            campaign,
            CampaignInput(
                code="WEB-1", name="Webinar", owner="olga@example.com", channel="webinar", cost="100", start="", end=""
            ),
        )
    queue.drain(engine)
    assert current_total(engine, "nora@example.com") == 0
    assert current_total(engine, "olga@example.com") == 1_200_00


def test_moving_a_rep_to_another_manager_recomputes_both_managers(client, engine: Engine, make_person) -> None:
    from commissions.people.service import move_person

    crm = setup_example(client, engine, make_person)
    make_person("lee@example.com", "manager")
    store_plan(engine, ["mia@example.com", "lee@example.com"], document=MANAGER_PLAN, name="Managers")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    queue.drain(engine)
    assert (current_total(engine, "mia@example.com"), current_total(engine, "lee@example.com")) == (600_00, 0)
    with transaction(engine) as s:
        ana = s.exec(select(Person).where(Person.email == "ana@example.com")).one()
        assert move_person(s, ana, manager_email="lee@example.com", team_name="East", by=None)
    queue.drain(engine)
    assert (current_total(engine, "mia@example.com"), current_total(engine, "lee@example.com")) == (0, 600_00)


def test_the_admin_moves_a_person_on_the_people_page(client, engine: Engine, make_person) -> None:
    from tests.conftest import sign_in

    setup_example(client, engine, make_person)
    make_person("lee@example.com", "manager")
    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    ana = person_id(engine, "ana@example.com")
    page = client.get("/admin/people")
    assert f'action="/admin/people/{ana}/placement"' in page.text
    loop = client.post(
        f"/admin/people/{person_id(engine, 'mia@example.com')}/placement",
        data={"manager": "ana@example.com", "team": ""},
        headers=csrf_headers(client),
    )
    assert "a manager chain cannot loop" in loop.text
    moved = client.post(
        f"/admin/people/{ana}/placement",
        data={"manager": "lee@example.com", "team": "East"},
        headers=csrf_headers(client),
    )
    assert moved.status_code == 200 and "Saved: " in moved.text
    assert read(engine, lambda s: s.get(Person, ana).manager_id) == person_id(engine, "lee@example.com")


def csrf_headers(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"x-csrftoken": client.cookies.get("csrftoken", "")}


def test_a_stored_plan_that_no_longer_parses_fails_its_people_only(client, engine: Engine, make_person) -> None:
    """A version stored without validation (it uses a custom field nobody declared): its people show the
    reason, everyone on other plans is computed, and nothing raises."""
    crm = setup_example(client, engine, make_person)
    make_person("cy@example.com", manager="mia@example.com")
    broken = MANAGER_PLAN.replace("name: Managers", "name: Broken").replace(
        "credit: {scope: team}", 'credit: {scope: own, when: region == "EU"}'
    )
    store_plan(engine, ["cy@example.com"], document=broken, name="Broken")
    client.post("/api/v1/deals", json=example_deal("B-1", "30000", "2026-01-15", owner="bo@example.com"), headers=crm)
    client.post("/api/v1/deals", json=example_deal("C-1", "30000", "2026-01-15", owner="cy@example.com"), headers=crm)
    queue.drain(engine)
    cy = person_id(engine, "cy@example.com")
    state = read(engine, lambda s: freshness(s, cy, "2026-Q1"))
    assert "plan 'Broken' version 1 is invalid" in state.error and "region" in state.error
    assert current_total(engine, "bo@example.com") == 3_000_00
    from commissions.calculation.service import recalc_period

    report = recalc_period(engine, "2026-Q1")  # the whole period too: no exception
    assert report.computed >= 2
