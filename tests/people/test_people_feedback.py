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
