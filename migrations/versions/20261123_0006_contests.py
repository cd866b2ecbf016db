"""Contests: time-boxed competitions (contest), their teams (contest_team) and final standings (contest_result).

Revision ID: 0006_contests
Revises: 0005_badges
Create Date: 2026-11-23 14:56:31.953622
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006_contests"
down_revision: str | None = "0005_badges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("prize", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("metric IN ('bookings', 'deals', 'sourced_revenue')", name=op.f("ck_contest_metric")),
        sa.CheckConstraint("mode IN ('individual', 'team')", name=op.f("ck_contest_mode")),
        sa.CheckConstraint("scope IN ('everyone', 'teams')", name=op.f("ck_contest_scope")),
        sa.CheckConstraint("status IN ('active', 'cancelled')", name=op.f("ck_contest_status")),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_contest_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["person.id"], name=op.f("fk_contest_created_by_id_person"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest")),
    )
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.create_index("ix_contest_ends_on", ["ends_on"], unique=False)

    op.create_table(
        "contest_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("team_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("winner", sa.Boolean(), nullable=False),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_contest_result_rank_positive")),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contest.id"], name=op.f("fk_contest_result_contest_id_contest"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_contest_result_person_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_contest_result_team_id_team"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_result")),
        sa.UniqueConstraint("contest_id", "position", name=op.f("uq_contest_result_contest_id_position")),
    )
    op.create_table(
        "contest_team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contest.id"], name=op.f("fk_contest_team_contest_id_contest"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_contest_team_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_team")),
        sa.UniqueConstraint("contest_id", "team_id", name=op.f("uq_contest_team_contest_id_team_id")),
    )
    with op.batch_alter_table("contest_team", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_team_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contest_team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_team_team_id"))

    op.drop_table("contest_team")
    op.drop_table("contest_result")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_index("ix_contest_ends_on")

    op.drop_table("contest")
