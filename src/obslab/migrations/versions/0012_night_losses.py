"""The night log's lost time: spans of a night lost to weather or a failure, with the cause and who recorded them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "night_losses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("night_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "cause",
            sa.Enum("weather", "technical", "other", name="losscause", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('start < "end"', name=op.f("ck_night_losses_interval")),
        sa.ForeignKeyConstraint(
            ["night_id"], ["nights.id"], name=op.f("fk_night_losses_night_id_nights"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_night_losses_recorded_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_night_losses")),
    )
    op.create_index(op.f("ix_night_losses_night_id"), "night_losses", ["night_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_night_losses_night_id"), table_name="night_losses")
    op.drop_table("night_losses")
