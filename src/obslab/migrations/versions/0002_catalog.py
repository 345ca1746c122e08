"""Catalog tables: observations, parameter values, change-request revisions, sign-offs, duty roster.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 15:27:37
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("starts_on <= ends_on", name=op.f("ck_duty_shifts_ordered")),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["users.id"], name=op.f("fk_duty_shifts_assigned_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_duty_shifts_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_duty_shifts_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
        sa.UniqueConstraint("starts_on", name=op.f("uq_duty_shifts_starts_on")),
    )
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("obsid", sa.Integer(), nullable=False),
        sa.Column("sequence_number", sa.String(length=16), nullable=False),
        sa.Column("proposal_number", sa.String(length=16), nullable=False),
        sa.Column("target_name", sa.String(length=128), nullable=False),
        sa.Column("ra_deg", sa.Double(), nullable=False),
        sa.Column("dec_deg", sa.Double(), nullable=False),
        sa.Column("unit_x", sa.Double(), nullable=False),
        sa.Column("unit_y", sa.Double(), nullable=False),
        sa.Column("unit_z", sa.Double(), nullable=False),
        sa.Column("instrument", sa.String(length=16), nullable=False),
        sa.Column("grating", sa.String(length=8), nullable=False),
        sa.Column("obs_type", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "unobserved",
                "scheduled",
                "untriggered",
                "observed",
                "archived",
                "triggered",
                "canceled",
                name="observationstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("pi_name", sa.String(length=128), nullable=False),
        sa.Column("si_mode", sa.String(length=32), nullable=True),
        sa.Column("approved_exposure_ks", sa.Double(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_active_list", sa.Boolean(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_observations_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
        sa.UniqueConstraint("obsid", name=op.f("uq_observations_obsid")),
    )
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observations_approved"), ["approved"], unique=False)
        batch_op.create_index(batch_op.f("ix_observations_dec_deg"), ["dec_deg"], unique=False)
        batch_op.create_index(batch_op.f("ix_observations_instrument"), ["instrument"], unique=False)
        batch_op.create_index(batch_op.f("ix_observations_obs_type"), ["obs_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_observations_pi_name"), ["pi_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_observations_sequence_number"), ["sequence_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_observations_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_observations_target_name"), ["target_name"], unique=False)

    op.create_table(
        "observation_parameters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_observation_parameters_observation_id_observations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_parameters")),
        sa.UniqueConstraint(
            "observation_id", "name", "rank", name=op.f("uq_observation_parameters_observation_id_name_rank")
        ),
    )
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("obsid", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("norm", "asis", "remove", "clone", name="revisionkind", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("number >= 1 AND number <= 999", name=op.f("ck_revisions_number_range")),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_revisions_observation_id_observations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["users.id"], name=op.f("fk_revisions_submitted_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["revisions.id"],
            name=op.f("fk_revisions_superseded_by_id_revisions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_revisions_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisions")),
        sa.UniqueConstraint("obsid", "number", name=op.f("uq_revisions_obsid_number")),
    )
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revisions_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_revisions_observation_id"), ["observation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_revisions_submitted_at"), ["submitted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_revisions_submitted_by_id"), ["submitted_by_id"], unique=False)

    op.create_table(
        "revision_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("original", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("requested", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revisions.id"], name=op.f("fk_revision_values_revision_id_revisions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision_values")),
        sa.UniqueConstraint("revision_id", "name", "rank", name=op.f("uq_revision_values_revision_id_name_rank")),
    )
    op.create_table(
        "signoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending", "signed", "not_required", "discarded", name="signoffstate", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_signoffs_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revisions.id"], name=op.f("fk_signoffs_revision_id_revisions"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_signoffs_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signoffs")),
        sa.UniqueConstraint("revision_id", "area", name=op.f("uq_signoffs_revision_id_area")),
    )
    with op.batch_alter_table("signoffs", schema=None) as batch_op:
        batch_op.create_index("ix_signoffs_area_state", ["area", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signoffs", schema=None) as batch_op:
        batch_op.drop_index("ix_signoffs_area_state")

    op.drop_table("signoffs")
    op.drop_table("revision_values")
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revisions_submitted_by_id"))
        batch_op.drop_index(batch_op.f("ix_revisions_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_revisions_observation_id"))
        batch_op.drop_index(batch_op.f("ix_revisions_closed_at"))

    op.drop_table("revisions")
    op.drop_table("observation_parameters")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observations_target_name"))
        batch_op.drop_index(batch_op.f("ix_observations_status"))
        batch_op.drop_index(batch_op.f("ix_observations_sequence_number"))
        batch_op.drop_index(batch_op.f("ix_observations_pi_name"))
        batch_op.drop_index(batch_op.f("ix_observations_obs_type"))
        batch_op.drop_index(batch_op.f("ix_observations_instrument"))
        batch_op.drop_index(batch_op.f("ix_observations_dec_deg"))
        batch_op.drop_index(batch_op.f("ix_observations_approved"))

    op.drop_table("observations")
    op.drop_table("duty_shifts")
