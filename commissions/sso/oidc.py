"""The OpenID Connect relying party: discovery, the authorization-code request with PKCE (S256), the code
exchange, and the ID token's checks. No database, no web framework: commissions/sso/pages.py drives it.

Built on Authlib's protocol pieces (authorization URL, PKCE challenge, random tokens, discovery metadata
checks) and joserfc, Authlib's JOSE library, for the signature and claims of the ID token. Authlib's own
HTTP clients are not used: its httpx integration is deprecated in favour of a package not installed here,
and the three requests (discovery, JWKS, token) are plain httpx calls with a timeout.

ID token checks (OpenID Connect Core 3.1.3.7): signed by a key of the provider's JWKS with an asymmetric
algorithm the provider advertises (never ``none`` or HMAC); ``iss`` equals the configured issuer; ``aud``
contains the client id (and ``azp``, when present with several audiences, is the client id); ``exp`` in the
future and ``iat`` not in the future, with ``LEEWAY_SECONDS`` of clock skew; ``nonce`` equals the one this
browser's session sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

HTTP_TIMEOUT_SECONDS = 10.0
LEEWAY_SECONDS = 60
METADATA_CACHE_SECONDS = 300
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class OidcError(Exception):
    """Why a provider or a sign-in is refused, in words an admin can act on."""


def clock() -> float:
    """The time in epoch seconds (a function so tests can move it)."""
    return time.time()


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise OidcError(f"{url} did not answer ({exc.__class__.__name__})") from None
    if response.status_code != 200:
        raise OidcError(f"{url} answered {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise OidcError(f"{url} did not answer JSON") from None
    if not isinstance(data, dict):
        raise OidcError(f"{url} did not answer a JSON object")
    return data


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def discover(issuer: str) -> dict[str, Any]:
    """The provider's metadata, checked: it answers, names this very issuer, and has the endpoints and
    the code flow a sign-in needs. Raises ``OidcError`` saying what is wrong."""
    url = discovery_url(issuer)
    data = _get_json(url)
    if data.get("issuer") != issuer:
        raise OidcError(
            f"the issuer at {url} calls itself {data.get('issuer')!r}, not {issuer!r}: use exactly that issuer"
        )
    try:
        OpenIDProviderMetadata(data).validate()
    except Exception as exc:  # Authlib raises ValueError or its own errors, naming the field
        raise OidcError(f"the metadata at {url} is not valid OpenID Connect discovery: {exc}") from None
    if "code" not in data.get("response_types_supported", []):
        raise OidcError(f"the provider at {issuer} does not offer the authorization-code flow")
    if "token_endpoint" not in data:
        raise OidcError(f"the metadata at {url} names no token_endpoint")
    return data


_METADATA: dict[str, tuple[float, dict[str, Any]]] = {}
_JWKS: dict[str, tuple[float, KeySet]] = {}


def metadata(issuer: str) -> dict[str, Any]:
    """``discover``, remembered for a few minutes per process."""
    seen = _METADATA.get(issuer)
    if seen is not None and time.monotonic() - seen[0] < METADATA_CACHE_SECONDS:
        return seen[1]
    data = discover(issuer)
    _METADATA[issuer] = (time.monotonic(), data)
    return data


def _key_set(jwks_uri: str, *, fresh: bool = False) -> KeySet:
    seen = _JWKS.get(jwks_uri)
    if seen is not None and not fresh and time.monotonic() - seen[0] < METADATA_CACHE_SECONDS:
        return seen[1]
    try:
        keys = KeySet.import_key_set(_get_json(jwks_uri))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise OidcError(f"the provider's keys at {jwks_uri} are unreadable: {exc}") from None
    _JWKS[jwks_uri] = (time.monotonic(), keys)
    return keys


def forget() -> None:
    """Drop the remembered metadata and keys (tests; a provider that changed its issuer)."""
    _METADATA.clear()
    _JWKS.clear()


@dataclass(frozen=True)
class Pending:
    """What the browser's session keeps between the redirect to the provider and the callback."""

    state: str
    nonce: str
    verifier: str


def start(meta: dict[str, Any], *, client_id: str, redirect_uri: str, scopes: str) -> tuple[str, Pending]:
    """The provider's authorization URL (code flow, PKCE S256, state, nonce) and what to keep."""
    pending = Pending(state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64))
    url = prepare_grant_uri(
        meta["authorization_endpoint"],
        client_id,
        "code",
        redirect_uri=redirect_uri,
        scope=scopes,
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.verifier),
        code_challenge_method="S256",
    )
    return url, pending


def exchange(
    meta: dict[str, Any], *, client_id: str, client_secret: str, code: str, redirect_uri: str, verifier: str
) -> dict[str, Any]:
    """Redeem the code at the token endpoint (client_secret_basic, or _post when that is all the provider
    offers) with the PKCE verifier; the token response."""
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    auth: tuple[str, str] | None = (client_id, client_secret)
    if "client_secret_basic" not in methods and "client_secret_post" in methods:
        form |= {"client_id": client_id, "client_secret": client_secret}
        auth = None
    try:
        response = httpx.post(
            meta["token_endpoint"], data=form, auth=auth, timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        raise OidcError(f"the provider's token endpoint did not answer ({exc.__class__.__name__})") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or "id_token" not in body:
        reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        raise OidcError(f"the provider refused the sign-in code ({reason or response.status_code})")
    return body


def validate_id_token(meta: dict[str, Any], id_token: str, *, client_id: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature and claims pass every check; ``OidcError`` otherwise."""
    allowed = [a for a in meta.get("id_token_signing_alg_values_supported", ["RS256"]) if a in ASYMMETRIC]
    if not allowed:
        raise OidcError("the provider signs ID tokens with no asymmetric algorithm Quotaboard accepts")
    try:
        try:
            token = jwt.decode(id_token, _key_set(meta["jwks_uri"]), algorithms=allowed)
        except (JoseError, ValueError) as first:
            if "key" not in str(first).lower():
                raise
            token = jwt.decode(id_token, _key_set(meta["jwks_uri"], fresh=True), algorithms=allowed)  # rotated keys
    except (JoseError, ValueError) as exc:
        raise OidcError(f"the ID token's signature does not verify ({exc})") from None
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        now=lambda: int(clock()),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": meta["issuer"]},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise OidcError(f"the ID token is not valid for this sign-in: {exc.description or exc.error}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcError("the ID token was issued to another client (azp)")
    return claims


def userinfo(meta: dict[str, Any], access_token: str, subject: str) -> dict[str, Any]:
    """The userinfo claims (for providers that leave the email out of the ID token); its ``sub`` must be
    the ID token's."""
    endpoint = meta.get("userinfo_endpoint")
    if not endpoint or not access_token:
        return {}
    try:
        response = httpx.get(
            endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=HTTP_TIMEOUT_SECONDS
        )
        data = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("sub") != subject:
        return {}
    return data


def verified_email(claims: dict[str, Any]) -> str | None:
    """The email the provider vouches for, lower-cased; None unless it says it verified it.

    ``email_verified`` must be true (JSON true, or the string "true" some providers send). Microsoft Entra
    ID sends no ``email_verified``; its optional claim ``xms_edov`` ("email domain owner verified") is
    taken as the same statement (docs/security.md).
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None
    flag = claims.get("email_verified", claims.get("xms_edov"))
    if flag is True or (isinstance(flag, str) and flag.lower() == "true"):
        return email.strip().lower()
    return None
