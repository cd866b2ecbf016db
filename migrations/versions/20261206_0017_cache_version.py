"""cache_version: the stored versions per-process caches are keyed on (commissions/core/stored_versions.py).

Revision ID: 0017_cache_version
Revises: 0016_deal_list_indexes
Create Date: 2026-12-06 03:30:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0017_cache_version"
down_revision: str | None = "0016_deal_list_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cache_version",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_version")),
    )
    # the row exists from the start, so caching works before the first change to a watched table
    for name in ("catalogue", "people"):
        op.execute(
            sa.text("INSERT INTO cache_version (name, version, epoch) VALUES (:name, 1, :epoch)").bindparams(
                name=name, epoch=uuid.uuid4().hex
            )
        )


def downgrade() -> None:
    op.drop_table("cache_version")
