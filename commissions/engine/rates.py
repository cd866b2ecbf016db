"""Exchange rates (plans.md 3): which rate converts a deal, and the converted amount.

A ``RateBook`` holds ``ExchangeRate`` rows (one unit of ``source`` is ``rate`` units of
``target`` from ``effective_from`` on). Converting ``amount`` from ``source`` to ``target``
on ``day`` uses the rate whose ``effective_from`` is the latest on or before ``day``, among
the direct rates (``source→target``) and the inverse ones (``target→source``, used as
``1/rate``); when a direct and an inverse rate take effect on the same latest date, the
direct one wins. The converted amount is rounded half-up to the target currency's minor
unit once. No rate on or before ``day`` (or no rates at all) is an ``InputError`` naming
the pair and the date.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal

from commissions.engine.errors import InputError, NoExchangeRate
from commissions.engine.inputs import Deal, ExchangeRate
from commissions.engine.money import CONTEXT, minor_digits, round_money

_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class AppliedRate:
    """The rate that converts ``source`` into ``target``: the stored ``rate`` (as given) that took
    effect on ``effective_from``; ``inverted`` when it is a ``target→source`` rate used as 1/rate."""

    source: str
    target: str
    rate: Decimal
    effective_from: date
    inverted: bool = False

    @property
    def factor(self) -> Decimal:
        """What one unit of ``source`` is in ``target`` (exact in the engine's context)."""
        return CONTEXT.divide(Decimal(1), self.rate) if self.inverted else self.rate

    @property
    def text(self) -> str:
        """``1.0850``, or ``1/0.9217 (USD→EUR)`` for an inverted rate: the rate as written."""
        written = format(self.rate, "f")
        return f"1/{written} ({self.target}→{self.source})" if self.inverted else written


@dataclass(frozen=True, slots=True)
class Converted:
    """A deal amount converted: ``original_amount`` in ``original_currency`` is ``amount`` in
    ``currency`` (rounded half-up once to its minor unit) at ``rate``; ``explanation`` is what
    the deal's lines say (``10,000.00 EUR at 1.0850 = 10,850.00 USD``)."""

    original_amount: Decimal
    original_currency: str
    amount: Decimal
    currency: str
    rate: AppliedRate
    explanation: str

    @property
    def basis(self) -> dict[str, str | bool]:
        """JSON-ready fields for a line's basis."""
        return {
            "original_amount": str(self.original_amount),
            "original_currency": self.original_currency,
            "rate": format(self.rate.rate, "f"),
            "rate_inverted": self.rate.inverted,
            "rate_effective_from": self.rate.effective_from.isoformat(),
        }


@dataclass(frozen=True, slots=True, eq=False)
class ConvertedDeal(Deal):
    """A deal in another currency than the plan's, as the plan counts it: ``amount`` is the
    converted amount (in the plan's currency), ``currency`` stays the deal's own (what a
    condition on ``currency`` reads), ``conversion`` says how (every line of the deal shows it)."""

    conversion: Converted = field(kw_only=True)

    @classmethod
    def of(cls, deal: Deal, conversion: Converted) -> ConvertedDeal:
        values = {item.name: getattr(deal, item.name) for item in fields(Deal)}
        values["amount"] = conversion.amount
        return cls(**values, conversion=conversion)


def grouped(value: Decimal, currency: str) -> str:
    """``10000`` → ``10,000.00``: thousands separators and the currency's minor digits (more
    decimals only when the value has them)."""
    digits = max(minor_digits(currency), -int(value.as_tuple().exponent) if value.is_finite() else 0)
    return format(round_money(value, digits), ",f")


class RateBook:
    """Exchange rates by currency pair and date (see the module docstring for the choice of a rate:
    the latest ``effective_from`` on or before the day among direct and inverse rates; on a tie the
    direct rate).

    Built from ``ExchangeRate`` rows; raises ``InputError`` for a code that is not three
    upper-case letters, a rate that is not a ``Decimal`` above 0, an ``effective_from`` that is not a
    date, a rate from a currency to itself, or two
    different rates for the same pair and date (the same rate given twice is kept once)."""

    __slots__ = ("_cache", "_days", "_rates")

    def __init__(self, rates: Iterable[ExchangeRate] = ()) -> None:
        by_pair: dict[tuple[str, str], dict[date, Decimal]] = {}
        for row in rates:
            for code in (row.source, row.target):
                if not isinstance(code, str) or not _CODE.fullmatch(code):
                    raise InputError(f"exchange rate {row.source}→{row.target}: {code!r} is not a currency code")
            if row.source == row.target:
                raise InputError(f"exchange rate {row.source}→{row.target}: a rate needs two different currencies")
            if not isinstance(row.rate, Decimal) or not row.rate.is_finite() or row.rate <= 0:
                raise InputError(
                    f"exchange rate {row.source}→{row.target} from {row.effective_from}: "
                    f"rate {row.rate} must be a number above 0"
                )
            if not isinstance(row.effective_from, date):
                raise InputError(
                    f"exchange rate {row.source}→{row.target}: effective_from {row.effective_from!r} is not a date"
                )
            days = by_pair.setdefault((row.source, row.target), {})
            known = days.get(row.effective_from)
            if known is not None and known != row.rate:
                raise InputError(
                    f"two exchange rates {row.source}→{row.target} from {row.effective_from}: {known} and {row.rate}"
                )
            if known is None:
                days[row.effective_from] = row.rate
        self._days: dict[tuple[str, str], list[date]] = {}
        self._rates: dict[tuple[str, str], list[Decimal]] = {}
        for pair, days in by_pair.items():
            ordered = sorted(days)
            self._days[pair] = ordered
            self._rates[pair] = [days[day] for day in ordered]
        self._cache: dict[tuple[str, str, date], AppliedRate | None] = {}

    def __len__(self) -> int:
        return sum(map(len, self._days.values()))

    def __bool__(self) -> bool:
        return bool(self._days)

    def _latest(self, pair: tuple[str, str], day: date) -> tuple[date, Decimal] | None:
        days = self._days.get(pair)
        if not days:
            return None
        at = bisect_right(days, day)
        return None if at == 0 else (days[at - 1], self._rates[pair][at - 1])

    def lookup(self, source: str, target: str, day: date) -> AppliedRate | None:
        """The rate converting ``source`` into ``target`` on ``day``, or None when there is none."""
        key = (source, target, day)
        try:
            return self._cache[key]
        except KeyError:
            pass
        direct = self._latest((source, target), day)
        inverse = self._latest((target, source), day)
        applied: AppliedRate | None
        if direct is not None and (inverse is None or direct[0] >= inverse[0]):
            applied = AppliedRate(source, target, direct[1], direct[0])
        elif inverse is not None:
            applied = AppliedRate(source, target, inverse[1], inverse[0], inverted=True)
        else:
            applied = None
        self._cache[key] = applied
        return applied

    def convert(self, amount: Decimal, source: str, target: str, day: date) -> Converted:
        """``amount`` in ``source`` as ``target`` on ``day``, rounded half-up once to ``target``'s
        minor unit. ``NoExchangeRate`` (an ``InputError``) when no rate applies on or before ``day``."""
        applied = self.lookup(source, target, day)
        if applied is None:
            raise NoExchangeRate(source, target, day)
        exact = CONTEXT.divide(amount, applied.rate) if applied.inverted else CONTEXT.multiply(amount, applied.rate)
        converted = round_money(exact, minor_digits(target))
        explanation = f"{grouped(amount, source)} {source} at {applied.text} = {grouped(converted, target)} {target}"
        return Converted(amount, source, converted, target, applied, explanation)
