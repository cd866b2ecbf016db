"""Leaderboard snapshots: each person's rank per period and day, for movement since yesterday.

Revision ID: 0004_leaderboard_snapshots
Revises: 0003_recompute_queue
Create Date: 2026-11-23 14:00:42.617850
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_leaderboard_snapshots"
down_revision: str | None = "0003_recompute_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leaderboard_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_leaderboard_snapshot_period_id_period"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_leaderboard_snapshot_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_snapshot")),
        sa.UniqueConstraint(
            "period_id", "person_id", "taken_on", name=op.f("uq_leaderboard_snapshot_period_id_person_id_taken_on")
        ),
    )
    with op.batch_alter_table("leaderboard_snapshot", schema=None) as batch_op:
        batch_op.create_index("ix_leaderboard_snapshot_period_taken_on", ["period_id", "taken_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leaderboard_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboard_snapshot_period_taken_on")

    op.drop_table("leaderboard_snapshot")
