"""deal_approval: a rep's deal change that credits other people, held until a manager or finance approves it.

Revision ID: 0012_deal_approval
Revises: 0011_statement_state
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012_deal_approval"
down_revision: str | None = "0011_statement_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deal_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("base_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'approved', 'rejected')", name=op.f("ck_deal_approval_state")),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["person.id"], name=op.f("fk_deal_approval_requested_by_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["person.id"], name=op.f("fk_deal_approval_decided_by_id_person"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_approval")),
    )
    with op.batch_alter_table("deal_approval", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_approval_external_id"), ["external_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deal_approval_requested_by_id"), ["requested_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deal_approval_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deal_approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_approval_state"))
        batch_op.drop_index(batch_op.f("ix_deal_approval_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_deal_approval_external_id"))
    op.drop_table("deal_approval")
