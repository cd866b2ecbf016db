"""Disputes: questions about statement lines (dispute) and their threads (dispute_message).

Revision ID: 0007_disputes
Revises: 0006_contests
Create Date: 2026-11-23 14:56:29.244646
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007_disputes"
down_revision: str | None = "0006_contests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("payout_line_id", sa.Integer(), nullable=True),
        sa.Column("line_text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("adjustment_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('open', 'answered', 'resolved')", name=op.f("ck_dispute_state")),
        sa.ForeignKeyConstraint(
            ["adjustment_id"], ["adjustment.id"], name=op.f("fk_dispute_adjustment_id_adjustment"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["person.id"], name=op.f("fk_dispute_opened_by_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["payout_line_id"],
            ["payout_line.id"],
            name=op.f("fk_dispute_payout_line_id_payout_line"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_dispute_period_id_period"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_dispute_person_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["person.id"], name=op.f("fk_dispute_resolved_by_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute")),
    )
    with op.batch_alter_table("dispute", schema=None) as batch_op:
        batch_op.create_index("ix_dispute_person_period", ["person_id", "period_id"], unique=False)
        batch_op.create_index("ix_dispute_state", ["state"], unique=False)

    op.create_table(
        "dispute_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('question', 'reply', 'answer', 'resolution')", name=op.f("ck_dispute_message_kind")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["person.id"], name=op.f("fk_dispute_message_author_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["dispute.id"], name=op.f("fk_dispute_message_dispute_id_dispute"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_message")),
    )
    with op.batch_alter_table("dispute_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_message_dispute_id"), ["dispute_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dispute_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispute_message_dispute_id"))

    op.drop_table("dispute_message")
    with op.batch_alter_table("dispute", schema=None) as batch_op:
        batch_op.drop_index("ix_dispute_state")
        batch_op.drop_index("ix_dispute_person_period")

    op.drop_table("dispute")
