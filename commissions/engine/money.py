"""Money: exact Decimal arithmetic in an explicit context, half-up rounding, allocation.

Amounts are ``Decimal`` throughout; floats are never accepted as money. The engine
computes every exact value in ``CONTEXT`` (60 significant digits, far beyond any
amount, so the only rounding that matters is the explicit one to the currency's minor
unit), rounds a component total once, half-up, and splits it into per-deal lines with
the largest-remainder method.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import (
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from itertools import repeat
from operator import sub

#: The arithmetic context of the engine. Division by zero and invalid operations trap.
CONTEXT = Context(
    prec=60,
    rounding=ROUND_HALF_UP,
    traps=[InvalidOperation, DivisionByZero, Overflow, Clamped],
)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

# ISO 4217 minor digits for currencies that differ from 2.
_MINOR_DIGITS = {
    "BHD": 3,
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "IQD": 3,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}

_QUANTA = {digits: Decimal(1).scaleb(-digits) for digits in range(4)}


def minor_digits(currency: str) -> int:
    """Number of decimals of ``currency`` (2 unless ISO 4217 says otherwise)."""
    return _MINOR_DIGITS.get(currency.upper(), 2)


def quantum(digits: int) -> Decimal:
    """``Decimal("0.01")`` for 2 digits."""
    q = _QUANTA.get(digits)
    return q if q is not None else Decimal(1).scaleb(-digits)


def round_money(value: Decimal, digits: int) -> Decimal:
    """Round half-up (away from zero on .5) to ``digits`` decimals."""
    return value.quantize(quantum(digits), ROUND_HALF_UP, CONTEXT)


def format_amount(value: Decimal, digits: int) -> str:
    """``1234.5`` → ``"1234.50"`` (no thousands separator; exactly ``digits`` decimals)."""
    text = str(value)
    # already written with exactly ``digits`` decimals (every rounded amount and line is): quantizing
    # would give the same digits. Decimal's scientific form always ends in E±digits, so a point
    # ``digits`` places from the end means plain notation.
    if digits and len(text) > digits and text[-digits - 1] == "." and "E" not in text:
        return text
    q = _QUANTA.get(digits)
    return str(value.quantize(q if q is not None else quantum(digits), ROUND_HALF_UP, CONTEXT))


_PERCENTS: dict[tuple[Decimal, int | None], str] = {}


def format_percent(ratio: Decimal, places: int | None = None) -> str:
    """``0.15`` → ``"15%"``; ``0.015`` → ``"1.5%"``; with ``places`` a fixed number of decimals."""
    key = (ratio, places)
    text = _PERCENTS.get(key)
    if text is not None:
        return text
    value = CONTEXT.multiply(ratio, HUNDRED)
    if places is not None:
        text = f"{value.quantize(quantum(places), ROUND_HALF_UP, CONTEXT)}%"
    else:
        text = format(value.normalize(CONTEXT), "f") + "%"
    if len(_PERCENTS) < 4096:  # rates and bounds repeat; attainments mostly do not
        _PERCENTS[key] = text
    return text


def allocate(exact: Sequence[Decimal], total: Decimal, digits: int) -> list[Decimal]:
    """Split ``total`` (already rounded) into lines close to ``exact`` that sum to it exactly.

    Largest remainder: every line is first rounded down to the minor unit, then the
    units still missing go one each to the lines with the largest discarded fractions;
    ties go to the later line (lines are in deal order). If the rounded-down lines
    already exceed the total (only possible with negative values), units are taken back
    from the lines with the smallest discarded fractions, earliest first.
    """
    n = len(exact)
    if n == 0:
        return []
    q = quantum(digits)
    # one C-level pass each (map): the floors, their sum, the discarded fractions. (Counting the few
    # distinct fractions to find the threshold instead of sorting was tried: slower on real data.)
    floors = list(map(Decimal.quantize, exact, repeat(q, n), repeat(ROUND_FLOOR, n), repeat(CONTEXT, n)))
    missing = int(CONTEXT.divide(total - sum(floors, ZERO), q))
    if not missing:
        return floors
    remainders = list(map(sub, exact, floors))
    if missing > 0:
        # largest remainder first; a stable sort of the indexes from last to first keeps
        # equal remainders with the later line first
        order = sorted(range(n - 1, -1, -1), key=remainders.__getitem__, reverse=True)
        step = q
    else:
        order = sorted(range(n), key=remainders.__getitem__)
        step = -q
    for k in range(abs(missing)):  # abs(missing) <= n for a half-up total of these values
        i = order[k % n]
        floors[i] += step
    return floors


def rounded_texts(amounts: list[Decimal]) -> list[str]:
    """Line amounts as text. They come rounded to the minor unit (``allocate``, ``round_money``:
    exponent -digits, at most 3 digits), so ``str`` writes them in plain notation with exactly
    ``digits`` decimals: what ``format_amount`` gives, and what the JSON document prints."""
    return list(map(str, amounts))


def amount_texts(amounts: list[Decimal], digits: int) -> tuple[list[str], list[str]]:
    """Each amount as ``str`` writes it and as ``format_amount`` does (sentences): the same text
    when it already has exactly ``digits`` decimals, as amounts read from a file mostly do."""
    plain = list(map(str, amounts))
    if digits <= 0:
        return plain, [format_amount(value, digits) for value in amounts]
    dot, end = -digits - 1, -digits
    return plain, [
        text if text[dot:end] == "." and "E" not in text else format_amount(value, digits)
        for text, value in zip(plain, amounts, strict=True)
    ]
