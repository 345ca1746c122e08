"""Reports keep each execution: template version, data fingerprint, duration and failing cell; night optional.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint("uq_reports_template_night_parameters_hash", type_="unique")
        batch_op.add_column(sa.Column("template_version", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("data_fingerprint", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("duration_s", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("failed_cell", sa.Integer(), nullable=True))
        batch_op.alter_column("night", existing_type=sa.Date(), nullable=True)
        batch_op.create_index("ix_reports_key", ["template", "parameters_hash", "data_fingerprint"], unique=False)
    with op.batch_alter_table("reports", schema=None) as batch_op:
        # The defaults only filled existing rows; new ones always state both.
        batch_op.alter_column("template_version", server_default=None)
        batch_op.alter_column("data_fingerprint", server_default=None)


def downgrade() -> None:
    # The old table kept one row per template, night and parameters: keep the newest of each, and nightly ones only.
    op.execute("DELETE FROM reports WHERE night IS NULL")
    op.execute(
        "DELETE FROM reports WHERE id NOT IN "
        "(SELECT newest FROM (SELECT max(id) AS newest FROM reports GROUP BY template, night, parameters_hash) AS kept)"
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_key")
        batch_op.alter_column("night", existing_type=sa.Date(), nullable=False)
        batch_op.drop_column("failed_cell")
        batch_op.drop_column("duration_s")
        batch_op.drop_column("data_fingerprint")
        batch_op.drop_column("template_version")
        batch_op.create_unique_constraint(
            "uq_reports_template_night_parameters_hash", ["template", "night", "parameters_hash"]
        )
