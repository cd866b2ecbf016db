"""Credit (splits, campaigns, cancellations), input errors, draws."""

from __future__ import annotations

import re

import pytest

from commissions.engine import (
    Campaign,
    DrawBalance,
    InputError,
    PeriodError,
    calculate,
    result_to_json_dict,
)

from .helpers import D, deal, make_plan, people, quota, run, tiered

FLAT = {"name": "Flat", "kind": "per_deal", "rate": "10%"}


def test_splits_credit_pro_rata_and_must_sum_to_100() -> None:
    plan = make_plan(tiered())
    staff = people("ana@x.com", "bo@x.com")
    quotas = [quota("ana@x.com", 100000), quota("bo@x.com", 100000)]
    result = run(
        plan,
        [deal("D-1", 45000, splits=[("ana@x.com", "66.67"), ("bo@x.com", "33.33")])],
        quotas,
        staff,
    )
    assert [p.credited for p in result.payees] == [D("30001.5"), D("14998.5")]
    assert [str(p.total) for p in result.payees] == ["3000.15", "1499.85"]
    line = result.payees[0].components[0].lines[0]
    assert line.text == "D-1: 66.67% share of 45000.00: 30001.50 at 10% (tier 1, up to 100% of quota) = 3000.15"
    with pytest.raises(InputError, match="split shares sum to 99"):
        run(
            plan,
            [deal("D-2", 1, splits=[("ana@x.com", 60), ("bo@x.com", 39)])],
            quotas,
            staff,
        )


def test_sourced_revenue_credits_the_campaign_owner_in_full() -> None:
    plan = make_plan(
        {"name": "Curve", "kind": "curve", "points": [["0%", 0], ["100%", 1000]]},
        quota="sourced_revenue",
    )
    staff = people("mkt@x.com", "ana@x.com", "bo@x.com")
    campaigns = [Campaign("WEB-1", "mkt@x.com", start=None, end=None)]
    deals = [
        deal(
            "D-1",
            30000,
            "ana@x.com",
            source_campaign="WEB-1",
            splits=[("ana@x.com", 50), ("bo@x.com", 50)],
        ),
        deal("D-2", 20000, "bo@x.com", day="2026-03-31", source_campaign="WEB-1"),
        deal("D-3", 99999, "bo@x.com", source_campaign="NOPE"),
        deal("D-4", 99999, "bo@x.com"),
    ]
    result = run(
        plan,
        deals,
        [quota("mkt@x.com", 100000, "sourced_revenue")],
        staff,
        campaigns=campaigns,
    )
    (mkt,) = result.payees  # reps have no sourced credit and no sourced quota
    assert mkt.person == "mkt@x.com" and mkt.credited == D(50000) and str(mkt.total) == "500.00"
    assert [str(line.amount) for line in mkt.components[0].lines] == [
        "300.00",
        "200.00",
    ]
    assert result.warnings == ("deal D-3: campaign 'NOPE' is unknown; it credits no one",)


@pytest.mark.parametrize(
    ("cancelled_after_days", "clawback_days", "counts"),
    [
        (30, 90, False),  # inside the window: earns nothing
        (90, 90, False),  # exactly at the window: still inside (<=)
        (91, 90, True),  # later: keeps its commission
        (400, None, False),  # no clawback_days: never earns
    ],
)
def test_cancellations_and_clawback_window(cancelled_after_days: int, clawback_days: int | None, counts: bool) -> None:
    from datetime import timedelta

    fields = {"clawback_days": clawback_days} if clawback_days is not None else {}
    plan = make_plan(FLAT, **fields)
    cancelled = deal("D-1", 1000, day="2026-01-05")
    cancelled = deal(
        "D-1",
        1000,
        day="2026-01-05",
        status="cancelled",
        cancelled_at=cancelled.closed_at + timedelta(days=cancelled_after_days),
    )
    result = run(plan, [cancelled, deal("D-2", 1000, day="2026-01-06")], [])
    assert str(result.payees[0].total) == ("200.00" if counts else "100.00")


def test_cancelled_without_cancelled_at_is_an_input_error() -> None:
    with pytest.raises(InputError, match="D-1 is cancelled but has no cancelled_at"):
        run(make_plan(FLAT), [deal("D-1", 1000, status="cancelled")], [])


