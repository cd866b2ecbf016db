"""The plan document (plans.md section 2) as Pydantic models, and its validation.

``parse_plan(document)`` turns a mapping (from YAML or JSON) into a ``Plan`` or raises
``PlanValidationError`` whose issues name the component and the field, e.g.
``component 'Commission', tiers[1].to: tier bounds must rise (150% after 150%)``.
Percentages are written ``15%`` or ``0.15``; amounts as numbers or text; floats that
a YAML/JSON reader may produce are read through their decimal text, never as binary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from commissions.engine.conditions import Condition, compile_text
from commissions.engine.errors import ConditionError, PlanIssue, PlanValidationError
from commissions.engine.money import HUNDRED, format_percent, minor_digits

RESERVED_NAMES = ("cap", "draw")
MAX_DOCUMENT_DEPTH = 64  # a plan is a few levels deep; thousands of levels would exhaust the stack
COMPONENT_KINDS = ("tiered", "per_deal", "bonus", "curve", "override")


class FieldProblem(ValueError):
    """Raised inside validators to name a nested field (``tiers[1].to``) and a position."""

    def __init__(self, field: str, message: str, position: int | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.position = position


def _decimal(value: Any, what: str) -> Decimal:
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


def to_ratio(value: Any) -> Decimal:
    """``15%`` → 0.15; ``0.15`` → 0.15; ``1.5`` → 1.5 (150 %)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return _decimal(value.strip()[:-1], "a percentage like 15% or 0.15") / HUNDRED
    return _decimal(value, "a percentage like 15% or 0.15")


def to_money(value: Any) -> Decimal:
    if isinstance(value, str) and value.strip().endswith("%"):
        raise ValueError(f"expected an amount, got the percentage {value.strip()!r}")
    number = _decimal(value, "an amount")
    if number < 0:
        raise ValueError(f"amount {number} is negative")
    return number


def _check_rate(value: Decimal) -> Decimal:
    if not 0 <= value <= 1:
        raise ValueError(f"rate {format_percent(value)} is outside 0%-100% (write 15% or 0.15)")
    return value


