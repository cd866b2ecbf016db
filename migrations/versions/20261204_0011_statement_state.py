"""statement_state replaces recompute_request: input and computed versions per person and period.

Revision ID: 0011_statement_state
Revises: 0010_hardening
Create Date: 2026-12-04 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011_statement_state"
down_revision: str | None = "0010_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statement_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("input_version", sa.BigInteger(), nullable=False),
        sa.Column("computed_version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_statement_state_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_state")),
        sa.UniqueConstraint("person_id", "period_key", name=op.f("uq_statement_state_person_id_period_key")),
    )
    with op.batch_alter_table("statement_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statement_state_period_key"), ["period_key"], unique=False)
    # what was still queued stays pending
    op.execute(
        "INSERT INTO statement_state (person_id, period_key, input_version, computed_version, changed_at, error) "
        "SELECT person_id, period_key, 1, 0, requested_at, '' FROM recompute_request"
    )
    with op.batch_alter_table("recompute_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recompute_request_period_key"))
    op.drop_table("recompute_request")


def downgrade() -> None:
    op.create_table(
        "recompute_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_recompute_request_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recompute_request")),
        sa.UniqueConstraint("person_id", "period_key", name=op.f("uq_recompute_request_person_id_period_key")),
    )
    with op.batch_alter_table("recompute_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recompute_request_period_key"), ["period_key"], unique=False)
    op.execute(
        "INSERT INTO recompute_request (person_id, period_key, requested_at) "
        "SELECT person_id, period_key, changed_at FROM statement_state WHERE input_version > computed_version"
    )
    with op.batch_alter_table("statement_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_state_period_key"))
    op.drop_table("statement_state")
