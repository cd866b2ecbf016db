"""What the integration routes share (api.md "Integration resources"): reading a ``PUT``'s items so
that every problem names its item, and the id-keyed paging of their ``GET`` lists.

Litestar validates a typed body before the handler runs and reports a bad key without the
item's index. The integration ``PUT``s take the list as plain objects instead
(``items_body`` still documents the item model and examples in the OpenAPI document) and
validate each item here: an unknown key, a missing field or a value of the wrong type
refuses the whole request with the ``UpsertRefused`` report (index, field, message).
"""

from __future__ import annotations

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


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "is not a field of this item: check its spelling"
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"])


def read_items(model: type[M], raw: object) -> list[M]:
    """Each raw item validated as ``model``; ``UpsertRefused`` naming the index and field of every problem."""
    if not isinstance(raw, list):
        raise UpsertRefused([ItemProblem(0, "body", "send a JSON list of items")], "the body must be a JSON list")
    check_size(raw)
    items: list[M] = []
    problems: list[ItemProblem] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.append(ItemProblem(index, "item", "is not a JSON object"))
            continue
        try:
            items.append(model.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]) or "item"
                problems.append(ItemProblem(index, field, _message(error)))
    if problems:
        raise UpsertRefused(problems)
    return items


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
