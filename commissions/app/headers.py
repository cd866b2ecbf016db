"""Security headers on every response, and the Host check (Litestar has no middleware for the headers).

The headers are set by a ``before_send`` hook of the app, which sees every response:
error pages, 404/405 for unknown paths (which no route middleware sees), the sign-in
page, static files and the API. The Host check is a middleware in front of every route.

- ``Content-Security-Policy``: scripts, styles, connections and forms only from this
  site, no inline script or style, no ``eval`` (htmx needs none of them: its inline
  indicator styles are switched off), no framing (``frame-ancestors 'none'``).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``X-Frame-Options: DENY`` (older browsers), a ``Permissions-Policy`` that turns off
  device APIs, ``Cross-Origin-Opener-Policy: same-origin``.
- ``Cache-Control: no-store`` on everything except static files (unless the response
  set its own): pages and API answers carry pay data and must not sit in a shared or
  browser cache.
- ``Strict-Transport-Security`` outside development (browsers ignore it over plain
  HTTP, so it takes effect once the site is served over TLS).
- Requests for a host outside ``ALLOWED_HOSTS`` get a 400 (no Host-header poisoning of
  absolute links or redirects); the port is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from commissions.core.csp import CSP

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
CACHEABLE_PREFIXES = ("/static/", "/leaderboard/static/")  # files without data: browsers may keep them


# A Host header is a name (letters, digits, dots, dashes) or a bracketed IPv6 address, then an optional
# numeric port (RFC 9110 7.2, RFC 3986 3.2.2): anything else (``localhost:80@evil.com``, spaces,
# userinfo, a path) is refused before it is compared with ALLOWED_HOSTS.
_HOST = re.compile(
    r"(?P<name>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?|\[[0-9a-f:.]+\])"
    r"(?::[0-9]{1,5})?",
    re.IGNORECASE,
)


def host_allowed(host: str, allowed: list[str]) -> bool:
    """``host`` (from the Host header, port ignored) against names, ``*.example.com`` or ``*``.
    A header that is not strictly ``name[:port]`` is refused whatever the allowed list says."""
    match = _HOST.fullmatch(host)
    if match is None:
        return False
    name = match.group("name").lower().rstrip(".")
    if not name:
        return False
    for pattern in allowed:
        pattern = pattern.strip().lower()
        if pattern == "*" or pattern == name or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


def _raw(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


def security_headers(*, hsts: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """The ``before_send`` hook that adds the headers to every response start (each unless the
    response set it already). Pre-encoded and appended in one pass: it runs on every response."""
    always = _raw(
        [
            ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("X-Frame-Options", "DENY"),
            ("Permissions-Policy", PERMISSIONS_POLICY),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            *([("Strict-Transport-Security", "max-age=31536000; includeSubDomains")] if hsts else []),
        ]
    )
    no_store = _raw([("Cache-Control", "no-store")])

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = message.setdefault("headers", [])
        if not isinstance(headers, list):
            headers = message["headers"] = list(headers)
        present = {name.lower() for name, _ in headers}
        wanted = always if scope.get("path", "").startswith(CACHEABLE_PREFIXES) else always + no_store
        headers.extend(pair for pair in wanted if pair[0] not in present)

    return add_headers


class AllowedHostsMiddleware(ASGIMiddleware):
    """A request for a host outside ALLOWED_HOSTS gets a plain 400 (Litestar's own compares the port too)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, *, allowed_hosts: list[str] | None = None) -> None:
        self.allowed_hosts = allowed_hosts or ["*"]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
        if not host_allowed(host, self.allowed_hosts):
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": b"Invalid host header", "more_body": False})
            return
        await next_app(scope, receive, send)
