"""Alarms: a rule that fired on a metric, with its values; one per rule and metric; acknowledged by someone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("metric_name", sa.String(length=64), nullable=False),
        sa.Column("night_id", sa.Integer(), nullable=False),
        sa.Column("exposure_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_alarms_acknowledged_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["exposure_id"], ["exposures.id"], name=op.f("fk_alarms_exposure_id_exposures"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["metrics.id"], name=op.f("fk_alarms_metric_id_metrics"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["night_id"], ["nights.id"], name=op.f("fk_alarms_night_id_nights"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        sa.UniqueConstraint("rule", "metric_id", name=op.f("uq_alarms_rule_metric_id")),
    )
    op.create_index("ix_alarms_raised", "alarms", ["raised_at"], unique=False)
    op.create_index(op.f("ix_alarms_exposure_id"), "alarms", ["exposure_id"], unique=False)
    op.create_index(op.f("ix_alarms_night_id"), "alarms", ["night_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_alarms_night_id"), table_name="alarms")
    op.drop_index(op.f("ix_alarms_exposure_id"), table_name="alarms")
    op.drop_index("ix_alarms_raised", table_name="alarms")
    op.drop_table("alarms")
