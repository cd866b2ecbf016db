"""person.locale and team.manager_id: what PUT /api/v1/people and /api/v1/teams keep in sync (api.md).

Revision ID: 0019_people_locale_team_manager
Revises: 0018_exchange_rates
Create Date: 2026-12-06 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0019_people_locale_team_manager"
down_revision: str | None = "0018_exchange_rates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True))
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manager_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_team_manager_id_person"), "person", ["manager_id"], ["id"], ondelete="RESTRICT"
        )


def downgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_team_manager_id_person"), type_="foreignkey")
        batch_op.drop_column("manager_id")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("locale")
