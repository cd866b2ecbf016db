"""Reads end with COMMIT (PostgreSQL keeps its prepared statements), a transaction that wrote still rolls back,
and long id lists go to PostgreSQL as one array parameter (``core.db``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, create_engine, event, insert, text
from sqlmodel import Session, col, select

from commissions.calculation.service import compute
from commissions.core.db import among, end_read, make_engine, snapshot, transaction
from commissions.models import Deal, Person, Team
from tests.calc_fixtures import store_plan
from tests.calculation.test_calculation import MANAGER_PLAN, person_id, setup_example
from tests.conftest import read


def _endings(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "commit", lambda _conn: seen.append("commit"))
    event.listen(engine, "rollback", lambda _conn: seen.append("rollback"))
    return seen


def test_a_read_ends_with_commit_and_a_write_in_a_read_session_is_still_thrown_away(
    engine: Engine, make_person
) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    own = make_engine(engine.url.render_as_string(hide_password=False))  # the app's: SQLite's BEGIN is explicit
    endings = _endings(own)
    try:
        with Session(own) as session:
            session.exec(select(Person.id)).all()
            end_read(session)
        with Session(own) as session:  # an ORM write, flushed
            session.add(Team(name="Never kept", kind="sales"))
            session.flush()
            end_read(session)
        with Session(own) as session:  # a Core write: nothing pending in the session, the connection knows
            session.connection().execute(text("UPDATE person SET name = 'Renamed' WHERE email = 'ana@example.com'"))
            end_read(session)
        with Session(own) as session:  # a write after a WITH
            session.connection().execute(
                text(
                    "WITH target AS (SELECT 'ana@example.com' AS email)"
                    " UPDATE person SET name = 'Renamed' WHERE email IN (SELECT email FROM target)"
                )
            )
            end_read(session)
        with Session(own) as session:  # a read inside a WITH
            session.connection().execute(text("WITH everyone AS (SELECT id FROM person) SELECT count(*) FROM everyone"))
            end_read(session)
        with Session(own) as session:  # added, never flushed: never sent either (no connection, no event)
            session.add(Team(name="Nor that", kind="sales"))
            end_read(session)
            assert not session.new
        with snapshot(own) as session:
            session.exec(select(Person.id)).all()
    finally:
        own.dispose()
    assert endings == ["commit", "rollback", "rollback", "rollback", "commit", "commit"]
    assert read(engine, lambda s: s.exec(select(Team.name)).all()) == []
    assert (
        read(engine, lambda s: s.exec(select(Person.name).where(Person.email == "ana@example.com")).one()) != "Renamed"
    )


def test_postgresql_keeps_its_prepared_statements_across_reads(engine: Engine) -> None:
    """psycopg prepares a query on its fifth run and forgets every prepared statement at a ROLLBACK."""
    if engine.dialect.name != "postgresql":
        return  # SQLite prepares nothing server-side: there is nothing to keep
    url = engine.url.render_as_string(hide_password=False)
    own = create_engine(url, pool_size=1, max_overflow=0)
    try:
        for _ in range(8):
            with snapshot(own) as session:
                session.exec(select(Person.id).where(Person.email == "nobody@example.com")).all()
        with Session(own) as session:
            prepared = session.connection().execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
            end_read(session)
    finally:
        own.dispose()
    assert prepared and prepared >= 1


def test_among_finds_what_in_finds(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    ids = [make_person(f"p{i}@example.com").id for i in range(5)]
    wanted = [ids[1], ids[3], 10_000_000, *range(20_000_000, 20_003_000)]  # 3,003 ids, most of them unknown
    with Session(engine) as session:
        found = session.exec(select(Person.id).where(among(session, col(Person.id), wanted))).all()
        assert sorted(found) == [ids[1], ids[3]]
        assert session.exec(select(Person.id).where(among(session, col(Person.id), []))).all() == []


def test_a_managers_recompute_sends_their_teams_ids_as_one_parameter(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: a manager's 80 deals are read without 80 placeholders (a VP's 4,800 made the text of the
    queries two thirds of the recompute)."""
    setup_example(client, engine, make_person)
    store_plan(engine, ["mia@example.com"], document=MANAGER_PLAN, name="Managers")
    ana, mia = person_id(engine, "ana@example.com"), person_id(engine, "mia@example.com")
    with transaction(engine) as s:
        s.connection().execute(
            insert(Deal),
            [
                {
                    "external_id": f"M-{i}",
                    "name": f"Deal {i}",
                    "account": "",
                    "owner_id": ana,
                    "amount_minor": 1_000_00 + i,
                    "currency": "USD",
                    "closed_at": date(2026, 1, 1 + i % 28),
                    "type": "new",
                    "product": "Pro",
                    "term_months": 12,
                    "source_campaign": None,
                    "status": "won",
                    "cancelled_at": None,
                    "custom_fields": {},
                    "body_hash": f"h{i}",
                }
                for i in range(80)
            ],
        )
    sizes: list[int] = []

    def count(_conn, _cursor, _statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        sizes.append(len(parameters) if isinstance(parameters, dict | list | tuple) else 0)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with snapshot(engine) as session:
            computation = compute(session, "2026-Q1", person_ids={mia})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    lines = [
        line
        for outcome in computation.outcomes
        for payee in outcome.result.payees
        for c in payee.components
        for line in c.lines
    ]
    assert len([line for line in lines if line.deal_id and line.deal_id.startswith("M-")]) >= 80
    if engine.dialect.name == "postgresql":
        assert max(sizes) < 20, sizes
    else:
        assert max(sizes) >= 80  # SQLite keeps IN: a parameter costs it nothing
