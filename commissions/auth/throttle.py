"""Sign-in rate limiting: per account and per client address, counted in the database *before*
the password is checked.

Every attempt first takes one unit of its account's and its address's budget in a short write
transaction (``reserve``): the row of each is locked (PostgreSQL ``SELECT … FOR UPDATE`` after an
``INSERT … ON CONFLICT DO NOTHING``; SQLite write transactions are serial with ``BEGIN
IMMEDIATE``), so however many attempts arrive at once, at most ``LOGIN_MAX_FAILURES_PER_ACCOUNT``
(5) of them per account and ``LOGIN_MAX_FAILURES_PER_IP`` (50) per address in a window
(``LOGIN_WINDOW_SECONDS``, 15 min, counted from the first attempt) reach Argon2; the rest are
refused without a check and lock the account (or address) for ``LOGIN_LOCKOUT_SECONDS`` (15 min).
The password is checked afterwards, outside any transaction. A wrong one leaves its unit spent and
locks the account once the budget is used up (``failed``); the right one gives the account's
budget back (``succeeded``) unless a lock is already in force, and gives back its address unit.

The account is the email as typed, lower-cased, whether or not it exists, and an unknown email
gets exactly the same answers, so a lock reveals nothing about who has an account. Keys are
SHA-256 digests: no email is stored. Counters live in the database (table ``sign_in_limit``)
because only a transaction there makes "count, then check" atomic across every process and host
with the same guarantee on SQLite and PostgreSQL; old rows are deleted as they expire.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from commissions.core.db import retrying, transaction
from commissions.models import SignInLimit

P = ParamSpec("P")
T = TypeVar("T")


def retried(fn: Callable[P, T]) -> Callable[P, T]:
    """Run a short write transaction again when the database was busy (SQLite: another writer held the
    lock past the busy timeout in a storm; PostgreSQL: a deadlock victim). Each try is a fresh transaction."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return retrying(lambda: fn(*args, **kwargs), attempts=WRITE_ATTEMPTS, on=(OperationalError,), pause=0.01)

    return run


WRITE_ATTEMPTS = 5


def clock() -> float:
    """The time in epoch seconds (a function so tests can move it)."""
    return time.time()


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after: int  # seconds


WHERE = {"account": "for this account", "ip": "from your network"}


