"""Badges: rules as data (badge_rule) and their grants per person and period (badge_grant).

Revision ID: 0005_badges
Revises: 0004_leaderboard_snapshots
Create Date: 2026-11-23 14:20:06.564048
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005_badges"
down_revision: str | None = "0004_leaderboard_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "badge_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('first_deal', 'deals_in_window', 'attainment_at_least', 'biggest_deal', 'weekly_streak', 'most_improved')",
            name=op.f("ck_badge_rule_kind"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_badge_rule_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_rule")),
        sa.UniqueConstraint("key", name=op.f("uq_badge_rule_key")),
    )
    op.create_table(
        "badge_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_badge_grant_period_id_period"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_badge_grant_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["badge_rule.id"], name=op.f("fk_badge_grant_rule_id_badge_rule"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_grant")),
        sa.UniqueConstraint(
            "rule_id", "person_id", "period_id", name=op.f("uq_badge_grant_rule_id_person_id_period_id")
        ),
    )
    with op.batch_alter_table("badge_grant", schema=None) as batch_op:
        batch_op.create_index("ix_badge_grant_period_person", ["period_id", "person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("badge_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_badge_grant_period_person")

    op.drop_table("badge_grant")
    op.drop_table("badge_rule")
