"""The shape of a deal as machines send it (API, CSV rows, the form), validated once here."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from commissions.calculator.deals_csv import EARLIEST, LATEST, MAX_AMOUNT  # one set of limits for every door
from commissions.core.money import currency_problem

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
#: embedding and override controls of bidirectional text (they change how the text around them reads)
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=254)]
CustomValue = str | int | bool | Decimal | None


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person: Email
    share: Annotated[Decimal, Field(gt=0, le=100, decimal_places=2, description="percent of the deal, e.g. 60")]


#: ``DealIn.model_validate(body, context={STORED: True})``: a body read back from the database (a held change),
#: checked as it was when stored: a currency code ISO 4217 does not know still reads (it was accepted before).
STORED = "stored"


class DealIn(BaseModel):
    """A closed deal. ``external_id`` is the CRM's id: the same id again updates the same deal."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    name: Text = ""
    account: Text = ""
    owner: Email
    amount: Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, description='decimal string or number, e.g. "45000.00"')]
    currency: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{3}$")] = "USD"
    closed_at: date
    type: Literal["new", "expansion", "renewal"] = "new"
    product: Text = ""
    term_months: Annotated[int, Field(ge=0, le=600)] | None = None
    source_campaign: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    status: Literal["won", "cancelled"] = "won"
    cancelled_at: date | None = None
    splits: list[SplitIn] = Field(default_factory=list, max_length=20)
    custom_fields: dict[Annotated[str, StringConstraints(max_length=64)], CustomValue] = Field(
        default_factory=dict, max_length=50
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _currency_code(cls, value: object, info: ValidationInfo) -> object:
        """``eur`` is EUR (the constraint's upper-casing runs after its pattern: "eur" was refused in pydantic's
        words); anything else that is not three letters is refused in ours."""
        if isinstance(value, str):
            if (problem := currency_problem(value, known=STORED not in (info.context or {}))) is not None:
                raise ValueError(problem)
            return value.strip().upper()
        return value

    @field_validator("external_id", "name", "account", "product", "source_campaign")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        """No control characters (NUL is refused by PostgreSQL in words about lengths) and no bidirectional
        overrides (U+202E shows "CRM-1001" as something else on every page and export)."""
        if value and any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in value):
            raise ValueError("has a control character: write plain text")
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _ascii_amount(cls, value: object) -> object:
        if isinstance(value, str) and not value.isascii():  # Decimal reads "١٢٣" as 123
            raise ValueError(f"{value!r} is not an amount: write it with the digits 0-9, like 45000.00")
        return value

    @field_validator("amount")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("amount must be a number")
        return value

    @field_validator("closed_at", "cancelled_at")
    @classmethod
    def _plausible_date(cls, value: date | None) -> date | None:
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ValueError(f"date must lie between {EARLIEST} and {LATEST}")
        return value

    @field_validator("source_campaign")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> DealIn:
        if self.status == "cancelled" and self.cancelled_at is None:
            raise ValueError("cancelled_at: a cancelled deal needs cancelled_at")
        if self.status == "won" and self.cancelled_at is not None:
            raise ValueError("cancelled_at: only allowed when status is cancelled")
        if self.cancelled_at is not None and self.cancelled_at < self.closed_at:
            raise ValueError("cancelled_at: must not be before closed_at")
        if self.splits:
            people = [s.person for s in self.splits]
            if len(set(people)) != len(people):
                raise ValueError("splits: the same person is named twice")
            total = sum((s.share for s in self.splits), Decimal(0))
            if total != 100:
                raise ValueError(f"splits: shares must sum to exactly 100, not {total}")
        return self


#: pydantic's words for the common refusals, in the words of the people filling a form or a CSV file
_PLAIN = {
    "decimal_parsing": "is not a number (write it like 40000.50)",
    "decimal_type": "is not a number (write it like 40000.50)",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "date_from_datetime_parsing": "is not a date (write 2026-01-31)",
    "date_parsing": "is not a date (write 2026-01-31)",
    "missing": "is required",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}


def _plain(error: ErrorDetails) -> str | None:
    kind = error.get("type", "")
    if kind in _PLAIN:
        return _PLAIN[kind]
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        bound = (error.get("ctx") or {}).get(key)
        return f"must be {words} {bound}" if bound is not None else None
    if kind == "string_too_long":
        return f"at most {(error.get('ctx') or {}).get('max_length')} characters"
    return None


def error_field_and_message(error: ErrorDetails) -> tuple[str, str]:
    """A pydantic error as (field, message); whole-model checks name their field as ``field: message``."""
    message = _plain(error) or str(error.get("msg", "")).removeprefix("Value error, ")
    loc = [str(part) for part in error.get("loc", ())]
    if loc:
        return loc[0], message
    field, sep, rest = message.partition(": ")
    return (field, rest) if sep and field.isidentifier() else ("row", message)


class DealSummary(BaseModel):
    """A deal as lists show it (GET /api/v1/deals): everything POST answers but the custom fields (whom it
    credits, splits and source campaign included: why a manager sees another team's deal)."""

    external_id: str
    name: str
    account: str
    owner: str
    amount: str
    currency: str
    closed_at: date
    type: str
    product: str
    status: str
    term_months: int | None = None
    source_campaign: str | None = None
    cancelled_at: date | None = None
    splits: list[dict[str, str]] = Field(default_factory=list)


class DealOut(DealSummary):
    """A deal in full, as POST /api/v1/deals answers."""

    custom_fields: dict[str, CustomValue]
    approval: str | None = Field(
        default=None,
        description="'pending' (202): the change credits other people "
        "and waits for a manager's or finance's approval; it pays nobody until then",
    )
