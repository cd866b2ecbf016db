"""The accounts' writes, each a short transaction of its own: sign-in and its throttle, sign-out everywhere,
changing one's password, spending a reset link, issuing one, API tokens.

Argon2 (checking a password, hashing a new one) runs outside any write transaction, between these steps;
the pages call them from a worker thread. The sign-in writes run again when the database was busy
(``retried``: commissions/auth/throttle.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from commissions.accounts.reset_links import (
    RESET_LINK_SECONDS,
    RESET_PATH,
    issue_reset_link,
    person_for_link,
    use_reset_link,
)
from commissions.auth.passwords import verify_password
from commissions.auth.sessions import ISSUED_KEY, clock
from commissions.auth.sign_in_options import password_sign_in_enabled
from commissions.auth.throttle import Refusal, SignInThrottle, retried
from commissions.auth.tokens import TokenError, create_token, revoke_token
from commissions.core import mail
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.principal import Principal
from commissions.models import ApiToken, Person
from commissions.people.queries import person_by_email
from commissions.people.service import end_all_sessions, set_locale, set_password

# ---- sign-in and sign-out -----------------------------------------------------------------------


@retried
def reserve_sign_in(engine: Engine, throttle: SignInThrottle, email: str, ip: str) -> Refusal | None:
    """Count the attempt before its password is checked (one short write); audit a refusal."""
    with transaction(engine) as session:
        refusal, locked = throttle.reserve(email, ip, session=session)
        if locked:
            record_event(
                session, None, "auth.locked_out", "person", "", {"email": email[:254], "by": ",".join(locked)}, ip=ip
            )
        elif refusal is not None:
            record_event(session, None, "auth.sign_in_throttled", "person", "", {"email": email[:254]}, ip=ip)
        return refusal


def check_credentials(engine: Engine, email: str, password: str) -> tuple[Person | None, str | None]:
    """Argon2 outside any write transaction: (the person if the password is right and they are active, a
    new hash if theirs should be upgraded)."""
    with Session(engine, expire_on_commit=False) as session:
        person = person_by_email(session, email)
        if person is not None:
            session.expunge(person)
    ok, new_hash = verify_password(password, person.password_hash if person else None)
    if person is None or not ok or not person.active:
        return None, None
    return person, new_hash


@retried
def record_failed_sign_in(engine: Engine, throttle: SignInThrottle, email: str, ip: str) -> list[str]:
    """Audit a wrong password and count it; returns what it locked (the account, the address), if anything."""
    with transaction(engine) as session:
        person = person_by_email(session, email)
        record_event(
            session, None, "auth.sign_in_failed", "person", person.id if person else "", {"email": email[:254]}, ip=ip
        )
        locked = throttle.failed(session, email, ip)
        if locked:
            record_event(
                session, None, "auth.locked_out", "person", "", {"email": email[:254], "by": ",".join(locked)}, ip=ip
            )
        return locked


@retried
def record_sign_in(
    engine: Engine, throttle: SignInThrottle, person: Person, new_hash: str | None, ip: str
) -> dict[str, Any] | None:
    """The sign-in, in one short write: the hash upgraded, the account's count given back, audited."""
    with transaction(engine) as session:
        row = session.get(Person, person.id)
        if row is None or not row.active or row.password_hash != person.password_hash:
            return None  # deactivated or re-keyed while the password was being checked
        if new_hash:
            row.password_hash = new_hash
            session.add(row)
        throttle.succeeded(session, row.email, ip)
        actor = Principal(role=row.role, person_id=row.id, email=row.email, name=row.name)
        record_event(session, actor, "auth.sign_in", "person", row.id, {}, ip=ip)
        return {"pid": row.id, "sv": row.session_version, ISSUED_KEY: int(clock())}


def end_sessions(engine: Engine, principal: Principal, ip: str, action: str = "auth.sign_out_everywhere") -> None:
    """Every session of the principal's person ends (their session version changes), audited as ``action``."""
    with transaction(engine) as session:
        person = session.get(Person, principal.person_id) if principal.person_id is not None else None
        if person is None:
            return  # no person behind this principal (or it is gone): no session of theirs to end
        end_all_sessions(session, person, by=principal, ip=ip, action=action)


# ---- changing one's own password ----------------------------------------------------------------


@retried
def reserve_password_check(engine: Engine, throttle: SignInThrottle, email: str, ip: str) -> Refusal | None:
    """Checking the current password spends the account's sign-in budget like a sign-in."""
    with transaction(engine) as session:
        return _spend_sign_in_budget(session, throttle, email, ip, where="password change")


def _spend_sign_in_budget(
    session: Session, throttle: SignInThrottle, email: str, ip: str, *, where: str
) -> Refusal | None:
    """What else spends the sign-in budget (a password check, a reset request): one unit, a refusal audited."""
    refusal, locked = throttle.reserve(email, ip, session=session)
    if refusal is not None:
        record_event(
            session,
            None,
            "auth.locked_out" if locked else "auth.sign_in_throttled",
            "person",
            "",
            {"email": email[:254], "by": ",".join(locked), "where": where},
            ip=ip,
        )
    return refusal


def current_hash(engine: Engine, person_id: int | None) -> str | None:
    """The person's password hash, None if they are deactivated (or gone, or there is no person)."""
    if person_id is None:
        return None
    with Session(engine) as session:
        person = session.get(Person, person_id)
        return person.password_hash if person is not None and person.active else None


