"""A secret shown once, on the page a form redirects to (Post/Redirect/Get).

A form that creates an API token or a webhook answers with a redirect, so that reloading the page shows it
again instead of posting the form a second time (which created a second token with a second secret). The
secret waits in the server-side session, never in a URL, and the page that shows it takes it out: a reload
after that shows it no more.
"""

from __future__ import annotations

from typing import Any

from litestar import Request


def keep_for_next_page(request: Request[Any, Any, Any], key: str, value: dict[str, str]) -> None:
    request.session[key] = value


def take(request: Request[Any, Any, Any], key: str) -> dict[str, str] | None:
    """What ``keep_for_next_page`` kept under ``key``, once (None after, or without a session)."""
    if not request.session:
        return None
    value = request.session.pop(key, None)
    return value if isinstance(value, dict) else None
