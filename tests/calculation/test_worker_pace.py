"""The served worker waits while deliveries keep coming (``queue.Pace``), and still runs a round every
``max_lag`` seconds, on the statements left alone for a while; and the statement marks a delivery makes
under the period locks it already holds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update

from commissions.calculation import queue
from commissions.calculation.state import pending_count, pending_in, touch
from commissions.core.db import transaction
from commissions.models import StatementState
from commissions.models.base import utcnow
from tests.calc_fixtures import example_deal, store_plan
from tests.calculation.test_calculation import MANAGER_PLAN, person_id, setup_example
from tests.conftest import read


def _two_pending(client, engine: Engine, make_person) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Ana's and Mia's statements pending, Mia's last marked two minutes ago, Ana's just now."""
    crm = setup_example(client, engine, make_person)
    store_plan(engine, ["mia@example.com"], document=MANAGER_PLAN, name="Managers")
    client.post("/api/v1/deals", json=example_deal("D-1", "60000", "2026-01-10"), headers=crm)
    queue.drain(engine)
    ana, mia = person_id(engine, "ana@example.com"), person_id(engine, "mia@example.com")
    with transaction(engine) as s:
        touch(s, {ana, mia}, {"2026-Q1"})
        s.exec(  # type: ignore[call-overload]
            update(StatementState)
            .where(StatementState.person_id == mia)  # type: ignore[arg-type]
            .values(changed_at=utcnow() - timedelta(minutes=2))
        )
    assert read(engine, lambda s: set(pending_in(s, "2026-Q1"))) == {ana, mia}
    return ana, mia


def test_the_worker_leaves_the_queue_alone_while_deliveries_keep_coming(client, engine: Engine, make_person) -> None:
    ana, mia = _two_pending(client, engine, make_person)
    pace = queue.Pace(quiet=60, max_lag=3600)  # Ana's statement was marked pending within the minute
    assert queue.drain(engine, pace=pace) == []
    assert pace.busy_since is not None
    assert read(engine, lambda s: set(pending_in(s, "2026-Q1"))) == {ana, mia}
    assert queue.drain(engine, pace=pace) == []  # still within max_lag: still waiting
    assert read(engine, lambda s: pending_count(s)) == 2


def test_after_max_lag_a_round_takes_the_statements_left_alone_meanwhile(client, engine: Engine, make_person) -> None:
    """Ana's statement is still being touched (it would come back changed and not be stored): the forced round
    computes Mia's only; the next one waits max_lag again."""
    ana, _mia = _two_pending(client, engine, make_person)
    pace = queue.Pace(quiet=60, max_lag=0)
    reports = queue.drain(engine, pace=pace, rounds=1)
    assert [r.computed for r in reports] == [1]
    assert read(engine, lambda s: set(pending_in(s, "2026-Q1"))) == {ana}
    pace.max_lag = 3600  # the round just ran: the next waits for quiet or max_lag
    assert queue.drain(engine, pace=pace) == []
    assert read(engine, lambda s: set(pending_in(s, "2026-Q1"))) == {ana}


def test_once_deliveries_stop_the_worker_drains_everything(client, engine: Engine, make_person) -> None:
    _two_pending(client, engine, make_person)
    pace = queue.Pace(quiet=60, max_lag=3600)
    assert queue.drain(engine, pace=pace) == []
    pace.quiet = 0  # nothing marked pending "within the last 0 s": the deliveries stopped
    reports = queue.drain(engine, pace=pace)
    assert sum(r.computed for r in reports) == 2
    assert pace.busy_since is None
    assert read(engine, lambda s: pending_count(s)) == 0


def test_without_a_pace_the_queue_drains_at_once(client, engine: Engine, make_person) -> None:
    """``commissions worker --once`` and the tests: no waiting for quiet."""
    _two_pending(client, engine, make_person)
    assert sum(r.computed for r in queue.drain(engine)) == 2
    assert read(engine, lambda s: pending_count(s)) == 0


def test_an_empty_queue_ends_the_wait_so_the_next_burst_waits_from_its_start(
    client, engine: Engine, make_person
) -> None:
    ana, mia = _two_pending(client, engine, make_person)
    pace = queue.Pace(quiet=60, max_lag=3600)
    assert queue.drain(engine, pace=pace) == []
    assert pace.busy_since is not None
    queue.drain(engine)  # drained by someone else (`commissions worker --once`, say)
    assert queue.drain(engine, pace=pace) == []
    assert pace.busy_since is None
    with transaction(engine) as s:  # the next burst
        touch(s, {ana}, {"2026-Q1"})
    assert queue.drain(engine, pace=pace) == []
    assert pace.busy_since is not None
    assert read(engine, lambda s: set(pending_in(s, "2026-Q1"))) == {ana}
    assert mia not in read(engine, lambda s: set(pending_in(s, "2026-Q1")))


def test_a_touch_under_locks_already_held_still_skips_a_period_closed_meanwhile(
    client, engine: Engine, make_person
) -> None:
    """A delivery reads the periods' states before it takes their locks (to choose shared or exclusive):
    finance may lock one meanwhile. Its statement marks reuse the locks but read the states again."""
    from commissions.core.periods import ensure_period

    ana, _mia = _two_pending(client, engine, make_person)
    queue.drain(engine)
    with transaction(engine) as s:
        ensure_period(s, "2026-Q1").state = "locked"
    with transaction(engine) as s:
        assert touch(s, {ana}, {"2026-Q1"}, locked=frozenset({"2026-Q1"})) == 0
    assert read(engine, lambda s: pending_count(s)) == 0
