"""Plans in the app: versions, validation, assignments, the admin pages and who may use them."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import select

from commissions.core.db import transaction
from commissions.core.errors import Conflict, InputProblem
from commissions.core.periods import parse_period_key
from commissions.models import AuditEvent, Period, Plan, PlanAssignment, PlanVersion
from commissions.plans.service import (
    InvalidPlan,
    assign,
    end_assignment,
    plans_for_person,
    save_plan_version,
    validate_plan_text,
    version_for_period,
)
from tests.conftest import csrf_from, read, sign_in

AE = """name: AE 2026
currency: USD
period: quarter
quota: bookings
credit:
  scope: own
  when: type != "renewal"
components:
  - name: Commission
    kind: tiered
    on: attainment
    mode: marginal
    tiers:
      - {to: 100%, rate: 10%}
      - {to: 150%, rate: 15%}
      - {rate: 20%}
    cap: 60000
  - name: Multi-year SPIFF
    kind: per_deal
    when: term_months >= 24 and product in ["Pro", "Enterprise"]
    pay: 500
  - name: Quota club
    kind: bonus
    at: 100%
    pay: 2500
cap: 100000
"""
AE_V2 = AE.replace("{rate: 20%}", "{rate: 22%}")
Q1, Q2, Q3 = date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)

INVALID = [
    pytest.param(  # three letters, no currency: the app could not hold a rate for it
        AE.replace("currency: USD", "currency: DOL"),
        None,
        "currency",
        "DOL is not a currency code (ISO 4217)",
        None,
        id="unknown-currency",
    ),
    pytest.param(
        AE.replace("{to: 100%, rate: 10%}", "{to: 100%, rate: 150%}"),
        "Commission",
        "tiers[0].rate",
        "outside 0%-100%",
        None,
        id="rate-150",
    ),
    pytest.param(
        AE.replace("{to: 150%, rate: 15%}", "{to: 90%, rate: 15%}"),
        "Commission",
        "tiers[1].to",
        "must rise",
        None,
        id="tiers-not-rising",
    ),
    pytest.param(
        AE.replace("kind: bonus", "kind: jackpot"),
        "Quota club",
        "kind",
        "unknown kind 'jackpot'",
        None,
        id="unknown-kind",
    ),
    pytest.param(
        AE.replace("term_months >= 24", "term_months >=> 24"),
        "Multi-year SPIFF",
        "when",
        "unexpected",
        15,
        id="bad-when",
    ),
]


def count(engine, model) -> int:  # type: ignore[no-untyped-def]
    return read(engine, lambda s: s.exec(select(func.count()).select_from(model)).one())


def save(engine, text: str, effective_from: date | None = Q1, **kw):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return save_plan_version(session, text=text, effective_from=effective_from, by=None, **kw)


def lock_period(engine, key: str, state: str = "locked") -> None:  # type: ignore[no-untyped-def]
    pk = parse_period_key(key)
    with transaction(engine) as session:
        session.add(Period(key=pk.key, kind=pk.kind, starts_on=pk.starts_on, ends_on=pk.ends_on, state=state))


# --- service -----------------------------------------------------------------------------


def test_first_save_creates_the_plan_and_later_saves_add_versions(engine) -> None:
    first = save(engine, AE)
    assert (first.created, first.plan_created, first.version.version, first.outcome) == (True, True, 1, "created")
    second = save(engine, AE_V2, Q2)
    assert (second.created, second.plan_created, second.version.version, second.outcome) == (
        True,
        False,
        2,
        "new version",
    )
    plan = read(engine, lambda s: s.exec(select(Plan)).one())
    assert (plan.name, plan.currency, plan.period_kind) == ("AE 2026", "USD", "quarter")
    versions = read(engine, lambda s: s.exec(select(PlanVersion).order_by(PlanVersion.version)).all())
    assert [(v.version, v.effective_from, v.document) for v in versions] == [(1, Q1, AE), (2, Q2, AE_V2)]
    events = read(
        engine,
        lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "plan.version").order_by(AuditEvent.id)).all(),
    )
    assert [e.detail["version"] for e in events] == [1, 2]


def test_identical_text_is_unchanged_and_stores_nothing(engine) -> None:
    save(engine, AE)
    again = save(engine, AE.replace("\n", "\r\n"), Q2)  # a browser posts CRLF; the date does not matter
    assert (again.created, again.outcome, again.version.version) == (False, "unchanged", 1)
    assert count(engine, PlanVersion) == 1
    assert count(engine, AuditEvent) == 1


def test_the_document_is_stored_as_written(engine) -> None:
    text = "# our AE plan, reviewed by finance\n" + AE.replace("cap: 60000", "cap: 60_000   # per quarter")
    saved = save(engine, text)
    assert read(engine, lambda s: s.get(PlanVersion, saved.version.id).document) == text


@pytest.mark.parametrize(("text", "component", "field", "message", "position"), INVALID)
def test_invalid_plans_name_the_component_and_field_and_store_nothing(
    engine, text: str, component: str, field: str, message: str, position: int | None
) -> None:
    with pytest.raises(InvalidPlan) as caught:
        save(engine, text)
    issue = caught.value.issues[0]
    assert (issue.component, issue.field, issue.position) == (component, field, position)
    assert message in issue.message
    assert caught.value.status_code == 400
    assert count(engine, Plan) == 0 and count(engine, PlanVersion) == 0 and count(engine, AuditEvent) == 0


def test_every_issue_is_reported_at_once() -> None:
    text = AE.replace("rate: 10%", "rate: 150%").replace("kind: bonus", "kind: jackpot")
    with pytest.raises(InvalidPlan) as caught:
        validate_plan_text(text)
    assert {(i.component, i.field) for i in caught.value.issues} == {
        ("Commission", "tiers[0].rate"),
        ("Quota club", "kind"),
    }


def test_custom_fields_declared_by_an_admin_are_usable_in_conditions() -> None:
    text = AE.replace('type != "renewal"', 'region == "EMEA"')
    with pytest.raises(InvalidPlan) as caught:
        validate_plan_text(text, {})
    assert caught.value.issues[0].field == "credit.when" or "region" in caught.value.issues[0].message
    assert validate_plan_text(text, {"region": "text"}).credit.when == 'region == "EMEA"'


def test_a_later_version_keeps_currency_and_period_kind(engine) -> None:
    save(engine, AE)
    with pytest.raises(InvalidPlan) as caught:
        save(engine, AE.replace("currency: USD", "currency: EUR"), Q2)
    assert caught.value.issues[0].field == "currency" and "USD" in caught.value.issues[0].message
    with pytest.raises(InvalidPlan) as caught:
        save(engine, AE.replace("period: quarter", "period: month"), Q2)
    assert caught.value.issues[0].field == "period"
    assert count(engine, PlanVersion) == 1


def test_a_version_on_the_same_day_corrects_the_one_in_force(engine) -> None:
    """Of versions sharing an effective date, the highest number is in force (a correction); none is changed."""
    v1 = save(engine, AE).version
    v2 = save(engine, AE_V2, Q1).version
    assert (v2.version, v2.effective_from) == (2, Q1)
    found = read(engine, lambda s: version_for_period(s, v1.plan_id, Q1))
    assert found is not None and found.version == 2
    assert read(engine, lambda s: version_for_period(s, v1.plan_id, Q2)).version == 2  # type: ignore[union-attr]
    assert count(engine, PlanVersion) == 2
    assert read(engine, lambda s: s.get(PlanVersion, v1.id).document) == AE  # type: ignore[union-attr]


def test_effective_from_defaults_to_the_document_then_the_current_period(engine) -> None:
    dated = save(engine, "effective_from: 2026-04-01\n" + AE, None)
    assert dated.version.effective_from == Q2
    with pytest.raises(InputProblem, match="the document says effective_from 2026-04-01"):
        save(engine, "effective_from: 2026-04-01\n" + AE_V2, Q3)
    undated = save(engine, AE_V2, None, today=date(2026, 8, 20))
    assert undated.version.effective_from == Q3


def test_version_for_period_picks_the_latest_effective_on_or_before_the_start(engine) -> None:
    v1 = save(engine, AE).version
    v3 = save(engine, AE_V2.replace("pay: 2500", "pay: 3000"), date(2026, 9, 15)).version  # mid-Q3: from Q4 on
    v2 = save(engine, AE_V2, Q2).version  # saved last, effective earlier: versions are by date, not by number

    def at(day: date) -> int | None:
        found = read(engine, lambda s: version_for_period(s, v1.plan_id, day))
        return found.version if found else None

    assert at(date(2025, 10, 1)) is None  # before the plan existed
    assert at(Q1) == v1.version == 1
    assert at(Q2) == v2.version == 3
    assert at(Q3) == 3  # 2026-09-15 is after Q3's start: Q3 keeps its version
    assert at(date(2026, 10, 1)) == v3.version == 2


@pytest.mark.parametrize("state", ["locked", "paid"])
def test_a_version_may_not_change_a_locked_or_paid_period(engine, state: str) -> None:
    lock_period(engine, "2026-Q1", state)
    with pytest.raises(Conflict) as caught:
        save(engine, AE, Q1)
    assert "2026-Q1" in caught.value.message and state in caught.value.message
    assert count(engine, Plan) == 0 and count(engine, PlanVersion) == 0
    assert save(engine, AE, Q2).version.version == 1  # after the locked period: fine
    with pytest.raises(Conflict, match="2026-Q1"):
        save(engine, AE_V2, date(2025, 12, 1))  # before it: would change it
    assert count(engine, PlanVersion) == 1


def test_open_and_approved_periods_accept_new_versions(engine) -> None:
    lock_period(engine, "2026-Q1", "approved")
    assert save(engine, AE, Q1).created


def test_a_person_may_not_have_overlapping_assignments_to_one_plan(engine, make_person) -> None:
    ana = make_person("ana@example.com")
    ae = save(engine, AE).plan
    other = save(engine, AE.replace("AE 2026", "SPIFF 2026"), Q1).plan
    with transaction(engine) as s:
        first = assign(s, plan=ae, person=ana, starts_on=Q1, ends_on=date(2026, 6, 30), by=None)
    with pytest.raises(Conflict, match="already on AE 2026 from 2026-01-01 to 2026-06-30"), transaction(engine) as s:
        assign(s, plan=ae, person=ana, starts_on=date(2026, 6, 30), by=None)
    with transaction(engine) as s:
        assign(s, plan=ae, person=ana, starts_on=Q3, prorate=True, by=None)  # right after: no overlap
        assign(s, plan=other, person=ana, starts_on=Q1, by=None)  # another plan may overlap
    with pytest.raises(Conflict, match="overlap"), transaction(engine) as s:
        end_assignment(s, assignment=s.get(PlanAssignment, first.id), ends_on=date(2026, 8, 1), by=None)
    with pytest.raises(InputProblem, match="ends"), transaction(engine) as s:
        assign(s, plan=other, person=ana, starts_on=Q3, ends_on=Q2, by=None)
    assert count(engine, PlanAssignment) == 3
    actions = read(engine, lambda s: s.exec(select(AuditEvent.action).where(AuditEvent.action.like("plan.a%"))).all())
    assert actions == ["plan.assign"] * 3


def test_plans_for_person_lists_overlapping_assignments_with_the_version_in_force(engine, make_person) -> None:
    ana = make_person("ana@example.com")
    ae = save(engine, AE).plan
    save(engine, AE_V2, Q2)
    spiff = save(engine, AE.replace("AE 2026", "SPIFF 2026"), Q3).plan  # first version only from Q3
    with transaction(engine) as s:
        a = assign(s, plan=ae, person=ana, starts_on=date(2026, 2, 15), by=None)
        assign(s, plan=spiff, person=ana, starts_on=Q1, by=None)
    with transaction(engine) as s:
        end_assignment(s, assignment=s.get(PlanAssignment, a.id), ends_on=date(2026, 4, 10), by=None)

    def plans(key: str) -> list[tuple[str, int]]:
        return read(
            engine,
            lambda s: [(p.plan.name, p.version.version) for p in plans_for_person(s, ana.id, parse_period_key(key))],
        )

    assert plans("2025-Q4") == []
    assert plans("2026-Q1") == [("AE 2026", 1)]
    assert plans("2026-Q2") == [("AE 2026", 2)]
    assert plans("2026-Q3") == [("SPIFF 2026", 1)]
    assert read(engine, lambda s: s.exec(select(AuditEvent.action).where(AuditEvent.action == "plan.unassign")).all())


# --- pages -------------------------------------------------------------------------------

HTMX = {"HX-Request": "true"}


def admin(client, make_person):  # type: ignore[no-untyped-def]
    make_person("admin@example.com", "admin")
    sign_in(client, "admin@example.com")
    return csrf_from(client)


def test_admin_lists_plans_with_versions_and_people(client, make_person, engine) -> None:
    ana = make_person("ana@example.com")
    make_person("bo@example.com")
    plan = save(engine, AE).plan
    save(engine, AE_V2, Q2)
    with transaction(engine) as s:
        assign(s, plan=plan, person=ana, starts_on=Q1, by=None)
    admin(client, make_person)
    page = client.get("/plans").text
    row = re.search(r"<tr>\s*<td><a href=\"/plans/\d+\">AE 2026</a>.*?</tr>", page, re.DOTALL).group()
    assert "v2" in row and "2026-01-01, 2026-04-01" in row
    assert re.search(r'<td class="num">1\s*</td>', row)


def test_validate_shows_every_issue_inline_with_status_200(client, make_person) -> None:
    token = admin(client, make_person)
    bad = AE.replace("term_months >= 24", "term_months >=> 24").replace("kind: bonus", "kind: jackpot")
    response = client.post("/plans/validate", data={"document": bad, "_csrf_token": token}, headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="plan-issues"')  # the partial alone, for htmx to swap
    rows = re.findall(r'<tr class="issue">(.*?)</tr>', response.text, re.DOTALL)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL) for row in rows]
    assert [cells[0][0], cells[0][1], cells[0][3]] == ["Multi-year SPIFF", "<code>when</code>", "15"]
    assert cells[1][0] == "Quota club" and "unknown kind" in cells[1][2]
    full = client.post("/plans/validate", data={"document": bad, "_csrf_token": token})  # without JavaScript
    assert full.status_code == 200 and "<h1>New plan</h1>" in full.text and "unknown kind" in full.text
    assert "term_months &gt;=&gt; 24" in full.text  # the text is kept in the textarea
    good = client.post("/plans/validate", data={"document": AE, "_csrf_token": token}, headers=HTMX)
    assert "Valid: AE 2026, USD, quarter periods, 3 components" in good.text


def test_save_a_new_plan_then_a_new_version_through_the_pages(client, make_person, engine) -> None:
    token = admin(client, make_person)
    bad = client.post(
        "/plans/new",
        data={"document": AE.replace("rate: 10%", "rate: 150%"), "effective_from": "2026-01-01", "_csrf_token": token},
    )
    assert bad.status_code == 400 and "tiers[0].rate" in bad.text
    assert count(engine, Plan) == 0

    created = client.post(
        "/plans/new",
        data={"document": AE, "effective_from": "2026-01-01", "_csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code in (302, 303)
    plan_id = read(engine, lambda s: s.exec(select(Plan.id)).one())
    assert created.headers["location"].startswith(f"/plans/{plan_id}?saved=created")
    assert "Plan created with version 1." in client.get(created.headers["location"]).text

    duplicate = client.post("/plans/new", data={"document": AE, "_csrf_token": token})
    assert duplicate.status_code == 400 and "already exists" in duplicate.text

    editor = client.get(f"/plans/{plan_id}/edit").text
    assert "Save as new version" in editor and "{to: 150%, rate: 15%}" in editor
    renamed = client.post(
        f"/plans/{plan_id}/edit",
        data={"document": AE.replace("AE 2026", "AE 2027"), "effective_from": "2026-04-01", "_csrf_token": token},
    )
    assert renamed.status_code == 400 and "this editor saves versions of" in renamed.text
    same_day = client.post(
        f"/plans/{plan_id}/edit",
        data={"document": AE_V2, "effective_from": "2026-01-01", "_csrf_token": token},
        follow_redirects=False,
    )
    assert same_day.status_code in (302, 303)  # a correction of version 1 from its own day: version 2
    assert same_day.headers["location"] == f"/plans/{plan_id}?saved=new-version&version=2"

    saved = client.post(
        f"/plans/{plan_id}/edit",
        data={"document": AE, "effective_from": "2026-04-01", "_csrf_token": token},
        follow_redirects=False,
    )
    assert saved.headers["location"] == f"/plans/{plan_id}?saved=new-version&version=3"
    unchanged = client.post(
        f"/plans/{plan_id}/edit",
        data={"document": AE, "effective_from": "2026-07-01", "_csrf_token": token},
        follow_redirects=False,
    )
    assert "saved=unchanged&version=3" in unchanged.headers["location"]
    assert count(engine, PlanVersion) == 3

    detail = client.get(f"/plans/{plan_id}").text
    assert f'href="/plans/{plan_id}/versions/1"' in detail and f'href="/plans/{plan_id}/versions/2"' in detail
    assert "corrected by v2: never applies" in detail and "corrected by v3" not in detail
    v1 = client.get(f"/plans/{plan_id}/versions/1").text
    assert "{rate: 20%}" in v1 and "{rate: 22%}" not in v1
    assert client.get(f"/plans/{plan_id}/versions/9").status_code == 404
    assert client.get("/plans/999999").status_code == 404


def test_locked_period_refusal_is_shown_on_the_effective_date(client, make_person, engine) -> None:
    lock_period(engine, "2026-Q1")
    token = admin(client, make_person)
    response = client.post("/plans/new", data={"document": AE, "effective_from": "2026-01-01", "_csrf_token": token})
    assert response.status_code == 409
    assert re.search(
        r'<label class="field invalid">\s*<span>Effective from.*?2026-Q1 is locked', response.text, re.DOTALL
    )
    assert count(engine, Plan) == 0


def test_the_editor_never_proposes_a_date_a_locked_period_has_begun_by(client, make_person, engine) -> None:
    """The suite's today is in 2026-Q4: with Q4 locked, the proposed date is 2027-01-01, which saving accepts."""
    plan_id = save(engine, AE).plan.id
    lock_period(engine, "2026-Q4")
    admin(client, make_person)
    editor = client.get(f"/plans/{plan_id}/edit").text
    assert re.search(r'name="effective_from"[^>]*value="2027-01-01"', editor), editor


