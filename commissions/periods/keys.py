"""Period keys as the CLI and API write them: ``2026-01`` (month), ``2026-Q1`` (quarter), ``2026`` (year)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_KEY = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4])))?$")


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
    match = _KEY.match(text.strip())
    if not match:
        raise PeriodKeyError(f"{text!r} is not a period: write 2026-01 (month), 2026-Q1 (quarter) or 2026 (year)")
    year = int(match["year"])
    if match["month"]:
        month = int(match["month"])
        return PeriodKey(text.strip(), "month", date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))
    if match["quarter"]:
        q = int(match["quarter"])
        first, last = 3 * q - 2, 3 * q
        return PeriodKey(text.strip(), "quarter", date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]))
    return PeriodKey(text.strip(), "year", date(year, 1, 1), date(year, 12, 31))


def quarter_of(day: date) -> PeriodKey:
    return parse_period_key(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
