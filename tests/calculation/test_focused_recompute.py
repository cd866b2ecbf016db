"""A recompute for one person reads only what can credit them (calculation/loader.py), and must
pay them exactly what the whole period's computation does."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, select

from commissions.calculation.service import compute
from commissions.demo import load_demo
from commissions.models import Period


def _paid(outcomes) -> dict[tuple[str, str], tuple]:  # type: ignore[no-untyped-def]
    return {
        (outcome.plan.plan.name, payee.person): (
            payee.total,
            tuple(payee.errors),
            tuple(
                (c.name, tuple((line.amount, line.text, line.deal_id) for line in c.lines)) for c in payee.components
            ),
        )
        for outcome in outcomes
        for payee in outcome.result.payees
    }


def test_every_person_focused_is_paid_what_the_whole_period_pays_them(engine: Engine) -> None:
    load_demo(engine, today=date(2026, 11, 20))  # managers with overrides, splits, campaigns, leads
    with Session(engine) as session:
        keys = session.exec(select(Period.key).order_by(Period.starts_on)).all()
        compared = 0
        for key in keys:
            full = compute(session, key)
            if full.inputs is None:
                continue
            everyone = _paid(full.outcomes)
            for person_id in sorted({pid for outcome in full.outcomes for pid in outcome.scope}):
                email = full.inputs.email_of[person_id]
                expected = {k: paid for k, paid in everyone.items() if k[1] == email}
                assert _paid(compute(session, key, person_ids={person_id}).outcomes) == expected, (key, email)
                compared += len(expected)
        assert compared >= 20  # the demo's reps, managers and marketers, in more than one period


def test_a_focus_on_many_deals_reads_the_period_and_keeps_theirs(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Beyond ``_BY_ID_LIMIT`` deals a focused read scans the period and keeps the focus's deals: same pay."""
    from commissions.calculation import loader

    load_demo(engine, today=date(2026, 11, 20))
    with Session(engine) as session:
        key, full = max(
            ((key, compute(session, key)) for key in session.exec(select(Period.key)).all()),
            key=lambda pair: sum(len(outcome.result.payees) for outcome in pair[1].outcomes),
        )
        people = sorted({pid for outcome in full.outcomes for pid in outcome.scope})[:6]
        by_id = {pid: _paid(compute(session, key, person_ids={pid}).outcomes) for pid in people}
        monkeypatch.setattr(loader, "_BY_ID_LIMIT", 0)
        scanned = {pid: _paid(compute(session, key, person_ids={pid}).outcomes) for pid in people}
    assert scanned == by_id
    assert any(paid for paid in by_id.values())
