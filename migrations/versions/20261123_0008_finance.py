"""Finance: recoverable draw balances carried per person and period (payee_summary).

Revision ID: 0008_finance
Revises: 0007_disputes
Create Date: 2026-11-23 14:56:26.154162
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_finance"
down_revision: str | None = "0007_disputes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payee_summary", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draw_balance_in_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("draw_balance_minor", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payee_summary", schema=None) as batch_op:
        batch_op.drop_column("draw_balance_minor")
        batch_op.drop_column("draw_balance_in_minor")
