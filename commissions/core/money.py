"""Money at the storage boundary: integer minor units in the database, Decimal everywhere else."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from commissions.engine.money import minor_digits


class MoneyError(ValueError):
    pass


@cache
def _currency_codes() -> frozenset[str]:
    from babel.numbers import list_currencies  # CLDR's ISO 4217 codes, current and historic

    return frozenset(list_currencies())


def currency_problem(value: str, *, known: bool = True) -> str | None:
    """Why ``value`` is not a currency code (None when it is one): three letters that ISO 4217 knows, any case.

    A form's three-character box turns "dollars" into "DOL", which read as a code of its own: costs in it
    counted as 0.00 USD and it was offered as a reporting currency. The engine (``commissions calc``) takes
    any three letters; the app's doors (deals, campaigns, rates, payment currency, plans) take known codes.
    ``known=False`` checks the form only (a body stored before codes were checked against ISO 4217).
    """
    code = value.strip().upper()
    if not (len(code) == 3 and code.isascii() and code.isalpha()):
        return f"{value!r} is not a currency code: write three letters, e.g. USD or EUR"
    if known and code not in _currency_codes():
        return f"{code} is not a currency code (ISO 4217): write e.g. USD, EUR or GBP"
    return None


_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def typed_number(text: str) -> str:
    """A number as a person types it, for ``Decimal``: commas may only group thousands (40,000.50 -> 40000.50).
    A comma anywhere else (12,5) is refused: read as a decimal comma it means 12.5, dropped it means 125,
    and pay must not depend on which was meant. Anything else is returned stripped, for the caller to read."""
    raw = text.strip()
    if not raw.isascii():  # Decimal reads "١٢٣" as 123: an amount is written in ASCII digits, as every export is
        raise MoneyError(f"{raw!r} is not an amount: write it with the digits 0-9, like 1234.50")
    if "," not in raw:
        return raw
    if _GROUPED.fullmatch(raw):
        return raw.replace(",", "")
    raise MoneyError(f"{raw!r}: write decimals after a point (12.50); a comma may only group thousands (40,000)")


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    if isinstance(amount, str) and not amount.isascii():
        raise MoneyError(f"{amount.strip()!r} is not an amount: write it with the digits 0-9, like 1234.50")
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"{amount!r} is not an amount") from exc
    if not value.is_finite():
        raise MoneyError(f"{amount!r} is not an amount")
    scaled = value.scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more decimals than {currency} allows ({minor_digits(currency)})")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    digits = minor_digits(currency)
    return (Decimal(minor).scaleb(-digits)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def format_money(minor: int, currency: str) -> str:
    value = from_minor(minor, currency)
    return f"{value:,.{minor_digits(currency)}f} {currency}"