def test_assign_and_end_through_the_pages(client, make_person, engine) -> None:
    make_person("ana@example.com")
    plan_id = save(engine, AE).plan.id
    token = admin(client, make_person)

    unknown = client.post(
        f"/plans/{plan_id}/assignments",
        headers=HTMX,
        data={"email": "nobody@example.com", "starts_on": "2026-01-01", "_csrf_token": token},
    )
    assert unknown.status_code == 200 and unknown.text.lstrip().startswith('<form id="assign-person"')
    assert "no person with email nobody@example.com" in unknown.text

    ok = client.post(
        f"/plans/{plan_id}/assignments",
        follow_redirects=False,
        data={"email": "ANA@example.com", "starts_on": "2026-01-01", "prorate": "1", "_csrf_token": token},
    )
    assert ok.status_code in (302, 303)
    done = client.get(ok.headers["location"]).text
    assert 'class="notice ok" role="status">Saved: Ana is on this plan from 2026-01-01;' in done
    assert "Saved: Ana" not in client.get(f"/plans/{plan_id}").text
    again = client.post(
        f"/plans/{plan_id}/assignments",
        data={"email": "ana@example.com", "starts_on": "2026-02-01", "_csrf_token": token},
    )
    assert again.status_code == 409 and "already on AE 2026" in again.text

    assignment = read(engine, lambda s: s.exec(select(PlanAssignment)).one())
    assert (assignment.starts_on, assignment.ends_on, assignment.prorate) == (Q1, None, True)
    early = client.post(
        f"/plans/{plan_id}/assignments/{assignment.id}/end", data={"ends_on": "2025-12-31", "_csrf_token": token}
    )
    assert early.status_code == 400 and "cannot end before" in early.text
    ended = client.post(
        f"/plans/{plan_id}/assignments/{assignment.id}/end",
        follow_redirects=False,
        data={"ends_on": "2026-03-31", "_csrf_token": token},
    )
    assert ended.status_code in (302, 303)
    assert read(engine, lambda s: s.get(PlanAssignment, assignment.id).ends_on) == date(2026, 3, 31)
    assert "Saved: Ana&#39;s time on this plan ends on 2026-03-31" in client.get(ended.headers["location"]).text
    assert "2026-03-31" in client.get(f"/plans/{plan_id}").text