@pytest.mark.parametrize(
    ("deals", "message"),
    [
        ([deal("D-1", 1, currency="EUR")], "deal D-1: no exchange rate from EUR to USD on or before 2026-01-15"),
        ([deal("D-1", 1, "zed@x.com")], "owner zed@x.com is not a known person"),
        ([deal("D-1", 1, splits=[("ana@x.com", 50), ("zed@x.com", 50)])], "split to zed@x.com"),
        ([deal("D-1", -5)], "negative"),
        ([deal("D-1", 1, status="lost")], "unknown status 'lost'"),
    ],
)
def test_input_errors(deals: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        run(make_plan(FLAT), deals, [])


def test_manager_cycle_and_period_mismatch_are_input_errors() -> None:
    with pytest.raises(InputError, match=re.escape("manager cycle: a@x.com -> b@x.com -> a@x.com")):
        run(make_plan(FLAT), [], [], people("a@x.com<b@x.com", "b@x.com<a@x.com"))
    with pytest.raises(PeriodError, match="2026-01 is a month"):
        run(make_plan(FLAT), [], [], period="2026-01")


def _draw_periods(recoverable: bool, earnings: list[str]) -> list[tuple[str, str | None]]:
    balance = D(0)
    plan = make_plan(FLAT, period="month", draw={"amount": 1000, "recoverable": recoverable})
    out = []
    for month, earned in enumerate(earnings, start=1):
        key = f"2026-{month:02d}"
        amount = D(earned) * 10
        result = calculate(
            plan,
            key,
            people("ana@x.com"),
            [],
            [deal(f"D-{month}", amount, day=f"{key}-10")],
            draw_balances=[DrawBalance("ana@x.com", balance)],
        )
        (payee,) = result.payees
        out.append(
            (
                str(payee.total),
                None if payee.draw_balance_out is None else str(payee.draw_balance_out),
            )
        )
        balance = payee.draw_balance_out or D(0)
    return out


def test_recoverable_draw_carries_a_balance() -> None:
    assert _draw_periods(True, ["500", "700", "400"]) == [
        ("1000.00", "500.00"),
        ("1000.00", "800.00"),
        ("1000.00", "1400.00"),
    ]
    # later earnings above the draw repay the balance first
    assert _draw_periods(True, ["500", "1800", "1300"]) == [
        ("1000.00", "500.00"),
        ("1300.00", "0.00"),
        ("1300.00", "0.00"),
    ]


def test_non_recoverable_draw_has_no_balance() -> None:
    assert _draw_periods(False, ["500", "1800"]) == [
        ("1000.00", None),
        ("1800.00", None),
    ]


def test_draw_lines_explain_top_up_and_recovery() -> None:
    plan = make_plan(FLAT, period="month", draw={"amount": 1000, "recoverable": True})
    result = calculate(
        plan,
        "2026-02",
        people("ana@x.com"),
        [],
        [deal("D-1", 15000, day="2026-02-01")],
        draw_balances={"ana@x.com": D(800)},
    )
    (payee,) = result.payees
    draw = payee.components[-1]
    assert (draw.name, str(draw.amount)) == ("draw", "-500.00")
    assert draw.lines[0].text == (
        "Draw recovery: earnings 1500.00 above the 1000.00 draw repay 500.00 of the 800.00 balance (balance now 300.00)"
    )
    assert result_to_json_dict(result)["payees"][0]["draw_balance"] == {
        "in": "800.00",
        "out": "300.00",
    }


def test_errored_payee_in_json_has_errors_and_no_total() -> None:
    plan = make_plan(tiered())
    result = run(plan, [deal("D-1", 1000)], [])
    (entry,) = result_to_json_dict(result)["payees"]
    assert entry == {
        "person": "ana@x.com",
        "credited": "1000.00",
        "quota": None,
        "attainment": None,
        "components": [],
        "errors": ["no bookings quota for ana@x.com in 2026-Q1"],
    }


def test_streamed_json_matches_json_dumps_for_errors_draws_and_no_payees() -> None:
    import json

    from commissions.engine import result_to_json

    plan = make_plan(tiered(), draw={"amount": 1000, "recoverable": True})
    staff = people("ana@x.com", "bo@x.com", "cy@x.com")
    deals = [
        deal("D-1", 1000, "ana@x.com"),
        deal("D-2", 5000, "bo@x.com"),
        deal("D-3", 50, "cy@x.com", name='Ünïcode "quoted"'),
    ]
    for result in (
        run(
            plan,
            deals,
            [quota("bo@x.com", 10000), quota("cy@x.com", 10)],
            staff,
            draw_balances={"cy@x.com": D(1)},
        ),
        run(plan, [], [], staff),
    ):
        assert result_to_json(result) == json.dumps(result_to_json_dict(result), indent=2, ensure_ascii=False) + "\n"
