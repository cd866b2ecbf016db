"""Sign-in rate limiting: per account and per client address, in the app's shared store.

Failures are counted in a sliding window (``LOGIN_WINDOW_SECONDS``, 15 min). When an
account (the email as typed, lower-cased, whether or not it exists) reaches
``LOGIN_MAX_FAILURES_PER_ACCOUNT`` (5) it is locked for ``LOGIN_LOCKOUT_SECONDS``
(15 min): even the right password is refused until then, and the message is the same
for an unknown email, so the lock reveals nothing about who has an account. A client
address reaching ``LOGIN_MAX_FAILURES_PER_IP`` (50) failures, over any emails
(password spraying), is locked the same way.

The counters live in the Litestar store ``throttle`` (see ``commissions.web.app._store``):
Redis when ``REDIS_URL`` is set (every process and host shares it), else files under
``DATA_DIR`` (every process on the host). Keys are SHA-256 digests: no email is written
to a file name. Two processes failing at the same instant may each count one failure
less (read-then-write without a lock); the limit still holds to within the number of
processes.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass

from litestar.stores.base import Store


def clock() -> float:
    """The time in epoch seconds (a function so tests can move it)."""
    return time.time()


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after: int  # seconds


@dataclass
class SignInThrottle:
    store: Store
    account_limit: int = 5
    ip_limit: int = 50
    window_seconds: int = 900
    lockout_seconds: int = 900

    @staticmethod
    def _key(kind: str, value: str) -> str:
        return f"{kind}-" + hashlib.sha256(value.strip().lower().encode()).hexdigest()

    async def _load(self, key: str) -> dict:
        raw = await self.store.get(key)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    async def refusal(self, email: str, ip: str) -> Refusal | None:
        """Why this attempt must not even be checked (a lock is in force), or None."""
        now = clock()
        account = await self._load(self._key("account", email))
        until = float(account.get("locked_until", 0))
        if until > now:
            return Refusal(f"Too many failed sign-ins for this account; try again in {_minutes(until - now)} minutes.",
                           math.ceil(until - now))
        address = await self._load(self._key("ip", ip))
        until = float(address.get("locked_until", 0))
        if until > now:
            return Refusal(f"Too many failed sign-ins from your network; try again in {_minutes(until - now)} minutes.",
                           math.ceil(until - now))
        return None

    async def failed(self, email: str, ip: str) -> list[str]:
        """Count a failure; returns what got locked by it ("account", "ip")."""
        locked = []
        for kind, value, limit in (("account", email, self.account_limit), ("ip", ip, self.ip_limit)):
            key = self._key(kind, value)
            now = clock()
            data = await self._load(key)
            failures = [t for t in data.get("failures", []) if isinstance(t, int | float) and now - t < self.window_seconds]
            failures.append(now)
            data["failures"] = failures
            if len(failures) >= limit:
                data = {"failures": [], "locked_until": now + self.lockout_seconds}
                locked.append(kind)
            await self.store.set(key, json.dumps(data), expires_in=self.window_seconds + self.lockout_seconds)
        return locked

    async def succeeded(self, email: str) -> None:
        """A correct password clears the account's failures (the address's stay counted)."""
        await self.store.delete(self._key("account", email))

    def lock_message(self, kind: str) -> Refusal:
        minutes = _minutes(self.lockout_seconds)
        where = "for this account" if kind == "account" else "from your network"
        return Refusal(f"Too many failed sign-ins {where}; try again in {minutes} minutes.", self.lockout_seconds)