def changes(engine) -> int:  # type: ignore[no-untyped-def]
    """Audit events other than refusals (which are recorded on purpose)."""
    return read(
        engine,
        lambda s: s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "auth.forbidden")
        ).one(),
    )


@pytest.mark.parametrize("role", ["rep", "manager", "finance"])
def test_only_admins_may_use_any_plans_route(client, make_person, engine, role: str) -> None:
    ana = make_person("ana@example.com")
    plan = save(engine, AE).plan
    with transaction(engine) as s:
        assignment = assign(s, plan=plan, person=ana, starts_on=Q1, by=None)
    make_person(f"{role}@example.com", role)
    sign_in(client, f"{role}@example.com")
    token = csrf_from(client)
    before = (count(engine, Plan), count(engine, PlanVersion), count(engine, PlanAssignment), changes(engine))
    for path in ["/plans", "/plans/new", f"/plans/{plan.id}", f"/plans/{plan.id}/edit", f"/plans/{plan.id}/versions/1"]:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 403, (role, path)
        assert "AE 2026" not in response.text
    posts = {
        "/plans/new": {"document": AE_V2.replace("AE 2026", "Mine"), "effective_from": "2026-04-01"},
        "/plans/validate": {"document": AE},
        f"/plans/{plan.id}/edit": {"document": AE_V2, "effective_from": "2026-04-01"},
        f"/plans/{plan.id}/assignments": {"email": f"{role}@example.com", "starts_on": "2026-01-01"},
        f"/plans/{plan.id}/assignments/{assignment.id}/end": {"ends_on": "2026-01-31"},
    }
    for path, data in posts.items():
        response = client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, (role, path)
    after = (count(engine, Plan), count(engine, PlanVersion), count(engine, PlanAssignment), changes(engine))
    assert after == before
    forbidden = read(
        engine,
        lambda s: s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.forbidden")
        ).one(),
    )
    assert forbidden == 10  # each refusal is in the audit log
    assert read(engine, lambda s: s.get(PlanAssignment, assignment.id).ends_on) is None


