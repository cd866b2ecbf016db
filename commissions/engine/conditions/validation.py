"""Checks of a parsed condition against the deal fields: unknown names and comparisons
that can never make sense are rejected, with the position of the mistake."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from commissions.engine.conditions.nodes import (
    BUILTIN_FIELDS,
    DYNAMIC,
    FIELD_TYPES,
    And,
    Compare,
    FieldRef,
    Literal,
    Membership,
    Node,
    Not,
    Or,
    Truth,
)
from commissions.engine.errors import ConditionError
from commissions.engine.inputs import DEAL_TYPES

_ORDERING_OPS = ("<", "<=", ">", ">=")
_ARTICLE = {"text": "text", "number": "a number", "date": "a date", "boolean": "a boolean"}


def field_types(
    custom_fields: Mapping[str, str] | Iterable[str] | None,
) -> dict[str, str]:
    """Built-in fields plus custom ones (names only → compared as the literal beside them)."""
    types = dict(BUILTIN_FIELDS)
    if custom_fields is None:
        return types
    if isinstance(custom_fields, Mapping):
        for name, kind in custom_fields.items():
            types.setdefault(name, kind if kind in FIELD_TYPES else DYNAMIC)
    else:
        for name in custom_fields:
            types.setdefault(name, DYNAMIC)
    return types


def validate(node: Node, types: Mapping[str, str], text: str = "") -> None:
    """Reject unknown names and comparisons that can never make sense, with positions."""
    _Validator(types, text).walk(node)


def _a(kind: str) -> str:
    return _ARTICLE.get(kind, kind)


class _Validator:
    def __init__(self, types: Mapping[str, str], text: str) -> None:
        self.types = types
        self.text = text

    def walk(self, node: Node) -> None:
        if isinstance(node, Compare):
            self.check_literal(node.field, self.field_type(node.field), node.literal, node.op)
        elif isinstance(node, Membership):
            kind = self.field_type(node.field)
            for literal in node.values:
                self.check_literal(node.field, kind, literal, "==")
        elif isinstance(node, Truth):
            kind = self.field_type(node.field)
            if kind not in ("boolean", DYNAMIC):
                raise self.error(f"{node.field.name} is {_a(kind)}; compare it with a value", node.field.position)
        elif isinstance(node, Not):
            self.walk(node.operand)
        elif isinstance(node, And | Or):
            for item in node.operands:
                self.walk(item)

    def error(self, message: str, position: int) -> ConditionError:
        return ConditionError(message, position, self.text)

    def field_type(self, ref: FieldRef) -> str:
        kind = self.types.get(ref.name)
        if kind is None:
            known = ", ".join(sorted(self.types))
            raise self.error(f"unknown name {ref.name!r} (known fields: {known})", ref.position)
        return kind

    def check_literal(self, ref: FieldRef, kind: str, literal: Literal, op: str) -> None:
        if kind == DYNAMIC:
            if op in _ORDERING_OPS and literal.kind not in ("number", "date"):
                raise self.error(f"{op} compares numbers or dates, not {literal.kind}", literal.position)
            return
        if literal.kind != kind:
            shown = f'"{literal.value}"' if literal.kind == "text" else str(literal.value).lower()
            raise self.error(f"{ref.name} is {_a(kind)} and cannot be compared with {shown}", literal.position)
        if op in _ORDERING_OPS and kind not in ("number", "date"):
            raise self.error(f"{op} compares numbers or dates; {ref.name} is {kind}", literal.position)
        if ref.name == "type" and literal.value not in (*DEAL_TYPES, ""):  # "": a deal of no type (plans.md 4)
            raise self.error(
                f'type is one of {", ".join(DEAL_TYPES)} or "" (no type), not "{literal.value}"', literal.position
            )
