"""deal_revision: a deal as it stood in a locked or paid period, kept when a later change replaced it.

api.md: "Deals of a locked period are never edited in place". The deal row keeps the latest truth (open
periods pay it; prior-period adjustments are the difference it makes); the version the locked period
paid on is kept here, shown on the deal's page.

Revision ID: 0029_deal_revision
Revises: 0028_plan_versions_share_a_day
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0029_deal_revision"
down_revision: str | None = "0028_plan_versions_share_a_day"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deal_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("period_state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("deal", sa.JSON(), nullable=False),
        sa.Column("replaced_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_deal_revision_deal_id_deal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_revision")),
    )
    with op.batch_alter_table("deal_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_revision_deal_id"), ["deal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deal_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_revision_deal_id"))
    op.drop_table("deal_revision")
