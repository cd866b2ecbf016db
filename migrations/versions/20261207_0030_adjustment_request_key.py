"""adjustment.request_key: a manual adjustment sent twice books once.

``POST /api/v1/adjustments`` takes an ``Idempotency-Key`` header and the finance form carries a key of its own;
the key is unique per author, so a retry after a lost answer (or a double click) finds the adjustment it
booked instead of booking it again.

Revision ID: 0030_adjustment_request_key
Revises: 0029_deal_revision
Create Date: 2026-12-07 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0030_adjustment_request_key"
down_revision: str | None = "0029_deal_revision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_adjustment_created_by_id_request_key"), ["created_by_id", "request_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_adjustment_created_by_id_request_key"), type_="unique")
        batch_op.drop_column("request_key")
