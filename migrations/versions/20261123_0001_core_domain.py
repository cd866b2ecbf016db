"""core domain

Revision ID: 0001_core_domain
Revises:
Create Date: 2026-11-23 12:19:12.896940
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0001_core_domain"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "custom_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.CheckConstraint("type IN ('text', 'number', 'date', 'boolean')", name=op.f("ck_custom_field_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_field")),
        sa.UniqueConstraint("name", name=op.f("uq_custom_field_name")),
    )
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("period_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("period_kind IN ('month', 'quarter', 'year')", name=op.f("ck_plan_period_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint("name", name=op.f("uq_plan_name")),
    )
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('sales', 'marketing', 'other')", name=op.f("ck_team_kind")),
        sa.ForeignKeyConstraint(["parent_id"], ["team.id"], name=op.f("fk_team_parent_id_team"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("name", name=op.f("uq_team_name")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("employee_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('rep', 'manager', 'finance', 'admin')", name=op.f("ck_person_role")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_person_email_lowercase")),
        sa.CheckConstraint("manager_id IS NULL OR manager_id <> id", name=op.f("ck_person_not_own_manager")),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["person.id"], name=op.f("fk_person_manager_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_person_team_id_team"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("email", name=op.f("uq_person_email")),
        sa.UniqueConstraint("employee_id", name=op.f("uq_person_employee_id")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index("ix_person_manager_id", ["manager_id"], unique=False)
        batch_op.create_index("ix_person_team_id", ["team_id"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('rep', 'manager', 'finance', 'admin')", name=op.f("ck_api_token_role")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["person.id"], name=op.f("fk_api_token_created_by_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_api_token_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["person.id"], name=op.f("fk_audit_event_actor_id_person"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_event_object", ["object_type", "object_id"], unique=False)

    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cost_minor >= 0", name=op.f("ck_campaign_cost_not_negative")),
        sa.CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name=op.f("ck_campaign_dates_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["person.id"], name=op.f("fk_campaign_owner_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("code", name=op.f("uq_campaign_code")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "deal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("closed_at", sa.Date(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("product", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("source_campaign", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("cancelled_at", sa.Date(), nullable=True),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("body_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'cancelled' OR cancelled_at IS NOT NULL", name=op.f("ck_deal_cancelled_has_date")
        ),
        sa.CheckConstraint("status IN ('won', 'cancelled')", name=op.f("ck_deal_status")),
        sa.CheckConstraint("type IN ('new', 'expansion', 'renewal')", name=op.f("ck_deal_type")),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_deal_amount_not_negative")),
        sa.CheckConstraint(
            "cancelled_at IS NULL OR cancelled_at >= closed_at", name=op.f("ck_deal_cancelled_after_close")
        ),
        sa.CheckConstraint("term_months IS NULL OR term_months >= 0", name=op.f("ck_deal_term_not_negative")),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"], name=op.f("fk_deal_owner_id_person"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal")),
        sa.UniqueConstraint("external_id", name=op.f("uq_deal_external_id")),
    )
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.create_index("ix_deal_closed_at", ["closed_at"], unique=False)
        batch_op.create_index("ix_deal_owner_closed", ["owner_id", "closed_at"], unique=False)
        batch_op.create_index("ix_deal_source_campaign", ["source_campaign"], unique=False)

    op.create_table(
        "period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by_id", sa.Integer(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('month', 'quarter', 'year')", name=op.f("ck_period_kind")),
        sa.CheckConstraint("state IN ('open', 'approved', 'locked', 'paid')", name=op.f("ck_period_state")),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_period_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["person.id"], name=op.f("fk_period_approved_by_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["locked_by_id"], ["person.id"], name=op.f("fk_period_locked_by_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_id"], ["person.id"], name=op.f("fk_period_paid_by_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period")),
        sa.UniqueConstraint("key", name=op.f("uq_period_key")),
    )
    op.create_table(
        "plan_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("prorate", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_plan_assignment_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_plan_assignment_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_assignment_plan_id_plan"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_assignment")),
    )
    with op.batch_alter_table("plan_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_assignment_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_assignment_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_plan_version_version_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["person.id"], name=op.f("fk_plan_version_created_by_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_version_plan_id_plan"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_version")),
        sa.UniqueConstraint("plan_id", "effective_from", name=op.f("uq_plan_version_plan_id_effective_from")),
        sa.UniqueConstraint("plan_id", "version", name=op.f("uq_plan_version_plan_id_version")),
    )
    with op.batch_alter_table("plan_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_version_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("original_period_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_adjustment_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["person.id"], name=op.f("fk_adjustment_created_by_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"], name=op.f("fk_adjustment_deal_id_deal"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["original_period_id"],
            ["period.id"],
            name=op.f("fk_adjustment_original_period_id_period"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_adjustment_period_id_period"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_adjustment_person_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustment")),
    )
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adjustment_period_id"), ["period_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_adjustment_person_id"), ["person_id"], unique=False)

    op.create_table(
        "calculation_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_calculation_run_period_id_period"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calculation_run")),
    )
    with op.batch_alter_table("calculation_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calculation_run_period_id"), ["period_id"], unique=False)

    op.create_table(
        "deal_split",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint("share_bp > 0 AND share_bp <= 10000", name=op.f("ck_deal_split_share_range")),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"], name=op.f("fk_deal_split_deal_id_deal"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_deal_split_person_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_split")),
        sa.UniqueConstraint("deal_id", "person_id", name=op.f("uq_deal_split_deal_id_person_id")),
    )
    with op.batch_alter_table("deal_split", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_split_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deal_split_person_id"), ["person_id"], unique=False)

    op.create_table(
        "quota",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("target_minor", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "metric IN ('bookings', 'sourced_revenue', 'deals', 'mqls', 'sqls', 'pipeline')",
            name=op.f("ck_quota_metric"),
        ),
        sa.CheckConstraint("(person_id IS NULL) <> (team_id IS NULL)", name=op.f("ck_quota_person_xor_team")),
        sa.CheckConstraint("target_minor > 0", name=op.f("ck_quota_target_positive")),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_quota_period_id_period"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_quota_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_quota_team_id_team"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota")),
        sa.UniqueConstraint("person_id", "metric", "period_id", name=op.f("uq_quota_person_id_metric_period_id")),
        sa.UniqueConstraint("team_id", "metric", "period_id", name=op.f("uq_quota_team_id_metric_period_id")),
    )
    with op.batch_alter_table("quota", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quota_period_id"), ["period_id"], unique=False)

    op.create_table(
        "payout_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=True),
        sa.Column("component", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("original_period_id", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('earning', 'cap', 'draw', 'adjustment', 'clawback', 'reversal')", name=op.f("ck_payout_line_kind")
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_payout_line_deal_id_deal"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["original_period_id"],
            ["period.id"],
            name=op.f("fk_payout_line_original_period_id_period"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_payout_line_period_id_period"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_payout_line_person_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_version.id"],
            name=op.f("fk_payout_line_plan_version_id_plan_version"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["payout_line.id"],
            name=op.f("fk_payout_line_reverses_id_payout_line"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["calculation_run.id"], name=op.f("fk_payout_line_run_id_calculation_run"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_line")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_payout_line_reverses_id")),
    )
    with op.batch_alter_table("payout_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_line_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index("ix_payout_line_person_period", ["person_id", "period_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_line_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payout_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_line_run_id"))
        batch_op.drop_index("ix_payout_line_person_period")
        batch_op.drop_index(batch_op.f("ix_payout_line_deal_id"))

    op.drop_table("payout_line")
    with op.batch_alter_table("quota", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quota_period_id"))

    op.drop_table("quota")
    with op.batch_alter_table("deal_split", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_split_person_id"))
        batch_op.drop_index(batch_op.f("ix_deal_split_deal_id"))

    op.drop_table("deal_split")
    with op.batch_alter_table("calculation_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calculation_run_period_id"))

    op.drop_table("calculation_run")
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjustment_person_id"))
        batch_op.drop_index(batch_op.f("ix_adjustment_period_id"))

    op.drop_table("adjustment")
    with op.batch_alter_table("plan_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_version_plan_id"))

    op.drop_table("plan_version")
    with op.batch_alter_table("plan_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_assignment_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_assignment_person_id"))

    op.drop_table("plan_assignment")
    op.drop_table("period")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_source_campaign")
        batch_op.drop_index("ix_deal_owner_closed")
        batch_op.drop_index("ix_deal_closed_at")

    op.drop_table("deal")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_owner_id"))

    op.drop_table("campaign")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_object")
        batch_op.drop_index("ix_audit_event_at")

    op.drop_table("audit_event")
    op.drop_table("api_token")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_team_id")
        batch_op.drop_index("ix_person_manager_id")

    op.drop_table("person")
    op.drop_table("team")
    op.drop_table("plan")
    op.drop_table("custom_field")
