"""Building blocks of the plan document's schema, shared by the plan and its component kinds:
value readers (percentages, rates, amounts), the strict base model, ``when`` compilation and
``FieldProblem``, which names the nested field a validation error is about.

Percentages are written ``15%`` or ``0.15``; amounts as numbers or text; floats that a
YAML/JSON reader may produce are read through their decimal text, never as binary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo

from commissions.engine.conditions import Condition, compile_text
from commissions.engine.errors import ConditionError
from commissions.engine.money import HUNDRED, format_percent

#: Names a component may not take: the statement's own cap and draw lines use them.
RESERVED_NAMES = ("cap", "draw")


class FieldProblem(ValueError):
    """Raised inside validators to name a nested field (``tiers[1].to``) and a position."""

    def __init__(self, field: str, message: str, position: int | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.position = position


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"expected {what}, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):  # from a JSON/YAML reader that was not told to keep decimals
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            raise ValueError(f"expected {what}, got {value!r}") from None
    else:
        raise ValueError(f"expected {what}, got {value!r}")
    if not number.is_finite():
        raise ValueError(f"expected {what}, got {value!r}")
    return number


def to_ratio(value: object) -> Decimal:
    """``15%`` → 0.15; ``0.15`` → 0.15; ``1.5`` → 1.5 (150 %)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return _decimal(value.strip()[:-1], "a percentage like 15% or 0.15") / HUNDRED
    return _decimal(value, "a percentage like 15% or 0.15")


def to_money(value: object) -> Decimal:
    if isinstance(value, str) and value.strip().endswith("%"):
        raise ValueError(f"expected an amount, got the percentage {value.strip()!r}")
    number = _decimal(value, "an amount")
    if number < 0:
        raise ValueError(f"amount {number} is negative")
    return number


def to_rate(value: object) -> Decimal:
    rate = to_ratio(value)
    if not 0 <= rate <= 1:
        raise ValueError(f"rate {format_percent(rate)} is outside 0%-100% (write 15% or 0.15)")
    return rate


def to_attainment(value: object) -> Decimal:
    attainment = to_ratio(value)
    if attainment < 0:
        raise ValueError(f"attainment {format_percent(attainment)} is negative")
    return attainment


Ratio = Annotated[Decimal, BeforeValidator(to_ratio)]
Rate = Annotated[Decimal, BeforeValidator(to_rate)]
Attainment = Annotated[Decimal, BeforeValidator(to_attainment)]
Money = Annotated[Decimal, BeforeValidator(to_money)]


class PlanModel(BaseModel):
    """A part of the plan document: unknown fields are errors, and a parsed plan never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True)


CustomFields = Mapping[str, str] | Iterable[str] | None


def compile_when(text: str | None, info: ValidationInfo) -> Condition | None:
    """Compile a ``when`` with the custom fields ``parse_plan`` was given (validation context)."""
    if text is None:
        return None
    context: dict[str, CustomFields] = info.context or {}
    try:
        return compile_text(text, context.get("custom_fields"))
    except ConditionError as exc:
        raise FieldProblem("when", exc.message, exc.position) from None
