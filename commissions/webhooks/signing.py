"""Standard Webhooks signatures (https://www.standardwebhooks.com/), nothing else.

A delivery carries ``webhook-id``, ``webhook-timestamp`` (epoch seconds) and
``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` entries, the HMAC
of ``"{id}.{timestamp}.{body}"`` under the secret (``whsec_`` + base64 of the key).
A delivery is genuine when any ``v1`` entry matches (compared in constant time) and
its timestamp is within ``TOLERANCE_SECONDS`` (5 minutes) of now, either way.

Both directions use this module: inbound CRM deliveries are checked with ``verify``, outbound deliveries
(``commissions/outbound``) are signed with ``signed_headers``. Secrets are stored encrypted with ``seal``
(Fernet under a key derived from SECRET_KEY: HMAC needs the secret itself, so it cannot be hashed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from commissions.core.secret_box import InvalidToken, decrypt, encrypt

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class SignatureError(ValueError):
    """Why a delivery is not accepted; ``status`` is 401 (not signed by us) or 400 (malformed or stale)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


PURPOSE = b"quotaboard webhook secrets"  # core/secret_box: one key per kind of secret


def seal(secret_key: str, secret: str) -> str:
    """The secret encrypted for storage."""
    return encrypt(secret_key, PURPOSE, secret)


def unseal(secret_key: str, sealed: str) -> str | None:
    """The stored secret in clear, or None when SECRET_KEY changed since it was sealed."""
    try:
        return decrypt(secret_key, PURPOSE, sealed)
    except InvalidToken:
        return None


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for a delivery."""
    mac = hmac.new(_key(secret), f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(secret: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a delivery we send: id, timestamp and signature."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    }


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float) -> tuple[str, int]:
    """Check a delivery; returns its id and timestamp, or raises ``SignatureError``."""
    webhook_id = headers.get("webhook-id", "")
    raw_timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not webhook_id or not raw_timestamp or not signatures:
        missing = [
            h
            for h, v in (
                ("webhook-id", webhook_id),
                ("webhook-timestamp", raw_timestamp),
                ("webhook-signature", signatures),
            )
            if not v
        ]
        raise SignatureError(f"unsigned delivery: missing header {', '.join(missing)}")
    if len(webhook_id) > 128:
        raise SignatureError("webhook-id is longer than 128 characters", 400)
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp must be whole seconds since the epoch", 400) from None
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError(
            f"stale delivery: webhook-timestamp is more than {TOLERANCE_SECONDS // 60} minutes from the server's time",
            400,
        )
    expected = sign(secret, webhook_id, timestamp, body).encode()
    matched = False
    for entry in signatures.split(" "):
        if entry.startswith("v1,"):
            matched |= hmac.compare_digest(entry.encode(), expected)  # every entry compared: constant time
    if not matched:
        raise SignatureError("the signature does not match (wrong secret, or the body was changed)")
    return webhook_id, timestamp
