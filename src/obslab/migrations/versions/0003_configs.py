"""Instrument configuration history: bitemporal configuration versions and their items.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 15:27:37
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instrument_configurations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "superseded_at IS NULL OR recorded_at <= superseded_at",
            name=op.f("ck_instrument_configurations_record_interval"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from < valid_to", name=op.f("ck_instrument_configurations_valid_interval")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_instrument_configurations_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_instrument_configurations_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_configurations")),
        sa.UniqueConstraint(
            "instrument", "version_number", name=op.f("uq_instrument_configurations_instrument_version_number")
        ),
    )
    with op.batch_alter_table("instrument_configurations", schema=None) as batch_op:
        batch_op.create_index("ix_instrument_configurations_validity", ["instrument", "valid_from"], unique=False)

    op.create_table(
        "configuration_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("configuration_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["instrument_configurations.id"],
            name=op.f("fk_configuration_items_configuration_id_instrument_configurations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_configuration_items")),
        sa.UniqueConstraint("configuration_id", "key", name=op.f("uq_configuration_items_configuration_id_key")),
    )


def downgrade() -> None:
    op.drop_table("configuration_items")
    with op.batch_alter_table("instrument_configurations", schema=None) as batch_op:
        batch_op.drop_index("ix_instrument_configurations_validity")

    op.drop_table("instrument_configurations")
