"""The people page confirms what an admin saved: a person added, deactivated or reactivated."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from commissions.models import Person
from tests.conftest import csrf_from, read, sign_in


def test_adding_deactivating_and_reactivating_a_person_is_confirmed(client, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    added = client.post(
        "/admin/people/",
        data={"email": "nina@example.com", "name": "Nina Nowak", "role": "finance", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert added.status_code in (302, 303)
    nina = read(engine, lambda s: s.exec(select(Person).where(Person.email == "nina@example.com")).one())
    assert added.headers["location"] == f"/admin/people?added={nina.id}"
    page = client.get(added.headers["location"]).text
    assert 'role="status" id="person-saved">Saved: Nina Nowak (nina@example.com) is added as finance.' in page
    assert 'id="person-saved"' not in client.get("/admin/people").text

    off = client.post(
        f"/admin/people/{nina.id}/active",
        data={"active": "0", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert off.headers["location"] == f"/admin/people?active={nina.id}"
    assert "Saved: Nina Nowak is deactivated and can no longer sign in." in client.get(off.headers["location"]).text
    on = client.post(
        f"/admin/people/{nina.id}/active",
        data={"active": "1", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert "Saved: Nina Nowak is active again and can sign in." in client.get(on.headers["location"]).text
    assert 'id="person-saved"' not in client.get("/admin/people?added=999999").text  # nobody: no notice


def test_an_admin_chooses_a_persons_language_and_their_pages_follow(client, make_person, engine: Engine) -> None:
    from litestar.testing import TestClient

    make_person("root@example.com", "admin")
    ana = make_person("ana@example.com")
    sign_in(client, "root@example.com")
    assert f'action="/admin/people/{ana.id}/locale"' in client.get("/admin/people").text
    saved = client.post(
        f"/admin/people/{ana.id}/locale",
        data={"locale": "th", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/admin/people?language={ana.id}"
    assert "Saved: Ana's pages are in ไทย." in client.get(saved.headers["location"]).text
    assert read(engine, lambda s: s.get(Person, ana.id)).locale == "th"

    with TestClient(app=client.app, base_url="http://127.0.0.1:8000") as ana_client:  # Ana's own browser, in English
        sign_in(ana_client, "ana@example.com")
        home = ana_client.get("/", headers={"Accept-Language": "en-US"}).text
        assert '<html lang="th"' in home

    bad = client.post(
        f"/admin/people/{ana.id}/locale",
        data={"locale": "xx", "_csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert bad.status_code == 400 and "&#39;xx&#39; is not a language we ship (en, ms, th)" in bad.text
    back = client.post(
        f"/admin/people/{ana.id}/locale", data={"locale": "", "_csrf_token": csrf_from(client)}, follow_redirects=False
    )
    assert "Saved: Ana's pages are in their browser's language." in client.get(back.headers["location"]).text
    assert read(engine, lambda s: s.get(Person, ana.id)).locale is None
    missing = client.post(
        "/admin/people/999999/locale", data={"locale": "ms", "_csrf_token": csrf_from(client)}, follow_redirects=False
    )
    assert missing.status_code == 404


def test_the_team_fields_offer_the_existing_teams(client, make_person, engine: Engine) -> None:
    """A new team name creates a team: the fields suggest the existing ones so a typo ("Sales Eastt") is rarer."""
    make_person("root@example.com", "admin")
    make_person("ana@example.com", team="Sales East")
    make_person("bo@example.com", team="Sales West")
    sign_in(client, "root@example.com")
    page = client.get("/admin/people").text
    assert '<datalist id="team-names"><option value="Sales East"><option value="Sales West"></datalist>' in page
    assert page.count('list="team-names"') >= 3  # the new person's field and each person's "Move" form


def test_the_people_list_is_searched_by_name_email_or_id_role_and_team_and_shows_at_most_a_page(
    client, make_person, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from commissions.people import pages

    make_person("admin@example.com", "admin")
    make_person("ana.lopez@example.com", team="East")
    make_person("bo.berg@example.com", team="West")
    make_person("cy.finance@example.com", "finance")
    sign_in(client, "admin@example.com")

    def rows(query: str) -> list[str]:
        page = client.get("/admin/people" + query).text
        body = page.split("<tbody>")[1].split("</tbody>")[0]
        return sorted(
            e for e in ("admin@", "ana.lopez@", "bo.berg@", "cy.finance@") if f"<td>{e}example.com</td>" in body
        )

    assert rows("") == ["admin@", "ana.lopez@", "bo.berg@", "cy.finance@"]
    assert rows("?q=LOPEZ") == ["ana.lopez@"]  # any case, in the name or the email
    assert rows("?q=example+berg") == ["bo.berg@"]  # every word
    assert rows("?role=finance") == ["cy.finance@"]
    assert rows("?team=west") == ["bo.berg@"]
    assert rows("?role=nonsense") == ["admin@", "ana.lopez@", "bo.berg@", "cy.finance@"]  # an unknown role: ignored
    nobody = client.get("/admin/people?q=zzz").text
    assert "Nobody matches" in nobody and "0 of 4 people." in nobody
    monkeypatch.setattr(pages, "SHOWN_MAX", 2)
    capped = client.get("/admin/people").text
    assert len(rows("")) == 2 and "4 of 4 people match; the first 2 are shown" in capped


def test_the_people_list_costs_what_it_shows_not_the_size_of_the_organisation(
    client, make_person, engine: Engine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Filtered, counted and cut in SQL: people beyond the page are neither loaded nor asked about one by one."""
    from sqlalchemy import event

    from commissions.people import pages

    monkeypatch.setattr(pages, "SHOWN_MAX", 5)
    make_person("admin@example.com", "admin")
    make_person("boss@example.com", "manager", team="East")
    sign_in(client, "admin@example.com")

    def page_cost(people: int) -> tuple[int, int, str]:
        for i in range(people):
            make_person(f"rep{len(loaded_before)}-{i}@example.com", manager="boss@example.com", team="East")
        loaded: list[int] = []
        statements: list[str] = []

        def on_load(target, _context):  # type: ignore[no-untyped-def]
            loaded.append(target.id)

        def on_statement(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(Person, "load", on_load)
        event.listen(engine, "before_cursor_execute", on_statement)
        try:
            page = client.get("/admin/people?team=east")
        finally:
            event.remove(Person, "load", on_load)
            event.remove(engine, "before_cursor_execute", on_statement)
        assert page.status_code == 200
        loaded_before.append(people)
        return len(set(loaded)), len(statements), page.text

    loaded_before: list[int] = []
    few_loaded, few_statements, _ = page_cost(3)
    assert few_loaded <= 5, few_loaded
    many_loaded, many_statements, text = page_cost(60)
    assert many_statements == few_statements, (few_statements, many_statements)
    assert many_loaded <= 5 + 1 + 1, many_loaded  # the page, their manager, the signed-in admin at most
    assert "64 of 65 people match; the first 5 are shown" in text
    assert "<td>Boss</td>" in text  # the shown people's manager is named


def test_a_form_error_on_someone_beyond_the_first_page_shows_them_with_their_form_open(
    client, make_person, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from commissions.people import pages

    monkeypatch.setattr(pages, "SHOWN_MAX", 2)
    make_person("admin@example.com", "admin")
    make_person("amy@example.com")
    zed = make_person("zed.last@example.com")
    sign_in(client, "admin@example.com")
    assert "zed.last@example.com" not in client.get("/admin/people").text  # not on the first page

    moved = client.post(
        f"/admin/people/{zed.id}/placement",
        data={"manager": "nobody@example.com", "team": "", "_csrf_token": csrf_from(client)},
    )
    assert "Not moved (zed.last@example.com): manager:" in moved.text
    assert (
        f'<details open>\n          <summary>Move</summary>\n          <form method="post" action="/admin/people/{zed.id}/placement">'
        in moved.text
    )
    assert 'value="zed.last@example.com"' in moved.text  # the search says why only Zed is listed

    currency = client.post(
        f"/admin/people/{zed.id}/payment-currency", data={"payment_currency": "XX", "_csrf_token": csrf_from(client)}
    )
    assert currency.status_code == 400 and "Payment currency not saved (zed.last@example.com)" in currency.text
    assert f'action="/admin/people/{zed.id}/payment-currency"' in currency.text


def test_the_people_list_finds_an_employee_id_and_treats_search_characters_literally(
    client, make_person, engine
) -> None:  # type: ignore[no-untyped-def]
    from commissions.core.db import transaction

    make_person("admin@example.com", "admin")
    ana = make_person("ana@example.com")
    make_person("bo@example.com")
    with transaction(engine) as s:
        row = s.get(Person, ana.id)
        row.employee_id = "E_100%"
        s.add(row)
    sign_in(client, "admin@example.com")
    assert "<td>ana@example.com</td>" in client.get("/admin/people?q=e_100%25").text
    matched = client.get("/admin/people?q=%25").text  # a literal percent sign, not "anything"
    assert "<td>ana@example.com</td>" in matched and "<td>bo@example.com</td>" not in matched


def test_a_team_typed_in_another_case_is_the_existing_team(client, make_person, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    from commissions.models import Team

    make_person("admin@example.com", "admin")
    make_person("ana@example.com", team="Sales East")
    sign_in(client, "admin@example.com")
    client.post(
        "/admin/people/",
        data={
            "email": "bo@example.com",
            "name": "Bo",
            "role": "rep",
            "team": "sales east",
            "_csrf_token": csrf_from(client),
        },
    )
    assert read(engine, lambda s: sorted(t.name for t in s.exec(select(Team)).all())) == ["Sales East"]
    bo = read(engine, lambda s: s.exec(select(Person).where(Person.email == "bo@example.com")).one())
    east = read(engine, lambda s: s.exec(select(Team).where(Team.name == "Sales East")).one())
    assert bo.team_id == east.id
