"""crm adapters: a webhook integration's payload format (standard, hubspot, salesforce) and field mapping.

Revision ID: 0026_crm_adapters
Revises: 0025_chat_channels
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0026_crm_adapters"
down_revision: str | None = "0025_chat_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_integration") as batch:
        batch.add_column(
            sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="standard")
        )
        batch.add_column(
            sa.Column("mapping", sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_integration") as batch:
        batch.drop_column("mapping")
        batch.drop_column("format")
