"""Chat channels: a subscription's kind (webhook, slack, teams), its name, and a chat channel's incoming-webhook
URL stored encrypted (commissions/outbound/chat.py; docs/integrations-outbound.md, "Slack and Teams").

Revision ID: 0025_chat_channels
Revises: 0024_email_outbox
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0025_chat_channels"
down_revision: str | None = "0024_email_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default="webhook")
        )
        batch.add_column(
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("url_encrypted", sa.Text(), nullable=True))
        batch.create_check_constraint("kind", "kind IN ('webhook', 'slack', 'teams')")
    with op.batch_alter_table("subscription") as batch:  # the existing rows got "": new rows name themselves
        batch.alter_column("name", existing_type=sqlmodel.sql.sqltypes.AutoString(length=120), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.drop_constraint("kind", type_="check")
        batch.drop_column("url_encrypted")
        batch.drop_column("name")
        batch.drop_column("kind")
