"""plan_version: several versions of a plan may take effect on the same day; the highest number wins.

A period uses the version with the latest ``effective_from`` on or before its start. With that day
unique per plan, a mistake in a version already in force for an open period could only be corrected
from the next period on. Versions stay immutable: a corrected version with the same day is stored
as the next number and takes over from that day (api.md: "a new version when the document differs").

Revision ID: 0028_plan_versions_share_a_day
Revises: 0027_statement_result
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_plan_versions_share_a_day"
down_revision: str | None = "0027_statement_result"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_version") as batch:
        batch.drop_constraint("uq_plan_version_plan_id_effective_from", type_="unique")


def downgrade() -> None:
    # Fails if two versions of a plan now share a day: which one to drop is a person's decision.
    with op.batch_alter_table("plan_version") as batch:
        batch.create_unique_constraint("uq_plan_version_plan_id_effective_from", ["plan_id", "effective_from"])
