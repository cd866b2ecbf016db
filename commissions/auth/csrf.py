"""CSRF tokens tied to the session (OWASP's signed double-submit cookie bound to the session).

Litestar's ``CSRFMiddleware`` checks that the token in the form (or ``x-csrftoken``) equals the
``csrftoken`` cookie and carries the app's HMAC; any token it ever minted passes for any session,
so a cookie planted in a victim's browser (from a sibling subdomain, or over plain HTTP before
HSTS) with a token the attacker got from their own visit would let a forged form through.

At every sign-in (and password change) ``bind_new_csrf`` mints a fresh token, stores it in the
server-side session (``CSRF_KEY``) and sets it as the cookie; ``SessionCsrfMiddleware`` then
refuses (403) any state-changing page request of a signed-in session whose cookie is not that
session's token. Litestar's check still runs after it, so the submitted token must equal the
cookie, which must equal the session's. API routes are exempt as before (writes need a bearer
token). A session stored before this existed is bound on its next safe request.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures.cookie import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.middleware.csrf import generate_csrf_token
from litestar.response import Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from commissions.core.guards import Connection

CSRF_KEY = "csrf"  # in the session data: the CSRF token this session accepts
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def _csrf_config(connection: Connection) -> CSRFConfig:
    config = connection.app.csrf_config
    if config is None:
        raise RuntimeError("the app has no CSRF configuration (Litestar's csrf_config): session CSRF tokens need one")
    return config


def new_csrf_token(connection: Connection) -> str:
    return generate_csrf_token(secret=_csrf_config(connection).secret)


def set_csrf_cookie(connection: Connection, response: Response[Any], token: str) -> None:
    """Send ``token`` as the CSRF cookie, with the app's cookie settings."""
    config = _csrf_config(connection)
    response.set_cookie(
        Cookie(
            key=config.cookie_name,
            value=token,
            path=config.cookie_path,
            secure=config.cookie_secure,
            httponly=config.cookie_httponly,
            samesite=config.cookie_samesite,
            domain=config.cookie_domain,
        )
    )


def _cookie(scope: Scope, name: str) -> str | None:
    """The cookie as Litestar's CSRF check reads it (with duplicates, a planted one may win there)."""
    return ASGIConnection(scope).cookies.get(name)


def _resend_cookie(scope: Scope, send: Send, config: CSRFConfig, token: str) -> Send:
    """Make this request read ``token`` as its CSRF cookie (so Litestar renders it into the page and
    mints no other) and send it back as the cookie."""
    cookies = {**ASGIConnection(scope).cookies, config.cookie_name: token}
    header = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode("latin-1")
    scope["headers"] = [(k, v) for k, v in scope.get("headers", ()) if k != b"cookie"] + [(b"cookie", header)]
    ScopeState.from_scope(scope).cookies = cookies
    set_cookie = (
        Cookie(
            key=config.cookie_name,
            value=token,
            path=config.cookie_path,
            secure=config.cookie_secure,
            httponly=config.cookie_httponly,
            samesite=config.cookie_samesite,
            domain=config.cookie_domain,
        )
        .to_header(header="")
        .encode("latin-1")
    )

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), (b"set-cookie", set_cookie)]
        await send(message)

    return wrapped


class SessionCsrfMiddleware(ASGIMiddleware):
    """After the session and authentication middleware: a signed-in session's unsafe page request must
    carry that session's CSRF cookie."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        session = scope.get("session")
        user = scope.get("user")
        config = scope["app"].csrf_config
        if (
            config is not None
            and isinstance(session, dict)
            and "pid" in session
            and user is not None
            and not getattr(user, "via_token", False)
            and not scope["path"].startswith(("/api/", "/scim/"))
        ):
            cookie = _cookie(scope, config.cookie_name)
            bound = session.get(CSRF_KEY)
            if scope.get("method", "GET") in SAFE_METHODS:
                if not isinstance(bound, str) and cookie:
                    session[CSRF_KEY] = cookie  # a session from before the binding: bind it now
                elif isinstance(bound, str) and cookie != bound:
                    # the browser lost the cookie (it lives until the browser closes, the session longer):
                    # this page gets the session's token and the cookie is sent again
                    send = _resend_cookie(scope, send, config, bound)
            elif isinstance(bound, str) and not (cookie and hmac.compare_digest(cookie, bound)):
                raise PermissionDeniedException("CSRF token verification failed: it belongs to another session")
        await next_app(scope, receive, send)
