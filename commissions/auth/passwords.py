"""Password hashing with Argon2id (pwdlib). Plain passwords never leave this module's callers' stack."""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    """Verified against when an email is unknown, so a wrong email costs as long as a wrong password (made on
    first use: hashing at import cost every `commissions` command, `calc` included, a fifth of a second)."""
    return _hasher.hash("quotaboard-timing-equaliser")


MIN_PASSWORD_LENGTH = 10


class WeakPasswordError(ValueError):
    pass


def check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"password must be at least {MIN_PASSWORD_LENGTH} characters long")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Return (valid, new_hash): ``new_hash`` is set when the stored hash should be upgraded."""
    if not password_hash:
        _hasher.verify(password, _dummy_hash())
        return False, None
    try:
        return _hasher.verify_and_update(password, password_hash)
    except Exception:  # an unreadable stored hash is a failed sign-in, not a crash
        return False, None
