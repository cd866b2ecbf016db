"""The ``when`` language (plans.md section 4): a tokenizer, a parser into a small AST, a
validator and a compiler to closures. Conditions are data: nothing is ever ``eval``-ed.

``compile_text(text, custom_fields)`` does all four and gives a ``Condition``; errors are
``ConditionError`` with a 1-based position. Modules: ``tokenizer`` (text → tokens),
``parser`` (tokens → ``nodes``, the AST), ``validation`` (names and types), ``compiler``
(AST → predicate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from commissions.engine.conditions.compiler import COMPARE_OPS, Predicate, compile_condition, memoized
from commissions.engine.conditions.nodes import (
    BUILTIN_FIELDS,
    DYNAMIC,
    FIELD_TYPES,
    And,
    Compare,
    Constant,
    FieldRef,
    Literal,
    Membership,
    Node,
    Not,
    Or,
    Truth,
    fields_of,
)
from commissions.engine.conditions.parser import parse
from commissions.engine.conditions.tokenizer import Token, tokenize
from commissions.engine.conditions.validation import field_types, validate
from commissions.engine.inputs import Deal


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed, validated and compiled ``when``."""

    text: str
    ast: Node
    test: Predicate
    fields: tuple[str, ...]

    def __call__(self, deal: Deal) -> bool:
        return self.test(deal)


def compile_text(text: str, custom_fields: Mapping[str, str] | Iterable[str] | None = None) -> Condition:
    """Parse, validate and compile a condition. Raises ``ConditionError`` with a position."""
    types = field_types(custom_fields)
    node = parse(text)
    validate(node, types, text)
    fields = fields_of(node)
    return Condition(text, node, memoized(compile_condition(node, types), fields), fields)


__all__ = [
    "BUILTIN_FIELDS",
    "COMPARE_OPS",
    "DYNAMIC",
    "FIELD_TYPES",
    "And",
    "Compare",
    "Condition",
    "Constant",
    "FieldRef",
    "Literal",
    "Membership",
    "Node",
    "Not",
    "Or",
    "Predicate",
    "Token",
    "Truth",
    "compile_condition",
    "compile_text",
    "field_types",
    "fields_of",
    "parse",
    "tokenize",
    "validate",
]
