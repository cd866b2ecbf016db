"""Page-or-partial rendering: htmx requests get the partial, normal requests the full page.

A page template ``{% include %}``s its partial, so each piece of markup exists once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # htmx asking to restore a page from history (Back/Forward, nothing cached) wants the whole page
    restoring = request.headers.get("hx-history-restore-request") == "true"
    is_htmx = bool(getattr(request, "htmx", False)) and not restoring
    return page(partial_template if is_htmx else page_template, context, status_code=status_code)


@dataclass(frozen=True)
class HomeSection:
    """A block an extension adds to the Home page (the ``home_sections`` hook, commissions/app/extensions.py).

    ``template`` is a partial rendered with ``context`` where Home places extension sections,
    ordered by ``order`` (lower first). The hook is a callable
    ``(session, principal, period) -> HomeSection | None`` (None: nothing to show this person).
    """

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 50
