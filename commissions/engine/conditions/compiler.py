"""Turns a validated AST into a closure ``deal -> bool``. Nothing is ever ``eval``-ed."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from commissions.engine.conditions.nodes import (
    BUILTIN_FIELDS,
    DYNAMIC,
    And,
    Compare,
    Constant,
    Membership,
    Node,
    Not,
    Or,
    Truth,
)
from commissions.engine.inputs import Deal

# The comparison operators take any pair of field value and literal (text, number, date,
# boolean) of one kind; typeshed's protocols for them do not fit a mapping of all six.
COMPARE_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

Predicate = Callable[[Deal], bool]
#: A deal's field value as the engine compares it; None is null.
Value = str | Decimal | int | date | bool | None
Getter = Callable[[Deal], Value]

_TRUE_WORDS = {
    "true": True,
    "yes": True,
    "1": True,
    "y": True,
    "false": False,
    "no": False,
    "0": False,
    "n": False,
}


def _to_number(value: object) -> Value:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal | int):
        return value
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _to_date(value: object) -> Value:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _to_bool(value: object) -> Value:
    if isinstance(value, bool):
        return value
    return _TRUE_WORDS.get(str(value).strip().lower()) if value is not None else None


def _to_text(value: object) -> Value:
    return None if value is None or value == "" else str(value)


_CONVERTERS: dict[str, Callable[[object], Value]] = {"number": _to_number, "date": _to_date, "boolean": _to_bool}


def _convert(kind: str) -> Callable[[object], Value]:
    """Reader of a custom value (text) as ``kind``; unreadable or empty → None (null)."""
    return _CONVERTERS.get(kind, _to_text)


def _getter(name: str, types: Mapping[str, str], literal_kind: str) -> Getter:
    """A function deal → the field's value as ``literal_kind`` (or None for null)."""
    if name in BUILTIN_FIELDS:
        attr: Getter = operator.attrgetter(name)
        if BUILTIN_FIELDS[name] == "text":
            # never null (plans.md 4): an empty or absent standard text field is the text "",
            # so `source_campaign == ""` holds for a deal no campaign sourced
            return lambda deal: attr(deal) or ""
        return attr
    kind = types.get(name, DYNAMIC)
    convert = _convert(literal_kind if kind == DYNAMIC else kind)
    return lambda deal: convert(deal.custom.get(name))


def compile_condition(node: Node, types: Mapping[str, str] | None = None) -> Predicate:
    """Turn an AST into a closure ``deal -> bool``. Null values (an empty ``term_months``; a
    custom value that is empty, missing or unreadable) make every comparison false except
    ``!=`` and ``not in``. The standard text fields are never null: empty is ``""``."""
    types = types if types is not None else BUILTIN_FIELDS
    if isinstance(node, Compare):
        return _compare(node, types)
    if isinstance(node, Membership):
        return _membership(node, types)
    if isinstance(node, Truth):
        get = _getter(node.field.name, types, "boolean")
        return lambda deal: get(deal) is True
    if isinstance(node, Constant):
        result = node.value
        return lambda deal: result
    if isinstance(node, Not):
        inner = compile_condition(node.operand, types)
        return lambda deal: not inner(deal)
    if isinstance(node, And | Or):
        parts = [compile_condition(item, types) for item in node.operands]
        combined = parts[0]
        for part in parts[1:]:  # nested pairs: no generator per evaluation
            combined = _both(combined, part) if isinstance(node, And) else _either(combined, part)
        return combined
    raise TypeError(f"not a condition node: {node!r}")


def _compare(node: Compare, types: Mapping[str, str]) -> Predicate:
    get = _getter(node.field.name, types, node.literal.kind)
    value = node.literal.value
    op = COMPARE_OPS[node.op]
    if node.op == "!=":
        return lambda deal: (v := get(deal)) is None or v != value
    return lambda deal: (v := get(deal)) is not None and op(v, value)


def _membership(node: Membership, types: Mapping[str, str]) -> Predicate:
    kinds = {literal.kind for literal in node.values}
    if len(kinds) == 1:
        get = _getter(node.field.name, types, kinds.pop())
        values = frozenset(literal.value for literal in node.values)
        if node.negated:
            return lambda deal: (v := get(deal)) is None or v not in values
        return lambda deal: (v := get(deal)) is not None and v in values
    tests = [compile_condition(Compare(node.field, "==", literal), types) for literal in node.values]
    if node.negated:
        return lambda deal: not any(test(deal) for test in tests)
    return lambda deal: any(test(deal) for test in tests)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda deal: a(deal) and b(deal)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda deal: a(deal) or b(deal)


#: Built-in fields with few distinct values: a condition over only these is evaluated
#: once per distinct combination (a pure function of them), then looked up.
_FEW_VALUES = frozenset({"type", "product", "currency", "term_months", "source_campaign"})


def memoized(test: Predicate, fields: tuple[str, ...]) -> Predicate:
    """``test``, remembered per distinct combination of ``fields`` when they have few values."""
    if not fields or not _FEW_VALUES.issuperset(fields):
        return test
    key_of = operator.attrgetter(*fields)
    memo: dict[object, bool] = {}

    def lookup(deal: Deal) -> bool:
        key = key_of(deal)
        result = memo.get(key)
        if result is None:
            if len(memo) >= 4096:
                memo.clear()
            result = memo[key] = test(deal)
        return result

    return lookup
