"""Period keys as the CLI and API write them: ``2026-01`` (month), ``2026-Q1`` (quarter), ``2026`` (year).

Parsing is the engine's (``commissions.engine.parse_period``); this module gives the
app its date-named view of a period, the errors it shows people, and the window of
periods that may exist at all (``PERIOD_WINDOW_YEARS_BACK``/``_AHEAD`` around today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from commissions.engine.errors import PeriodError
from commissions.engine.inputs import parse_period
from commissions.errors import InputProblem


class PeriodKeyError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class PeriodKey:
    key: str
    kind: str
    starts_on: date
    ends_on: date

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def parse_period_key(text: str) -> PeriodKey:
    try:
        period = parse_period(text)
    except PeriodError as exc:
        raise PeriodKeyError(str(exc)) from exc
    return PeriodKey(period.key, period.kind, period.start, period.end)


def quarter_of(day: date) -> PeriodKey:
    return parse_period_key(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


# ---------------------------------------------------------------- the window of periods that may exist


def today() -> date:
    """Today for the period window and prior-period adjustments (tests replace it to fix the date)."""
    return date.today()


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


class PeriodOutOfWindow(InputProblem):
    """A period (or a date that would make one) outside the window: 400, naming the field and the window."""


@dataclass(frozen=True, slots=True)
class PeriodWindow:
    earliest: date  # the first day a period may reach back to
    latest: date  # the last day a period may start on

    def admits(self, key: PeriodKey) -> bool:
        """A period may exist if any of its days is inside the window."""
        return key.ends_on >= self.earliest and key.starts_on <= self.latest

    def describe(self) -> str:
        return f"periods from {self.earliest.isoformat()} to {self.latest.isoformat()}"


def period_window(*, on: date | None = None) -> PeriodWindow:
    """The window around ``on`` (default today) from the settings: two years back to one year ahead by default."""
    from commissions.settings import get_settings

    settings = get_settings()
    day = on or today()
    return PeriodWindow(
        _years_from(day, -settings.period_window_years_back), _years_from(day, settings.period_window_years_ahead)
    )


def check_period_in_window(key: PeriodKey | str, *, field: str = "period", on: date | None = None) -> PeriodKey:
    """Refuse (``PeriodOutOfWindow``, a 400) a period outside the window; returns the parsed key.

    Every door that can create a period calls this (or ``ensure_period`` does on creation).
    """
    if isinstance(key, str):
        try:
            key = parse_period_key(key)
        except PeriodKeyError as exc:
            raise InputProblem(field, str(exc)) from exc
    window = period_window(on=on)
    if not window.admits(key):
        raise PeriodOutOfWindow(
            field,
            f"{key.key} is outside the window of {window.describe()}: "
            "periods further back or ahead are refused as typing mistakes",
        )
    return key


def check_day_in_window(day: date, *, field: str, on: date | None = None) -> date:
    """Refuse (``PeriodOutOfWindow``, a 400) a date that would put something in a period outside the window,
    e.g. a deal's ``closed_at`` (``field="closed_at"``) or a plan version's ``effective_from``."""
    window = period_window(on=on)
    if not window.earliest <= day <= window.latest:
        raise PeriodOutOfWindow(
            field,
            f"{day.isoformat()} is outside the window of {window.describe()}: "
            "dates further back or ahead are refused as typing mistakes",
        )
    return day
