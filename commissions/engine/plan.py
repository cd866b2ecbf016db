"""The plan document (plans.md section 2) as Pydantic models, and its validation.

``parse_plan(document)`` turns a mapping (from YAML or JSON) into a ``Plan`` or raises
``PlanValidationError`` whose issues name the component and the field, e.g.
``component 'Commission', tiers[1].to: tier bounds must rise (150% after 150%)``.
The components are the registered kinds (``commissions.engine.components``), told apart
by their ``kind``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from commissions.engine.components import PlanComponent, component_classes, kinds
from commissions.engine.components.bonus import BonusComponent
from commissions.engine.components.curve import CurveComponent
from commissions.engine.components.override import OverrideComponent
from commissions.engine.components.per_deal import PerDealComponent
from commissions.engine.components.tiered import Tier, TieredComponent
from commissions.engine.conditions import Condition
from commissions.engine.errors import PlanIssue, PlanValidationError
from commissions.engine.money import minor_digits
from commissions.engine.plan_issues import plan_issues
from commissions.engine.plan_schema import (
    RESERVED_NAMES,
    CustomFields,
    FieldProblem,
    Money,
    PlanModel,
    compile_when,
    to_money,
    to_ratio,
)
from commissions.engine.plan_yaml import MAX_DOCUMENT_DEPTH, load_plan_document

#: The component kinds, in listing order.
COMPONENT_KINDS = kinds()

if TYPE_CHECKING:
    Component = PlanComponent
else:  # one model per registered kind, chosen by `kind`
    Component = Annotated[reduce(or_, component_classes()), Field(discriminator="kind")]


class Credit(PlanModel):
    scope: Literal["own", "team"] = "own"
    when: str | None = None
    _condition: Condition | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile(self, info: ValidationInfo) -> Credit:
        self._condition = compile_when(self.when, info)
        return self

    @property
    def condition(self) -> Condition | None:
        return self._condition


class Draw(PlanModel):
    amount: Money
    recoverable: bool


class Release(PlanModel):
    """When earned commission becomes payable (docs/plans.md, "Release on cash"): an extension of plans.md.

    ``on: payment``: when the deal's invoice is paid in full, or with ``pro_rata: true`` in
    proportion to each payment; ``after``: on a date; ``after_days``: that many days after the
    deal's close date. Exactly one of ``on``, ``after`` and ``after_days``.
    """

    on: Literal["payment"] | None = None
    pro_rata: bool = False
    after: date | None = None
    after_days: int | None = Field(default=None, ge=0)

    @field_validator("after_days", mode="before")
    @classmethod
    def _whole_days(cls, value: object) -> object:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("expected a whole number of days")
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> Release:
        given = [name for name in ("on", "after", "after_days") if getattr(self, name) is not None]
        if len(given) != 1:
            raise FieldProblem(
                "release",
                "says when commission is released: exactly one of on: payment, after: <date> or after_days: <days>"
                + (f" (got {', '.join(given)})" if given else ""),
            )
        if self.pro_rata and self.on != "payment":
            raise FieldProblem("release.pro_rata", "pro_rata needs on: payment")
        return self


class Plan(PlanModel):
    name: str = Field(min_length=1, max_length=120)
    currency: str
    period: Literal["month", "quarter", "year"]
    quota: Literal["bookings", "sourced_revenue", "deals", "mqls", "sqls", "pipeline"] | None = None
    credit: Credit = Field(default_factory=Credit)
    components: list[Component] = Field(min_length=1)
    cap: Money | None = None
    clawback_days: int | None = Field(default=None, ge=0)
    draw: Draw | None = None
    release: Release | None = None
    effective_from: date | None = None
    description: str | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code like USD")
        return value

    @field_validator("clawback_days", mode="before")
    @classmethod
    def _whole_days(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected a whole number of days")
        return value

    @model_validator(mode="after")
    def _check(self) -> Plan:
        self._check_minor_units()
        seen: set[str] = set()
        for component in self.components:
            if component.name in seen:
                raise FieldProblem(f"@{component.name}:name", f"two components are named {component.name!r}")
            seen.add(component.name)
            if component.needs_attainment and self.quota is None:
                raise FieldProblem(
                    f"@{component.name}:{component.attainment_field}",
                    "needs attainment, but the plan sets no `quota` metric (bookings, sourced_revenue, deals, mqls, sqls or pipeline)",
                )
        return self

    def _check_minor_units(self) -> None:
        """Amounts must be whole minor units of the currency (cents for USD)."""
        digits = minor_digits(self.currency)

        def exact_to_minor(value: Decimal | None, where: str) -> None:
            exponent = None if value is None else value.as_tuple().exponent
            if isinstance(exponent, int) and exponent < -digits:
                raise FieldProblem(where, f"{value} has more decimals than {self.currency} allows ({digits})")

        exact_to_minor(self.cap, "cap")
        if self.draw is not None:
            exact_to_minor(self.draw.amount, "draw.amount")
        for component in self.components:
            for field, amount in component.amounts():
                exact_to_minor(amount, f"@{component.name}:{field}")

    @property
    def metric(self) -> str:
        """The credited measure: the quota metric, or bookings when the plan sets none."""
        return self.quota or "bookings"


def parse_plan(document: Mapping[str, Any], *, custom_fields: CustomFields = None) -> Plan:
    """Validate a plan document. ``custom_fields``: names (or name → type: text, number,
    date, boolean) of the custom deal fields conditions may use."""
    if not isinstance(document, Mapping):
        raise PlanValidationError([PlanIssue(None, "document", "a plan is a mapping of fields (name, currency, ...)")])
    try:
        return Plan.model_validate(dict(document), context={"custom_fields": custom_fields})
    except ValidationError as exc:
        raise PlanValidationError(plan_issues(exc, document, COMPONENT_KINDS)) from None


__all__ = [
    "COMPONENT_KINDS",
    "MAX_DOCUMENT_DEPTH",
    "RESERVED_NAMES",
    "BonusComponent",
    "Component",
    "Credit",
    "CurveComponent",
    "Draw",
    "FieldProblem",
    "OverrideComponent",
    "PerDealComponent",
    "Plan",
    "PlanComponent",
    "Release",
    "Tier",
    "TieredComponent",
    "load_plan_document",
    "parse_plan",
    "to_money",
    "to_ratio",
]
