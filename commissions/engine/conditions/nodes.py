"""The AST of a ``when`` condition, and the fields it may name.

Every comparison is normalised to ``field op literal``, so the AST maps one to one to a
SQL ``WHERE`` (``Compare`` → ``column op :param``, ``Membership`` → ``IN``/``NOT IN``,
null handling as ``IS NOT NULL AND ...`` / ``IS NULL OR ...``; a standard text field is
never null, its column read as ``COALESCE(column, '')``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

#: Built-in deal fields and their types.
BUILTIN_FIELDS: dict[str, str] = {
    "amount": "number",
    "currency": "text",
    "type": "text",
    "product": "text",
    "term_months": "number",
    "source_campaign": "text",
    "closed_at": "date",
    "account": "text",
    "name": "text",
}
#: Type of a custom field whose values are compared as the literal beside them.
DYNAMIC = "dynamic"
FIELD_TYPES = ("text", "number", "date", "boolean", DYNAMIC)

LiteralValue = str | Decimal | date | bool


@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Literal:
    value: LiteralValue
    kind: str  # text | number | date | boolean
    position: int


@dataclass(frozen=True, slots=True)
class Compare:
    field: FieldRef
    op: str  # == != < <= > >=
    literal: Literal


@dataclass(frozen=True, slots=True)
class Membership:
    field: FieldRef
    values: tuple[Literal, ...]
    negated: bool  # not in


@dataclass(frozen=True, slots=True)
class Truth:
    """A bare field: true when the field's value is the boolean true."""

    field: FieldRef


@dataclass(frozen=True, slots=True)
class Constant:
    value: bool
    position: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


Node = Compare | Membership | Truth | Constant | Not | And | Or


def fields_of(node: Node) -> tuple[str, ...]:
    """Field names in order of first appearance (for the explanation of a line)."""
    seen: dict[str, None] = {}

    def walk(n: Node) -> None:
        if isinstance(n, Compare | Membership | Truth):
            seen.setdefault(n.field.name, None)
        elif isinstance(n, Not):
            walk(n.operand)
        elif isinstance(n, And | Or):
            for item in n.operands:
                walk(item)

    walk(node)
    return tuple(seen)
