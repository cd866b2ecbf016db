"""Period keys as the CLI and API write them: ``2026-01`` (month), ``2026-Q1`` (quarter), ``2026`` (year).

Parsing is the engine's (``commissions.engine.parse_period``); this module gives the
app its date-named view of a period and the errors it shows people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from commissions.engine.errors import PeriodError
from commissions.engine.inputs import parse_period


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
