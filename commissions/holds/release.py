"""The pure split of a deal's earned commission into payable now and waiting (docs/finance.md, "Release on cash").

No database: the engine computes earned lines as always; this decides how much of them the payments
(or the date) released. Money is in integer minor units; a release is rounded half-up, the last one
(the payment that brings the deal to fully paid) takes the remainder, so the releases sum to the earned
amount exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal


def payment_releases(
    earned_minor: int, deal_amount_minor: int, payments: Sequence[int], *, pro_rata: bool
) -> list[int]:
    """What each payment (in order) releases of ``earned_minor``.

    Pro rata: ``earned × payment / deal amount``, rounded half-up, never more than is still waiting;
    the payment that makes the deal fully paid releases the remainder. Not pro rata: nothing until
    the payments reach the deal amount, then everything. A deal of amount zero is paid by any payment.
    """
    releases: list[int] = []
    paid = 0
    released = 0
    for payment in payments:
        paid += payment
        if paid >= deal_amount_minor:
            release = earned_minor - released
        elif pro_rata:
            exact = Decimal(earned_minor) * Decimal(payment) / Decimal(deal_amount_minor)
            release = int(exact.to_integral_value(rounding=ROUND_HALF_UP))
            remaining = earned_minor - released
            release = min(release, remaining) if earned_minor >= 0 else max(release, remaining)
        else:
            release = 0
        releases.append(release)
        released += release
    return releases


def split_earned(
    earned_minor: int, deal_amount_minor: int, payments: Sequence[int], *, pro_rata: bool
) -> tuple[int, int]:
    """``(payable, waiting)`` of ``earned_minor`` after these payments: they always add up to it."""
    payable = sum(payment_releases(earned_minor, deal_amount_minor, payments, pro_rata=pro_rata))
    return payable, earned_minor - payable