def _check_attainment(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError(f"attainment {format_percent(value)} is negative")
    return value


Ratio = Annotated[Decimal, BeforeValidator(to_ratio)]
Rate = Annotated[Decimal, BeforeValidator(lambda v: _check_rate(to_ratio(v)))]
Attainment = Annotated[Decimal, BeforeValidator(lambda v: _check_attainment(to_ratio(v)))]
Money = Annotated[Decimal, BeforeValidator(to_money)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True)


def _compile_when(text: str | None, info: ValidationInfo) -> Condition | None:
    if text is None:
        return None
    custom = (info.context or {}).get("custom_fields") if info.context is not None else None
    try:
        return compile_text(text, custom)
    except ConditionError as exc:
        raise FieldProblem("when", exc.message, exc.position) from None


class Tier(_Model):
    to: Any = None  # an attainment (100% / 1.0) or an amount, depending on the component's `on`
    rate: Rate


class _Component(_Model):
    name: str = Field(min_length=1, max_length=200)
    cap: Money | None = None

    @field_validator("name")
    @classmethod
    def _name_not_reserved(cls, name: str) -> str:
        stripped = name.strip()
        if not stripped:
            raise ValueError("a component needs a name")
        if stripped in RESERVED_NAMES or stripped.startswith("cap:"):
            raise ValueError(f"{stripped!r} is reserved for the cap and draw lines of a statement")
        return stripped

    @property
    def needs_attainment(self) -> bool:
        return False


class TieredComponent(_Component):
    kind: Literal["tiered"]
    on: Literal["attainment", "amount"] = "attainment"
    mode: Literal["marginal", "retroactive"] = "marginal"
    per: Literal["period", "deal"] = "period"
    tiers: list[Tier] = Field(min_length=1)
    _bounds: tuple[Decimal, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _check_tiers(self) -> TieredComponent:
        if self.per == "deal" and self.on != "amount":
            raise FieldProblem(
                "per",
                "per: deal tiers each deal on its own amount and needs on: amount",
            )
        bounds: list[Decimal] = []
        last = len(self.tiers) - 1
        for i, tier in enumerate(self.tiers):
            where = f"tiers[{i}].to"
            if tier.to is None:
                if i != last:
                    raise FieldProblem(
                        where,
                        "only the last tier may be open-ended; give this tier a `to`",
                    )
                continue
            if i == last:
                raise FieldProblem(where, "the last tier must be open-ended (no `to`)")
            try:
                bound = to_ratio(tier.to) if self.on == "attainment" else to_money(tier.to)
            except ValueError as exc:
                raise FieldProblem(where, str(exc)) from None
            if bound <= 0:
                raise FieldProblem(where, "tier bounds must be above 0")
            if bounds and bound <= bounds[-1]:
                shown = format_percent if self.on == "attainment" else str
                raise FieldProblem(
                    where,
                    f"tier bounds must rise ({shown(bound)} after {shown(bounds[-1])})",
                )
            bounds.append(bound)
        self._bounds = tuple(bounds)
        return self

    @property
    def bounds(self) -> tuple[Decimal, ...]:
        """The `to` of every tier but the last, as ratios (on: attainment) or amounts."""
        return self._bounds

    @property
    def rates(self) -> tuple[Decimal, ...]:
        return tuple(tier.rate for tier in self.tiers)

    @property
    def needs_attainment(self) -> bool:
        return self.on == "attainment"


class PerDealComponent(_Component):
    kind: Literal["per_deal"]
    pay: Money | None = None
    rate: Rate | None = None
    when: str | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    _condition: Condition | None = PrivateAttr(default=None)

    @field_validator("when")
    @classmethod
    def _when(cls, text: str | None, info: ValidationInfo) -> str | None:
        _compile_when(text, info)
        return text

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> PerDealComponent:
        if self.pay is None and self.rate is None:
            raise FieldProblem(
                "pay",
                "a per_deal component needs `pay` (a fixed amount), `rate`, or both",
            )
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise FieldProblem("to", f"the window ends ({self.to}) before it starts ({self.from_})")
        self._condition = _compile_when(self.when, info)
        return self

    @property
    def condition(self) -> Condition | None:
        return self._condition


class BonusComponent(_Component):
    kind: Literal["bonus"]
    at: Attainment
    pay: Money

    @property
    def needs_attainment(self) -> bool:
        return True


class CurveComponent(_Component):
    kind: Literal["curve"]
    points: list[tuple[Attainment, Money]] = Field(min_length=2)

    @field_validator("points")
    @classmethod
    def _rising(cls, points: list[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
        for i in range(1, len(points)):
            if points[i][0] <= points[i - 1][0]:
                raise FieldProblem(
                    f"points[{i}]",
                    f"curve points must have rising attainment ({format_percent(points[i][0])} "
                    f"after {format_percent(points[i - 1][0])})",
                )
        return points

    @property
    def needs_attainment(self) -> bool:
        return True


class OverrideComponent(_Component):
    kind: Literal["override"]
    rate: Rate


Component = Annotated[
    TieredComponent | PerDealComponent | BonusComponent | CurveComponent | OverrideComponent,
    Field(discriminator="kind"),
]


class Credit(_Model):
    scope: Literal["own", "team"] = "own"
    when: str | None = None
    _condition: Condition | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile(self, info: ValidationInfo) -> Credit:
        self._condition = _compile_when(self.when, info)
        return self

    @property
    def condition(self) -> Condition | None:
        return self._condition


class Draw(_Model):
    amount: Money
    recoverable: bool


class Plan(_Model):
    name: str = Field(min_length=1, max_length=120)
    currency: str
    period: Literal["month", "quarter", "year"]
    quota: Literal["bookings", "sourced_revenue", "deals", "mqls", "sqls", "pipeline"] | None = None
    credit: Credit = Field(default_factory=Credit)
    components: list[Component] = Field(min_length=1)
    cap: Money | None = None
    clawback_days: int | None = Field(default=None, ge=0)
    draw: Draw | None = None
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
    def _whole_days(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected a whole number of days")
        return value

    @model_validator(mode="after")
    def _check(self) -> Plan:
        digits = minor_digits(self.currency)

        def exact_to_minor(value: Decimal | None, where: str) -> None:
            if value is not None and value.as_tuple().exponent < -digits:  # type: ignore[operator]
                raise FieldProblem(
                    where,
                    f"{value} has more decimals than {self.currency} allows ({digits})",
                )

        exact_to_minor(self.cap, "cap")
        if self.draw is not None:
            exact_to_minor(self.draw.amount, "draw.amount")
        for component in self.components:
            exact_to_minor(component.cap, f"@{component.name}:cap")
            if isinstance(component, PerDealComponent | BonusComponent):
                exact_to_minor(component.pay, f"@{component.name}:pay")
        seen: set[str] = set()
        for component in self.components:
            if component.name in seen:
                raise FieldProblem(
                    f"@{component.name}:name",
                    f"two components are named {component.name!r}",
                )
            seen.add(component.name)
            if component.needs_attainment and self.quota is None:
                field = "kind" if not isinstance(component, TieredComponent) else "on"
                raise FieldProblem(
                    f"@{component.name}:{field}",
                    "needs attainment, but the plan sets no `quota` metric (bookings, sourced_revenue, deals, mqls, sqls or pipeline)",
                )
        return self

    @property
    def metric(self) -> str:
        """The credited measure: the quota metric, or bookings when the plan sets none."""
        return self.quota or "bookings"


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _component_name(document: Mapping[str, Any], index: int) -> str:
    components = document.get("components")
    try:
        name = components[index].get("name")  # type: ignore[index,union-attr]
    except (AttributeError, IndexError, KeyError, TypeError):
        name = None
    return str(name).strip() if isinstance(name, str) and name.strip() else f"#{index + 1}"


def _issues(exc: ValidationError, document: Mapping[str, Any]) -> list[PlanIssue]:
    issues: list[PlanIssue] = []
    for error in exc.errors():
        loc = list(error["loc"])
        component: str | None = None
        if len(loc) >= 2 and loc[0] == "components" and isinstance(loc[1], int):
            component = _component_name(document, loc[1])
            loc = loc[2:]
            if loc and loc[0] in COMPONENT_KINDS:
                loc = loc[1:]
        problem = (error.get("ctx") or {}).get("error")
        position = None
        if isinstance(problem, FieldProblem):
            field = problem.field
            if field.startswith("@"):  # a plan-level check about one component
                component, field = field[1:].rsplit(":", 1)
            else:
                head = re.match(r"[A-Za-z_]*", field).group()  # type: ignore[union-attr]
                base = loc[:-1] if loc and loc[-1] == head else loc
                field = f"{_path(base)}.{field}" if base else field
            message, position = problem.message, problem.position
        else:
            field = _path(loc) or ("components" if component else "document")
            message = error["msg"]
            kind = error["type"]
            if kind == "missing":
                message = "is required"
            elif kind == "extra_forbidden":
                message = "is not a field of this component" if component else "is not a field of a plan"
            elif kind == "union_tag_invalid":
                field = "kind"
                tag = (error.get("ctx") or {}).get("tag")
                message = f"unknown kind {tag!r} (one of {', '.join(COMPONENT_KINDS)})"
            elif kind == "union_tag_not_found":
                field = "kind"
                message = f"is required (one of {', '.join(COMPONENT_KINDS)})"
            elif message.startswith("Value error, "):
                message = message[len("Value error, ") :]
        issues.append(PlanIssue(component, field, message, position))
    return issues


def parse_plan(
    document: Mapping[str, Any],
    *,
    custom_fields: Mapping[str, str] | Iterable[str] | None = None,
) -> Plan:
    """Validate a plan document. ``custom_fields``: names (or name → type: text, number,
    date, boolean) of the custom deal fields conditions may use."""
    if not isinstance(document, Mapping):
        raise PlanValidationError(
            [
                PlanIssue(
                    None,
                    "document",
                    "a plan is a mapping of fields (name, currency, ...)",
                )
            ]
        )
    try:
        return Plan.model_validate(dict(document), context={"custom_fields": custom_fields})
    except ValidationError as exc:
        raise PlanValidationError(_issues(exc, document)) from None


def load_plan_document(text: str) -> dict[str, Any]:
    """Read a plan written in YAML (or JSON, which is YAML) keeping decimals exact."""
    import yaml  # imported lazily: the engine itself needs no YAML

    class _Loader(yaml.SafeLoader):
        """YAML 1.2 booleans: only true/false (YAML 1.1 would read the key `on:` as True); at most
        ``MAX_DOCUMENT_DEPTH`` nested collections (composing and constructing are recursive)."""

        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self._depth += 1
            try:
                if self._depth > MAX_DOCUMENT_DEPTH:
                    raise yaml.composer.ComposerError(
                        None,
                        None,
                        f"nested more than {MAX_DOCUMENT_DEPTH} levels deep (a plan needs a few)",
                        self.peek_event().start_mark,
                    )
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )

    def _decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
        raw = str(loader.construct_scalar(node)).replace("_", "")
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise yaml.constructor.ConstructorError(None, None, f"{raw!r} is not a number", node.start_mark) from None

    _Loader.add_constructor("tag:yaml.org,2002:float", _decimal_float)
    try:
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanValidationError([PlanIssue(None, where, f"not valid YAML: {problem}")]) from None
    if not isinstance(document, dict):
        raise PlanValidationError(
            [
                PlanIssue(
                    None,
                    "document",
                    "a plan is a mapping of fields (name, currency, ...)",
                )
            ]
        )
    return document
