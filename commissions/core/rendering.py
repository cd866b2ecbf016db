"""Page-or-partial rendering: htmx requests get the partial, normal requests the full page.

A page template ``{% include %}``s its partial, so each piece of markup exists once.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

NO_STORE = {"Cache-Control": "no-store"}


def page(template: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> Template:
    return Template(template_name=template, context=context or {}, status_code=status_code, headers=NO_STORE)


def page_or_partial(
    request: Request[Any, Any, Any],
    page_template: str,
    partial_template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Template:
    is_htmx = bool(getattr(request, "htmx", False))
    return page(partial_template if is_htmx else page_template, context, status_code=status_code)
