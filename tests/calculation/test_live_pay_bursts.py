"""Real concurrency, not only constructed interleavings: threads record deals, change quotas and run the
worker at the same time; when they are done and the worker is idle, the stored ledger equals a fresh
calculation (and nothing deadlocks or fails on either database)."""

from __future__ import annotations

import random
import threading
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import select

from commissions.calculation.check import check_period
from commissions.calculation.queue import drain
from commissions.calculation.state import pending_count, touch
from commissions.core.db import transaction
from commissions.deals.schemas import DealIn, SplitIn
from commissions.deals.service import record_one
from commissions.models import Person, Quota
from tests.calc_fixtures import store_plan, store_quota
from tests.calculation.test_calculation import MANAGER_PLAN
from tests.conftest import read

REPS = ["ana@example.com", "bo@example.com", "cy@example.com"]


def test_concurrent_deals_quota_changes_and_workers_leave_the_ledger_equal_to_a_fresh_calculation(
    engine: Engine, make_person
) -> None:
    make_person("vp@example.com", "manager")
    make_person("mia@example.com", "manager", manager="vp@example.com")
    for email in REPS:
        make_person(email, manager="mia@example.com")
    store_plan(engine, REPS)
    store_plan(engine, ["mia@example.com", "vp@example.com"], document=MANAGER_PLAN, name="Managers")
    for email in REPS:
        store_quota(engine, email, 100_000)
    errors: list[BaseException] = []
    stop = threading.Event()

    def guarded(fn):  # type: ignore[no-untyped-def]
        def run(*args):  # type: ignore[no-untyped-def]
            try:
                fn(*args)
            except BaseException as exc:
                errors.append(exc)

        return run

    @guarded
    def deals(seed: int) -> None:
        rng = random.Random(seed)
        for n in range(12):
            owner = rng.choice(REPS)
            partner = rng.choice([r for r in REPS if r != owner])
            splits = (
                [SplitIn(person=owner, share=Decimal(60)), SplitIn(person=partner, share=Decimal(40))]
                if rng.random() < 0.3
                else []
            )
            external_id = f"T{seed}-{rng.randrange(6)}"  # repeats: edits of the same deal
            record_one(
                engine,
                DealIn(
                    external_id=external_id,
                    name=f"deal {n}",
                    owner=owner,
                    amount=Decimal(rng.randrange(1_000, 90_000)),
                    closed_at=date(2026, 1, 1 + n),
                    splits=splits,
                ),
                by=None,
            )

    @guarded
    def quotas(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(10):
            with transaction(engine) as s:
                person = s.exec(select(Person).where(Person.email == rng.choice(REPS))).one()
                quota = s.exec(select(Quota).where(Quota.person_id == person.id)).one()
                quota.target_minor = rng.randrange(50_000, 150_000) * 100
                s.add(quota)
                touch(s, {person.id}, {"2026-Q1"})

    @guarded
    def worker() -> None:
        while not stop.is_set():
            drain(engine)

    threads = [threading.Thread(target=deals, args=(seed,)) for seed in range(3)]
    threads.append(threading.Thread(target=quotas, args=(99,)))
    workers = [threading.Thread(target=worker) for _ in range(2)]  # two workers: they must not fight either
    for thread in threads + workers:
        thread.start()
    for thread in threads:
        thread.join(120)
    stop.set()
    for thread in workers:
        thread.join(120)
    assert not errors, errors
    drain(engine)
    assert read(engine, lambda s: pending_count(s)) == 0
    result = check_period(engine, "2026-Q1")
    assert result.checked and result.differences == [], result.differences[:5]
    assert result.statements >= 5
