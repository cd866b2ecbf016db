"""Per-process caches keyed on a stored version (commissions/core/stored_versions.py): plans, assignments, custom
fields and campaigns are kept in memory, and every change to them, from any process and by any writer, is seen
by the next transaction of every other process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, update
from sqlmodel import Session, select

from commissions.calculation.loader import plan_catalogue, plans_in_period
from commissions.core import stored_versions
from commissions.core.db import read_session, snapshot, transaction
from commissions.engine import parse_period
from commissions.models import Campaign, CustomField, Person, Plan, PlanAssignment
from tests.calc_fixtures import store_plan

Q1 = parse_period("2026-Q1")
ROOT = Path(__file__).resolve().parents[2]


def _plans_of(engine: Engine, email: str) -> list[str]:
    with snapshot(engine) as s:
        pid = s.exec(select(Person.id).where(Person.email == email)).one()
        return [p.plan.name for p in plans_in_period(s, Q1, {pid})]


def _statements(engine: Engine, call) -> int:  # type: ignore[no-untyped-def]
    count = 0

    def seen(*_: object) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", seen)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return count


def _in_another_process(engine: Engine, code: str) -> None:
    """Run ``code`` (with ``engine`` bound to the same database) in a fresh interpreter: another app process."""
    program = "from commissions.core.db import make_engine, transaction\n"
    program += f"engine = make_engine({str(engine.url.render_as_string(hide_password=False))!r})\n"
    program += textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_plan_change_in_another_process_is_seen_by_the_next_read(engine: Engine, make_person) -> None:
    make_person("ana@example.com")
    store_plan(engine, ["ana@example.com"])
    assert _plans_of(engine, "ana@example.com") == ["AE 2026"]
    # warm: the catalogue comes from memory, one small query for the version
    with snapshot(engine) as s:
        s.connection()  # begun (SQLite's BEGIN is a statement too)
        assert _statements(engine, lambda: plan_catalogue(s)) == 1

    _in_another_process(
        engine,
        """
        from sqlmodel import select
        from commissions.models import Plan
        with transaction(engine) as s:
            s.exec(select(Plan)).one().name = "AE 2026 renamed"
        """,
    )
    assert _plans_of(engine, "ana@example.com") == ["AE 2026 renamed"]

    _in_another_process(  # a Core statement, not the ORM: the same
        engine,
        """
        from sqlalchemy import delete
        from commissions.models import PlanAssignment
        with transaction(engine) as s:
            s.execute(delete(PlanAssignment))
        """,
    )
    assert _plans_of(engine, "ana@example.com") == []


@pytest.mark.parametrize("how", ["orm", "core update", "bulk insert"])
def test_every_kind_of_write_moves_the_version(engine: Engine, make_person, how: str) -> None:
    ana = make_person("ana@example.com")
    store_plan(engine, ["ana@example.com"])
    with read_session(engine) as s:
        before = stored_versions.stored_version(s)
    with transaction(engine) as s:
        if how == "orm":
            s.add(CustomField(name="region", type="text"))
        elif how == "core update":
            s.execute(update(PlanAssignment).values(ends_on=date(2026, 2, 1)))
        else:
            s.execute(Campaign.__table__.insert(), [{"code": "C1", "name": "C", "owner_id": ana.id, "channel": ""}])  # type: ignore[attr-defined]
    with read_session(engine) as s:
        after = stored_versions.stored_version(s)
        catalogue = plan_catalogue(s)
    assert before is not None and after is not None and after[0] > before[0]
    if how == "orm":
        assert catalogue.custom_fields == {"region": "text"}
    elif how == "core update":
        assert [a.ends_on for rows in catalogue.assignments.values() for a in rows] == [date(2026, 2, 1)]
    else:
        assert [code for code, *_ in catalogue.campaigns] == ["C1"]


def test_a_transaction_that_changes_plans_reads_its_own_change_and_a_rollback_leaves_nothing_cached(
    engine: Engine, make_person
) -> None:
    make_person("ana@example.com")
    store_plan(engine, ["ana@example.com"])
    assert _plans_of(engine, "ana@example.com") == ["AE 2026"]

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction(engine) as s:
        plan = s.exec(select(Plan)).one()
        plan.name = "Never committed"
        s.flush()
        pid = s.exec(select(Person.id).where(Person.email == "ana@example.com")).one()
        assert [p.plan.name for p in plans_in_period(s, Q1, {pid})] == ["Never committed"]
        raise Undo
    assert _plans_of(engine, "ana@example.com") == ["AE 2026"]
    with transaction(engine) as s:  # the same version number again, committed this time
        s.exec(select(Plan)).one().name = "Committed"
    assert _plans_of(engine, "ana@example.com") == ["Committed"]


def test_an_emptied_catalogue_row_caches_nothing_and_a_new_one_starts_a_new_epoch(engine: Engine, make_person) -> None:
    make_person("ana@example.com")
    store_plan(engine, ["ana@example.com"])
    with read_session(engine) as s:
        first = stored_versions.stored_version(s)
    with transaction(engine) as s:
        s.execute(stored_versions.CacheVersion.__table__.delete())  # type: ignore[attr-defined]
    with Session(engine) as s:
        assert stored_versions.stored_version(s) is None
        assert _statements(engine, lambda: plan_catalogue(s)) > 1  # read every time: nothing to trust
    store_plan(engine, ["ana@example.com"], name="Second")
    with read_session(engine) as s:
        again = stored_versions.stored_version(s)
    assert first is not None and again is not None and again[1] != first[1]
    assert sorted(_plans_of(engine, "ana@example.com")) == ["AE 2026", "Second"]
