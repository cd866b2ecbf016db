"""The email outbox: a message is written (rendered) in the transaction of the change it tells about
(``core/mail.py``) and sent by ``commissions worker`` with retries (``commissions/email/sender.py``, docs/email.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from commissions.models.base import created_at_field, in_check, timestamp_field

EMAIL_STATES = ("pending", "sent", "dead")


class EmailMessage(SQLModel, table=True):
    """One message to one address: pending until the SMTP server accepts it, retried with backoff, dead after
    the last attempt. The bodies are emptied once it is sent (a reset link must not outlive its mail)."""

    __tablename__ = "email_outbox"
    __table_args__ = (
        in_check("status", EMAIL_STATES, "status"),
        Index("ix_email_outbox_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    to_address: str = Field(max_length=254)
    locale: str = Field(default="", max_length=35)
    subject: str = Field(max_length=300)
    text_body: str = Field(default="", sa_type=Text)
    html_body: str = Field(default="", sa_type=Text)
    status: str = Field(default="pending", max_length=10)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = timestamp_field()
    claimed_until: datetime | None = timestamp_field()
    last_error: str = Field(default="", max_length=500)
    sent_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