@dataclass
class SignInThrottle:
    engine: Engine
    account_limit: int = 5
    ip_limit: int = 50
    window_seconds: int = 900
    lockout_seconds: int = 900

    @staticmethod
    def key(kind: str, value: str) -> str:
        return f"{kind}-" + hashlib.sha256(value.strip().lower().encode()).hexdigest()

    def _limit(self, kind: str) -> int:
        return self.account_limit if kind == "account" else self.ip_limit

    def _rows(self, session: Session, keys: list[str]) -> dict[str, SignInLimit]:
        """The rows of ``keys``, created if missing and locked until the transaction ends (in key order)."""
        keys = sorted(set(keys))
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(SignInLimit)
            .values([{"key": k, "window_started": 0.0, "attempts": 0, "locked_until": 0.0} for k in keys])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        rows = (
            session.execute(
                select(SignInLimit)
                .where(col(SignInLimit.key).in_(keys))
                .order_by(SignInLimit.key)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            .scalars()
            .all()
        )
        return {row.key: row for row in rows}

    def _fresh(self, row: SignInLimit, now: float) -> None:
        """Start a new window once the old one (or an expired lock) is over."""
        if (row.locked_until and row.locked_until <= now) or now - row.window_started >= self.window_seconds:
            row.attempts, row.window_started, row.locked_until = 0, now, 0.0

    def _refusal(self, kind: str, until: float, now: float) -> Refusal:
        return Refusal(
            f"Too many failed sign-ins {WHERE[kind]}; try again in {_minutes(until - now)} minutes.",
            math.ceil(until - now),
        )

    def reserve(self, email: str, ip: str, *, session: Session | None = None) -> tuple[Refusal | None, list[str]]:
        """Count this attempt before its password is checked. Returns (why it must not be checked, or
        None; what this call newly locked: "account", "ip"). A refused attempt is not counted."""
        if session is None:
            with transaction(self.engine) as own:
                return self.reserve(email, ip, session=own)
        wanted = [("account", self.key("account", email))] + ([("ip", self.key("ip", ip))] if ip is not None else [])
        return self._reserve(session, wanted)

    def reserve_address(self, session: Session, ip: str) -> tuple[Refusal | None, list[str]]:
        """Count a single sign-in attempt against the address only (an OpenID Connect callback: the
        account is not known before the provider answers, and the provider guards its own passwords)."""
        return self._reserve(session, [("ip", self.key("ip", ip))])

    def failed_address(self, session: Session, ip: str) -> list[str]:
        """A single sign-in attempt failed: lock the address once its budget is used up."""
        return self._failed(session, [("ip", self.key("ip", ip))])

    def succeeded_address(self, session: Session, ip: str) -> None:
        """A single sign-in attempt succeeded: it no longer counts for the address."""
        row = self._rows(session, [self.key("ip", ip)])[self.key("ip", ip)]
        row.attempts = max(0, row.attempts - 1)
        session.add(row)

    def _reserve(self, session: Session, wanted: list[tuple[str, str]]) -> tuple[Refusal | None, list[str]]:
        now = clock()
        rows = self._rows(session, [k for _, k in wanted])
        refusal, locked = None, []
        for kind, key in wanted:
            row = rows[key]
            self._fresh(row, now)
            if row.locked_until > now:
                refusal = refusal or self._refusal(kind, row.locked_until, now)
            elif row.attempts >= self._limit(kind):  # the budget is spent (failures, or attempts in flight)
                row.locked_until = now + self.lockout_seconds
                locked.append(kind)
                refusal = refusal or self._refusal(kind, row.locked_until, now)
        if refusal is None:
            for _, key in wanted:
                rows[key].attempts += 1
        session.add_all(rows.values())
        if random.random() < 0.02:  # forget rows whose window and lock are long over
            session.execute(
                delete(SignInLimit).where(
                    col(SignInLimit.window_started) < now - self.window_seconds - self.lockout_seconds,
                    col(SignInLimit.locked_until) < now,
                )
            )
        return refusal, locked

    def failed(self, session: Session, email: str, ip: str | None) -> list[str]:
        """A checked password was wrong: lock what has used up its budget. Returns what got locked."""
        wanted = [("account", self.key("account", email))] + ([("ip", self.key("ip", ip))] if ip is not None else [])
        return self._failed(session, wanted)

    def _failed(self, session: Session, wanted: list[tuple[str, str]]) -> list[str]:
        now = clock()
        rows = self._rows(session, [k for _, k in wanted])
        locked = []
        for kind, key in wanted:
            row = rows[key]
            if row.locked_until <= now and row.attempts >= self._limit(kind):
                row.locked_until = now + self.lockout_seconds
                session.add(row)
                locked.append(kind)
        return locked

    def succeeded(self, session: Session, email: str, ip: str | None) -> None:
        """The right password: the account's budget is given back (unless a lock is in force: an
        attacker's burst that locked it stands), and this attempt no longer counts for the address."""
        now = clock()
        keys = [self.key("account", email)] + ([self.key("ip", ip)] if ip is not None else [])
        rows = self._rows(session, keys)
        account = rows[keys[0]]
        if account.locked_until <= now:
            account.attempts = 0
        if ip is not None:
            address = rows[keys[1]]
            address.attempts = max(0, address.attempts - 1)
        session.add_all(rows.values())

    def lock_message(self, kind: str) -> Refusal:
        return Refusal(
            f"Too many failed sign-ins {WHERE[kind]}; try again in {_minutes(self.lockout_seconds)} minutes.",
            self.lockout_seconds,
        )