def test_plan_names_and_documents_are_rendered_escaped(client, make_person, engine) -> None:
    evil_name = '<script>alert("n")</script>'
    text = AE.replace("name: AE 2026", f"name: '{evil_name}'").replace(
        "cap: 100000", 'cap: 100000\ndescription: "</textarea><img src=x onerror=alert(1)>"'
    )
    plan = save(engine, text).plan
    assert plan.name == evil_name
    make_person("ana@example.com", "rep")
    with transaction(engine) as s:
        from commissions.models import Person

        assign(
            s,
            plan=plan,
            person=s.exec(select(Person).where(Person.email == "ana@example.com")).one(),
            starts_on=Q1,
            by=None,
        )
    token = admin(client, make_person)
    pages = {
        "/plans": client.get("/plans").text,
        "detail": client.get(f"/plans/{plan.id}").text,
        "edit": client.get(f"/plans/{plan.id}/edit").text,
        "version": client.get(f"/plans/{plan.id}/versions/1").text,
        "validate": client.post(
            "/plans/validate",
            data={"document": text.replace("kind: bonus", "kind: x"), "plan_id": str(plan.id), "_csrf_token": token},
        ).text,
    }
    for name, html in pages.items():
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html and "</textarea><img" not in html, name
    assert "&lt;script&gt;alert(&#34;n&#34;)&lt;/script&gt;" in pages["/plans"]
    assert "&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;" in pages["edit"]
    assert "&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;" in pages["version"]
