"""Machine access and accountability: API tokens (hash only) and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from commissions.models.base import ROLES, created_at_field, in_check, timestamp_field


class ApiToken(SQLModel, table=True):
    """A bearer token for a machine. Only its SHA-256 is stored; ``prefix`` lets people tell tokens apart."""

    __tablename__ = "api_token"
    __table_args__ = (in_check("role", ROLES, "role"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=20)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="CASCADE")
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = timestamp_field()
    revoked_at: datetime | None = timestamp_field()


class AuditEvent(SQLModel, table=True):
    """Who did what to which object, when (UTC). Never updated or deleted."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"), Index("ix_audit_event_object", "object_type", "object_id"))

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    actor_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    actor_label: str = Field(default="", max_length=254)
    action: str = Field(max_length=64)
    object_type: str = Field(default="", max_length=64)
    object_id: str = Field(default="", max_length=128)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ip: str = Field(default="", max_length=64)


class WebhookIntegration(SQLModel, table=True):
    """A CRM that delivers deals by signed webhook (Standard Webhooks).

    HMAC verification needs the secret itself, so it is stored encrypted (Fernet, with a
    key derived from SECRET_KEY), never in clear; it is shown once when created.
    """

    __tablename__ = "webhook_integration"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    secret_encrypted: str = Field(max_length=512)
    prefix: str = Field(max_length=16)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = timestamp_field()
    revoked_at: datetime | None = timestamp_field()
    # how deliveries are read: standard (the deal JSON), hubspot or salesforce (commissions/webhooks/adapters.py)
    format: str = Field(default="standard", max_length=16, sa_column_kwargs={"server_default": "standard"})
    mapping: str = Field(default="{}", max_length=10000, sa_column_kwargs={"server_default": "{}"})  # JSON


class WebhookDelivery(SQLModel, table=True):
    """Ids of accepted deliveries, kept past the timestamp tolerance so a replay is refused."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_received_at", "received_at"),)

    integration_id: int = Field(foreign_key="webhook_integration.id", primary_key=True, ondelete="CASCADE")
    webhook_id: str = Field(max_length=128, primary_key=True)
    received_at: datetime = created_at_field()


class SignInLimit(SQLModel, table=True):
    """Sign-in attempts counted per account or client address (commissions/auth/throttle.py).

    ``key`` is ``account-``/``ip-`` and a SHA-256 digest (no email stored). An attempt is counted
    here, in one short write, *before* its password is checked, so concurrent attempts cannot all
    pass the limit. Times are epoch seconds.
    """

    __tablename__ = "sign_in_limit"

    key: str = Field(max_length=80, primary_key=True)
    window_started: float = Field(default=0)
    attempts: int = Field(default=0)
    locked_until: float = Field(default=0)


class PasswordReset(SQLModel, table=True):
    """A one-time password reset link an admin issued: only its SHA-256 is stored; used once, expires."""

    __tablename__ = "password_reset"
    __table_args__ = (Index("ix_password_reset_person_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    expires_at: datetime = timestamp_field(nullable=False)  # type: ignore[assignment]
    used_at: datetime | None = timestamp_field()
