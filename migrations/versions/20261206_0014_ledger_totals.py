"""ledger_total: the running totals of the lines in force, kept with the ledger; payout_line.deal_owner_id (issue 16).

Revision ID: 0014_ledger_totals
Revises: 0013_sign_in_limits_and_password
Create Date: 2026-12-06 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014_ledger_totals"
down_revision: str | None = "0013_sign_in_limits_and_password"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payout_line", sa.Column("deal_owner_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE payout_line SET deal_owner_id = (SELECT owner_id FROM deal WHERE deal.id = payout_line.deal_id) "
        "WHERE deal_id IS NOT NULL"
    )
    op.create_table(
        "ledger_total",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("component", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("first_line_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_ledger_total_period_id_period"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_ledger_total_person_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_total")),
        sa.UniqueConstraint(
            "period_id",
            "person_id",
            "plan_id",
            "component",
            "kind",
            "currency",
            "owner_id",
            name=op.f("uq_ledger_total_period_id_person_id_plan_id_component_kind_currency_owner_id"),
        ),
    )
    op.create_index("ix_ledger_total_person", "ledger_total", ["person_id", "period_id"], unique=False)
    # the totals of the lines already in force (neither reversals nor reversed)
    op.execute(
        "INSERT INTO ledger_total (period_id, person_id, plan_id, component, kind, currency, owner_id, "
        "amount_minor, lines, first_line_id) "
        "SELECT l.period_id, l.person_id, COALESCE(v.plan_id, 0), l.component, l.kind, l.currency, "
        "COALESCE(l.deal_owner_id, 0), SUM(l.amount_minor), COUNT(*), MIN(l.id) "
        "FROM payout_line l LEFT JOIN plan_version v ON v.id = l.plan_version_id "
        "WHERE l.kind <> 'reversal' AND NOT EXISTS (SELECT 1 FROM payout_line r WHERE r.reverses_id = l.id) "
        "GROUP BY l.period_id, l.person_id, COALESCE(v.plan_id, 0), l.component, l.kind, l.currency, "
        "COALESCE(l.deal_owner_id, 0)"
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_total_person", table_name="ledger_total")
    op.drop_table("ledger_total")
    with op.batch_alter_table("payout_line") as batch:
        batch.drop_column("deal_owner_id")
