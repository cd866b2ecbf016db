"""The period, in one place: keys, bounds and arithmetic, the window of periods that may exist, the Period row,
its states and its lock.

Keys are written as the CLI and API write them: ``2026-01`` (month), ``2026-Q1`` (quarter),
``2026`` (year). Parsing is the engine's (``commissions.engine.parse_period``); this module
gives the app its date-named view of a period (``PeriodKey``), the errors it shows people,
the window of periods that may exist at all (``PERIOD_WINDOW_YEARS_BACK``/``_AHEAD`` around
today), and the ``Period`` row: created on demand only inside that window, its workflow
states, and the per-period lock every writer of pay takes (``lock_period``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text
from sqlmodel import Session, select

from commissions.core.audit import record_event
from commissions.core.errors import InputProblem
from commissions.engine.errors import PeriodError
from commissions.engine.inputs import parse_period
from commissions.models import Period


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


def normalise_key(text: str, *, field: str = "period") -> str:
    """``text`` as a period key (``2026-q1`` becomes ``2026-Q1``); a 400 naming ``field`` if it is none."""
    try:
        return parse_period(text).key
    except PeriodError as exc:
        raise InputProblem(field, str(exc)) from exc


def parse_or_current(text: str | None, *, default: date | None = None, field: str = "period") -> PeriodKey:
    """A period the person typed, or the quarter of ``default`` (today) when they typed nothing."""
    if not text or not text.strip():
        return quarter_of(default or date.today())
    try:
        return parse_period_key(text)
    except PeriodKeyError as exc:
        raise InputProblem(field, str(exc)) from exc


# ---------------------------------------------------------------- arithmetic


def key_of_day(kind: str, day: date) -> str:
    """The key of the month, quarter or year (``kind``) that contains ``day``."""
    if kind == "month":
        return f"{day.year}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def bounds_of_day(kind: str, day: date) -> tuple[date, date]:
    """First and last day of the month, quarter or year (``kind``) that contains ``day``."""
    if kind == "month":
        first_month, last_month = day.month, day.month
    elif kind == "quarter":
        first_month = 3 * ((day.month - 1) // 3) + 1
        last_month = first_month + 2
    elif kind == "year":
        first_month, last_month = 1, 12
    else:
        raise InputProblem("period", f"unknown period kind {kind!r}")
    return date(day.year, first_month, 1), date(day.year, last_month, calendar.monthrange(day.year, last_month)[1])


def previous_period(key: PeriodKey) -> PeriodKey:
    """The period of the same kind just before ``key``."""
    return parse_period_key(key_of_day(key.kind, key.starts_on - timedelta(days=1)))


def next_period(key: PeriodKey) -> PeriodKey:
    """The period of the same kind just after ``key``."""
    return parse_period_key(key_of_day(key.kind, key.ends_on + timedelta(days=1)))


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
    from commissions.core.settings import get_settings

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


# ---------------------------------------------------------------- the Period row, its states and its lock

ORDER = ("open", "approved", "locked", "paid")
CLOSED_STATES = ("locked", "paid")  # never change again; late changes go to an open period
LIVE_STATES = ("open", "approved")  # statements still computed (an approved period reopens on a change)


class PeriodNotFound(InputProblem):
    status_code = 404


def period_row(session: Session, key: PeriodKey | str) -> Period | None:
    wanted = key if isinstance(key, str) else key.key
    return session.exec(select(Period).where(Period.key == wanted)).first()


def get_period(session: Session, key: str, *, fresh: bool = False) -> Period:
    """The Period row of ``key`` (a 404 if it was never computed); ``fresh`` re-reads a row the session holds."""
    query = select(Period).where(Period.key == normalise_key(key))
    if fresh:
        query = query.execution_options(populate_existing=True)
    period = session.exec(query).first()
    if period is None:
        raise PeriodNotFound("period", f"no period {key} has been computed yet")
    return period


def ensure_period(session: Session, key: PeriodKey | str, *, field: str = "period") -> Period:
    """The Period row of ``key``, created (open) on demand: only within the window of periods that may
    exist (``check_period_in_window``, a 400 naming ``field`` and the window)."""
    wanted = key if isinstance(key, str) else key.key
    row = session.exec(select(Period).where(Period.key == wanted).execution_options(populate_existing=True)).first()
    if row is None:
        parsed = check_period_in_window(key, field=field)
        row = Period(key=parsed.key, kind=parsed.kind, starts_on=parsed.starts_on, ends_on=parsed.ends_on)
        session.add(row)
        session.flush()
    return row


def check_creatable(session: Session, key: PeriodKey) -> PeriodKey:
    """A period that does not exist yet must lie within the window of periods that may exist (400 otherwise)."""
    if period_row(session, key) is None:
        check_period_in_window(key)
    return key


def lock_period(session: Session, key: str, *, shared: bool = False, lazy_commit: bool = False) -> None:
    """Hold the period's lock until the transaction ends (PostgreSQL advisory lock; SQLite writes are serial).

    ``shared``: for changes to the period's inputs and stores of results, which may run side by
    side; exclusive (the default) for the period workflow, which must see all of them and let
    none commit meanwhile. A transaction takes the exclusive lock before any shared one of the
    same period (asking for it while holding the shared one can deadlock with another such).

    Advisory locks are per database, so the key includes the schema: two installations (or test runs)
    in one database never wait for each other.

    ``lazy_commit``: the transaction's commit need not wait for the WAL to reach the disk
    (``synchronous_commit = off`` for this transaction; set in the same round trip). Only for a transaction
    whose writes can be made again from committed inputs (``calculation.service.store``)."""
    if session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        lazily = "set_config('synchronous_commit', 'off', true), " if lazy_commit else ""
        session.execute(
            text(f"SELECT {lazily}{function}(hashtextextended(current_schema() || :k, 0))"), {"k": f":period:{key}"}
        )


def reopen_after_change(session: Session, period: Period, *, people: set[int], trigger: str) -> None:
    """An approved period whose figures changed is open again (audited): its approval was of other figures."""
    period.state = "open"
    previous = (period.approved_at, period.approved_by_id)
    period.approved_at = None
    period.approved_by_id = None
    session.add(period)
    session.flush()
    record_event(
        session,
        None,
        "period.reopened",
        "period",
        period.key,
        {
            "reason": f"figures changed after approval ({trigger})"[:500],
            "people": sorted(people),
            "approved_at": previous[0].isoformat() if previous[0] else None,
            "approved_by_id": previous[1],
        },
    )
