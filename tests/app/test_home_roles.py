"""Home per role (issue 17, "Every role's Home shows their own game"): a rep's figures, pace and next step up
from the stored calculation; a manager's team with each person's real attainment, pace and who needs help
first; finance's close blockers; the admin's organisation; empty states; extension sections."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from commissions.app import home
from commissions.app.home import home_context
from commissions.calculation import queue
from commissions.core.db import transaction
from commissions.core.formatting import format_percent
from commissions.core.periods import ensure_period, quarter_of
from commissions.core.principal import Principal
from commissions.core.rendering import HomeSection
from commissions.people.pace import pace
from commissions.periods.checklist import period_to_close
from tests.calc_fixtures import example_deal, store_plan, store_quota
from tests.conftest import read, sign_in
from tests.deals.test_deals_api import token_for
from tests.people.test_plan_progress import TEAM_PLAN

TODAY = date.today()
QUARTER = quarter_of(TODAY)  # Home shows the current quarter


def _setup(client, engine: Engine, make_person, *, drain: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Mia manages Ana (83.55 %), Bo (80 %), Cy (20 %), Dee (a plan, no quota) and a new hire (no plan)."""
    make_person("mia@example.com", "manager")
    for rep in ("ana", "bo", "cy", "dee", "new"):
        make_person(f"{rep}@example.com", manager="mia@example.com")
    store_plan(engine, ["ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com"])
    store_plan(engine, ["mia@example.com"], document=TEAM_PLAN, name="Sales managers 2026")
    for rep in ("ana", "bo", "cy"):
        store_quota(engine, f"{rep}@example.com", 100_000, period=QUARTER.key)
    store_quota(engine, "mia@example.com", 300_000, period=QUARTER.key)
    crm = token_for(engine, "admin")
    day = QUARTER.starts_on.isoformat()
    later = min(QUARTER.starts_on + timedelta(days=1), TODAY).isoformat()
    for body in (
        example_deal("D-1", "60000", day),
        example_deal("D-2", "23550", later),
        example_deal("D-3", "50000", day, type="renewal"),  # the AE plan leaves renewals out
        example_deal("D-4", "80000", day, owner="bo@example.com"),
        example_deal("D-5", "20000", day, owner="cy@example.com"),
        example_deal("D-6", "5000", day, owner="dee@example.com"),
    ):
        assert client.post("/api/v1/deals", json=body, headers=crm).status_code == 201
    if drain:
        queue.drain(engine)  # managers' statements are brought up to date beside the app


def _attainment(html: str) -> list[str]:
    return re.findall(r'<span class="attainment"[^>]*>([^<]+)</span>', html)


def _principal(engine: Engine, email: str) -> Principal:
    from commissions.people.queries import person_by_email

    person = read(engine, lambda s: person_by_email(s, email))
    return Principal(role=person.role, person_id=person.id, email=person.email, name=person.name)


