"""The pace rule Home shows (commissions/people/pace.py, docs/metrics.md "Home"): stored attainment against the
share of the period gone, projected to the period's end; who needs help."""

from __future__ import annotations

from datetime import date

import pytest

from commissions.core.periods import parse_period_key
from commissions.people.pace import NEEDS_HELP_AFTER_PPM, NEEDS_HELP_BELOW_PPM, elapsed_share, pace

Q4 = parse_period_key("2026-Q4")  # 2026-10-01 .. 2026-12-31: 92 days


def test_elapsed_counts_today_as_gone_and_is_clamped_to_the_period() -> None:
    assert elapsed_share(Q4, date(2026, 10, 1)) == (1, 92)
    assert elapsed_share(Q4, date(2026, 12, 6)) == (67, 92)
    assert elapsed_share(Q4, date(2026, 9, 30)) == (0, 92)
    assert elapsed_share(Q4, date(2027, 1, 15)) == (92, 92)


def test_projection_is_attainment_over_the_share_gone_half_up() -> None:
    # day 46 of 92 (half the quarter): 41.6 % so far is on pace for 83.2 %
    half = pace(416_000, Q4, date(2026, 11, 15))
    assert half.elapsed_ppm == 500_000 and half.projected_ppm == 832_000 and half.days_left == 46
    assert half.status == "behind" and not half.on_pace and not half.needs_help
    # day 67 of 92: 86.2 % -> 86.2 * 92 / 67 = 118.364... % -> 1,183,642 ppm (half-up on the last ppm)
    today = pace(862_000, Q4, date(2026, 12, 6))
    assert today.projected_ppm == 1_183_642 and today.status == "on_pace" and today.on_pace
    assert pace(1_300_000, Q4, date(2026, 12, 6)).status == "ahead"


def test_after_the_period_the_projection_is_the_attainment() -> None:
    done = pace(990_000, Q4, date(2027, 2, 1))
    assert done.elapsed_ppm == 1_000_000 and done.projected_ppm == 990_000 and done.days_left == 0
    assert done.status == "behind"


@pytest.mark.parametrize(
    ("attainment", "day", "status"),
    [
        (100_000, date(2026, 10, 10), "behind"),  # 10 % at day 10: projected 92 %, not "needs help" that early
        (10_000, date(2026, 10, 20), "behind"),  # far behind but under a quarter of the period gone (20 of 92 days)
        (150_000, date(2026, 10, 23), "needs_help"),  # day 23 of 92 = 25 %: projected 60 % < 75 %
        (690_000, date(2026, 12, 31), "needs_help"),  # the last day: 69 % < 75 %
        (750_000, date(2026, 12, 31), "behind"),  # exactly 75 % is not under the line
    ],
)
def test_needs_help_is_well_behind_once_a_quarter_of_the_period_has_gone(
    attainment: int, day: date, status: str
) -> None:
    assert NEEDS_HELP_BELOW_PPM == 750_000 and NEEDS_HELP_AFTER_PPM == 250_000
    assert pace(attainment, Q4, day).status == status


def test_no_quota_and_a_period_not_begun_have_no_projection() -> None:
    none = pace(None, Q4, date(2026, 12, 6))
    assert none.status == "no_quota" and none.projected_ppm is None and none.elapsed_ppm == 728_260
    early = pace(0, Q4, date(2026, 9, 1))
    assert early.status == "not_started" and early.projected_ppm is None and early.days_left == 92
