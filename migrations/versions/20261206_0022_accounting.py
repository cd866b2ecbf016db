"""accounting_settings (GL account codes, ASC 340-40 benefit periods) and contract_term (deal terms frozen at lock).

Revision ID: 0022_accounting
Revises: 0021_sso_providers
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0022_accounting"
down_revision: str | None = "0021_sso_providers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounting_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commission_expense_account", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("accrued_commissions_account", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("contract_cost_asset_account", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("amortisation_expense_account", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("cash_account", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("default_benefit_months", sa.Integer(), nullable=False),
        sa.Column("capitalisation_threshold_months", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("default_benefit_months >= 1", name=op.f("ck_accounting_settings_benefit_positive")),
        sa.CheckConstraint(
            "capitalisation_threshold_months >= 1", name=op.f("ck_accounting_settings_threshold_positive")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["person.id"],
            name=op.f("fk_accounting_settings_updated_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_settings")),
    )
    op.create_table(
        "contract_term",
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_contract_term_deal_id_deal"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_contract_term_period_id_period"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("deal_id", name=op.f("pk_contract_term")),
    )


def downgrade() -> None:
    op.drop_table("contract_term")
    op.drop_table("accounting_settings")
