"""payee summary

Revision ID: 0002_payee_summary
Revises: 0001_core_domain
Create Date: 2026-11-23 12:40:29.669444
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002_payee_summary"
down_revision: str | None = "0001_core_domain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payee_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("credited_minor", sa.BigInteger(), nullable=False),
        sa.Column("quota_minor", sa.BigInteger(), nullable=True),
        sa.Column("attainment_ppm", sa.BigInteger(), nullable=True),
        sa.Column("total_minor", sa.BigInteger(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_payee_summary_period_id_period"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_payee_summary_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_payee_summary_plan_id_plan"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_version.id"],
            name=op.f("fk_payee_summary_plan_version_id_plan_version"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["calculation_run.id"],
            name=op.f("fk_payee_summary_run_id_calculation_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payee_summary")),
        sa.UniqueConstraint(
            "person_id", "period_id", "plan_id", name=op.f("uq_payee_summary_person_id_period_id_plan_id")
        ),
    )
    with op.batch_alter_table("payee_summary", schema=None) as batch_op:
        batch_op.create_index("ix_payee_summary_period_attainment", ["period_id", "attainment_ppm"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payee_summary", schema=None) as batch_op:
        batch_op.drop_index("ix_payee_summary_period_attainment")

    op.drop_table("payee_summary")
