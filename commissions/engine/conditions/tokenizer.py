"""The ``when`` language's tokens: names, text, numbers, dates, operators, brackets.

Characters that belong to no token are rejected here with the reason a plan author
needs (``use == to compare``, ``arithmetic is not allowed in conditions``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from commissions.engine.errors import ConditionError

TokenValue = str | Decimal | date


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name string number date op ( ) [ ] , end
    value: TokenValue  # "" for the end
    position: int  # 1-based

    @property
    def text(self) -> str:
        """The value of a name, operator or text token."""
        return self.value if isinstance(self.value, str) else str(self.value)


def describe(token: Token) -> str:
    """A token as error messages show it."""
    if token.kind == "end":
        return "end of condition"
    if token.kind == "string":
        return f'"{token.value}"'
    return repr(str(token.value)) if token.kind != "name" else f"{token.value!r}"


_SYMBOL_ERRORS = (
    ("=", "use == to compare"),
    (".", "attribute access is not allowed in conditions"),
    ("+-*/%^", "arithmetic is not allowed in conditions"),
    ("&|!", "write and / or / not"),
)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "\"'":
            i = _read_text(text, i, tokens)
        elif c.isdigit() or (c == "-" and i + 1 < n and text[i + 1].isdigit() and _literal_may_follow(tokens)):
            i = _read_number(text, i, tokens)
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("name", text[i:j], i + 1))
            i = j
        else:
            i = _read_symbol(text, i, tokens)
    tokens.append(Token("end", "", n + 1))
    return tokens


def _read_text(text: str, i: int, tokens: list[Token]) -> int:
    """A quoted text starting at ``i``; returns the index after its closing quote."""
    quote, n = text[i], len(text)
    j = i + 1
    chars: list[str] = []
    while j < n and text[j] != quote:
        if text[j] == "\\" and j + 1 < n:
            j += 1
        chars.append(text[j])
        j += 1
    if j >= n:
        raise ConditionError("unterminated text (missing closing quote)", i + 1, text)
    tokens.append(Token("string", "".join(chars), i + 1))
    return j + 1


def _read_number(text: str, i: int, tokens: list[Token]) -> int:
    """A number (maybe negative) or a date starting at ``i``; returns the index after it."""
    pos, n = i + 1, len(text)
    negative = text[i] == "-"
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
    if j < n and (text[j].isalpha() or text[j] == "_"):
        raise ConditionError(f"unexpected {text[j]!r} after a number", j + 1, text)
    return j


def _read_symbol(text: str, i: int, tokens: list[Token]) -> int:
    """An operator or bracket at ``i``; returns the index after it."""
    c, pos = text[i], i + 1
    two = text[i : i + 2]
    if two in ("==", "!=", "<=", ">="):
        tokens.append(Token("op", two, pos))
        return i + 2
    if c in "<>":
        tokens.append(Token("op", c, pos))
        return i + 1
    if c in "()[],":
        tokens.append(Token(c, c, pos))
        return i + 1
    for characters, message in _SYMBOL_ERRORS:
        if c in characters:
            raise ConditionError(message, pos, text)
    raise ConditionError(f"unexpected character {c!r}", pos, text)


def _literal_may_follow(tokens: list[Token]) -> bool:
    if not tokens:
        return True
    last = tokens[-1]
    return last.kind in ("op", "(", "[", ",") or (last.kind == "name" and last.value in ("and", "or", "not", "in"))
