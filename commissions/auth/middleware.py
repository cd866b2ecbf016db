"""Puts the caller (or None) on every request as ``request.user``.

A bearer token authenticates anywhere. A session cookie authenticates pages, and
API calls only when they are safe (GET/HEAD): state-changing API calls are exempt
from CSRF, so they must carry a token, which a cross-site form cannot.

A session's person is read from the database at most every ``principal_cache_seconds``
(2 s) per process: a live board refetching after every deal must not cost a database
round trip per viewer. Once half that time has passed the next request re-reads it in the
background (refresh-ahead), and concurrent misses share one read: under load the memory
never runs out for a hundred requests at once. Deactivation, a new password or sign-out
in this process apply at once (``forget_person``); in another process within those seconds.

A bearer token is remembered the same way (by its hash, never the token): a CRM posting a
hundred deals a second paid a token lookup per request, as much as writing the deal.
Revoking a token in this process applies at once (``forget_tokens``); in another within the
same seconds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from anyio import to_thread
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Empty, Receive, Scope, Send
from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from commissions.auth import sessions as session_store
from commissions.auth.sessions import END_REASON_KEY, ISSUED_KEY, scope_extras
from commissions.auth.tokens import digest, principal_for_token
from commissions.core.db import transaction
from commissions.core.principal import Principal
from commissions.core.single_flight import SingleFlight
from commissions.models import ApiToken, Person
from commissions.models.base import utcnow

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            return credential.strip() if scheme.lower() == "bearer" else ""
    return None


def principal_for_session(session: Session, data: dict[str, Any]) -> Principal | None:
    person_id, version = data.get("pid"), data.get("sv")
    if not isinstance(person_id, int):
        return None
    person = session.get(Person, person_id)
    if person is None or not person.active or person.session_version != version:
        return None
    return Principal(role=person.role, person_id=person.id, email=person.email, name=person.name, locale=person.locale)


# (the session's person id, its session version) → (read at, the principal or None)
_principals: dict[tuple[object, object], tuple[float, Principal | None]] = {}
_principals_lock = threading.Lock()
_clock = time.monotonic  # tests move it
_forgotten = 0  # bumped by forget_person: a read that began before it must not be remembered
_MAX_CACHED_PRINCIPALS = 10_000
_READS = SingleFlight()  # one database read per session key at a time, however many requests miss


def forget_person(person_id: int) -> None:
    """Their sessions are re-checked on the next request (called when a person is deactivated or re-keyed)."""
    global _forgotten
    with _principals_lock:
        _forgotten += 1
        for key in [k for k in _principals if k[0] == person_id]:
            del _principals[key]
        for hashed in [h for h, (_, p) in _tokens.items() if p is not None and p.person_id == person_id]:
            del _tokens[hashed]


def forget_tokens() -> None:
    """Every remembered token is read again on its next request (called when a token is revoked)."""
    global _forgotten
    with _principals_lock:
        _forgotten += 1
        _tokens.clear()


_tokens: dict[str, tuple[float, Principal | None]] = {}  # token hash → (read at, the principal or None)


def _cached_token(hashed: str, ttl: float) -> tuple[bool, Principal | None]:
    if ttl <= 0:
        return False, None
    with _principals_lock:
        hit = _tokens.get(hashed)
    if hit is None or _clock() - hit[0] >= ttl:
        return False, None
    return True, hit[1]


def _remember_token(hashed: str, principal: Principal | None, read_at: float, generation: int) -> None:
    with _principals_lock:
        if generation != _forgotten:
            return
        if len(_tokens) >= _MAX_CACHED_PRINCIPALS:
            _tokens.clear()
        _tokens[hashed] = (read_at, principal)


async def _token_principal(engine: Engine, bearer: str, ttl: float) -> Principal | None:
    hashed = digest(bearer)
    known, principal = _cached_token(hashed, ttl)
    if known:
        return principal
    if ttl <= 0:
        return await to_thread.run_sync(_from_token, engine, bearer)

    async def read() -> Principal | None:
        read_at, generation = _clock(), _forgotten
        found = await to_thread.run_sync(_from_token, engine, bearer)
        _remember_token(hashed, found, read_at, generation)
        return found

    # a hundred requests of one CRM missing at once make one read (a forget in between starts another)
    return await _READS.run(("token", hashed, _forgotten), read)


def _cached_principal(key: tuple[object, object], ttl: float) -> tuple[str, Principal | None]:
    """("fresh", p) if read in the last half of ``ttl``; ("due", p) if older but within ``ttl``
    (use it and re-read in the background, so that under load it never runs out); ("miss", None)."""
    if ttl <= 0 or not isinstance(key[0], int):
        return "miss", None
    with _principals_lock:
        hit = _principals.get(key)
    if hit is None:
        return "miss", None
    age = _clock() - hit[0]
    if age >= ttl:
        return "miss", None
    return ("fresh" if age < ttl / 2 else "due"), hit[1]


def _remember_principal(
    key: tuple[object, object], principal: Principal | None, read_at: float, generation: int
) -> None:
    if not isinstance(key[0], int):
        return
    with _principals_lock:
        if generation != _forgotten:
            return
        if len(_principals) >= _MAX_CACHED_PRINCIPALS:
            _principals.clear()
        _principals[key] = (read_at, principal)


async def _read_principal(engine: Engine, key: tuple[object, object], data: dict[str, Any]) -> Principal | None:
    read_at, generation = _clock(), _forgotten
    principal = await to_thread.run_sync(_from_session, engine, data)
    _remember_principal(key, principal, read_at, generation)
    return principal


class AuthenticationMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        engine: Engine = scope["app"].state["engine"]
        bearer = _bearer(scope)
        principal: Principal | None = None
        if bearer:
            principal = await _token_principal(engine, bearer, scope["app"].state["settings"].principal_cache_seconds)
        elif bearer is None:
            session_data = scope.get("session")
            is_api = scope["path"].startswith(("/api/", "/scim/"))
            # the server-side backend's session is a dict (empty when anonymous)
            if (
                isinstance(session_data, dict)
                and session_data
                and (not is_api or scope.get("method", "GET") in SAFE_METHODS)
            ):
                data = dict(session_data)
                settings = scope["app"].state["settings"]
                issued = data.get(ISSUED_KEY)
                if not isinstance(issued, int) or session_store.clock() - issued >= settings.session_absolute_seconds:
                    principal = None  # signed in too long ago (or before the absolute timeout existed)
                    scope_extras(scope)[END_REASON_KEY] = "expired"
                else:
                    key = (data.get("pid"), data.get("sv"))
                    state, principal = _cached_principal(key, settings.principal_cache_seconds)
                    # a read in flight from before a forget_person is not shared with requests after it
                    flight = (key, _forgotten)
                    if state == "miss":
                        principal = await _READS.run(flight, lambda: _read_principal(engine, key, data))
                    elif state == "due":
                        _READS.refresh(flight, lambda: _read_principal(engine, key, data))
                    if principal is None:
                        scope_extras(scope)[END_REASON_KEY] = "ended"
                if principal is None and "pid" in data:
                    scope["session"] = Empty  # a dead session is deleted from the store, its cookie cleared
        scope["user"] = principal
        await next_app(scope, receive, send)


def _from_session(engine: Engine, data: dict[str, Any]) -> Principal | None:
    with Session(engine) as session:
        return principal_for_session(session, data)


def _from_token(engine: Engine, clear: str) -> Principal | None:
    with Session(engine) as session:
        principal = principal_for_token(session, clear)
        if principal is None or principal.token_id is None:
            return principal
        token = session.get(ApiToken, principal.token_id)
        if token is None:  # deleted since principal_for_token read it (same request): it no longer authenticates
            return None
        last = token.last_used_at
    now = utcnow()
    # Record use at most once a minute, best effort, in its own short write: API reads stay reads.
    if last is None or (now - last.replace(tzinfo=now.tzinfo)).total_seconds() > 60:
        try:
            with transaction(engine) as session:
                session.execute(update(ApiToken).where(col(ApiToken.id) == principal.token_id).values(last_used_at=now))
        except OperationalError:  # the database is busy: the timestamp can wait for the next call
            pass
    return principal
