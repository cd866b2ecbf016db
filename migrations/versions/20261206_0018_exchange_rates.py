"""exchange_rate and person.payment_currency: exchange rates with effective dates, a payment currency per person.

A rate's corrections are kept in the audit log (``rate.set`` with the old and new value), the pair's history.

Revision ID: 0018_exchange_rates
Revises: 0017_cache_version
Create Date: 2026-12-06 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0018_exchange_rates"
down_revision: str | None = "0017_cache_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchange_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(20, 10), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("rate > 0", name=op.f("ck_exchange_rate_rate_positive")),
        sa.CheckConstraint("source <> target", name=op.f("ck_exchange_rate_distinct_currencies")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["person.id"], name=op.f("fk_exchange_rate_created_by_id_person"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rate")),
        sa.UniqueConstraint(
            "source", "target", "effective_from", name=op.f("uq_exchange_rate_source_target_effective_from")
        ),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("payment_currency")
    op.drop_table("exchange_rate")
