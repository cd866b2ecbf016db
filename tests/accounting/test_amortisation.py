"""ASC 340-40 amortisation, hand-worked (pure: no database)."""

from __future__ import annotations

from datetime import date

from commissions.accounting.amortisation import (
    ContractCost,
    Movements,
    amortisation_plan,
    is_capitalised,
    movements,
    schedule,
)

# 3,600.00 on a 36-month contract closed on 2026-01-16: 100.00 a month.
# January 2026: 16 days (16th to 31st inclusive) of 31 -> 100.00 x 16 / 31 = 51.6129 -> 51.61
# February 2026 .. December 2028: 35 months x 100.00 = 3,500.00
# January 2029 (the benefit period ends on 2029-01-16): the remainder 3,600.00 - 51.61 - 3,500.00 = 48.39
THIRTY_SIX = ContractCost("D-36", "ana@example.com", "USD", date(2026, 1, 16), 36, 360000)


def test_a_36_month_contract_amortises_100_a_month_with_a_prorated_first_month_and_the_remainder_last() -> None:
    plan = amortisation_plan(360000, 36, date(2026, 1, 16))
    assert plan[0] == (date(2026, 1, 1), 5161)
    assert plan[1:36] == [(date(2026 + (m // 12), m % 12 + 1, 1), 10000) for m in range(1, 36)]
    assert plan[36] == (date(2029, 1, 1), 4839)
    assert len(plan) == 37 and sum(v for _, v in plan) == 360000
    rows = schedule(THIRTY_SIX)
    assert rows[0].opening == 0 and rows[0].capitalised == 360000 and rows[0].amortised == 5161
    assert rows[0].closing == 354839
    assert rows[1].opening == 354839 and rows[1].amortised == 10000 and rows[1].closing == 344839
    assert rows[-1].month == date(2029, 1, 1) and rows[-1].amortised == 4839 and rows[-1].closing == 0


def test_closing_on_the_first_gives_a_full_first_month_and_no_remainder_month() -> None:
    plan = amortisation_plan(360000, 36, date(2026, 3, 1))
    assert plan[0] == (date(2026, 3, 1), 10000) and len(plan) == 36 and plan[-1] == (date(2029, 2, 1), 10000)


def test_a_rounded_up_monthly_amount_never_overshoots() -> None:
    # 100.00 over 24 months: 4.1667 -> 4.17 a month; 24 x 4.17 = 100.08 would overshoot by 0.08
    plan = amortisation_plan(10000, 24, date(2026, 1, 1))
    assert sum(v for _, v in plan) == 10000 and all(v > 0 for _, v in plan)
    assert plan[-1] == (date(2027, 12, 1), 10000 - 23 * 417)  # 4.09 in the last month


def test_twelve_months_or_less_is_expensed_at_once() -> None:
    assert not is_capitalised(12) and not is_capitalised(1) and is_capitalised(13) and is_capitalised(36)
    assert is_capitalised(24, threshold_months=24) is False


def test_a_clawback_in_month_10_reverses_the_remaining_asset() -> None:
    # cancelled 2026-10-05, month 10 of the schedule: amortised Jan 51.61 + Feb..Sep 8 x 100.00 = 851.61
    # the asset left, 3,600.00 - 851.61 = 2,748.39, is reversed in October; October amortises nothing
    clawed = ContractCost("D-36", "ana@example.com", "USD", date(2026, 1, 16), 36, 360000, date(2026, 10, 5))
    rows = schedule(clawed)
    assert len(rows) == 10 and rows[-1].month == date(2026, 10, 1)
    assert sum(r.amortised for r in rows) == 85161
    assert rows[-1].opening == 274839 and rows[-1].reversed == 274839 and rows[-1].amortised == 0
    assert rows[-1].closing == 0


def test_period_totals_tie_opening_plus_capitalised_minus_amortised_minus_reversed() -> None:
    rows = schedule(THIRTY_SIX)
    q1 = movements(rows, date(2026, 1, 1), date(2026, 3, 31))
    # Q1 2026: capitalised 3,600.00; amortised 51.61 + 100.00 + 100.00 = 251.61; closing 3,348.39
    assert q1 == Movements(opening=0, capitalised=360000, amortised=25161, reversed=0)
    assert q1.closing == 334839
    q2 = movements(rows, date(2026, 4, 1), date(2026, 6, 30))
    assert q2 == Movements(opening=334839, capitalised=0, amortised=30000, reversed=0) and q2.closing == 304839
    clawed = schedule(ContractCost("D-36", "a", "USD", date(2026, 1, 16), 36, 360000, date(2026, 10, 5)))
    q4 = movements(clawed, date(2026, 10, 1), date(2026, 12, 31))
    # Q3 closes at 3,600.00 - 851.61 = 2,748.39, all reversed in Q4
    assert q4 == Movements(opening=274839, capitalised=0, amortised=0, reversed=274839) and q4.closing == 0
    assert (q1 + q2).capitalised == 360000


def test_journal_entries_are_balanced_and_a_negative_amount_swaps_the_sides() -> None:
    from commissions.accounting.entries import Movement, journal
    from commissions.models.accounting import DEFAULT_ACCOUNTS

    entries = journal(
        "2026-Q2",
        [
            Movement("reversal", date(2026, 4, 15), "USD", 496876, "ana@example.com", "D-2", "clawback"),
            Movement("accrual", date(2026, 6, 30), "USD", -278124, "ana@example.com", "", "clawback beyond earnings"),
            Movement("accrual", date(2026, 6, 30), "USD", 0, "bo@example.com", "", "nothing: left out"),
        ],
        dict(DEFAULT_ACCOUNTS),
    )
    assert [e.number for e in entries] == ["2026-Q2-00001", "2026-Q2-00002"] and all(e.balanced for e in entries)
    accrual, reversal = entries
    # -2,781.24 accrued: Dr accrued commissions, Cr commission expense (a recovery)
    assert [(p.account, p.debit, p.credit) for p in accrual.postings] == [("2150", 278124, 0), ("6100", 0, 278124)]
    assert [(p.account, p.debit, p.credit) for p in reversal.postings] == [("2150", 496876, 0), ("1450", 0, 496876)]
