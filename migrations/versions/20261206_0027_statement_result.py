"""statement_result: what a statement's last stored computation answered, apart from its input version.

A deal marks its people's statements pending by bumping ``statement_state.input_version``; a store
of those statements locks the rows it claims until it commits. With both versions in one row, a
deal's request waited for any store of its managers' statements in flight (PostgreSQL row locks).
The computed version, its time and the last error move to their own row, which only stores lock.

Revision ID: 0027_statement_result
Revises: 0026_crm_adapters
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0027_statement_result"
down_revision: str | None = "0026_crm_adapters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statement_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("computed_version", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_statement_result_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_result")),
        sa.UniqueConstraint("person_id", "period_key", name=op.f("uq_statement_result_person_id_period_key")),
    )
    with op.batch_alter_table("statement_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statement_result_period_key"), ["period_key"], unique=False)
    op.execute(
        "INSERT INTO statement_result (person_id, period_key, computed_version, computed_at, error) "
        "SELECT person_id, period_key, computed_version, computed_at, error FROM statement_state "
        "WHERE computed_version > 0 OR computed_at IS NOT NULL OR error <> ''"
    )
    with op.batch_alter_table("statement_state", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("computed_at")
        batch_op.drop_column("computed_version")


def downgrade() -> None:
    with op.batch_alter_table("statement_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("computed_version", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "INSERT INTO statement_state (person_id, period_key, input_version, changed_at) "
        "SELECT r.person_id, r.period_key, 0, COALESCE(r.computed_at, CURRENT_TIMESTAMP) FROM statement_result r "
        "WHERE NOT EXISTS (SELECT 1 FROM statement_state s "
        "WHERE s.person_id = r.person_id AND s.period_key = r.period_key)"
    )
    op.execute(
        "UPDATE statement_state SET "
        "computed_version = (SELECT r.computed_version FROM statement_result r "
        "WHERE r.person_id = statement_state.person_id AND r.period_key = statement_state.period_key), "
        "computed_at = (SELECT r.computed_at FROM statement_result r "
        "WHERE r.person_id = statement_state.person_id AND r.period_key = statement_state.period_key), "
        "error = (SELECT r.error FROM statement_result r "
        "WHERE r.person_id = statement_state.person_id AND r.period_key = statement_state.period_key) "
        "WHERE EXISTS (SELECT 1 FROM statement_result r "
        "WHERE r.person_id = statement_state.person_id AND r.period_key = statement_state.period_key)"
    )
    with op.batch_alter_table("statement_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_result_period_key"))
    op.drop_table("statement_result")
