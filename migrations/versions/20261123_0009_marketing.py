"""Revenue marketing: leads and their lifecycle events (lead, lead_event); the team pulse (pulse, pulse_tally, pulse_response).

Revision ID: 0009_marketing
Revises: 0008_finance
Create Date: 2026-11-23 15:22:15.280875
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009_marketing"
down_revision: str | None = "0008_finance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"], name=op.f("fk_lead_owner_id_person"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead")),
        sa.UniqueConstraint("external_id", name=op.f("uq_lead_external_id")),
    )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index("ix_lead_campaign", ["campaign"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "pulse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["person.id"], name=op.f("fk_pulse_manager_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse")),
    )
    with op.batch_alter_table("pulse", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_manager_id"), ["manager_id"], unique=False)

    op.create_table(
        "lead_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("flag", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("body_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stage IN ('mql', 'sql', 'opportunity', 'won', 'lost')", name=op.f("ck_lead_event_stage")),
        sa.CheckConstraint(
            "(amount_minor IS NULL) = (currency IS NULL)", name=op.f("ck_lead_event_amount_has_currency")
        ),
        sa.CheckConstraint("amount_minor IS NULL OR amount_minor >= 0", name=op.f("ck_lead_event_amount_not_negative")),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], name=op.f("fk_lead_event_lead_id_lead"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_event")),
        sa.UniqueConstraint("lead_id", "stage", name=op.f("uq_lead_event_lead_id_stage")),
    )
    with op.batch_alter_table("lead_event", schema=None) as batch_op:
        batch_op.create_index("ix_lead_event_occurred_on", ["occurred_on"], unique=False)

    op.create_table(
        "pulse_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pulse_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_pulse_response_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pulse_id"], ["pulse.id"], name=op.f("fk_pulse_response_pulse_id_pulse"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_response")),
        sa.UniqueConstraint("pulse_id", "person_id", name=op.f("uq_pulse_response_pulse_id_person_id")),
    )
    with op.batch_alter_table("pulse_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_response_person_id"), ["person_id"], unique=False)

    op.create_table(
        "pulse_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pulse_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.CheckConstraint("answers > 0", name=op.f("ck_pulse_tally_answers_positive")),
        sa.CheckConstraint("score >= 0 AND score <= 10", name=op.f("ck_pulse_tally_score_range")),
        sa.ForeignKeyConstraint(
            ["pulse_id"], ["pulse.id"], name=op.f("fk_pulse_tally_pulse_id_pulse"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_tally")),
        sa.UniqueConstraint("pulse_id", "score", name=op.f("uq_pulse_tally_pulse_id_score")),
    )


def downgrade() -> None:
    op.drop_table("pulse_tally")
    with op.batch_alter_table("pulse_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_response_person_id"))

    op.drop_table("pulse_response")
    with op.batch_alter_table("lead_event", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_event_occurred_on")

    op.drop_table("lead_event")
    with op.batch_alter_table("pulse", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_manager_id"))

    op.drop_table("pulse")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_owner_id"))
        batch_op.drop_index("ix_lead_campaign")

    op.drop_table("lead")
