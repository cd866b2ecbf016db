"""holds and payments: finance's holds on a deal or a person, and invoice payments that release commission.

Revision ID: 0023_holds_and_payments
Revises: 0022_accounting
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0023_holds_and_payments"
down_revision: str | None = "0022_accounting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commission_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("release_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payable_period_key", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.CheckConstraint("state IN ('held', 'released')", name=op.f("ck_commission_hold_state")),
        sa.CheckConstraint("(person_id IS NULL) <> (deal_id IS NULL)", name=op.f("ck_commission_hold_person_xor_deal")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["person.id"], name=op.f("fk_commission_hold_created_by_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_commission_hold_deal_id_deal"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_commission_hold_period_id_period"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_commission_hold_person_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"],
            ["person.id"],
            name=op.f("fk_commission_hold_released_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_hold")),
    )
    with op.batch_alter_table("commission_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commission_hold_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index("ix_commission_hold_period_state", ["period_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_commission_hold_person_id"), ["person_id"], unique=False)

    op.create_table(
        "invoice_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("paid_at", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_invoice_payment_amount_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["person.id"], name=op.f("fk_invoice_payment_created_by_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_invoice_payment_deal_id_deal"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_payment")),
        sa.UniqueConstraint("invoice", name=op.f("uq_invoice_payment_invoice")),
    )
    with op.batch_alter_table("invoice_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_payment_deal_id"), ["deal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoice_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_payment_deal_id"))

    op.drop_table("invoice_payment")
    with op.batch_alter_table("commission_hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commission_hold_person_id"))
        batch_op.drop_index("ix_commission_hold_period_state")
        batch_op.drop_index(batch_op.f("ix_commission_hold_deal_id"))

    op.drop_table("commission_hold")
