"""The ``commissions calc --json`` document of a ``Result`` (cli.md): as a dict, or as text
streamed in chunks, byte-identical to ``json.dumps(..., indent=2, ensure_ascii=False)``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from commissions.engine.inputs import COUNT_METRICS
from commissions.engine.lines import rounded_attainment
from commissions.engine.money import format_amount, minor_digits

if TYPE_CHECKING:  # the result module re-exports these writers
    from commissions.engine.result import Payee, Result


def _payee_head(payee: Payee, digits: int, measure_digits: int) -> dict[str, Any]:
    def measure(value: Decimal | None) -> str | None:
        return None if value is None else format_amount(value, measure_digits)

    head: dict[str, Any] = {
        "person": payee.person,
        "credited": measure(payee.credited),
        "quota": measure(payee.quota),
        "attainment": rounded_attainment(payee.attainment),
    }
    if not payee.errors:
        assert payee.total is not None
        head["total"] = format_amount(payee.total, digits)
    return head


def _payee_tail(payee: Payee, digits: int) -> dict[str, Any]:
    tail: dict[str, Any] = {"errors": list(payee.errors)}
    if payee.draw_balance_out is not None:
        tail["draw_balance"] = {
            "in": format_amount(payee.draw_balance_in or Decimal(0), digits),
            "out": format_amount(payee.draw_balance_out, digits),
        }
    return tail


def result_to_json_dict(result: Result, *, digits: int | None = None) -> dict[str, Any]:
    """The ``commissions calc --json`` document (cli.md): money with the currency's minor
    digits, attainment with 4 decimals, counts with 2 under ``quota: deals``. A payee
    with errors has ``errors``, null attainment, an empty ``components`` list and no
    ``total`` key."""
    digits = minor_digits(result.currency) if digits is None else digits
    measure_digits = 2 if result.metric in COUNT_METRICS else digits
    payees = []
    for payee in result.payees:
        entry = _payee_head(payee, digits, measure_digits)
        entry["components"] = [
            {
                "name": component.name,
                "amount": format_amount(component.amount, digits),
                "lines": [
                    {
                        "deal": line.deal_id,
                        "amount": format_amount(line.amount, digits),
                        "text": line.text,
                    }
                    for line in component.lines
                ],
            }
            for component in payee.components
        ]
        entry.update(_payee_tail(payee, digits))
        payees.append(entry)
    return {
        "period": result.period.key,
        "plan": result.plan,
        "currency": result.currency,
        "payees": payees,
    }


def _encode(value: object, level: int) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` for the small parts, at ``level``."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = "\n" + "  " * (level + 1)
        items = ",".join(f"{pad}{_string(k)}: {_encode(v, level + 1)}" for k, v in value.items())
        return "{" + items + "\n" + "  " * level + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        pad = "\n" + "  " * (level + 1)
        return "[" + ",".join(pad + _encode(v, level + 1) for v in value) + "\n" + "  " * level + "]"
    return json.dumps(value, ensure_ascii=False)


_string = json.encoder.encode_basestring
#: The characters json.dumps(ensure_ascii=False) escapes in a string (json.encoder.ESCAPE), as UTF-8
#: bytes: without one, the JSON string is the text between quotes.
_ESCAPED = bytes(range(0x20)) + b'"\\'


def _plain(texts: list[str]) -> bool:
    """True when no text of ``texts`` has a character JSON escapes. One C-level pass over their UTF-8
    bytes (``bytes.translate`` deleting those characters; a regular expression's search took about
    5× longer, 330 ns a line): in UTF-8 every byte of a character above U+007F is above 0x7F, so the
    escaped characters are exactly the bytes deleted."""
    data = "".join(texts).encode("utf-8", "surrogatepass")
    return len(data.translate(None, _ESCAPED)) == len(data)


def iter_result_json(result: Result) -> Iterator[str]:
    """The JSON text of ``result_to_json_dict(result)`` exactly as ``json.dumps(...,
    indent=2, ensure_ascii=False)`` writes it, in chunks, without building the document:
    a million lines stream out in constant extra memory."""
    digits = minor_digits(result.currency)
    measure_digits = 2 if result.metric in COUNT_METRICS else digits
    yield (
        "{\n"
        f'  "period": {_string(result.period.key)},\n'
        f'  "plan": {_string(result.plan)},\n'
        f'  "currency": {_string(result.currency)},\n'
        '  "payees": ['
    )
    if not result.payees:
        yield "]\n}"
        return
    for p, payee in enumerate(result.payees):
        head = _encode(_payee_head(payee, digits, measure_digits), 2)
        yield (("," if p else "") + "\n    " + head[:-6] + ',\n      "components": ')  # head ends with "\n    }"
        if not payee.components:
            yield "[]"
        for c, component in enumerate(payee.components):
            yield (
                ("[" if c == 0 else ",")
                + "\n        {\n"
                + f'          "name": {_string(component.name)},\n'
                + f'          "amount": "{format_amount(component.amount, digits)}",\n'
                + '          "lines": '
            )
            opening = "["
            for ids, amounts, texts in component.line_columns():  # a few thousand lines at a time, not kept
                if not texts:
                    continue
                if None not in ids and _plain(cast(list[str], ids)) and _plain(texts):
                    # nothing to escape in the chunk (the common case): each string between quotes as it is
                    yield opening + ",".join(
                        [
                            f'\n            {{\n              "deal": "{deal}",\n              "amount": "{amount}",\n'
                            f'              "text": "{text}"\n            }}'
                            for deal, amount, text in zip(ids, amounts, texts, strict=True)
                        ]
                    )
                else:
                    deals = ["null" if deal_id is None else _string(deal_id) for deal_id in ids]
                    yield opening + ",".join(
                        [
                            f'\n            {{\n              "deal": {deal},\n              "amount": "{amount}",\n'
                            f'              "text": {text}\n            }}'
                            for deal, amount, text in zip(deals, amounts, map(_string, texts), strict=True)
                        ]
                    )
                opening = ","
            yield "[]" if opening == "[" else "\n          ]"
            yield "\n        }"
            if c == len(payee.components) - 1:
                yield "\n      ]"
        tail = _encode(_payee_tail(payee, digits), 2)
        yield ("," + tail[1:-6] + "\n    }")  # the tail's items, then the payee's closing brace
    yield "\n  ]\n}"


def result_to_json(result: Result) -> str:
    """The JSON text (with a final newline), byte-identical for identical inputs."""
    return "".join(iter_result_json(result)) + "\n"