def test_rep_sees_attainment_pay_pace_and_the_next_step_from_the_statement(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    _setup(client, engine, make_person)
    sign_in(client, "ana@example.com")
    page = client.get("/").text
    statement = client.get(f"/statements/ana@example.com?period={QUARTER.key}").text
    card = page.split('class="card home-card my-figures')[1].split("</section>")[0]
    assert _attainment(card) == _attainment(statement) == ["83.6%"]  # the statement's figure, renewals left out
    # pay so far: the statement's total (10 % of 83,550 = 8,355.00)
    assert '<span class="pay">8,355.00 USD</span>' in card and "8,355.00 USD" in statement
    expected = pace(835_500, QUARTER, TODAY)
    if expected.projected_ppm is not None:
        assert (
            f"{format_percent(expected.elapsed_ppm)} of the quarter gone, 83.6% of quota: "
            f"on pace for {format_percent(expected.projected_ppm)}."
        ) in card
    # the next step up: 16,450 to 100 % of quota, where tier 2 (15 %) starts and the Quota club bonus pays
    steps = page.split('class="card home-card next-steps"')[1].split("</section>")[0]
    assert "16,450.00 USD more" in steps
    assert "Tier 2 of Commission at 100.0% of quota: 15.0% on what follows." in steps
    assert "Quota club at 100.0% of quota: pays 2,500.00 USD." in steps
    actions = page.split('class="card home-card next-actions"')[1].split("</section>")[0]
    for href in ("/deals/new", "/statements", "/statements#what-if", "/deals"):
        assert f'href="{href}"' in actions
    assert "home-team" not in page and "home-close" not in page  # not a manager's nor finance's blocks
    assert 'href="/static/home.css"' in page


def test_manager_sees_own_attainment_and_the_team_with_pace_who_needs_help_first(
    client, engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    _setup(client, engine, make_person)
    # at the quarter's last day the projection is the attainment: Cy's 20 % is well behind (< 75 %)
    with Session(engine) as session:
        context = home_context(session, _principal(engine, "mia@example.com"), today=QUARTER.ends_on)
    assert [s.row.email for s in context["team"]] == [
        "cy@example.com",  # needs help first
        "ana@example.com",
        "bo@example.com",
        "dee@example.com",  # no quota
        "new@example.com",  # no plan
    ]
    assert [s.pace.status for s in context["team"]] == ["needs_help", "behind", "behind", "no_quota", "no_quota"]
    assert context["team_needs_help"] == 1 and context["team_people"] == 5
    mine = context["mine"][0]
    # the team plan credits every report's deals, the renewal too: 238,550 of 300,000
    assert (mine.row.plan, mine.row.credited_minor, mine.row.attainment_ppm) == (
        "Sales managers 2026",
        23_855_000,
        795_167,
    )

    sign_in(client, "mia@example.com")
    page = client.get("/").text
    statement = client.get(f"/statements/mia@example.com?period={QUARTER.key}").text
    shown = _attainment(page)
    assert shown[0] == _attainment(statement)[0] == "79.5%"
    team = page.split('class="card home-card home-team"')[1].split("</section>")[0]
    rows = re.findall(r'<tr data-person="([^"]+)"', team)
    assert set(rows) == {f"{r}@example.com" for r in ("ana", "bo", "cy", "dee", "new")}
    flagged = {email for email in rows if pace(_ppm(engine, email), QUARTER, TODAY).needs_help}
    for email in rows:  # the flag follows the one pace rule, and who needs help comes first
        row = team.split(f'<tr data-person="{email}"')[1].split("</tr>")[0]
        assert ("Needs help" in row) == (email in flagged)
    assert rows[: len(flagged)] == sorted(
        flagged, key=lambda e: pace(_ppm(engine, e), QUARTER, TODAY).projected_ppm or 0
    )
    assert sorted(_attainment(team)) == ["20.0%", "80.0%", "83.6%"]  # each report's statement figure
    assert f"No plan for {QUARTER.key} yet" in team and "No quota yet" in team
    assert ">0.0%<" not in page


def _ppm(engine: Engine, email: str) -> int | None:
    from commissions.people.progress import plan_progress
    from commissions.people.queries import person_by_email

    def one(s: Session) -> int | None:
        person = person_by_email(s, email)
        return plan_progress(s, [person.id], QUARTER)[0].attainment_ppm

    return read(engine, one)  # type: ignore[no-any-return]


def test_new_hire_and_no_quota_see_helpful_empty_states(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    _setup(client, engine, make_person)
    sign_in(client, "new@example.com")
    page = client.get("/").text
    assert f"You are not on a plan for {QUARTER.key} yet." in page
    assert "Your manager or finance assigns plans." in page
    assert "Next step up" not in page and "Total 0.00" not in page and ">0.0%<" not in page
    sign_in(client, "dee@example.com")
    page = client.get("/").text
    assert f"No quota for {QUARTER.key} yet." in page
    card = page.split('class="card home-card my-figures')[1].split("</section>")[0]
    assert _attainment(card) == [] and "of the quarter gone" not in card
    assert '<dd class="credited">5,000.00 USD</dd>' in page  # what is credited counts already


def test_finance_sees_what_blocks_the_close_with_links_to_act(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    _setup(client, engine, make_person, drain=False)  # the manager's statement waits for the worker
    make_person("fin@example.com", "finance")
    sign_in(client, "fin@example.com")
    page = client.get("/").text
    close = page.split('class="card home-card home-close"')[1].split("</section>")[0]
    assert f"Closing {QUARTER.key}" in close
    pending = close.split('data-item="pending"')[1].split("</li>")[0]
    assert 'class="blocker-count">1<' in pending and f'href="/finance/periods/{QUARTER.key}#freshness"' in pending
    assert "1 thing blocks the close" in close
    disputes = close.split('data-item="disputes"')[1].split("</li>")[0]
    assert 'class="blocker-count">0<' in disputes and "href=" not in disputes  # clear: nothing to act on
    queue.drain(engine)
    page = client.get("/").text
    assert "Nothing blocks the close: every item is clear." in page
    assert "6 deals recorded." in page


def test_the_period_to_close_is_the_oldest_open_one_that_has_ended(engine: Engine) -> None:
    with transaction(engine) as s:
        assert period_to_close(s, date(2026, 12, 6)) is None
        q4 = ensure_period(s, "2026-Q4")
        assert period_to_close(s, date(2026, 12, 6)) is q4  # nothing ended: the current one
        q3 = ensure_period(s, "2026-Q3")
        q2 = ensure_period(s, "2026-Q2")
        q2.state = "locked"
        s.flush()
        assert period_to_close(s, date(2026, 12, 6)) is q3  # ended and still open: first
        q3.state = "paid"
        s.flush()
        assert period_to_close(s, date(2026, 12, 6)) is q4


def test_admin_sees_the_organisation(client, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("root@example.com", "admin")
    make_person("r1@example.com")
    make_person("r2@example.com")
    sign_in(client, "root@example.com")
    page = client.get("/").text
    org = page.split('class="card home-card home-org"')[1].split("</section>")[0]
    assert '<span class="kpi">2</span><span class="kpi-label">active reps</span>' in org
    assert '<span class="kpi">1</span><span class="kpi-label">active admin</span>' in org
    assert 'href="/admin/people"' in org and "my-figures" not in page


@pytest.fixture
def section_template(app, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "section.html").write_text(
        '<section class="card probe">Rank {{ ctx.rank }} of {{ ctx.of }}</section>'
    )
    app.template_engine.engine.loader.searchpath.append(str(tmp_path))
    return "probe/section.html"


def test_extension_sections_render_in_order_and_a_failing_one_is_skipped(  # type: ignore[no-untyped-def]
    client, engine: Engine, make_person, monkeypatch: pytest.MonkeyPatch, section_template: str, caplog
) -> None:
    make_person("ana@example.com")
    calls: list[tuple[str, str]] = []

    def rank(session, principal, period):  # type: ignore[no-untyped-def]
        calls.append((principal.email, period.key))
        return HomeSection(template=section_template, context={"rank": 3, "of": 12}, order=20)

    def later(session, principal, period):  # type: ignore[no-untyped-def]
        return HomeSection(template=section_template, context={"rank": 9, "of": 9}, order=45)

    def broken(session, principal, period):  # type: ignore[no-untyped-def]
        raise RuntimeError("the extension fell over")

    def nothing(session, principal, period):  # type: ignore[no-untyped-def]
        return None

    monkeypatch.setattr(home, "section_hooks", lambda: (later, broken, nothing, rank))
    sign_in(client, "ana@example.com")
    response = client.get("/")
    assert response.status_code == 200
    assert calls == [("ana@example.com", QUARTER.key)]
    region = response.text.split('class="home-extensions"')[1]
    assert region.index("Rank 3 of 12") < region.index("Rank 9 of 9")  # by order
    assert response.text.index("my-figures") < response.text.index('class="home-extensions"')  # after own figures
    assert "the extension fell over" in caplog.text


def test_nothing_credited_yet_says_so(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    from commissions.calculation.service import recalc_period

    make_person("eve@example.com")
    store_plan(engine, ["eve@example.com"])
    store_quota(engine, "eve@example.com", 100_000, period=QUARTER.key)
    recalc_period(engine, QUARTER.key, trigger="test")  # Eve's statement: computed, nothing credited
    sign_in(client, "eve@example.com")
    page = client.get("/").text
    assert f"Nothing credited to you in {QUARTER.key} yet." in page
    assert "Your first won deal counts here as soon as it is recorded." in page
    assert "0.00 USD" in page and "You are not on a plan" not in page


def test_an_empty_companys_admin_is_shown_the_first_steps(client, make_person) -> None:  # type: ignore[no-untyped-def]
    """A new company's admin saw counts and two links: Home now lists the first steps in order, and the quota
    page tells an admin to add people (it said "Nobody reports to you", which is a manager's sentence)."""
    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    home = client.get("/").text
    assert "First steps" in home
    for link in (
        'href="/admin/teams"',
        'href="/admin/people"',
        'href="/plans"',
        'href="/quotas"',
        'href="/deals/import"',
    ):
        assert link in home.split("First steps")[1], link
    quotas = client.get("/quotas").text
    assert "Nobody has a sales or marketing role yet" in quotas and "Nobody reports to you" not in quotas
