"""A recursive-descent parser from tokens to the AST (syntax only; names and types are
checked by ``validation``).

Grammar (``docs/plans.md`` has the author's view)::

    expression := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | primary
    primary    := "(" or ")"
                | operand COMPARE operand        (exactly one side a field)
                | field ["not"] "in" "[" literal ("," literal)* "]"
                | field | "true" | "false"       (a bare field means field == true)
    operand    := field | literal
    literal    := "text" | 'text' | number | -number | 2026-01-31 | true | false
"""

from __future__ import annotations

from commissions.engine.conditions.nodes import (
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
)
from commissions.engine.conditions.tokenizer import Token, describe, tokenize
from commissions.engine.errors import ConditionError

#: The operator seen from the other side: ``5 < amount`` is ``amount > 5``.
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}
_LITERAL_KINDS = {"string": "text", "number": "number", "date": "date"}


def parse(text: str) -> Node:
    """Parse a condition into its AST (syntax only; see ``validate`` for names and types)."""
    if not isinstance(text, str):
        raise ConditionError('a condition is text, e.g. type != "renewal"', 1, str(text))
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def error(self, message: str, token: Token | None = None) -> ConditionError:
        token = token or self.peek()
        return ConditionError(message, token.position, self.text)

    def error_at(self, message: str, position: int) -> ConditionError:
        return ConditionError(message, position, self.text)

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_word(self, word: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "name" and token.value == word

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.error("empty condition")
        node = self.parse_or()
        token = self.peek()
        if token.kind != "end":
            if token.kind == "(":
                raise self.error("function calls are not allowed in conditions")
            raise self.error(f"unexpected {describe(token)}; expected and / or")
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.is_word("or"):
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_not()]
        while self.is_word("and"):
            self.take()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self) -> Node:
        if self.is_word("not"):
            self.take()
            return Not(self.parse_not())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.peek()
        if token.kind == "(":
            self.take()
            node = self.parse_or()
            if self.peek().kind != ")":
                raise self.error(f"expected ')' but found {describe(self.peek())}")
            self.take()
            return node
        left = self.parse_operand()
        nxt = self.peek()
        if nxt.kind == "op":
            self.take()
            right = self.parse_operand()
            return self.comparison(left, nxt, right)
        if self.is_word("in") or (self.is_word("not") and self.is_word("in", 1)):
            negated = self.is_word("not")
            self.take()
            if negated:
                self.take()
            if not isinstance(left, FieldRef):
                raise self.error_at("the left side of 'in' must be a field", nxt.position)
            return Membership(left, self.parse_list(), negated)
        if nxt.kind == "(" and isinstance(left, FieldRef):
            raise self.error("function calls are not allowed in conditions", nxt)
        if isinstance(left, FieldRef):
            return Truth(left)
        if left.kind == "boolean":
            return Constant(bool(left.value), left.position)
        raise self.error_at(f"expected a comparison after {left.value!s}", left.position)

    def comparison(self, left: FieldRef | Literal, op: Token, right: FieldRef | Literal) -> Node:
        if isinstance(left, FieldRef) and isinstance(right, Literal):
            return Compare(left, op.text, right)
        if isinstance(left, Literal) and isinstance(right, FieldRef):
            return Compare(right, _FLIP[op.text], left)
        if isinstance(left, FieldRef):
            raise self.error_at("compare a field with a literal, not with another field", op.position)
        raise self.error_at("a comparison needs a field on one side", op.position)

    def parse_operand(self) -> FieldRef | Literal:
        token = self.take()
        literal_kind = _LITERAL_KINDS.get(token.kind)
        if literal_kind is not None:
            return Literal(token.value, literal_kind, token.position)
        if token.kind == "name":
            if token.value in ("true", "false"):
                return Literal(token.value == "true", "boolean", token.position)
            if token.value in _KEYWORDS:
                raise self.error_at(f"unexpected {token.value!r}", token.position)
            if self.peek().kind == "(":
                raise self.error("function calls are not allowed in conditions")
            return FieldRef(token.text, token.position)
        if token.kind == "[":
            raise self.error_at("a list may only follow 'in'", token.position)
        raise self.error_at(f"unexpected {describe(token)}", token.position)

    def parse_list(self) -> tuple[Literal, ...]:
        token = self.peek()
        if token.kind != "[":
            raise self.error(f"expected '[' after 'in' but found {describe(token)}")
        self.take()
        values: list[Literal] = []
        if self.peek().kind == "]":
            raise self.error("empty list")
        while True:
            item = self.parse_operand()
            if isinstance(item, FieldRef):
                raise self.error_at(f"a list holds literals; {item.name!r} is a name (quote text)", item.position)
            values.append(item)
            token = self.take()
            if token.kind == "]":
                return tuple(values)
            if token.kind != ",":
                raise self.error_at(f"expected ',' or ']' but found {describe(token)}", token.position)
