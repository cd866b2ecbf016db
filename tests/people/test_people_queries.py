"""people/queries.py: the one look-up of a person by email (any case, spaces around, active or not)."""

from __future__ import annotations

from sqlalchemy import Engine

from commissions.core.db import transaction
from commissions.people import queries
from commissions.people.queries import people_by_email, person_by_email
from commissions.people.service import set_active
from tests.conftest import read


def test_one_person_by_email_in_any_case_active_or_not(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    ana = make_person("ana@example.com")
    assert read(engine, lambda s: person_by_email(s, "  Ana@Example.COM ").id) == ana.id
    assert read(engine, lambda s: person_by_email(s, "zed@example.com")) is None
    with transaction(engine) as session:
        set_active(session, person_by_email(session, "ana@example.com"), False, by=None)
    assert read(engine, lambda s: person_by_email(s, "ana@example.com").active) is False


def test_many_people_by_email_in_chunks_leaving_unknown_ones_out(engine: Engine, make_person, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = {email: make_person(email).id for email in ("ana@example.com", "bo@example.com", "cy@example.com")}
    monkeypatch.setattr(queries, "_CHUNK", 2)
    found = read(
        engine,
        lambda s: {
            e: p.id
            for e, p in people_by_email(
                s, ["ANA@example.com", "bo@example.com ", "cy@example.com", "zed@x.com"]
            ).items()
        },
    )
    assert found == ids
    assert read(engine, lambda s: people_by_email(s, [])) == {}
