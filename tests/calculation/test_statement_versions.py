"""A statement's input version and what its last store answered live in separate rows (``statement_state``,
``statement_result``): a deal marking its people's statements pending never waits for a store of them in
flight (on PostgreSQL it waited on the store's row lock until the store committed: issue 16's deal ->
statement tail), and ``claim`` still keeps only results computed from the inputs now in force."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, text
from sqlmodel import select

from commissions.calculation.state import claim, freshness, pending_count, pending_in, touch, versions_of
from commissions.core.db import transaction
from commissions.models import StatementResult
from tests.conftest import read

Q1 = "2026-Q1"


def _person(make_person, email: str = "ana@example.com") -> int:  # type: ignore[no-untyped-def]
    person = make_person(email)
    assert person.id is not None
    return person.id


def test_a_statement_is_pending_from_its_change_until_a_store_of_that_version(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    ana = _person(make_person)
    assert read(engine, lambda s: freshness(s, ana, Q1)).computed_at is None
    with transaction(engine) as s:
        touch(s, {ana}, {Q1})
        touch(s, {ana}, {Q1})
    seen = read(engine, lambda s: versions_of(s, Q1, {ana}))
    assert seen == {ana: 2}
    assert read(engine, lambda s: pending_in(s, Q1)) == {ana: 2}
    state = read(engine, lambda s: freshness(s, ana, Q1))
    assert state.pending is True and state.computed_at is None

    with transaction(engine) as s:  # a computation of version 1 comes too late: nothing is claimed
        assert claim(s, Q1, {ana: 1}, {}) == set()
    assert read(engine, lambda s: pending_count(s, Q1)) == 1

    with transaction(engine) as s:
        assert claim(s, Q1, seen, {ana: "deal D-9 is in EUR"}) == {ana}
    state = read(engine, lambda s: freshness(s, ana, Q1))
    assert state.pending is False and state.computed_at is not None and state.error == "deal D-9 is in EUR"
    assert read(engine, lambda s: pending_count(s)) == 0

    with transaction(engine) as s:  # the next change: pending again, the last result still shown
        touch(s, {ana}, {Q1})
    state = read(engine, lambda s: freshness(s, ana, Q1))
    assert state.pending is True and state.error == "deal D-9 is in EUR"


def test_a_person_never_changed_is_stored_at_version_zero(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    ana = _person(make_person)
    with transaction(engine) as s:  # a recalculation of everyone on a plan: no change ever marked them
        assert claim(s, Q1, {ana: 0}, {}) == {ana}
    with transaction(engine) as s:  # a second store of the same inputs finds the row made by the first
        assert claim(s, Q1, {ana: 0}, {}) == {ana}
    state = read(engine, lambda s: freshness(s, ana, Q1))
    assert state.pending is False and state.computed_at is not None
    rows = read(engine, lambda s: s.exec(select(StatementResult.computed_version)).all())
    assert rows == [0]


def test_on_postgresql_a_change_does_not_wait_for_a_store_of_its_statement(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite writes are serial")
    boss = _person(make_person, "boss@example.com")
    with transaction(engine) as s:
        touch(s, {boss}, {Q1})
    seen = read(engine, lambda s: versions_of(s, Q1, {boss}))

    claimed = threading.Event()
    release = threading.Event()
    stored: list[set[int]] = []

    def store_in_flight() -> None:  # the worker's store of the boss's statement: claimed, still writing lines
        with transaction(engine) as s:
            stored.append(claim(s, Q1, seen, {}))
            claimed.set()
            release.wait(10)

    thread = threading.Thread(target=store_in_flight)
    thread.start()
    try:
        assert claimed.wait(10)
        started = time.monotonic()
        with transaction(engine) as s:  # a deal of one of the boss's reps marks the boss's statement pending
            s.execute(text("SET LOCAL lock_timeout = '500ms'"))  # it waited for the store's commit before
            assert touch(s, {boss}, {Q1}) == 1
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
        thread.join(10)
    assert stored == [{boss}]
    # the store committed the version it computed, the change came after it: still pending, computed again
    assert read(engine, lambda s: freshness(s, boss, Q1)).pending is True
    newer = read(engine, lambda s: versions_of(s, Q1, {boss}))
    assert newer == {boss: seen[boss] + 1}
    with transaction(engine) as s:
        assert claim(s, Q1, newer, {}) == {boss}
    assert read(engine, lambda s: freshness(s, boss, Q1)).pending is False


def test_on_postgresql_two_stores_of_one_statement_take_turns(engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    """The second store waits for the first one's commit, then reads the versions as they are after it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite writes are serial")
    ana = _person(make_person)
    with transaction(engine) as s:
        touch(s, {ana}, {Q1})
    seen = read(engine, lambda s: versions_of(s, Q1, {ana}))
    with transaction(engine) as s:
        claim(s, Q1, {ana: 0}, {})  # the row exists: both stores below lock it
    claimed, release = threading.Event(), threading.Event()
    results: dict[str, set[int]] = {}

    def first() -> None:
        with transaction(engine) as s:
            results["first"] = claim(s, Q1, seen, {})
            claimed.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    assert claimed.wait(10)
    try:
        with pytest.raises(Exception, match="lock timeout"), transaction(engine) as s:
            s.execute(text("SET LOCAL lock_timeout = '200ms'"))
            claim(s, Q1, seen, {})
    finally:
        release.set()
        thread.join(10)
    assert results["first"] == {ana}
    with transaction(engine) as s:  # after the first commit the same version is claimed again (no lines differ)
        assert claim(s, Q1, seen, {}) == {ana}
