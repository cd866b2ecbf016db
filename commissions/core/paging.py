"""Keyset paging shared by the lists that hand out a ``cursor`` (the deal list, statement lines).

A cursor is opaque to clients: the sort key of the last row of a page, with a tag naming the list, in
URL-safe base64. Reading one that no page of that list handed out raises ``BadCursor`` (the caller
answers 400 naming ``cursor``).
"""

from __future__ import annotations

from base64 import urlsafe_b64decode, urlsafe_b64encode
from urllib.parse import urlencode

from litestar.datastructures import ResponseHeader

MAX_PAGE = 1000  # rows per page of an API list, at most


class BadCursor(ValueError):
    """A ``cursor`` that no page of the list handed out."""

    def __init__(self) -> None:
        super().__init__("cursor: not one this list handed out; start again without it")


def make_cursor(*parts: str) -> str:
    """An opaque cursor over ``parts`` (none may contain ``|`` except the last)."""
    return urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def cursor_parts(text: str, count: int) -> list[str]:
    """The ``count`` parts of a ``make_cursor`` cursor; ``BadCursor`` when it is not one."""
    try:
        parts = urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().split("|", count - 1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor from exc
    if len(parts) != count:
        raise BadCursor
    return parts


def id_cursor(tag: str, row_id: int) -> str:
    """A cursor for the page after the row ``row_id`` of a list ordered by id, tagged with the list's name."""
    return make_cursor(tag, str(row_id))


def read_id_cursor(tag: str, text: str) -> int:
    """The row id in an ``id_cursor`` of the list ``tag``; ``BadCursor`` for anything else."""
    found, row_id = cursor_parts(text, 2)
    if found != tag or not row_id.isdigit() or len(row_id) > 18:
        raise BadCursor
    return int(row_id)


def next_link(path: str, query: dict[str, str | None], cursor: str) -> str:
    """The ``Link`` header of a page that more follow (RFC 8288): the same query with the next ``cursor``."""
    params = {k: v for k, v in query.items() if v and k != "cursor"} | {"cursor": cursor}
    return f'<{path}?{urlencode(params)}>; rel="next"'


def paging_headers(rows: str) -> list[ResponseHeader]:
    """The OpenAPI description of a paged list's ``Link`` and ``X-Next-Cursor`` headers (``rows``: "lines")."""
    return [
        ResponseHeader(
            name="Link",
            description=f'`<...?cursor=...>; rel="next"` while more {rows} follow (RFC 8288); absent on the '
            "last page and when not paged",
            documentation_only=True,
        ),
        ResponseHeader(
            name="X-Next-Cursor",
            description="the same cursor alone, for ?cursor=; absent on the last page",
            documentation_only=True,
        ),
    ]
