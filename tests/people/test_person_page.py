"""The admin's page of one person: who they are, their manager, reports and plans, links to their pay, and
every setting, each save confirmed there."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.models import Person
from tests.calc_fixtures import store_plan
from tests.conftest import csrf_from, read, sign_in


def test_a_persons_page_shows_who_they_are_their_manager_reports_and_plans(client, make_person, engine) -> None:  # type: ignore[no-untyped-def]
    make_person("admin@example.com", "admin")
    boss = make_person("boss@example.com", "manager", team="East")
    ana = make_person("ana@example.com", manager="boss@example.com", team="East")
    make_person("bo@example.com", manager="boss@example.com", team="East")
    store_plan(engine, ["ana@example.com"], name="AE <2026>")
    sign_in(client, "admin@example.com")

    listed = client.get("/admin/people?q=ana").text
    assert f'<a href="/admin/people/{ana.id}">Ana</a>' in listed  # the list links each person's page

    page = client.get(f"/admin/people/{ana.id}")
    assert page.status_code == 200
    text = page.text
    assert (
        "<h1>Ana</h1>" in text
        and "<dd>ana@example.com</dd>" in text
        and f'<dd><a href="/admin/teams/{ana.team_id}">East</a></dd>' in text
    )
    assert f'<a href="/admin/people/{boss.id}">Boss</a>' in text
    assert "AE &lt;2026&gt;</a></td><td>2026-01-01</td><td>open-ended</td>" in text  # escaped
    assert 'href="/deals?owner=ana%40example.com&amp;period=all"' in text
    assert "/statements/" not in text  # an admin does not read pay
    assert "Nobody reports to them." in text

    boss_page = client.get(f"/admin/people/{boss.id}").text
    assert f'<a href="/admin/people/{ana.id}">Ana</a>' in boss_page and ">Bo</a>" in boss_page
    assert "Not on any plan" in boss_page

    assert client.get("/admin/people/999999").status_code == 404


def test_only_an_admin_sees_a_persons_page(client, make_person) -> None:  # type: ignore[no-untyped-def]
    ana = make_person("ana@example.com")
    for role in ("rep", "manager", "finance"):
        make_person(f"{role}.x@example.com", role)
        sign_in(client, f"{role}.x@example.com")
        assert client.get(f"/admin/people/{ana.id}", follow_redirects=False).status_code == 403, role
        client.cookies.clear()


def test_a_setting_saved_on_a_persons_page_is_confirmed_there_and_an_error_shown_there(
    client, make_person, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    make_person("admin@example.com", "admin")
    make_person("boss@example.com", "manager", team="East")
    ana = make_person("ana@example.com", team="East")
    sign_in(client, "admin@example.com")
    page = f"/admin/people/{ana.id}"

    def send(action: str, **fields: str):  # type: ignore[no-untyped-def]
        return client.post(
            f"{page}/{action}",
            data={"from": "person", **fields, "_csrf_token": csrf_from(client)},
            follow_redirects=False,
        )

    moved = send("placement", manager="boss@example.com", team="East")
    assert moved.status_code == 303 and moved.headers["location"] == f"{page}?saved=moved"
    assert "Saved: Ana moved." in client.get(moved.headers["location"]).text
    assert read(engine, lambda s: s.get(Person, ana.id)).manager_id is not None

    unchanged = send("placement", manager="boss@example.com", team="East")
    assert unchanged.headers["location"] == f"{page}?saved=unchanged"
    assert "Nothing to save: Ana's settings already read that way." in client.get(unchanged.headers["location"]).text

    wrong = send("placement", manager="nobody@example.com", team="East")
    assert wrong.status_code == 200 and "Not moved: manager:" in wrong.text and "<details open>" in wrong.text

    paid = send("payment-currency", payment_currency="EUR")
    assert paid.headers["location"] == f"{page}?saved=paid_in"
    assert "Saved: Ana is paid in EUR." in client.get(paid.headers["location"]).text
    bad = send("payment-currency", payment_currency="XX")
    assert bad.status_code == 400 and "<h1>Ana</h1>" in bad.text and 'role="alert"' in bad.text

    language = send("locale", locale="ms")
    assert language.headers["location"] == f"{page}?saved=language"
    assert "Saved: Ana's pages are in" in client.get(language.headers["location"]).text

    off = send("active", active="0")
    assert off.headers["location"] == f"{page}?saved=active"
    assert "Saved: Ana is deactivated and can no longer sign in." in client.get(off.headers["location"]).text
    assert read(engine, lambda s: s.get(Person, ana.id)).active is False
    assert "saved=" not in client.get(f"{page}?saved=<script>").text  # an unknown notice: none shown
    assert "&lt;script&gt;" not in client.get(f"{page}?saved=<script>").text


def test_an_admin_edits_a_persons_name_role_and_employee_id_by_the_apis_rules(client, make_person, engine) -> None:  # type: ignore[no-untyped-def]
    from commissions.models import AuditEvent

    admin = make_person("admin@example.com", "admin")
    ana = make_person("ana@example.com")
    bo = make_person("bo@example.com")
    with transaction(engine) as s:
        row = s.get(Person, bo.id)
        row.employee_id = "E-7"
        s.add(row)
    sign_in(client, "admin@example.com")

    def send(person_id: int, **fields: str):  # type: ignore[no-untyped-def]
        return client.post(
            f"/admin/people/{person_id}/details",
            data={**fields, "_csrf_token": csrf_from(client)},
            follow_redirects=False,
        )

    saved = send(ana.id, name="Ana Lopez", role="manager", employee_id="E-1")
    assert saved.status_code == 303 and saved.headers["location"] == f"/admin/people/{ana.id}?saved=details"
    assert "Saved: Ana Lopez's details." in client.get(saved.headers["location"]).text
    stored = read(engine, lambda s: s.get(Person, ana.id))
    assert (stored.name, stored.role, stored.employee_id) == ("Ana Lopez", "manager", "E-1")
    audited = read(engine, lambda s: s.exec(select(AuditEvent.action).where(AuditEvent.object_type == "person")).all())
    assert audited, "the change is audited as an API change is"

    assert (
        send(ana.id, name="Ana Lopez", role="manager", employee_id="E-1")
        .headers["location"]
        .endswith("saved=unchanged")
    )

    taken = send(ana.id, name="Ana Lopez", role="manager", employee_id="E-7")  # Bo's
    assert taken.status_code == 400 and "employee id E-7 is bo@example.com&#39;s" in taken.text
    assert 'value="E-7"' in taken.text  # what was typed stays in the form
    assert read(engine, lambda s: s.get(Person, ana.id)).employee_id == "E-1"  # nothing written

    empty = send(ana.id, name="  ", role="rep", employee_id="")
    assert empty.status_code == 400 and "a name is 1 to 200 printable characters" in empty.text
    own = send(admin.id, name="Admin", role="rep", employee_id="")
    assert own.status_code == 400 and "you cannot change your own role" in own.text
    assert send(999999, name="X", role="rep").status_code == 404


def test_a_settings_request_without_its_fields_changes_nothing(client, make_person, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """A POST with only the CSRF field cleared a person's manager and team, or deactivated them (revoking every
    token): a form always sends its fields, so a request without them is refused."""
    make_person("admin@example.com", "admin")
    make_person("boss@example.com", "manager", team="East")
    ana = make_person("ana@example.com", manager="boss@example.com", team="East")
    sign_in(client, "admin@example.com")
    token = csrf_from(client)
    moved = client.post(f"/admin/people/{ana.id}/placement", data={"_csrf_token": token}, follow_redirects=False)
    assert moved.status_code == 400
    active = client.post(f"/admin/people/{ana.id}/active", data={"_csrf_token": token}, follow_redirects=False)
    assert active.status_code == 400
    after = read(engine, lambda s: s.get(Person, ana.id))
    assert (after.manager_id, after.team_id, after.active) == (ana.manager_id, ana.team_id, True)