@retried
def record_wrong_password(engine: Engine, throttle: SignInThrottle, principal: Principal, ip: str) -> list[str]:
    with transaction(engine) as session:
        record_event(session, principal, "auth.password_change_failed", "person", principal.person_id, {}, ip=ip)
        locked = throttle.failed(session, principal.email or "", ip)
        if locked:
            record_event(
                session,
                None,
                "auth.locked_out",
                "person",
                principal.person_id,
                {"email": (principal.email or "")[:254], "by": ",".join(locked)},
                ip=ip,
            )
        return locked


@retried
def store_new_password(
    engine: Engine, throttle: SignInThrottle, principal: Principal, seen_hash: str, new: str, new_hash: str, ip: str
) -> dict[str, Any] | None:
    """Set the password (every session of the person ends) and return this session's new data;
    None if the password changed (or the person was deactivated) while it was being checked."""
    with transaction(engine) as session:
        person = session.get(Person, principal.person_id)
        if person is None or not person.active or person.password_hash != seen_hash:
            return None
        set_password(session, person, new, by=principal, how="own", ip=ip, password_hash=new_hash)
        throttle.succeeded(session, person.email, ip)
        return {"pid": person.id, "sv": person.session_version, ISSUED_KEY: int(clock())}


def store_locale(engine: Engine, principal: Principal, locale: str | None, ip: str) -> None:
    """The person's own interface language (None: follow the browser's Accept-Language), as ``set_locale``
    keeps it; the caller forgets their cached principal afterwards."""
    with transaction(engine) as session:
        person = session.get(Person, principal.person_id)
        if person is not None:
            set_locale(session, person, locale or "", by=principal, ip=ip)


# ---- one-time reset links -----------------------------------------------------------------------


def issue_link(engine: Engine, person_id: int, *, by: Principal, ip: str) -> str | None:
    """A new reset link's token for the person (``issue_reset_link``); None if there is no such person."""
    with transaction(engine) as session:
        person = session.get(Person, person_id)
        if person is None:
            return None
        return issue_reset_link(session, person, by=by, ip=ip)


def reset_by_email_offered(engine: Engine) -> bool:
    """Whether "Forgot password?" can send anything: email is set up and password sign-in is on."""
    if not mail.enabled():
        return False
    with Session(engine) as session:
        return password_sign_in_enabled(session)


@retried
def request_reset_email(engine: Engine, throttle: SignInThrottle, email: str, ip: str) -> Refusal | None:
    """ "Forgot password?": spends a unit of the account's and the address's sign-in budget, then, if the
    email belongs to an active person, password sign-in is on and email is set up, issues a one-time link
    and queues it by email (one transaction). The caller answers the same whatever happened, unless refused."""
    with transaction(engine) as session:
        refusal = _spend_sign_in_budget(session, throttle, email, ip, where="forgot password")
        if refusal is not None:
            return refusal
        person = person_by_email(session, email) if email else None
        if person is None or not person.active or not mail.enabled() or not password_sign_in_enabled(session):
            return None
        me = Principal(role=person.role, person_id=person.id, email=person.email, name=person.name)
        token = issue_reset_link(session, person, by=me, ip=ip)
        context = {
            "name": person.name,
            "url": mail.link(RESET_PATH + token),
            "hours": RESET_LINK_SECONDS // 3600,
        }
        mail.queue_mail(session, "password_reset", to=person.email, context=context, locale=person.locale)
        return None


def link_usable(engine: Engine, token: str) -> bool:
    with Session(engine) as session:
        return person_for_link(session, token) is not None


def use_link(engine: Engine, token: str, new: str, new_hash: str, ip: str) -> None:
    with transaction(engine) as session:
        use_reset_link(session, token, new, password_hash=new_hash, ip=ip)


# ---- API tokens ---------------------------------------------------------------------------------


def create_api_token(
    engine: Engine, *, name: str, role: str, as_email: str, created_by: Principal
) -> tuple[ApiToken, str]:
    """A new token (and its clear value, shown once), acting as the person with ``as_email`` if one is given."""
    with transaction(engine) as session:
        person = None
        if as_email.strip():
            person = person_by_email(session, as_email)
            if person is None:
                raise TokenError(f"no person with email {as_email.strip().lower()}")
        return create_token(session, name=name, role=role, person=person, created_by=created_by)


def revoke_api_token(engine: Engine, token_id: int, *, by: Principal) -> bool:
    """Revoke the token; False if there is no such token."""
    with transaction(engine) as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            return False
        revoke_token(session, token, by=by)
        return True


def create_own_token(engine: Engine, *, name: str, by: Principal) -> tuple[ApiToken, str]:
    """A token acting for the signed-in person, with their role (their account page)."""
    with transaction(engine) as session:
        person = session.get(Person, by.person_id) if by.person_id is not None else None
        if person is None:
            raise TokenError("only a person signed in makes their own token")
        return create_token(session, name=name, role=None, person=person, created_by=by)


def revoke_own_token(engine: Engine, token_id: int, *, by: Principal) -> bool:
    """Revoke one of the person's own tokens; False if there is none with that id acting for them."""
    with transaction(engine) as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.person_id is None or token.person_id != by.person_id:
            return False
        revoke_token(session, token, by=by)
        return True
