"""Request and response models of ``/api/v1/subscriptions``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from commissions.core.outbox import EVENT_TYPES
from commissions.models.outbound import Subscription

EXAMPLE_URL = "https://hooks.example.com/quotaboard"
EXAMPLE_IN = {"url": EXAMPLE_URL, "events": ["deal.recorded", "period.locked"], "include_pay": False}
EXAMPLE_OUT = {
    "id": 3,
    "url": EXAMPLE_URL,
    "events": ["deal.recorded", "period.locked"],
    "include_pay": False,
    "active": True,
    "secret_prefix": "whsec_Jm9q",
    "created_by": "Fiona Finance (finance)",
    "created_at": "2026-12-06T07:00:00Z",
    "deactivated_at": None,
}
EXAMPLE_CREATED = {**EXAMPLE_OUT, "secret": "whsec_Jm9qK1c2dXJlbHktbm90LWEtcmVhbC1zZWNyZXQtYXQtYWxsIQ=="}


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2000,
        description="where deliveries are POSTed: https (plain http only to localhost, or with OUTBOUND_ALLOW_HTTP)",
    )
    events: list[str] = Field(
        max_length=len(EVENT_TYPES) * 4,
        description=f"the event types to receive, at least one of: {', '.join(EVENT_TYPES)}",
    )
    include_pay: bool = Field(
        default=False, description="send pay figures (earnings, totals) too; finance only (an admin gets 403)"
    )


class SubscriptionOut(BaseModel):
    id: int
    url: str
    events: list[str]
    include_pay: bool
    active: bool
    secret_prefix: str = Field(description="the secret's first characters, to tell secrets apart")
    created_by: str
    created_at: datetime
    deactivated_at: datetime | None

    @classmethod
    def of(cls, row: Subscription) -> SubscriptionOut:
        return cls(
            id=row.id or 0,
            url=row.url,
            events=list(row.events),
            include_pay=row.include_pay,
            active=row.active,
            secret_prefix=row.prefix,
            created_by=row.created_by_label,
            created_at=row.created_at,
            deactivated_at=row.deactivated_at,
        )


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(
        description="the Standard Webhooks secret (`whsec_` + base64) that signs every delivery: shown only now"
    )


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
