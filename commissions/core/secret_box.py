"""Secrets the app must read back in clear (webhook signing keys, OIDC client secrets), stored encrypted.

Fernet with a key derived from SECRET_KEY and a purpose, so a database dump alone reveals none of them and
one kind of secret cannot be decrypted as another. Changing SECRET_KEY makes them unreadable: they are
entered again (webhooks created again, the provider's client secret saved again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["InvalidToken", "decrypt", "encrypt", "fernet"]


def fernet(secret_key: str, purpose: bytes) -> Fernet:
    raw = hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def encrypt(secret_key: str, purpose: bytes, value: str) -> str:
    return fernet(secret_key, purpose).encrypt(value.encode()).decode()


def decrypt(secret_key: str, purpose: bytes, stored: str) -> str:
    """The clear value; raises ``InvalidToken`` when SECRET_KEY changed since it was stored."""
    return fernet(secret_key, purpose).decrypt(stored.encode()).decode()
