"""What the integration routes share (api.md "Integration resources"): reading a ``PUT``'s items so
that every problem names its item, and the id-keyed paging of their ``GET`` lists.

Litestar validates a typed body before the handler runs and reports a bad key without the
item's index. The integration ``PUT``s take the list as plain objects instead
(``items_body`` still documents the item model and examples in the OpenAPI document) and
validate each item here: an unknown key, a missing field or a value of the wrong type
refuses the whole request with the ``UpsertRefused`` report (index, field, message).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from litestar.params import Body, BodyKwarg
from pydantic import BaseModel, ValidationError

from commissions.core.errors import InputProblem
from commissions.core.paging import BadCursor, id_cursor, next_link, read_id_cursor
from commissions.core.upserts import ItemProblem, UpsertRefused, check_size

M = TypeVar("M", bound=BaseModel)


def items_body(model: type[BaseModel], *, description: str, example: list[dict[str, Any]]) -> BodyKwarg:
    """The OpenAPI description of a list of ``model`` items (with an example request)."""
    body: BodyKwarg = Body(
        description=description,
        schema_extra={"items": model.model_json_schema(), "examples": [example]},
    )
    return body


def _message(error: Any, model: type[BaseModel]) -> str:
    if error["type"] == "extra_forbidden":
        names = (field.alias or name for name, field in model.model_fields.items())  # "from", not from_
        return f"unknown field {error['loc'][-1]!r}: expected {', '.join(names)}"
    if error["type"] == "missing":
        return "is required"
    if error["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return "each item is a JSON object"
    return str(error["msg"])


def validate_items(model: type[M], raw: Sequence[Any]) -> tuple[list[M | None], list[ItemProblem]]:
    """Each raw item validated as ``model`` (None where it is not one), with the problems by index and field: a
    service adds its own problems to these, so that one refusal lists every problem at once."""
    items: list[M | None] = []
    problems: list[ItemProblem] = []
    for index, item in enumerate(raw):
        try:
            items.append(model.model_validate(item))
        except ValidationError as exc:
            items.append(None)
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]) or "item"
                problems.append(ItemProblem(index, field, _message(error, model)))
    return items, problems


def read_items(model: type[M], raw: object) -> list[M]:
    """Each raw item validated as ``model``; ``UpsertRefused`` naming the index and field of every problem."""
    if not isinstance(raw, list):
        raise UpsertRefused([ItemProblem(0, "body", "send a JSON list of items")], "the body must be a JSON list")
    check_size(raw)
    items, problems = validate_items(model, raw)
    if problems:
        raise UpsertRefused(problems)
    return [item for item in items if item is not None]


def after_id(tag: str, cursor: str | None) -> int | None:
    """The row id a list's ``cursor`` points after (None: the first page); 400 naming ``cursor`` otherwise."""
    if not cursor:
        return None
    try:
        return read_id_cursor(tag, cursor)
    except BadCursor as exc:
        raise InputProblem("cursor", str(exc)) from exc


def next_page(tag: str, path: str, limit: int, ids: list[int]) -> tuple[str | None, dict[str, str]]:
    """The ``next_cursor`` and the ``Link`` / ``X-Next-Cursor`` headers of a page read with ``limit + 1`` rows
    (``ids``: the ids of the rows read, the extra one included); none on the last page."""
    if len(ids) <= limit:
        return None, {}
    cursor = id_cursor(tag, ids[limit - 1])
    return cursor, {"Link": next_link(path, {"limit": str(limit)}, cursor), "X-Next-Cursor": cursor}
