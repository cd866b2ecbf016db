"""Pace: stored attainment against the share of the period gone (docs/metrics.md, "Home").

Home shows "62% of the quarter gone, 58% of quota: on pace for 94%". The figure is a straight-line
projection of the stored attainment (``payee_summary.attainment_ppm``, the statement's figure) over the
period's days; nothing is recomputed and nothing here is ever used to compute pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from commissions.core.periods import PeriodKey

PPM = 1_000_000

#: On pace: the projection reaches quota; ahead: it passes this.
ON_PACE_PPM = 1_000_000
AHEAD_PPM = 1_200_000
#: Needs help: the projection falls short of this share of quota ...
NEEDS_HELP_BELOW_PPM = 750_000
#: ... once at least this share of the period has gone (earlier, one deal more or less swings the projection).
NEEDS_HELP_AFTER_PPM = 250_000


@dataclass(frozen=True, slots=True)
class Pace:
    """Where someone stands against the calendar.

    ``elapsed_ppm``: the share of the period gone (today counted as gone), 0 to 1,000,000.
    ``projected_ppm``: attainment at the period's end if it keeps growing as it has (None before the period
    starts or without a quota). ``status``: ``ahead`` / ``on_pace`` (projection at or above quota),
    ``behind``, ``needs_help`` (see the thresholds above), ``not_started``, ``no_quota``.
    """

    elapsed_ppm: int
    attainment_ppm: int | None
    projected_ppm: int | None
    status: str
    days_left: int

    @property
    def needs_help(self) -> bool:
        return self.status == "needs_help"

    @property
    def on_pace(self) -> bool:
        return self.status in ("on_pace", "ahead")


def elapsed_share(period: PeriodKey, today: date) -> tuple[int, int]:
    """(days gone, days in the period): today counts as gone; clamped to the period."""
    total = (period.ends_on - period.starts_on).days + 1
    if today < period.starts_on:
        return 0, total
    if today > period.ends_on:
        return total, total
    return (today - period.starts_on).days + 1, total


def pace(attainment_ppm: int | None, period: PeriodKey, today: date) -> Pace:
    """The pace rule, in one place.

    - elapsed = days gone (today included) / days in the period;
    - projected = attainment / elapsed, rounded half-up to a whole ppm (after the period: the attainment);
    - ``ahead`` when the projection is at least 120% of quota, ``on_pace`` at least 100%, ``needs_help`` under
      75% once a quarter of the period has gone, else ``behind``.

    No quota (``attainment_ppm`` None) gives ``no_quota``; a period not begun gives ``not_started``.
    """
    gone, total = elapsed_share(period, today)
    elapsed_ppm = gone * PPM // total
    days_left = total - gone
    if attainment_ppm is None:
        return Pace(elapsed_ppm, None, None, "no_quota", days_left)
    if gone == 0:
        return Pace(0, attainment_ppm, None, "not_started", days_left)
    projected = int((Decimal(attainment_ppm) * total / gone).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if projected >= AHEAD_PPM:
        status = "ahead"
    elif projected >= ON_PACE_PPM:
        status = "on_pace"
    elif projected < NEEDS_HELP_BELOW_PPM and elapsed_ppm >= NEEDS_HELP_AFTER_PPM:
        status = "needs_help"
    else:
        status = "behind"
    return Pace(elapsed_ppm, attainment_ppm, projected, status, days_left)


__all__ = ["AHEAD_PPM", "NEEDS_HELP_AFTER_PPM", "NEEDS_HELP_BELOW_PPM", "ON_PACE_PPM", "Pace", "elapsed_share", "pace"]
