"""Money at the storage boundary: integer minor units in the database, Decimal everywhere else."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from commissions.engine.money import minor_digits


class MoneyError(ValueError):
    pass


def to_minor(amount: Decimal | str | int, currency: str) -> int:
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
