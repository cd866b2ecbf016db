"""The ``when`` language: a tokenizer, a recursive-descent parser into a small AST, a
validator and a compiler to closures. Conditions are data: nothing is ever ``eval``-ed.

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

Every comparison is normalised to ``field op literal``, so the AST maps one to one to
a SQL ``WHERE`` (``Compare`` → ``column op :param``, ``Membership`` → ``IN``/``NOT IN``,
null handling as ``IS NOT NULL AND ...`` / ``IS NULL OR ...``; a standard text field is
never null, its column read as ``COALESCE(column, '')``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from commissions.engine.errors import ConditionError
from commissions.engine.inputs import DEAL_TYPES

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

COMPARE_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}

# ---------------------------------------------------------------- AST


@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | Decimal | date | bool
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

# ---------------------------------------------------------------- tokenizer


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name string number date op ( ) [ ] , end
    value: Any
    position: int  # 1-based


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "end of condition"
    if token.kind == "string":
        return f'"{token.value}"'
    return repr(str(token.value)) if token.kind != "name" else f"{token.value!r}"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        pos = i + 1
        if c.isspace():
            i += 1
            continue
        if c in "\"'":
            j = i + 1
            chars: list[str] = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                chars.append(text[j])
                j += 1
            if j >= n:
                raise ConditionError("unterminated text (missing closing quote)", pos, text)
            tokens.append(Token("string", "".join(chars), pos))
            i = j + 1
            continue
        negative = c == "-" and i + 1 < n and text[i + 1].isdigit() and _literal_may_follow(tokens)
        if c.isdigit() or negative:
            j = i + 1
            while j < n and (text[j].isdigit() or text[j] in ".-"):
                j += 1
            raw = text[i:j]
            if len(raw) == 10 and raw[4] == "-" and raw[7] == "-" and not negative:
                try:
                    tokens.append(Token("date", date.fromisoformat(raw), pos))
                except ValueError:
                    raise ConditionError(f"{raw} is not a date (write 2026-01-31)", pos, text) from None
            else:
                try:
                    if raw.count(".") > 1 or "-" in raw[1:]:
                        raise InvalidOperation
                    tokens.append(Token("number", Decimal(raw), pos))
                except InvalidOperation:
                    if "-" in raw[1:]:
                        raise ConditionError("arithmetic is not allowed in conditions", pos, text) from None
                    raise ConditionError(f"{raw} is not a number", pos, text) from None
            i = j
            if i < n and (text[i].isalpha() or text[i] == "_"):
                raise ConditionError(f"unexpected {text[i]!r} after a number", i + 1, text)
            continue
        if c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("name", text[i:j], pos))
            i = j
            continue
        two = text[i : i + 2]
        if two in ("==", "!=", "<=", ">="):
            tokens.append(Token("op", two, pos))
            i += 2
            continue
        if c in "<>":
            tokens.append(Token("op", c, pos))
            i += 1
            continue
        if c in "()[],":
            tokens.append(Token(c, c, pos))
            i += 1
            continue
        if c == "=":
            raise ConditionError("use == to compare", pos, text)
        if c == ".":
            raise ConditionError("attribute access is not allowed in conditions", pos, text)
        if c in "+-*/%^":
            raise ConditionError("arithmetic is not allowed in conditions", pos, text)
        if c in "&|!":
            raise ConditionError("write and / or / not", pos, text)
        raise ConditionError(f"unexpected character {c!r}", pos, text)
    tokens.append(Token("end", None, n + 1))
    return tokens


def _literal_may_follow(tokens: list[Token]) -> bool:
    if not tokens:
        return True
    last = tokens[-1]
    return last.kind in ("op", "(", "[", ",") or (last.kind == "name" and last.value in ("and", "or", "not", "in"))


# ---------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def error(self, message: str, token: Token | None = None) -> ConditionError:
        token = token or self.peek()
        return ConditionError(message, token.position, self.text)

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
            raise self.error(f"unexpected {_describe(token)}; expected and / or")
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
                raise self.error(f"expected ')' but found {_describe(self.peek())}")
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
                raise ConditionError("the left side of 'in' must be a field", nxt.position, self.text)
            return Membership(left, self.parse_list(), negated)
        if nxt.kind == "(" and isinstance(left, FieldRef):
            raise self.error("function calls are not allowed in conditions", nxt)
        if isinstance(left, FieldRef):
            return Truth(left)
        if left.kind == "boolean":
            return Constant(bool(left.value), left.position)
        raise ConditionError(f"expected a comparison after {left.value!s}", left.position, self.text)

    def comparison(self, left: FieldRef | Literal, op: Token, right: FieldRef | Literal) -> Node:
        if isinstance(left, FieldRef) and isinstance(right, Literal):
            return Compare(left, op.value, right)
        if isinstance(left, Literal) and isinstance(right, FieldRef):
            return Compare(right, _FLIP[op.value], left)
        if isinstance(left, FieldRef):
            raise ConditionError(
                "compare a field with a literal, not with another field",
                op.position,
                self.text,
            )
        raise ConditionError("a comparison needs a field on one side", op.position, self.text)

    def parse_operand(self) -> FieldRef | Literal:
        token = self.take()
        if token.kind == "string":
            return Literal(token.value, "text", token.position)
        if token.kind == "number":
            return Literal(token.value, "number", token.position)
        if token.kind == "date":
            return Literal(token.value, "date", token.position)
        if token.kind == "name":
            if token.value in ("true", "false"):
                return Literal(token.value == "true", "boolean", token.position)
            if token.value in _KEYWORDS:
                raise ConditionError(f"unexpected {token.value!r}", token.position, self.text)
            if self.peek().kind == "(":
                raise self.error("function calls are not allowed in conditions")
            return FieldRef(token.value, token.position)
        if token.kind == "[":
            raise ConditionError("a list may only follow 'in'", token.position, self.text)
        raise ConditionError(f"unexpected {_describe(token)}", token.position, self.text)

    def parse_list(self) -> tuple[Literal, ...]:
        token = self.peek()
        if token.kind != "[":
            raise self.error(f"expected '[' after 'in' but found {_describe(token)}")
        self.take()
        values: list[Literal] = []
        if self.peek().kind == "]":
            raise self.error("empty list")
        while True:
            item = self.parse_operand()
            if isinstance(item, FieldRef):
                raise ConditionError(
                    f"a list holds literals; {item.name!r} is a name (quote text)",
                    item.position,
                    self.text,
                )
            values.append(item)
            token = self.take()
            if token.kind == "]":
                return tuple(values)
            if token.kind != ",":
                raise ConditionError(
                    f"expected ',' or ']' but found {_describe(token)}",
                    token.position,
                    self.text,
                )


def parse(text: str) -> Node:
    """Parse a condition into its AST (syntax only; see ``validate`` for names and types)."""
    if not isinstance(text, str):
        raise ConditionError('a condition is text, e.g. type != "renewal"', 1, str(text))
    return _Parser(text).parse()


# ---------------------------------------------------------------- validation


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

    def field_type(ref: FieldRef) -> str:
        kind = types.get(ref.name)
        if kind is None:
            known = ", ".join(sorted(types))
            raise ConditionError(f"unknown name {ref.name!r} (known fields: {known})", ref.position, text)
        return kind

    def check_literal(ref: FieldRef, kind: str, literal: Literal, op: str) -> None:
        if kind == DYNAMIC:
            if op in ("<", "<=", ">", ">=") and literal.kind not in ("number", "date"):
                raise ConditionError(
                    f"{op} compares numbers or dates, not {literal.kind}",
                    literal.position,
                    text,
                )
            return
        if literal.kind != kind:
            shown = f'"{literal.value}"' if literal.kind == "text" else str(literal.value).lower()
            raise ConditionError(
                f"{ref.name} is {_a(kind)} and cannot be compared with {shown}",
                literal.position,
                text,
            )
        if op in ("<", "<=", ">", ">=") and kind not in ("number", "date"):
            raise ConditionError(
                f"{op} compares numbers or dates; {ref.name} is {kind}",
                literal.position,
                text,
            )
        if ref.name == "type" and literal.value not in DEAL_TYPES:
            raise ConditionError(
                f'type is one of {", ".join(DEAL_TYPES)}, not "{literal.value}"',
                literal.position,
                text,
            )

    def walk(n: Node) -> None:
        if isinstance(n, Compare):
            check_literal(n.field, field_type(n.field), n.literal, n.op)
        elif isinstance(n, Membership):
            kind = field_type(n.field)
            for literal in n.values:
                check_literal(n.field, kind, literal, "==")
        elif isinstance(n, Truth):
            kind = field_type(n.field)
            if kind not in ("boolean", DYNAMIC):
                raise ConditionError(
                    f"{n.field.name} is {_a(kind)}; compare it with a value",
                    n.field.position,
                    text,
                )
        elif isinstance(n, Not):
            walk(n.operand)
        elif isinstance(n, And | Or):
            for item in n.operands:
                walk(item)

    walk(node)


def _a(kind: str) -> str:
    return {
        "text": "text",
        "number": "a number",
        "date": "a date",
        "boolean": "a boolean",
    }.get(kind, kind)


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


# ---------------------------------------------------------------- compiler

Predicate = Callable[[Any], bool]

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


def _convert(kind: str) -> Callable[[Any], Any]:
    """Reader of a custom value (text) as ``kind``; unreadable or empty → None (null)."""
    if kind == "number":

        def to_number(value: Any) -> Any:
            if value is None or value == "":
                return None
            if isinstance(value, Decimal | int):
                return value
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                return None
            return number if number.is_finite() else None

        return to_number
    if kind == "date":

        def to_date(value: Any) -> Any:
            if isinstance(value, date):
                return value
            try:
                return date.fromisoformat(str(value).strip())
            except ValueError:
                return None

        return to_date
    if kind == "boolean":

        def to_bool(value: Any) -> Any:
            if isinstance(value, bool):
                return value
            return _TRUE_WORDS.get(str(value).strip().lower()) if value is not None else None

        return to_bool

    def to_text(value: Any) -> Any:
        return None if value is None or value == "" else str(value)

    return to_text


def _getter(name: str, types: Mapping[str, str], literal_kind: str) -> Callable[[Any], Any]:
    """A function deal → the field's value as ``literal_kind`` (or None for null)."""
    if name in BUILTIN_FIELDS:
        attr = operator.attrgetter(name)
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
        get = _getter(node.field.name, types, node.literal.kind)
        value = node.literal.value
        op = COMPARE_OPS[node.op]
        if node.op == "!=":
            return lambda deal: (v := get(deal)) is None or v != value
        return lambda deal: (v := get(deal)) is not None and op(v, value)
    if isinstance(node, Membership):
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


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda deal: a(deal) and b(deal)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda deal: a(deal) or b(deal)


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed, validated and compiled ``when``."""

    text: str
    ast: Node
    test: Predicate
    fields: tuple[str, ...]

    def __call__(self, deal: Any) -> bool:
        return self.test(deal)


def compile_text(text: str, custom_fields: Mapping[str, str] | Iterable[str] | None = None) -> Condition:
    """Parse, validate and compile a condition. Raises ``ConditionError`` with a position."""
    types = field_types(custom_fields)
    node = parse(text)
    validate(node, types, text)
    fields = fields_of(node)
    return Condition(text, node, _memoized(compile_condition(node, types), fields), fields)


#: Built-in fields with few distinct values: a condition over only these is evaluated
#: once per distinct combination (a pure function of them), then looked up.
_FEW_VALUES = frozenset({"type", "product", "currency", "term_months", "source_campaign"})


def _memoized(test: Predicate, fields: tuple[str, ...]) -> Predicate:
    if not fields or not _FEW_VALUES.issuperset(fields):
        return test
    key_of = operator.attrgetter(*fields)
    memo: dict[Any, bool] = {}

    def lookup(deal: Any) -> bool:
        key = key_of(deal)
        result = memo.get(key)
        if result is None:
            if len(memo) >= 4096:
                memo.clear()
            result = memo[key] = test(deal)
        return result

    return lookup
