"""The Content-Security-Policy every page gets (commissions/app/headers.py adds it), and the one exception:
the sign-in page's forms may lead to the single sign-on providers.

A "Sign in with …" form posts to this site, which redirects the browser to the provider's authorization
endpoint; browsers check ``form-action`` against every redirect of a form submission, so that page's
policy names the providers' origins as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

# htmx needs no inline script or eval; the only inline style is none: keep the policy strict.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL; None for anything else (never a wildcard)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or any(c in url for c in " ;,'\""):
        return None
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def csp_with_form_targets(urls: Iterable[str]) -> str:
    """The policy, with ``form-action`` also allowing the origins of ``urls``."""
    origins = sorted({o for o in (origin(u) for u in urls) if o})
    if not origins:
        return CSP
    return CSP.replace("form-action 'self'", "form-action 'self' " + " ".join(origins))
