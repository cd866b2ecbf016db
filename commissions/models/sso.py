"""Single sign-on: the OpenID Connect providers an admin configured, and site-wide settings."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from commissions.models.base import ROLES, created_at_field, in_check, timestamp_field


class SsoProvider(SQLModel, table=True):
    """An OpenID Connect provider people sign in with (commissions/sso/).

    The client secret is needed in clear to redeem codes, so it is stored encrypted (Fernet, keyed
    from SECRET_KEY: commissions/core/secret_box.py) and never shown again after it is saved.
    ``allow_signup``: an unknown (verified) email becomes a new person with ``default_role``.
    """

    __tablename__ = "sso_provider"
    __table_args__ = (in_check("default_role", ROLES, "default_role"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True)
    label: str = Field(max_length=80)
    issuer: str = Field(max_length=500)
    client_id: str = Field(max_length=255)
    client_secret_encrypted: str = Field(max_length=1024)
    scopes: str = Field(default="openid email profile", max_length=255)
    enabled: bool = Field(default=True)
    allow_signup: bool = Field(default=False)
    default_role: str = Field(default="rep", max_length=20)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()


class SiteSetting(SQLModel, table=True):
    """A site-wide switch an admin changes at run time (not an environment setting), by name.

    Known names: ``password_sign_in`` ("on" | "off"; missing means on); ``email.digest_week`` (the last ISO
    week whose managers' digest was queued, commissions/emails/digest.py).
    """

    __tablename__ = "site_setting"

    name: str = Field(max_length=64, primary_key=True)
    value: str = Field(max_length=255)
    updated_at: datetime | None = timestamp_field()
