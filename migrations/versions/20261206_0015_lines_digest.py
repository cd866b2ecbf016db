"""payee_summary.lines_digest: a digest of the lines a statement's last computation wrote (issue 16).

A recalculation compares it with the digest of the lines it computes and reads the stored lines only
of the statements whose digests differ. Empty until a statement is next computed (its lines are then
read and compared, as before).

Revision ID: 0015_lines_digest
Revises: 0014_ledger_totals
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015_lines_digest"
down_revision: str | None = "0014_ledger_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "payee_summary", sa.Column("lines_digest", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("payee_summary") as batch:
        batch.drop_column("lines_digest")
