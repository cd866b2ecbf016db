"""Limits every request passes before a handler decodes it (docs/security.md, "Input limits").

- **Body size**: the route's ``request_max_body_size`` (the app's default unless a handler sets
  its own, e.g. the CSV imports), enforced while the body is read: 413.
- **JSON nesting**: a body that is a JSON array or object may nest at most ``MAX_JSON_DEPTH``
  levels. Decoders recurse (msgspec raises ``RecursionError`` near 1,000 levels, which was a
  500); no request of this app nests more than a few levels: 400 naming the limit. Checked on
  every body that starts with ``[`` or ``{`` whatever its content type, since Litestar decodes
  a JSON ``data`` parameter whatever the header says. Form and multipart bodies are left to
  Litestar (they do not nest; a plan document in a form field is checked by the plan loader).
- **Odd paths**: a path with a NUL or control character, or a segment longer than any file
  name, is a 404 (the static file router would ask the operating system and fail with a 500).

The body is read once here through Litestar's own ``Request.body()``, which keeps it for the
handler, so nothing is read twice.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, NotFoundException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

MAX_JSON_DEPTH = 64
DEFAULT_MAX_BODY_BYTES = 2_000_000  # the app's request_max_body_size: 5,000 quotas in one PUT are ~0.7 MB
MAX_SEGMENT = 255  # longer than any file name
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_ODD = re.compile(r"[\x00-\x1f\x7f]")


def nests_deeper_than(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than ``limit`` (brackets in strings do not count)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:  # the usual case: no need to walk them
        return False
    return any(depth > limit for depth in accumulate(_STEP[b] for b in brackets))


def odd_path(path: str) -> bool:
    return bool(_ODD.search(path)) or any(len(part) > MAX_SEGMENT for part in path.split("/"))


class RequestLimitsMiddleware(ASGIMiddleware):
    """Body size and JSON nesting limits, and a 404 for paths no file or route can have."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if odd_path(scope.get("path", "")):
            raise NotFoundException()
        if scope.get("method") in _BODY_METHODS:
            request: Request[Any, Any, Any] = Request(scope, receive, send)
            content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if content_type not in _FORMS:
                body = await request.body()  # 413 beyond the route's limit; kept for the handler
                start = body.lstrip()[:1]
                if start in (b"[", b"{") and nests_deeper_than(body):
                    raise ClientException(
                        f"the JSON body nests more than {MAX_JSON_DEPTH} levels deep (arrays and objects "
                        "inside each other): no request needs that many",
                        extra={"field": "body"},
                    )
        await next_app(scope, receive, send)
