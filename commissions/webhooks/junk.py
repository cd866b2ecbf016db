"""Unauthenticated webhook requests are counted per client address and rate-limited, not audited.

Anyone can post to ``/api/v1/webhooks/crm/{name}/deals``: writing an audit row for every unsigned,
wrongly signed or unknown-integration request would let a bot fill the audit log (200 requests
made 200 rows). Instead each such refusal is counted per client address in the app's shared
store ``throttle`` (Redis with ``REDIS_URL``, else files under ``DATA_DIR``) in a fixed window
(``WEBHOOK_JUNK_WINDOW_SECONDS``, 5 min); past ``WEBHOOK_JUNK_LIMIT`` (30) refusals the address gets
429 with ``Retry-After`` until the window ends, without any check or database read, and a single
audit row (``webhook.junk_throttled``, with the count) says so. Refusals of a request whose
signature was valid (a replay) are still audited one by one: the sender holds the secret.

Counts are exact within a process (an asyncio lock around read-and-write); processes sharing a
file or Redis store may each miss a concurrent increment of another, so across N processes the
limit holds to within N. That is enough for junk: nothing is checked or stored for it either way.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from litestar.stores.base import Store

WEBHOOK_JUNK_LIMIT = 30
WEBHOOK_JUNK_WINDOW_SECONDS = 300


def clock() -> float:
    return time.time()


@dataclass
class JunkCounter:
    store: Store
    limit: int = WEBHOOK_JUNK_LIMIT
    window_seconds: int = WEBHOOK_JUNK_WINDOW_SECONDS
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @staticmethod
    def _key(ip: str) -> str:
        return "webhook-junk-" + hashlib.sha256(ip.encode()).hexdigest()

    async def _load(self, key: str) -> dict[str, Any]:
        raw = await self.store.get(key)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        now = clock()
        if not isinstance(data, dict) or now - float(data.get("since", 0)) >= self.window_seconds:
            data = {"since": now, "count": 0}
        return data

    async def blocked(self, ip: str) -> int | None:
        """Seconds to wait if this address has sent too much junk in its window, else None."""
        data = await self._load(self._key(ip))
        if int(data.get("count", 0)) >= self.limit:
            return max(1, math.ceil(float(data["since"]) + self.window_seconds - clock()))
        return None

    async def count(self, ip: str) -> bool:
        """Count one refusal; True exactly when it reaches the limit (the moment worth one audit row)."""
        key = self._key(ip)
        async with self._lock:
            data = await self._load(key)
            data["count"] = int(data.get("count", 0)) + 1
            remaining = max(1, math.ceil(float(data["since"]) + self.window_seconds - clock()))
            await self.store.set(key, json.dumps(data), expires_in=remaining)
        return bool(data["count"] == self.limit)
