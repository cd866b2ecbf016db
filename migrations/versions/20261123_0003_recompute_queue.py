"""recompute queue

Revision ID: 0003_recompute_queue
Revises: 0002_payee_summary
Create Date: 2026-11-23 13:02:23.442241
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003_recompute_queue"
down_revision: str | None = "0002_payee_summary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recompute_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_recompute_request_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recompute_request")),
        sa.UniqueConstraint("person_id", "period_key", name=op.f("uq_recompute_request_person_id_period_key")),
    )
    with op.batch_alter_table("recompute_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recompute_request_period_key"), ["period_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recompute_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recompute_request_period_key"))

    op.drop_table("recompute_request")
