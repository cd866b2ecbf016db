"""The pure split of earned commission by payments (commissions/holds/release.py)."""

from __future__ import annotations

from commissions.holds.release import payment_releases, split_earned


def test_two_instalments_release_40_then_60_percent() -> None:
    # 5,000.00 earned on a 50,000.00 deal: 20,000.00 paid (40 %) then 30,000.00 (the rest)
    assert payment_releases(500_000, 5_000_000, [2_000_000, 3_000_000], pro_rata=True) == [200_000, 300_000]
    assert split_earned(500_000, 5_000_000, [2_000_000], pro_rata=True) == (200_000, 300_000)


def test_each_release_rounds_half_up_and_the_last_takes_the_remainder() -> None:
    # 100.00 earned on a 300.00 deal paid in thirds: 33.333.. → 33.33 twice, the last 33.34
    assert payment_releases(10_000, 30_000, [10_000, 10_000, 10_000], pro_rata=True) == [3_333, 3_333, 3_334]
    # 0.01 earned on a deal of 2.00 paid 1.00: exactly half a cent rounds up
    assert payment_releases(1, 200, [100], pro_rata=True) == [1]


def test_payments_beyond_the_deal_amount_release_no_more_than_was_earned() -> None:
    assert payment_releases(500_000, 5_000_000, [4_000_000, 4_000_000, 100], pro_rata=True) == [400_000, 100_000, 0]


def test_without_pro_rata_nothing_is_released_until_fully_paid() -> None:
    assert payment_releases(500_000, 5_000_000, [2_000_000, 3_000_000], pro_rata=False) == [0, 500_000]
    assert split_earned(500_000, 5_000_000, [2_000_000], pro_rata=False) == (0, 500_000)


def test_a_deal_of_amount_zero_is_paid_by_any_payment() -> None:
    assert payment_releases(50_000, 0, [100], pro_rata=True) == [50_000]
