"""The language of each request (docs/translating.md): chosen once, after the caller is known.

A signed-in person's own setting wins (their account page), else the browser's ``Accept-Language``, else
English. The API and SCIM answer in neutral English whatever the caller asks: their fields are data,
not interface text.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from commissions.core import i18n

NEUTRAL_PREFIXES = ("/api/", "/scim/")


def _accept_language(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"accept-language":
            return value.decode("latin-1")[:500]
    return None


def locale_for(scope: Scope) -> str:
    if scope["path"].startswith(NEUTRAL_PREFIXES):
        return i18n.DEFAULT_LOCALE
    user = scope.get("user")
    return i18n.choose_locale(getattr(user, "locale", None), _accept_language(scope))


class LocaleMiddleware(ASGIMiddleware):
    """Sets ``core.i18n``'s locale for the request (runs after ``AuthenticationMiddleware``)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        with i18n.using_locale(locale_for(scope)):
            await next_app(scope, receive, send)
